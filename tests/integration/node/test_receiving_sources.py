"""Where the receiver gets a document's content: every member that holds it is a source.

KR anchors an import declaration addressed to SG and VN. VN's receiver reads the
manifest at KR's node and asks for the content there first; KR's gateway serves a
corrupted block, so VN falls back to SG's (the other addressee, which holds the
document too), files it from there, records where it came from and why it left KR, and
reports KR. Real HTTP (uvicorn on 127.0.0.1) for both gateways.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_server import gateway_router
from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index
from node.chain.index_follower import sync_index
from node.chain.ledger_link import link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.receiving.inbox import ContentFallback
from node.receiving.manifests import MANIFEST_FORMAT

from .test_security_hostile_peer import HostilePeer

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def kr_declaration_to_sg_and_vn() -> JsonObject:
    declaration = sample_document("declaration/1", 2)
    declaration["customsOffice"] = {"code": "KRICN", "name": "Incheon Customs", "country": "KR"}
    declaration["addresseeCountries"] = ["SG", "VN"]
    return declaration


def test_content_comes_from_another_addressee_when_the_issuers_gateway_fails(
    make_node: Any, serve: Callable[[Any], str], tmp_path: Path
) -> None:
    kr_store = EmbeddedContentStore(tmp_path / "kr-store")
    sg_store = EmbeddedContentStore(tmp_path / "sg-store")
    kr = HostilePeer(kr_store)
    kr.corrupt = True
    kr_url, sg_url = serve(kr), serve(gateway_router(sg_store))
    node: NodeUnderTest = make_node(peer_gateways={"KR": kr_url, "SG": sg_url})
    ledger = node.services.ledger
    issuer = link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / "kr-journal.sqlite"),
        open_index(tmp_path / "kr-index.sqlite"),
        load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer")),
    )
    builder = BatchBuilder()
    builder.add(validate_document(kr_declaration_to_sg_and_vn()))
    batch = builder.sign(signing_key=issuer.signing_key, domain=issuer.domain)
    (wrapped,) = [document.to_json() for document in batch]
    content = json.dumps(wrapped).encode()
    cid = kr_store.put(content)
    assert sg_store.put(content) == cid  # SG received it already
    kr.manifest = {
        "format": MANIFEST_FORMAT,
        "root": "0x" + batch.anchor.root.hex(),
        "documentType": "declaration/1",
        "documentCount": 1,
        "documents": [
            {
                "targetHash": wrapped["targetHash"],
                "cid": str(cid),
                "addressees": ["SG", "VN"],
                "confidential": False,
            }
        ],
    }
    issuer.anchor("kr-1", batch.anchor.root, "declaration/1", 1, batch.anchor.addressees)
    sync_index(ledger, node.services.metrics)
    receiver = node.runtime.receiver
    assert receiver is not None

    receiver.run_once()

    # filed: authentic (VN records no agreement recognising KR's declarations, so the
    # verdict as a whole is not green; that is not the receiver's concern)
    (filed,) = node.services.inbox.documents()
    assert filed.target_hash == bytes.fromhex(wrapped["targetHash"][2:])
    assert filed.received_from == f"gateway SG {sg_url}"
    assert [(f.source, f.reason) for f in filed.fallbacks] == [
        (f"gateway KR {kr_url}", "corrupted-block")
    ]
    assert all(isinstance(f, ContentFallback) and f.detail for f in filed.fallbacks)
    assert [(r.peer, r.reason) for r in node.services.inbox.reports()] == [(kr_url, "bad-content")]
    store = node.services.gateway_store
    assert store is not None
    assert cid in store.pins()

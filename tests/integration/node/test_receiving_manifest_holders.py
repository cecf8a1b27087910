"""The batch manifest when the issuer's node is gone: another addressee serves it.

KR anchors a batch of two import declarations, A addressed to VN and B to SG and VN,
then its node is gone (its URL refuses connections). SG received the batch: its node
serves the manifest, with the CID it knows (B's; A is not SG's to know), and B's
content. VN's receiver reads the manifest at SG's node instead of KR's (checked against
the anchored root as always), files B from SG, keeps the manifest, and waits for A's CID
(only KR lists it): the batch stays pending, and no peer is reported. VN's node then
serves the manifest in turn, as the issuer would, with the CIDs it learnt: B's to a
member B is addressed to, nothing to a request that is not a member's. Real HTTP
(uvicorn on 127.0.0.1) for SG's node.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from adapters.content.embedded import EmbeddedContentStore
from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index
from ledger.chains import find_free_port
from node.access.member_requests import MemberRequestSigner
from node.chain.index_follower import sync_index
from node.chain.ledger_link import link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.receiving.manifests import MANIFEST_FORMAT

from .test_security_hostile_peer import HostilePeer

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def kr_declaration(number: int, addressees: list[str]) -> JsonObject:
    declaration = sample_document("declaration/1", number)
    declaration["customsOffice"] = {"code": "KRICN", "name": "Incheon Customs", "country": "KR"}
    declaration["addresseeCountries"] = addressees
    return declaration


def test_an_addressee_reads_the_manifest_from_another_addressee_and_serves_it_in_turn(
    make_node: Any, serve: Callable[[Any], str], tmp_path: Path
) -> None:
    sg_store = EmbeddedContentStore(tmp_path / "sg-store")
    sg = HostilePeer(sg_store)  # honest here: serves what it holds
    gone = f"http://127.0.0.1:{find_free_port('127.0.0.1')}"  # KR's host is gone
    sg_url = serve(sg)
    node: NodeUnderTest = make_node(peer_gateways={"KR": gone, "SG": sg_url})
    ledger = node.services.ledger
    keys = node.runtime.settings.data_dir / "keys"
    issuer = link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / "kr-journal.sqlite"),
        open_index(tmp_path / "kr-index.sqlite"),
        load_or_create_key(keystore_path(keys, "KR", "issuer")),
    )
    builder = BatchBuilder()
    builder.add(validate_document(kr_declaration(2, ["VN"])))
    builder.add(validate_document(kr_declaration(3, ["SG", "VN"])))
    batch = builder.sign(signing_key=issuer.signing_key, domain=issuer.domain)
    to_vn, to_both = [document.to_json() for document in batch]
    cid = str(sg_store.put(json.dumps(to_both).encode()))
    entries = [
        {"targetHash": to_vn["targetHash"], "cid": None, "addressees": ["VN"]},
        {"targetHash": to_both["targetHash"], "cid": cid, "addressees": ["SG", "VN"]},
    ]
    entries = [{**entry, "confidential": False, "allowance": 1} for entry in entries]
    root = "0x" + batch.anchor.root.hex()
    sg.manifest = {
        "format": MANIFEST_FORMAT,
        "root": root,
        "documentType": "declaration/1",
        "documentCount": 2,
        "documents": entries,
    }
    issuer.anchor("kr-1", batch.anchor.root, "declaration/1", 2, batch.anchor.addressees)
    sync_index(ledger, node.services.metrics)
    receiver = node.runtime.receiver
    assert receiver is not None

    receiver.run_once()

    (filed,) = node.services.inbox.documents()
    assert filed.target_hash == bytes.fromhex(to_both["targetHash"][2:])
    assert filed.received_from == f"gateway SG {sg_url}"
    assert node.services.inbox.pending_count() == 1  # A waits for a holder listing its CID
    assert node.services.inbox.reports() == []  # KR being gone is no fault of a peer's
    kept = node.services.inbox.manifest(batch.anchor.root)
    assert kept is not None
    assert kept[0] == "KR"

    # VN serves it now, with the CID it learnt, to the members it may show it to
    target = f"/v1/batches/{root}/manifest"
    for country in ("SG", "KR"):
        key = bytes(load_or_create_key(keystore_path(keys, country, "member")).key)
        headers = MemberRequestSigner(key, ledger.request_domain).headers("GET", target, "VN")
        served = node.client.get(target, headers=headers)
        assert served.status_code == 200, served.text
        assert served.headers["cache-control"] == "private, no-store"
        assert served.json() == sg.manifest
    assert node.client.get(target).status_code == 401
    key = bytes(load_or_create_key(keystore_path(keys, "SG", "member")).key)
    signed = MemberRequestSigner(key, ledger.request_domain)
    unknown = f"/v1/batches/0x{'ab' * 32}/manifest"
    assert node.client.get(unknown, headers=signed.headers("GET", unknown, "VN")).status_code == 404

"""Security: the bad-input corpus (``tests/corpus/bad_input/``) through every HTTP entry
point that takes a body: issue, verify, amend, use, reject and consortium proposals.

Every case must be answered with a clear 4xx ``application/problem+json`` naming the
problem (the corpus file's code), or, for ``POST /v1/verify``, with a verdict that is not
valid and names the failing check; and nothing may be stored: the node database's rows,
the content store's blocks, the transaction journal and the chain's head block are the
same after the request as before. One node (eth-tester chain, dev consortium) serves the
whole module; every case is independent of the others' order.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, func, select

from adapters.content.embedded import EmbeddedContentStore
from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index
from node.access.roles import Role
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.http.app import create_app
from node.runtime import NodeRuntime
from node.services import NodeServices
from node.settings import NodeSettings

pytestmark = pytest.mark.integration

MAX_BODY: Final = 256 * 1024


def _corpus() -> ModuleType:
    """``tests/corpus/corpus.py``, imported by path (the tests folder is no package)."""
    name = "docex_bad_input_corpus"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "corpus" / "corpus.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


corpus = _corpus()


@dataclass
class Target:
    """The node under attack and the genuine documents the attacks start from."""

    services: NodeServices
    client: TestClient
    tokens: dict[str, str]
    #: a certificate this node issued and anchored: its receipt
    own: dict[str, Any]
    #: a certificate KR issued to VN, anchored: its wrapped form
    foreign: JsonObject

    def headers(self, user: str, content_type: str = "application/json") -> dict[str, str]:
        return {"Content-Type": content_type, "Authorization": f"Bearer {self.tokens[user]}"}

    def state(self) -> dict[str, Any]:
        """Everything an accepted request would change."""
        ledger = self.services.ledger
        assert ledger is not None
        content = self.services.settings.data_dir / "content"
        return {
            "node.sqlite": _row_counts(self.services.database),
            "journal": _journal_rows(self.services.settings.journal_path),
            "content files": sorted(
                p.name for p in content.rglob("*") if p.is_file() and "blocks.sqlite" not in p.name
            ),
            "blocks": sorted(EmbeddedContentStore(content).blocks.multihashes()),
            "head": ledger.head_block(),
        }


def _row_counts(engine: Any) -> dict[str, int]:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in metadata.tables.items()
        }


def _journal_rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in tables
        }


def _kr_issuer(services: NodeServices, data_dir: Path) -> LedgerLink:
    ledger = services.ledger
    assert ledger is not None
    return link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(data_dir.parent / "kr-journal.sqlite"),
        open_index(data_dir.parent / "kr-index.sqlite"),
        load_or_create_key(keystore_path(data_dir / "keys", "KR", "issuer")),
    )


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data_dir: Path = tmp_path_factory.mktemp("bad-input") / "vn"
    settings = NodeSettings(
        data_dir=data_dir,
        chain="eth-tester",
        max_body_bytes=MAX_BODY,
        max_upload_bytes=MAX_BODY,
        verify_rate_per_second=10_000,
        verify_burst=10_000,
    )
    runtime = NodeRuntime(settings, kdf_iterations=2**10)
    services = runtime.open()
    tokens = {
        "issuer": services.users.add("moit-coo", Role.ISSUER, ["coo/1"]),
        "officer": services.users.add("hcm-customs", Role.CUSTOMS_OFFICER),
        "admin": services.users.add("node-admin", Role.ADMIN),
    }
    client = TestClient(create_app(settings, services), client=("203.0.113.5", 5000))
    ledger = services.ledger
    assert ledger is not None
    assert services.batcher is not None
    accepted = client.post(
        "/v1/documents",
        content=json.dumps(sample_document("coo/1", 1)),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {tokens['issuer']}"},
    )
    services.batcher.run_once(force=True)
    document = sample_document("coo/1", 2)
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    document["importingCountry"] = "VN"
    kr = _kr_issuer(services, data_dir)
    builder = BatchBuilder()
    builder.add(validate_document(document))
    builder.add(validate_document({**document, "certificateNumber": "KR-VN 24/02/0000003"}))
    signed = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
    kr.anchor("kr-1", signed.anchor.root, "coo/1", len(signed), signed.anchor.addressees)
    sync_index(ledger, services.metrics)
    own = client.get(
        accepted.headers["location"],
        headers={"Authorization": f"Bearer {tokens['issuer']}"},
    ).json()
    assert own["status"] == "anchored", own
    yield Target(services, client, tokens, own, next(iter(signed)).to_json())
    runtime.stop()


def _refused(target: Target, response: Any, code: str | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["detail"], body
    if code is not None:
        assert body["code"] == code, body
    return body


def _attack(target: Target, method: str, path: str, body: bytes, user: str) -> Any:
    before = target.state()
    response = target.client.request(method, path, content=body, headers=target.headers(user))
    assert target.state() == before, f"{path} stored something for a refused request"
    return response


def _entry_points(target: Target) -> dict[str, tuple[str, str]]:
    """Entry point -> (path, user) of every endpoint that reads a JSON body."""
    own, foreign = target.own["id"], target.foreign["targetHash"]
    return {
        "issue": ("/v1/documents", "issuer"),
        "amend": (f"/v1/documents/{own}/amend", "issuer"),
        "revoke": (f"/v1/documents/{own}/revoke", "issuer"),
        "use": (f"/v1/documents/{foreign}/use", "officer"),
        "reject": (f"/v1/documents/{foreign}/reject", "officer"),
        "propose": ("/v1/consortium/proposals", "admin"),
        "verify": ("/v1/verify", "officer"),
    }


ENTRY_POINTS: Final = ("issue", "amend", "revoke", "use", "reject", "propose", "verify")


# --- bytes that are not strict JSON: 400 everywhere ----------------------------------------


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("bad", corpus.NOT_JSON, ids=lambda bad: bad.name)
def test_bytes_that_are_not_strict_json_are_refused_everywhere(
    target: Target, entry: str, bad: Any
) -> None:
    path, user = _entry_points(target)[entry]

    response = _attack(target, "POST", path, bad.raw, user)

    _refused(target, response, bad.code)
    assert response.status_code == 400


@pytest.mark.parametrize("bad", corpus.NOT_JSON, ids=lambda bad: bad.name)
def test_an_uploaded_file_that_is_not_strict_json_is_refused(target: Target, bad: Any) -> None:
    before = target.state()

    response = target.client.post(
        "/v1/verify", files={"file": (bad.name, bad.raw, "application/json")}
    )

    assert target.state() == before
    _refused(target, response, bad.code)
    assert response.status_code == 400


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_body_over_the_limit_is_refused_everywhere_before_it_is_parsed(
    target: Target, entry: str
) -> None:
    path, user = _entry_points(target)[entry]

    response = _attack(target, "POST", path, corpus.oversized(MAX_BODY), user)

    assert response.status_code == 413, response.text
    _refused(target, response)


# --- JSON that is not a document: 422 where a document is expected -------------------------


@pytest.mark.parametrize("entry", ["issue", "amend"])
@pytest.mark.parametrize("bad", corpus.NOT_A_DOCUMENT, ids=lambda bad: bad.name)
def test_json_that_is_not_a_valid_document_is_not_issued(
    target: Target, entry: str, bad: Any
) -> None:
    path, user = _entry_points(target)[entry]

    response = _attack(target, "POST", path, bad.raw, user)

    body = _refused(target, response)
    assert response.status_code in (403, 422), body  # 403: a type this issuer may not issue
    assert body["code"] in (bad.code, "not-authorised"), body


@pytest.mark.parametrize("bad", corpus.NOT_A_DOCUMENT, ids=lambda bad: bad.name)
def test_json_that_is_not_a_wrapped_document_verifies_as_invalid(target: Target, bad: Any) -> None:
    response = _attack(target, "POST", "/v1/verify", bad.raw, "officer")

    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["valid"] is False
    integrity = verdict["checks"][0]
    assert integrity["name"] == "integrity"
    assert integrity["status"] == "invalid"
    assert integrity["code"] == "schema-invalid"
    assert "not a wrapped document" in integrity["reason"]


# --- wrapped forgeries ----------------------------------------------------------------------


#: the code each forgery's failing check answers with (docs/verification-codes.md)
FORGERY_CODES: Final = {
    "changed-value": "target-hash-mismatch",
    "swapped-fields": "target-hash-mismatch",
    "swapped-salts": "target-hash-mismatch",
    "forged-proof": "proof-invalid",
    "other-root": "proof-invalid",
    "other-target-hash": "target-hash-mismatch",
    "forged-concealed-field": "salts-invalid",
    "wrong-signer": "signature-mismatch",
    "forged-signature": "signature-mismatch",
    "other-chain": "domain-mismatch",
    "other-registry": "domain-mismatch",
    "more-documents": "signature-mismatch",
    "added-addressee": "signature-mismatch",
    "other-version": "schema-invalid",
}


@pytest.mark.parametrize("forgery", corpus.FORGERIES, ids=lambda forgery: forgery.name)
def test_a_forged_wrapped_document_fails_the_check_it_attacks(target: Target, forgery: Any) -> None:
    genuine = target.own["document"]
    assert target.client.post("/v1/verify", json=genuine).json()["valid"] is True
    forged = corpus.forge(genuine, forgery)

    for content_type in ("application/json", "application/octet-stream"):
        before = target.state()
        response = target.client.post(
            "/v1/verify", content=json.dumps(forged), headers={"Content-Type": content_type}
        )
        assert target.state() == before

        assert response.status_code == 200, response.text
        verdict = response.json()
        checks = {check["name"]: check for check in verdict["checks"]}
        assert verdict["valid"] is False
        assert checks[forgery.fails]["status"] == "invalid", checks
        assert checks[forgery.fails]["code"] == FORGERY_CODES[forgery.name], checks
        assert checks[forgery.fails]["reason"]


@pytest.mark.parametrize("forgery", corpus.FORGERIES, ids=lambda forgery: forgery.name)
@pytest.mark.parametrize("entry", ["use", "reject"])
def test_a_forged_document_presented_for_use_or_rejection_is_refused(
    target: Target, entry: str, forgery: Any
) -> None:
    forged = corpus.forge(target.foreign, forgery)
    path, user = _entry_points(target)[entry]
    path = f"/v1/documents/{forged['targetHash']}/{entry}"
    body = {"document": forged}
    body.update({"declarationReference": "VN-IMP-FORGED"} if entry == "use" else {"reasonCode": 3})

    response = _attack(target, "POST", path, json.dumps(body).encode(), user)

    _refused(target, response)


# --- bodies of the wrong shape --------------------------------------------------------------

_WRONG_BODIES: Final = {
    "revoke": [
        {},
        {"reasonCode": "1"},
        {"reasonCode": -1},
        {"reasonCode": 2**32},
        {"reasonCode": 1, "extra": True},
        [],
    ],
    "use": [
        {},
        {"declarationReference": 5},
        {"declarationReference": ""},
        {"declarationReference": "x" * 10_000},
        {"declarationReference": "VN-1", "quantity": 0},
        {"declarationReference": "VN-1", "quantity": "1"},
        {"declarationReference": "VN-1", "document": "0xabc"},
    ],
    "reject": [{}, {"reasonCode": None}, {"reasonCode": 1, "document": []}],
    "propose": [
        {},
        {"action": "dissolveConsortium"},
        {"action": "changeQuorum"},
        {"action": "changeQuorum", "quorum": 0},
        {"action": "changeQuorum", "quorum": 2**40},
        {"action": "suspendMember", "memberId": "KR"},
        {"action": "admitMember", "country": "kr", "name": "x", "account": "0x12"},
        {"action": "addKey", "memberId": 2, "account": "0x" + "1" * 40, "documentType": "coo/9"},
        {"action": "addAgreement", "verifierCountry": "SG", "issuerCountry": "VN"},
    ],
}
_WRONG_CASES: Final = [
    pytest.param(entry, body, id=f"{entry}-{index}")
    for entry, bodies in _WRONG_BODIES.items()
    for index, body in enumerate(bodies)
]


@pytest.mark.parametrize(("entry", "body"), _WRONG_CASES)
def test_a_body_of_the_wrong_shape_is_a_422_naming_the_field(
    target: Target, entry: str, body: Any
) -> None:
    path, user = _entry_points(target)[entry]

    response = _attack(target, "POST", path, json.dumps(body).encode(), user)

    problem = _refused(target, response)
    assert response.status_code == 422, problem
    assert "path" in problem or "errors" in problem, problem

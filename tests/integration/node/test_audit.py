"""Audit reports (GET /v1/audit) and their re-check against the chain (node.audit.check_report)
on a real chain: the VN node on a managed anvil, so that the re-check talks plain JSON-RPC
to it over HTTP, as an auditor's Ethereum client would, never to the node.

One certificate of origin VN issued to KR carries every kind of event: anchored in a
batch, used and rejected by KR (KR's key, straight on chain), superseded by an amendment
and then revoked by VN (through the API). One node and one report serve the module.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.keccak import keccak256
from certificates.schemas.samples import sample_document
from ledger import Journal, ManagedAnvil, open_index
from ledger.chains import anvil_binary, find_free_port
from node.access.roles import Role
from node.audit import check_report, load_report
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.cli.main import app as docex
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.http.app import create_app
from node.receiving.inbox import ReceivedDocument
from node.runtime import NodeRuntime
from node.services import NodeServices
from node.settings import NodeSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
EVENTS = [
    "BatchAnchored",
    "DocumentUsed",
    "DocumentRejected",
    "DocumentSuperseded",
    "DocumentRevoked",
]


@dataclass
class AuditedNode:
    runtime: NodeRuntime
    services: NodeServices
    client: TestClient
    tokens: dict[str, str]
    rpc_url: str
    #: the VN certificate to KR with every kind of event, its replacement, another's
    receipt: dict[str, Any]
    replacement_id: str
    other_receipt_id: str
    #: KR's issuer key on the same chain (KR's uses and rejections, KR's own documents)
    kr: LedgerLink | None = None

    def get(self, user: str | None, **params: str) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return self.client.get("/v1/audit", params=params, headers=headers)

    def report(self, **params: str) -> dict[str, Any]:
        response = self.get("auditor", **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def coo_to_kr(index: int) -> JsonObject:
    document = sample_document("coo/1", index)
    document["importingCountry"] = "KR"
    return document


def post(node: AuditedNode, path: str, body: Any, user: str) -> Any:
    return node.client.post(
        path,
        content=json.dumps(body),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {node.tokens[user]}",
        },
    )


def kr_sends(kr: LedgerLink, key: str, function: str, *args: Any) -> None:
    """KR's account sends one DocumentRegistry transaction and waits for it."""
    request = kr.documents.request(key, function, *args)
    kr.manager.submit(kr.issuer.address, request)
    kr.manager.wait(key)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditedNode]:
    base = tmp_path_factory.mktemp("audit")
    settings = NodeSettings(data_dir=base / "vn", chain="anvil", anvil_port=find_free_port())  # type: ignore[arg-type]
    runtime = NodeRuntime(settings, kdf_iterations=2**10)
    services = runtime.open()
    try:
        users = services.users
        tokens = {
            "issuer": users.add("moit-coo", Role.ISSUER, ["coo/1"]),
            "other-issuer": users.add("vcci-coo", Role.ISSUER, ["coo/1"]),
            "officer": users.add("hcm-customs", Role.CUSTOMS_OFFICER),
            "auditor": users.add("state-audit", Role.AUDITOR),
            "admin": users.add("node-admin", Role.ADMIN),
        }
        client = TestClient(create_app(settings, services))
        ledger = services.ledger
        assert ledger is not None
        assert services.batcher is not None
        rpc_url = f"http://127.0.0.1:{settings.anvil_port}"

        def anchor_pending() -> None:
            assert services.batcher is not None
            assert services.ledger is not None
            services.batcher.run_once(force=True)
            sync_index(services.ledger, services.metrics)

        node = AuditedNode(runtime, services, client, tokens, rpc_url, {}, "", "")
        auth = {"Authorization": f"Bearer {tokens['issuer']}"}
        receipt_id = client.post("/v1/documents", json=coo_to_kr(1), headers=auth).json()[
            "receipts"
        ][0]["id"]
        other = {"Authorization": f"Bearer {tokens['other-issuer']}"}
        node.other_receipt_id = client.post(
            "/v1/documents", json=coo_to_kr(5), headers=other
        ).json()["receipts"][0]["id"]
        anchor_pending()
        receipt = client.get(f"/v1/receipts/{receipt_id}", headers=auth).json()
        assert receipt["status"] == "anchored", receipt
        wrapped = receipt["document"]
        root = bytes.fromhex(wrapped["batch"]["root"][2:])
        target = bytes.fromhex(wrapped["targetHash"][2:])
        proof = [bytes.fromhex(p[2:]) for p in wrapped["batch"]["proof"]]

        key = load_or_create_key(keystore_path(settings.data_dir / "keys", "KR", "issuer"))
        kr = link_ledger(
            ledger.chain,
            ledger.deployment,
            Journal(base / "kr-transactions.sqlite"),
            open_index(base / "kr-index.sqlite"),
            key,
        )
        declaration = keccak256(b"KR-IMP-2026-0001")
        # the document's own terms, committed beside its leaf by its issuer
        terms = wrapped["batch"]["terms"]
        codes = [c.encode("ascii") for c in terms["addressees"]]
        allowance = terms["allowance"]
        kr_sends(kr, "kr-use-1", "recordUse", root, target, proof, codes, allowance, declaration, 1)
        kr_sends(kr, "kr-reject-1", "recordRejection", root, target, proof, codes, allowance, 5)

        amended = post(node, f"/v1/documents/{receipt_id}/amend", coo_to_kr(2), "issuer")
        assert amended.status_code == 202, amended.text
        node.replacement_id = amended.json()["amendment"]["replacement"]
        anchor_pending()
        assert services.lifecycle.complete_amendments() == 1
        revoked = post(node, f"/v1/documents/{receipt_id}/revoke", {"reasonCode": 3}, "issuer")
        assert revoked.status_code == 200, revoked.text
        sync_index(ledger, services.metrics)
        node.receipt = receipt
        node.kr = kr
        yield node
    finally:
        runtime.stop()


@pytest.fixture(scope="module")
def report(audited: AuditedNode) -> dict[str, Any]:
    return audited.report(document=audited.receipt["id"])


def test_a_documents_report_lists_every_event_with_where_the_chain_holds_it(
    audited: AuditedNode, report: dict[str, Any]
) -> None:
    receipt = audited.receipt
    assert report["format"] == "docex-audit/1"
    assert [line["event"] for line in report["events"]] == EVENTS
    assert [line["line"] for line in report["events"]] == [1, 2, 3, 4, 5]
    blocks = [line["blockNumber"] for line in report["events"]]
    assert blocks == sorted(blocks)
    for line in report["events"]:
        assert line["targetHash"] == receipt["targetHash"]
        assert line["txHash"].startswith("0x")
        assert len(line["txHash"]) == 66
        assert isinstance(line["logIndex"], int)
        assert isinstance(line["blockTime"], int)
        assert line["blockTimeUtc"].endswith("Z")
    anchored = report["events"][0]
    assert anchored["txHash"] == receipt["txHash"]
    assert anchored["blockNumber"] == receipt["blockNumber"]
    assert anchored["arguments"]["addressees"] == ["KR"]
    assert report["events"][1]["arguments"]["userCountry"] == "KR"
    assert report["events"][2]["arguments"]["reasonCode"] == 5
    assert report["events"][4]["arguments"]["reasonCode"] == 3
    (document,) = report["documents"]
    assert document["batchRoot"] == receipt["document"]["batch"]["root"]
    assert document["proof"] == receipt["document"]["batch"]["proof"]
    assert document["status"] == "revoked"
    deployment = audited.services.ledger.deployment  # type: ignore[union-attr]
    assert report["chain"]["chainId"] == deployment.chain_id
    assert report["chain"]["documentRegistry"] == deployment.document_registry.lower()
    assert report["chain"]["genesisHash"].startswith("0x")


def test_the_json_report_is_canonical(audited: AuditedNode) -> None:
    from certificates import canonicalize

    response = audited.get("auditor", document=audited.receipt["id"])

    assert response.headers["content-type"].startswith("application/json")
    assert canonicalize(response.json()) == response.content


def test_every_line_of_a_genuine_report_holds_against_the_chain(
    audited: AuditedNode, report: dict[str, Any]
) -> None:
    check = check_report(report, audited.rpc_url)

    assert check.failures == []
    assert check.holds
    assert check.lines_checked == 5
    assert check.documents_checked == 1


def test_the_csv_report_holds_too(audited: AuditedNode) -> None:
    response = audited.get("auditor", document=audited.receipt["id"], format="csv")

    assert response.headers["content-type"].startswith("text/csv")
    check = check_report(load_report(response.content), audited.rpc_url)
    assert check.holds, check.failures
    assert check.lines_checked == 5


def _tamper_block(report: dict[str, Any]) -> int:
    report["events"][1]["blockNumber"] += 1
    return 2


def _tamper_tx(report: dict[str, Any]) -> int:
    report["events"][2]["txHash"] = "0x" + "ab" * 32
    return 3


def _tamper_argument(report: dict[str, Any]) -> int:
    report["events"][1]["arguments"]["quantity"] = 2
    return 2


def _tamper_time(report: dict[str, Any]) -> int:
    report["events"][3]["blockTime"] -= 60
    return 4


def _tamper_anchoring_issuer(report: dict[str, Any]) -> int:
    report["events"][0]["arguments"]["issuer"] = "0x" + "12" * 20
    return 1


@pytest.mark.parametrize(
    "tamper", [_tamper_block, _tamper_tx, _tamper_argument, _tamper_time, _tamper_anchoring_issuer]
)
def test_a_tampered_line_is_named_and_only_that_line(
    audited: AuditedNode, report: dict[str, Any], tamper: Any
) -> None:
    tampered = copy.deepcopy(report)
    line = tamper(tampered)

    check = check_report(tampered, audited.rpc_url)

    assert not check.holds
    assert check.failed_lines == [line]
    assert len(check.failures) == 1
    assert check.failures[0].startswith(f"line {line} ("), check.failures


def test_an_event_left_out_of_the_report_is_named(
    audited: AuditedNode, report: dict[str, Any]
) -> None:
    tampered = copy.deepcopy(report)
    del tampered["events"][4]  # the revocation

    check = check_report(tampered, audited.rpc_url)

    assert not check.holds
    assert check.failed_lines == []
    (failure,) = check.failures
    assert failure.startswith(f"document {audited.receipt['targetHash']}")
    assert "DocumentRevoked" in failure
    assert "does not list" in failure


def test_a_proof_that_does_not_lead_to_the_root_is_named(
    audited: AuditedNode, report: dict[str, Any]
) -> None:
    tampered = copy.deepcopy(report)
    tampered["documents"][0]["proof"] = ["0x" + "00" * 32]

    check = check_report(tampered, audited.rpc_url)

    assert not check.holds
    assert any("Merkle proof" in failure for failure in check.failures)


@pytest.mark.parametrize("chain_id", [31337, 1337])
def test_a_report_checked_against_another_chain_fails_clearly(
    audited: AuditedNode, report: dict[str, Any], tmp_path: Path, chain_id: int
) -> None:
    anvil = ManagedAnvil(
        anvil_binary(REPO / "node_modules"),
        tmp_path / "other",
        port=find_free_port(),
        chain_id=chain_id,
    )
    try:
        anvil.start().close()

        check = check_report(report, anvil.url)
    finally:
        anvil.stop()

    assert not check.holds
    (failure,) = check.failures
    assert failure.startswith("chain: ")
    assert ("another chain" in failure) if chain_id == 31337 else ("chain id 1337" in failure)


def test_a_report_naming_another_registry_than_the_auditors_fails(
    audited: AuditedNode, report: dict[str, Any]
) -> None:
    check = check_report(report, audited.rpc_url, registry="0x" + "34" * 20)

    assert not check.holds
    assert check.failures[0].startswith("chain: the report names DocumentRegistry")


def test_csv_and_html_contain_every_event(audited: AuditedNode, report: dict[str, Any]) -> None:
    csv_text = audited.get("auditor", document=audited.receipt["id"], format="csv").text
    html = audited.get("auditor", document=audited.receipt["id"], format="html")

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [row["event"] for row in rows] == EVENTS
    assert [row["txHash"] for row in rows] == [line["txHash"] for line in report["events"]]
    assert all(row["proof"] == " ".join(report["documents"][0]["proof"]) for row in rows)
    assert html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert "<script" not in html.text
    assert "@media print" in html.text
    for line in report["events"]:
        assert line["txHash"] in html.text
        assert f"<td>{line['event']}</td>" in html.text


@pytest.mark.parametrize(
    ("user", "status"),
    [("officer", 403), ("other-issuer", 403), (None, 401), ("issuer", 200), ("admin", 200)],
)
def test_who_may_audit_a_document(audited: AuditedNode, user: str | None, status: int) -> None:
    response = audited.get(user, document=audited.receipt["id"])

    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_an_issuer_sees_only_its_own_documents_in_a_country_report(audited: AuditedNode) -> None:
    response = audited.get("other-issuer", issuer="VN")

    assert response.status_code == 200, response.text
    documents = response.json()["documents"]
    assert [d["receiptId"] for d in documents] == [audited.other_receipt_id]


def test_an_issuer_country_report_covers_its_documents_in_the_period(
    audited: AuditedNode,
) -> None:
    today = audited.report(document=audited.receipt["id"])["events"][0]["blockTimeUtc"][:10]

    by_issuer = audited.report(issuer="VN", **{"from": today, "to": today})
    by_addressee = audited.report(addressee="KR", **{"from": today})
    before = audited.report(issuer="VN", **{"from": "2000-01-01", "to": "2000-12-31"})

    ids = {audited.receipt["id"], audited.replacement_id, audited.other_receipt_id}
    assert {d["receiptId"] for d in by_issuer["documents"]} == ids
    assert {d["receiptId"] for d in by_addressee["documents"]} == ids
    assert before["documents"] == []
    assert before["events"] == []
    assert check_report(by_issuer, audited.rpc_url).holds
    assert audited.report(issuer="SG")["documents"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"issuer": "VN", "addressee": "KR"},
        {"issuer": "vn"},
        {"issuer": "VN", "from": "2026-12-01", "to": "2026-11-01"},
        {"issuer": "VN", "from": "yesterday"},
        {"document": "0x" + "11" * 32, "from": "2026-01-01"},
    ],
)
def test_a_bad_query_is_422_and_says_why(audited: AuditedNode, params: dict[str, str]) -> None:
    response = audited.get("auditor", **params)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid-audit-query"
    assert body["detail"]


def test_an_unknown_document_is_404(audited: AuditedNode) -> None:
    response = audited.get("auditor", document="0x" + "11" * 32)

    assert response.status_code == 404
    assert response.json()["code"] == "document-not-found"


def test_a_report_beyond_the_cap_is_422(audited: AuditedNode) -> None:
    settings = audited.runtime.settings.model_copy(update={"audit_max_events": 4})
    services = replace(audited.services, settings=settings)
    client = TestClient(create_app(settings, services))

    response = client.get(
        "/v1/audit",
        params={"issuer": "VN"},
        headers={"Authorization": f"Bearer {audited.tokens['auditor']}"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "audit-report-too-large"
    assert "narrow the period" in body["detail"]


# --- docex audit, over HTTP and against the chain --------------------------------------------


def test_docex_audit_exports_a_report_that_docex_audit_check_confirms(
    audited: AuditedNode, serve: Any, tmp_path: Path
) -> None:
    url = serve(audited.client.app)
    runner = CliRunner()
    token = ["--node", url, "--token", audited.tokens["auditor"]]
    report_file, csv_file = tmp_path / "report.json", tmp_path / "report.csv"

    exported = runner.invoke(
        docex, ["audit", "--document", audited.receipt["id"], "-o", str(report_file), *token]
    )
    as_csv = runner.invoke(
        docex,
        ["audit", "--issuer", "VN", "--format", "csv", "-o", str(csv_file), *token],
    )
    checked = runner.invoke(docex, ["audit", "--check", str(report_file), "--rpc", audited.rpc_url])
    csv_checked = runner.invoke(
        docex, ["audit", "--check", str(csv_file), "--rpc", audited.rpc_url]
    )

    assert exported.exit_code == 0, exported.output
    assert as_csv.exit_code == 0, as_csv.output
    report = json.loads(report_file.read_bytes())
    assert [line["event"] for line in report["events"]] == EVENTS
    assert checked.exit_code == 0, checked.output
    assert "every line holds" in checked.output
    assert csv_checked.exit_code == 0, csv_checked.output


def test_docex_audit_check_lists_the_lines_that_do_not_hold_and_exits_1(
    audited: AuditedNode, report: dict[str, Any], tmp_path: Path
) -> None:
    tampered = copy.deepcopy(report)
    tampered["events"][2]["arguments"]["reasonCode"] = 9
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered))

    result = CliRunner().invoke(docex, ["audit", "--check", str(path), "--rpc", audited.rpc_url])

    assert result.exit_code == 1, result.output
    assert "line 3 (DocumentRejected" in result.output
    assert "reasonCode is 9 in the report, 5 on chain" in result.output


def test_docex_audit_exits_2_on_an_unreadable_report_or_an_unreachable_chain(
    report: dict[str, Any], tmp_path: Path
) -> None:
    garbage, good = tmp_path / "garbage.json", tmp_path / "good.json"
    garbage.write_text("not a report")
    good.write_text(json.dumps(report))
    runner = CliRunner()

    unreadable = runner.invoke(docex, ["audit", "--check", str(garbage), "--rpc", "http://x"])
    unreachable = runner.invoke(
        docex, ["audit", "--check", str(good), "--rpc", "http://127.0.0.1:9"]
    )

    assert unreadable.exit_code == 2, unreadable.output
    assert "unreadable-audit-report" in unreadable.output
    assert unreachable.exit_code == 2, unreachable.output


def test_docex_audit_refused_by_the_node_exits_1(
    audited: AuditedNode, serve: Any, tmp_path: Path
) -> None:
    url = serve(audited.client.app)
    output = tmp_path / "r.json"

    result = CliRunner().invoke(
        docex,
        ["audit", "--document", audited.receipt["id"], "-o", str(output), "--node", url,
         "--token", audited.tokens["officer"]],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "403" in result.output
    assert not output.exists()


# --- a document received from another member -------------------------------------------------


def test_a_received_document_is_audited_like_an_issued_one(audited: AuditedNode) -> None:
    """KR anchors a certificate to VN; VN's node files it in its inbox as its receiver does
    after fetching it from KR's gateway (the fetch is not what this test is about)."""
    kr, ledger = audited.kr, audited.services.ledger
    assert kr is not None
    assert ledger is not None
    document = sample_document("coo/1", 7)
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    document["importingCountry"] = "VN"
    builder = BatchBuilder()
    builder.add(validate_document(document))
    signed = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
    anchored = kr.anchor("kr-audit-1", signed.anchor.root, "coo/1", 1, signed.anchor.addressees)
    sync_index(ledger, audited.services.metrics)
    wrapped = next(iter(signed)).to_json()
    target = str(wrapped["targetHash"])
    audited.services.inbox.file(
        ReceivedDocument(
            target_hash=bytes.fromhex(target[2:]),
            batch_root=signed.anchor.root,
            document_type="coo/1",
            issuer_country="KR",
            issuer=kr.issuer.address,
            cid="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
            confidential=False,
            block_number=anchored.block_number,
            received_at=0.0,
            wrapped_json=json.dumps(wrapped).encode(),
            verdict_json="{}",
            valid=True,
        )
    )

    by_target = audited.report(document=target)
    by_issuer = audited.report(issuer="KR")
    as_issuer = audited.get("issuer", document=target)

    (listed,) = by_target["documents"]
    assert listed["origin"] == "received"
    assert listed["issuerCountry"] == "KR"
    assert listed["receiptId"] is None
    assert [line["event"] for line in by_target["events"]] == ["BatchAnchored"]
    assert by_target["events"][0]["txHash"] == anchored.tx_hash
    assert [d["targetHash"] for d in by_issuer["documents"]] == [target]
    assert check_report(by_target, audited.rpc_url).holds
    assert as_issuer.status_code == 403

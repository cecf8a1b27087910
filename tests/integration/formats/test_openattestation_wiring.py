"""A TradeTrust (OA v2) document through docex's own doors: ``docex check`` and
``POST /v1/verify``; documents made now by OA's own library."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from node.cli.main import app as docex
from node.verification.openattestation import verify_openattestation_document

RunReference = Callable[[str, dict[str, Any]], Any]
STORE = "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"


@pytest.fixture(scope="module")
def wrapped(run_reference: RunReference) -> dict[str, Any]:
    document = {
        "issuers": [
            {
                "name": "Ministry of Industry and Trade",
                "documentStore": STORE,
                "identityProof": {"type": "DNS-TXT", "location": "moit.example.vn"},
            }
        ],
        "certificateNumber": "VN-SG 24/02/0000001",
        "exporter": {"name": "Công ty Cà phê Việt"},
    }
    made = run_reference("openattestation.cjs", {"action": "wrap", "documents": [document]})
    first: dict[str, Any] = made["wrapped"][0]
    return first


def _check(tmp_path: Path, value: dict[str, Any], *args: str) -> Any:
    path = tmp_path / "document.tt"
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return CliRunner().invoke(docex, ["check", str(path), *args])


def test_docex_check_recognises_and_passes_an_oa_document(
    tmp_path: Path, wrapped: dict[str, Any]
) -> None:
    result = _check(tmp_path, wrapped, "--json")

    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["format"] == "openattestation/2"
    by_name = {check["name"]: check for check in verdict["checks"]}
    assert by_name["oa-target-hash"]["status"] == "valid"
    assert by_name["oa-merkle-proof"]["status"] == "valid"
    assert "oa-issuer-identity" not in by_name  # needs a node's trusted list


def test_docex_check_fails_a_tampered_oa_document(tmp_path: Path, wrapped: dict[str, Any]) -> None:
    tampered = copy.deepcopy(wrapped)
    salt, kind, _ = tampered["data"]["certificateNumber"].split(":", 2)
    tampered["data"]["certificateNumber"] = f"{salt}:{kind}:VN-SG 24/02/9999999"

    result = _check(tmp_path, tampered)

    assert result.exit_code == 1, result.output


def test_an_oa_document_with_a_broken_structure_is_unreadable(
    tmp_path: Path, wrapped: dict[str, Any]
) -> None:
    broken = copy.deepcopy(wrapped)
    del broken["signature"]

    assert _check(tmp_path, broken).exit_code == 2


def test_the_node_verifies_an_oa_document_naming_its_trusted_store(
    wrapped: dict[str, Any],
) -> None:
    """The node's own use case, without a chain (issuance and revocation skipped)."""
    trusted = verify_openattestation_document(wrapped, None, {STORE: "VN MOIT"})
    untrusted = verify_openattestation_document(wrapped, None, {})

    assert trusted.verdict.check("oa-issuer-identity").status.value == "valid"
    assert untrusted.verdict.check("oa-issuer-identity").status.value == "invalid"
    assert trusted.verdict.check("oa-issuance").status.value == "skipped"


def test_post_verify_answers_an_oa_document_with_the_chain_read(
    tmp_path: Path, wrapped: dict[str, Any]
) -> None:
    """A node on eth-tester: the document store is not deployed there, so issuance is
    not confirmed, and the verdict says so rather than passing it."""
    from fastapi.testclient import TestClient

    from node.http.app import create_app
    from node.runtime import NodeRuntime
    from node.settings import NodeSettings

    settings = NodeSettings(
        data_dir=tmp_path / "node", chain="eth-tester", oa_trusted_stores={STORE: "VN MOIT"}
    )  # type: ignore[call-arg]
    runtime = NodeRuntime(settings, kdf_iterations=2**10)
    try:
        client = TestClient(create_app(settings, runtime.open()))
        answer = client.post("/v1/verify", json=wrapped)
    finally:
        runtime.stop()

    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["format"] == "openattestation/2"
    by_name = {check["name"]: check for check in verdict["checks"]}
    assert by_name["oa-target-hash"]["status"] == "valid"
    assert by_name["oa-issuer-identity"]["status"] == "valid"
    assert by_name["oa-dns-identity"]["status"] == "skipped"
    assert by_name["oa-issuance"]["status"] != "valid"
    assert verdict["valid"] is False

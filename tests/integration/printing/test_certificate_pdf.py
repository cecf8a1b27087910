"""GET /v1/documents/{id}/certificate.pdf on a real node (eth-tester chain, dev
consortium): the printed QR code, rasterised with pdftoppm and read back with zbarimg,
opens the verifier for the document, and the document verifies; who may print what;
``docex render`` over HTTP."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index
from node.chain.index_follower import sync_index
from node.chain.ledger_link import link_ledger
from node.cli.main import app as docex
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.receiving.inbox import ReceivedDocument

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

PDF_TOOLS = ("pdftoppm", "zbarimg")


def coo(index: int = 1, **changes: Any) -> JsonObject:
    return {**sample_document("coo/1", index), **changes}


def anchored(node: NodeUnderTest, document: JsonObject, user: str = "issuer") -> dict[str, Any]:
    accepted = node.issue(document, user=user)
    assert accepted.status_code == 202, accepted.text
    node.anchor_pending()
    receipt: dict[str, Any] = node.receipt(accepted.json()["receipts"][0]["id"], user=user).json()
    assert receipt["status"] == "anchored"
    return receipt


def certificate(node: NodeUnderTest, document_id: str, user: str | None = "issuer") -> Any:
    headers = node.auth(user) if user is not None else {}
    return node.client.get(f"/v1/documents/{document_id}/certificate.pdf", headers=headers)


def scanned_qr_codes(pdf: bytes, folder: Path) -> list[str]:
    """What a scanner reads off the first page printed at 150 dpi."""
    missing = [tool for tool in PDF_TOOLS if shutil.which(tool) is None]
    assert not missing, f"install {missing} (make setup: poppler-utils, zbar-tools)"
    (folder / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-gray", "-png", "certificate.pdf", "page"],
        cwd=folder,
        check=True,
    )
    (image,) = sorted(folder.glob("page*.png"))
    scanned = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
        capture_output=True,
        text=True,
        check=True,
    )
    return scanned.stdout.split()


def test_the_printed_qr_code_opens_the_verifier_and_the_document_verifies(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))

    response = certificate(node, receipt["id"])

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    (link,) = scanned_qr_codes(response.content, tmp_path)
    assert link == f"{node.runtime.settings.base_url}/v/{receipt['targetHash']}"
    path = urlsplit(link).path
    short_link = node.client.get(path, follow_redirects=False)
    assert short_link.status_code in (302, 303, 307)
    verifier_page = node.client.get(path)
    assert verifier_page.status_code == 200
    assert verifier_page.headers["content-type"].startswith("text/html")
    ref = path.rsplit("/", 1)[-1]
    verdict = node.client.get(f"/v1/verify/{ref}")
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["valid"] is True
    assert {check["status"] for check in verdict.json()["checks"]} == {"valid"}


def test_the_certificate_carries_the_anchoring_of_the_receipt(node: NodeUnderTest) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))

    pdf = certificate(node, receipt["targetHash"]).content

    text = "".join(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    for fact in (receipt["targetHash"], receipt["batchRoot"], receipt["txHash"]):
        assert fact in text
    assert f"block{receipt['blockNumber']}" in text
    assert receipt["document"]["data"]["certificateNumber"].replace(" ", "") in text


def test_a_permit_prints_for_its_issuer(node: NodeUnderTest) -> None:
    receipt = anchored(node, sample_document("permit/1", 1), user="permit-issuer")

    response = certificate(node, receipt["id"], user="permit-issuer")

    assert response.status_code == 200, response.text
    assert "PERMIT" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


@pytest.mark.parametrize(("user", "status"), [("auditor", 200), ("admin", 200)])
def test_auditors_and_admins_print_any_document(
    node: NodeUnderTest, user: str, status: int
) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))

    assert certificate(node, receipt["id"], user=user).status_code == status


@pytest.mark.parametrize("user", ["other-issuer", "officer"])
def test_another_issuer_and_an_officer_of_a_non_addressee_are_refused(
    node: NodeUnderTest, user: str
) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))

    node.problem(certificate(node, receipt["id"], user=user), 403, "not-authorised")


def test_no_token_is_401(node: NodeUnderTest) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))

    node.problem(certificate(node, receipt["id"], user=None), 401, "not-authenticated")


def test_a_pending_document_is_409(node: NodeUnderTest) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]

    node.problem(certificate(node, receipt_id), 409, "document-not-anchored")


@pytest.mark.parametrize("document_id", ["0" * 32, "0x" + "ab" * 32, "not-a-document"])
def test_a_document_this_node_does_not_hold_is_404(node: NodeUnderTest, document_id: str) -> None:
    node.problem(certificate(node, document_id, user="auditor"), 404, "document-not-found")


# --- a document another member addressed to this node ------------------------------------


def received_from_kr(node: NodeUnderTest, tmp_path: Path) -> JsonObject:
    """A certificate of origin KR issued to VN, anchored with KR's issuer key on the same
    chain, indexed, and filed in the VN inbox as the receiver files it."""
    ledger = node.services.ledger
    assert ledger is not None
    kr = link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / "kr-transactions.sqlite"),
        open_index(tmp_path / "kr-index.sqlite"),
        load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer")),
    )
    document = coo(7, importingCountry="VN")
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    builder = BatchBuilder()
    builder.add(validate_document(document))
    signed = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
    kr.anchor("kr-7", signed.anchor.root, "coo/1", 1, signed.anchor.addressees)
    sync_index(ledger, node.services.metrics)
    wrapped: JsonObject = next(iter(signed)).to_json()
    content = json.dumps(wrapped).encode()
    verdict = node.services.verifier.verify(wrapped)
    node.services.inbox.file(
        ReceivedDocument(
            target_hash=bytes.fromhex(str(wrapped["targetHash"])[2:]),
            batch_root=signed.anchor.root,
            document_type="coo/1",
            issuer_country="KR",
            issuer=kr.issuer.address,
            cid=str(node.services.store.put(content)),
            confidential=False,
            block_number=ledger.head_block(),
            received_at=1.0,
            wrapped_json=content,
            verdict_json=json.dumps(verdict.to_json()),
            valid=verdict.valid,
        )
    )
    return wrapped


def test_an_officer_of_the_addressee_prints_a_received_document(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    wrapped = received_from_kr(node, tmp_path)
    target_hash = str(wrapped["targetHash"])

    response = certificate(node, target_hash, user="officer")

    assert response.status_code == 200, response.text
    (link,) = scanned_qr_codes(response.content, tmp_path)
    assert link.endswith(f"/v/{target_hash}")
    node.problem(certificate(node, target_hash, user="issuer"), 403, "not-authorised")


# --- docex render, over HTTP --------------------------------------------------------------


def test_docex_render_writes_the_certificate(
    node: NodeUnderTest, serve: Any, tmp_path: Path
) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))
    url = serve(node.client.app)
    output = tmp_path / "cert.pdf"
    runner = CliRunner()
    arguments = ["render", receipt["id"], "-o", str(output), "--node", url]

    written = runner.invoke(docex, [*arguments, "--token", node.tokens["issuer"]])

    assert written.exit_code == 0, written.output
    assert output.read_bytes() == certificate(node, receipt["id"]).content
    again = runner.invoke(docex, [*arguments, "--token", node.tokens["issuer"]])
    assert again.exit_code == 1
    assert "--force" in again.output
    refused = runner.invoke(docex, [*arguments, "--force", "--token", node.tokens["other-issuer"]])
    assert refused.exit_code == 1
    assert "403" in refused.output
    assert output.read_bytes().startswith(b"%PDF-")  # a refusal leaves the file alone
    korean = tmp_path / "cert-ko.pdf"
    korean_arguments = ["render", receipt["id"], "-o", str(korean), "--lang", "ko"]
    in_korean = runner.invoke(
        docex, [*korean_arguments, "--node", url, "--token", node.tokens["issuer"]]
    )
    assert in_korean.exit_code == 0, in_korean.output
    assert "원산지증명서" in pdf_words(korean.read_bytes())


def test_docex_render_with_no_node_listening_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        docex,
        ["render", "0" * 32, "-o", str(tmp_path / "c.pdf"), "--node", "http://127.0.0.1:9"],
    )

    assert result.exit_code == 2
    assert not (tmp_path / "c.pdf").exists()


def pdf_words(pdf: bytes) -> str:
    return "".join(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )


@pytest.mark.parametrize(
    ("asked", "language", "own_words"),
    [
        ({"params": {"lang": "vi"}}, "vi", ["GIẤYCHỨNGNHẬNXUẤTXỨ", "Quétđểxácminh"]),
        ({"params": {"lang": "ko"}}, "ko", ["원산지증명서", "스캔하여검증"]),
        ({"headers": {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}}, "ko", ["원산지증명서"]),
        ({"headers": {"Accept-Language": "vi"}}, "vi", ["Hànggửitừ"]),
        ({}, "en", ["CERTIFICATEOFORIGIN", "Scantoverify"]),
    ],
)
def test_the_certificate_prints_in_the_language_asked_for(
    node: NodeUnderTest, asked: dict[str, Any], language: str, own_words: list[str]
) -> None:
    receipt = anchored(node, coo(importingCountry="KR"))
    headers = {**node.auth("issuer"), **asked.get("headers", {})}

    response = node.client.get(
        f"/v1/documents/{receipt['targetHash']}/certificate.pdf",
        headers=headers,
        params=asked.get("params", {}),
    )

    assert response.status_code == 200
    assert response.headers["content-language"] == language
    text = pdf_words(response.content)
    for words in own_words:
        assert words in text, (language, words)
    # the field values as issued, in every language
    exporter = receipt["document"]["data"]["exporter"]["name"]
    assert "".join(exporter.split()) in text


def test_a_printed_certificate_posted_for_verification_names_its_reference(
    node: NodeUnderTest,
) -> None:
    receipt = anchored(node, coo())
    pdf = certificate(node, receipt["targetHash"]).content

    response = node.client.post(
        "/v1/verify", files={"file": ("certificate.pdf", pdf, "application/pdf")}
    )

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "printed-certificate"
    assert receipt["targetHash"] in problem["detail"]
    assert "UTF-8" not in problem["detail"]

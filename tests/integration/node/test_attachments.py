"""Attached files on a real node (eth-tester chain, embedded store): issued with a document
as base64 in its JSON, bound by SHA-256 and CID, stored (sealed when confidential), and
checked by verification: a changed file in the store is ``attachment-changed``, a missing
one ``attachment-missing``; files over the limits are refused with nothing stored."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from adapters.content.block_pack import PACK_FILE
from adapters.content.cid import RAW, Cid
from adapters.content.embedded import EmbeddedContentStore
from certificates.schemas.samples import sample_document
from node.chain.index_follower import sync_index

if TYPE_CHECKING:
    from conftest import NodeFactory, NodeUnderTest

pytestmark = pytest.mark.integration

#: a PDF and a PNG as their magic bytes say, each with a marker to find its block by
PDF = b"%PDF-1.7\n% docex test invoice INV-2024-0042 marker-pdf-7f3a\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"docex packing list marker-png-91c2" + bytes(64)


def _attachment(name: str, kind: str, content: bytes, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "content": base64.b64encode(content).decode(), **extra}


def _with_files(*files: dict[str, Any], index: int = 1) -> dict[str, Any]:
    document: dict[str, Any] = dict(sample_document("coo/1", index))
    document["attachments"] = list(files)
    return document


def _anchored(node: NodeUnderTest, document: dict[str, Any], **params: str) -> dict[str, Any]:
    # sealing reads the members' encryption keys from the chain (the index)
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)
    accepted = node.client.post(
        "/v1/documents",
        params=params,
        content=json.dumps(document),
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )
    assert accepted.status_code == 202, accepted.text
    node.anchor_pending()
    receipt: dict[str, Any] = node.receipt(accepted.json()["receipts"][0]["id"]).json()
    assert receipt["status"] == "anchored"
    return receipt


def _check(node: NodeUnderTest, wrapped: Any) -> dict[str, Any]:
    verdict = node.client.post("/v1/verify", json=wrapped).json()
    return next(c for c in verdict["checks"] if c["name"] == "attachments") | {
        "valid": verdict["valid"]
    }


def _files_holding(root: Path, marker: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes hold ``marker`` (the pack and its WAL too)."""
    return [p for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]


def _blocks_holding(node: NodeUnderTest, marker: bytes) -> list[Cid]:
    """The stored blocks (packed or files) whose bytes hold ``marker``."""
    blocks = EmbeddedContentStore(node.runtime.settings.content_dir).blocks
    holding = []
    for multihash in blocks.multihashes():
        cid = Cid(version=1, codec=RAW, multihash=multihash)
        if marker in blocks.get(cid):
            holding.append(cid)
    return holding


def _change_a_byte(node: NodeUnderTest, cid: Cid, marker: bytes) -> None:
    """What a disk fault or an intruder does to the stored block ``cid``."""
    blocks = EmbeddedContentStore(node.runtime.settings.content_dir).blocks
    raw = blocks.get(cid)
    with sqlite3.connect(blocks.pack.path) as pack:
        changed = pack.execute(
            "UPDATE blocks SET data = ? WHERE multihash = ?",
            (raw.replace(marker, b"M" + marker[1:]), cid.multihash),
        ).rowcount
    assert changed == 1


def _store_state(node: NodeUnderTest) -> tuple[set[Path], list[bytes]]:
    """The store's files and the multihash of every block it holds."""
    root = node.runtime.settings.content_dir
    files = {p for p in root.rglob("*") if p.is_file() and not p.name.startswith(PACK_FILE)}
    return files, sorted(EmbeddedContentStore(root).blocks.multihashes())


def test_a_document_binds_its_files_and_verifies_green(node: NodeUnderTest) -> None:
    receipt = _anchored(
        node,
        _with_files(
            _attachment("invoice.pdf", "invoice", PDF, mediaType="application/pdf"),
            _attachment("packing.png", "packing-list", PNG),
        ),
    )
    bound = receipt["document"]["data"]["attachments"]
    assert [a["sha256"] for a in bound] == [hashlib.sha256(f).hexdigest() for f in (PDF, PNG)]
    assert [a["mediaType"] for a in bound] == ["application/pdf", "image/png"]
    assert bound[0]["size"] == len(PDF)
    assert "content" not in bound[0]
    assert node.services.store.get(_cid(bound[0]["cid"])) == PDF

    check = _check(node, receipt["document"])
    assert check["valid"] is True
    assert (check["status"], check["code"]) == ("valid", "attachments-intact")


def test_a_changed_byte_in_the_store_is_attachment_changed(node: NodeUnderTest) -> None:
    receipt = _anchored(node, _with_files(_attachment("invoice.pdf", "invoice", PDF)))
    (block,) = _blocks_holding(node, b"marker-pdf-7f3a")
    _change_a_byte(node, block, b"marker-pdf-7f3a")

    check = _check(node, receipt["document"])
    assert check["valid"] is False
    assert (check["status"], check["code"]) == ("invalid", "attachment-changed")
    assert "invoice.pdf" in check["reason"]


def test_a_file_gone_from_the_store_is_attachment_missing(node: NodeUnderTest) -> None:
    receipt = _anchored(node, _with_files(_attachment("invoice.pdf", "invoice", PDF)))
    (block,) = _blocks_holding(node, b"marker-pdf-7f3a")
    EmbeddedContentStore(node.runtime.settings.content_dir).blocks.delete(block)

    check = _check(node, receipt["document"])
    assert (check["status"], check["code"]) == ("invalid", "attachment-missing")


def test_a_changed_binding_breaks_the_document_itself(node: NodeUnderTest) -> None:
    receipt = _anchored(node, _with_files(_attachment("invoice.pdf", "invoice", PDF)))
    forged = json.loads(json.dumps(receipt["document"]))
    forged["data"]["attachments"][0]["sha256"] = hashlib.sha256(b"another file").hexdigest()

    verdict = node.client.post("/v1/verify", json=forged).json()
    integrity = next(c for c in verdict["checks"] if c["name"] == "integrity")
    assert (verdict["valid"], integrity["code"]) == (False, "target-hash-mismatch")


def test_a_confidential_documents_files_are_stored_only_sealed(node: NodeUnderTest) -> None:
    document = _with_files(_attachment("invoice.pdf", "invoice", PDF))
    document["importingCountry"] = "KR"
    receipt = _anchored(node, document, confidential="true")

    assert _files_holding(node.runtime.settings.content_dir, b"marker-pdf-7f3a") == []
    assert _blocks_holding(node, b"marker-pdf-7f3a") == []
    (bound,) = receipt["document"]["data"]["attachments"]
    stored = node.services.store.get(_cid(bound["cid"]))
    assert stored.startswith(b'{"format":"docex-envelope/')
    check = _check(node, receipt["document"])
    assert (check["status"], check["code"]) == ("valid", "attachments-intact")


@pytest.mark.parametrize(
    ("files", "status", "code", "path"),
    [
        ([_attachment("big.pdf", "invoice", PDF + bytes(5000))], 413, "attachment-too-large",
         "/attachments/0/content"),
        ([_attachment("a.pdf", "invoice", PDF + bytes(3100)),
          _attachment("b.pdf", "invoice", PDF + bytes(3100))], 413, "attachment-too-large",
         "/attachments/1/content"),
        ([_attachment("x.exe", "other", b"MZ\x90\x00 not a pdf")], 422, "invalid-attachment",
         "/attachments/0/content"),
        ([_attachment("i.png", "invoice", PDF, mediaType="image/png")], 422,
         "invalid-attachment", "/attachments/0/mediaType"),
        ([{"name": "i.pdf", "kind": "invoice", "content": "not base64!"}], 422,
         "invalid-attachment", "/attachments/0/content"),
        ([_attachment("i.pdf", "invoice", PDF, sha256="00" * 32)], 422, "invalid-attachment",
         "/attachments/0"),
    ],
)  # fmt: skip
def test_a_refused_attachment_is_a_problem_and_nothing_is_stored(
    make_node: NodeFactory, files: list[dict[str, Any]], status: int, code: str, path: str
) -> None:
    node = make_node(max_attachment_bytes=4096, max_attachments_bytes=6144)
    before = _store_state(node)

    response = node.issue(_with_files(*files))

    body = node.problem(response, status, code)
    assert body["path"] == path
    assert _store_state(node) == before
    assert node.services.outbox.pending_count() == 0


def _cid(text: str) -> Any:
    from adapters import Cid

    return Cid.parse(text)

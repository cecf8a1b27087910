"""Attached files: magic bytes, the binding into the document, and the check's codes."""

from __future__ import annotations

import hashlib

import pytest

from certificates import CheckCode, CheckStatus, validate_document
from certificates.attachments import (
    DeclaredAttachment,
    Found,
    check_attachments,
    sniff_media_type,
)
from certificates.errors import InvalidDocument
from certificates.schemas.samples import sample_document
from certificates.signing import Eip712Domain
from certificates.wrapping import wrap_batch

PDF = b"%PDF-1.7\n%%EOF\n"
DOMAIN = Eip712Domain(chain_id=31337, verifying_contract="0x" + "11" * 20)
CID = "bafkreiddio5os34blbmruizu2diyimnygueruxz4vvvuksdxanqcjdyqre"


def _entry(content: bytes = PDF, **changes: object) -> dict[str, object]:
    return {
        "name": "invoice.pdf",
        "kind": "invoice",
        "mediaType": "application/pdf",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "cid": CID,
        **changes,
    }


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (PDF, "application/pdf"),
        (b"\x89PNG\r\n\x1a\n...", "image/png"),
        (b"\xff\xd8\xff\xe0...", "image/jpeg"),
        (b"MZ\x90\x00", None),
        (b"<html>%PDF-", None),
    ],
)
def test_the_media_type_is_what_the_first_bytes_say(content: bytes, media_type: str | None) -> None:
    assert sniff_media_type(content) == media_type


def test_attachments_are_bound_into_the_target_hash() -> None:
    document = dict(sample_document("coo/1", 1))
    plain = next(
        iter(wrap_batch([validate_document(document)], signing_key=b"\1" * 32, domain=DOMAIN))
    )
    attached = {**document, "attachments": [_entry()]}
    other = {**document, "attachments": [_entry(b"%PDF-1.7 another file\n")]}
    hashes = {
        next(
            iter(wrap_batch([validate_document(v)], signing_key=b"\1" * 32, domain=DOMAIN))
        ).target_hash
        for v in (attached, other)
    }
    assert len(hashes) == 2
    assert plain.target_hash not in hashes  # and a document without them keeps its own


@pytest.mark.parametrize(
    "changes",
    [{"sha256": "AB" * 32}, {"cid": "not-a-cid"}, {"mediaType": "text/html"}, {"name": "a/b"}],
)
def test_a_malformed_binding_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidDocument):
        validate_document({**sample_document("permit/1", 1), "attachments": [_entry(**changes)]})


def test_the_check_names_each_outcome_by_its_own_code() -> None:
    declared = [DeclaredAttachment("a.pdf", hashlib.sha256(PDF).hexdigest(), CID)] * 2
    outcomes = {
        "intact": check_attachments(declared, [PDF, PDF]),
        "changed": check_attachments(declared, [PDF, PDF + b"x"]),
        "corrupted": check_attachments(declared, [Found.CORRUPTED, PDF]),
        "missing": check_attachments(declared, [PDF, Found.MISSING]),
        "sealed": check_attachments(declared, [Found.SEALED, PDF]),
    }
    assert {name: (r.status, r.code) for name, r in outcomes.items()} == {
        "intact": (CheckStatus.VALID, CheckCode.ATTACHMENTS_INTACT),
        "changed": (CheckStatus.INVALID, CheckCode.ATTACHMENT_CHANGED),
        "corrupted": (CheckStatus.INVALID, CheckCode.ATTACHMENT_CHANGED),
        "missing": (CheckStatus.INVALID, CheckCode.ATTACHMENT_MISSING),
        "sealed": (CheckStatus.SKIPPED, CheckCode.ATTACHMENT_SEALED),
    }
    assert outcomes["changed"].data["altered"] == [1]


def test_declared_attachments_are_read_from_visible_data_only() -> None:
    assert DeclaredAttachment.all_of({"attachments": [_entry()]}) == [
        DeclaredAttachment("invoice.pdf", hashlib.sha256(PDF).hexdigest(), CID)
    ]
    assert DeclaredAttachment.all_of({"documentType": "coo/1"}) == []

"""A presented document is docex, OpenAttestation v2, or a clear error naming both."""

from __future__ import annotations

import pytest

from adapters.formats import (
    DocumentFormat,
    InvalidOpenAttestationDocument,
    UnrecognisedDocumentFormat,
    detect_document_format,
)
from adapters.formats.openattestation import OA_V2_VERSION, verify_openattestation
from certificates.json_types import JsonValue


def test_docex_and_openattestation_are_recognised() -> None:
    assert detect_document_format({"version": "docex-wrapped/1"}) is DocumentFormat.DOCEX_WRAPPED
    assert detect_document_format({"version": OA_V2_VERSION}) is DocumentFormat.OPENATTESTATION_V2


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        ([1, 2], "", "not a JSON object"),
        ({"hello": "world"}, "", "no version member"),
        ({"version": "x" * 500}, "/version", "unknown version"),
        ({"documentType": "coo/1", "certificateNumber": "1"}, "", "before issuing"),
        (
            {
                "@context": [
                    "https://schemata.openattestation.com/com/openattestation/1.0/OpenAttestation.v3.json"
                ]
            },
            "/@context",
            "v3 documents are not supported",
        ),
        (
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "proof": {"type": "DataIntegrityProof", "cryptosuite": "bbs-2023"},
            },
            "/proof",
            "Verifiable Credential secured by an embedded proof (bbs-2023)",
        ),
        (
            {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": "X"},
            "",
            "Verifiable Credential secured by no embedded proof",
        ),
    ],
)
def test_anything_else_names_what_was_expected(value: JsonValue, path: str, words: str) -> None:
    with pytest.raises(UnrecognisedDocumentFormat) as raised:
        detect_document_format(value)
    assert raised.value.path == path
    assert words in raised.value.message
    assert "docex-wrapped/1" in raised.value.message
    assert OA_V2_VERSION in raised.value.message
    assert len(raised.value.message) < 400  # a long input is never echoed in full


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"version": OA_V2_VERSION, "data": []}, "/data"),
        ({"version": OA_V2_VERSION, "data": {}}, "/signature"),
        ({"version": OA_V2_VERSION, "data": {}, "signature": {"type": "X"}}, "/signature/type"),
        (
            {
                "version": OA_V2_VERSION,
                "data": {},
                "signature": {"type": "SHA3MerkleProof"},
                "privacy": {"obfuscatedData": "no"},
            },
            "/privacy/obfuscatedData",
        ),
    ],
)
def test_malformed_openattestation_names_the_path(value: JsonValue, path: str) -> None:
    with pytest.raises(InvalidOpenAttestationDocument) as raised:
        verify_openattestation(value)
    assert raised.value.path == path
    assert raised.value.code == "invalid-openattestation-document"

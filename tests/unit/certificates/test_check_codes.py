"""Stable check codes: every offline outcome has its own code, and no published code
changes or disappears (``published_check_codes.txt`` is the published list)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

import certificates
from certificates.check_codes import RESERVED_CODES, CheckCode
from certificates.json_types import JsonObject
from certificates.offline_checks import INTEGRITY, SIGNATURE, verify_offline_json
from certificates.schemas import validate_document
from certificates.schemas.samples import sample_certificate_of_origin
from certificates.signing import Eip712Domain
from certificates.verdict import CheckResult, CheckStatus
from certificates.wrapping import wrap_batch

KEY = bytes(range(1, 33))
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Eip712Domain(chain_id=31337, verifying_contract=REGISTRY)
PUBLISHED = Path(__file__).with_name("published_check_codes.txt")
DOCS = Path(__file__).parents[3] / "docs" / "verification-codes.md"


def published() -> list[str]:
    lines = PUBLISHED.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def wrapped(count: int = 1) -> list[JsonObject]:
    inputs = [validate_document(sample_certificate_of_origin(i, items=2)) for i in range(count)]
    return [
        json.loads(json.dumps(document.to_json()))
        for document in wrap_batch(inputs, signing_key=KEY, domain=DOMAIN)
    ]


def outcome(
    document: JsonObject, check: str, domain: Eip712Domain | None = DOMAIN
) -> tuple[str, CheckCode]:
    verdict, _ = verify_offline_json(document, domain)
    result = verdict.check(check)
    return result.status.value, result.code


# --- the published list -----------------------------------------------------------------


def test_no_published_code_changes_or_disappears() -> None:
    codes = {code.value for code in CheckCode}
    missing = [value for value in published() if value not in codes]
    assert missing == [], (
        f"published check codes changed or removed: {missing}; a published code never "
        "changes (add a new one instead)"
    )


def test_the_published_list_has_no_duplicate() -> None:
    assert len(published()) == len(set(published()))


def test_codes_are_lower_case_words_joined_by_hyphens() -> None:
    for code in CheckCode:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code.value), code


def test_every_code_is_documented_and_the_reserved_ones_as_reserved() -> None:
    text = DOCS.read_text(encoding="utf-8")
    codes_part, reserved_part = text.split("## Reserved", 1)
    for code in CheckCode:
        row = f"| `{code.value}` |"
        if code in RESERVED_CODES:
            assert row in reserved_part, code
            assert row not in codes_part, code
        else:
            assert row in codes_part, code


def test_the_code_is_exported_and_in_the_json() -> None:
    assert certificates.CheckCode is CheckCode
    result = CheckResult.invalid("status", CheckCode.REVOKED, "revoked in block 9", block=9)
    assert result.to_json() == {
        "name": "status",
        "status": "invalid",
        "code": "revoked",
        "reason": "revoked in block 9",
        "data": {"block": 9},
    }


# --- each offline outcome has its code --------------------------------------------------


def test_an_intact_signed_document() -> None:
    document = wrapped()[0]
    assert outcome(document, INTEGRITY) == ("valid", CheckCode.INTACT)
    assert outcome(document, SIGNATURE) == ("valid", CheckCode.SIGNED)


def test_an_altered_field_is_a_target_hash_mismatch() -> None:
    document = wrapped()[0]
    document["data"]["certificateNumber"] += "X"  # type: ignore[index,operator]
    assert outcome(document, INTEGRITY) == ("invalid", CheckCode.TARGET_HASH_MISMATCH)


def test_a_missing_salt_is_salts_invalid() -> None:
    document = wrapped()[0]
    salts = document["salts"]
    assert isinstance(salts, dict)
    del salts[next(iter(salts))]
    assert outcome(document, INTEGRITY) == ("invalid", CheckCode.SALTS_INVALID)


def test_another_signed_type_is_a_signed_type_mismatch() -> None:
    document = wrapped()[0]
    document["batch"]["documentType"] = "permit/1"  # type: ignore[index]
    assert outcome(document, INTEGRITY) == ("invalid", CheckCode.SIGNED_TYPE_MISMATCH)


def test_a_document_moved_to_another_batch_has_an_invalid_proof() -> None:
    first, second = wrapped(2)
    first["batch"] = copy.deepcopy(second["batch"])
    first["batch"]["proof"] = []  # type: ignore[index]
    assert outcome(first, INTEGRITY) == ("invalid", CheckCode.PROOF_INVALID)


def test_not_a_wrapped_document_is_schema_invalid() -> None:
    document = wrapped()[0]
    del document["targetHash"]
    verdict, parsed = verify_offline_json(document, DOMAIN)
    assert parsed is None
    assert verdict.check(INTEGRITY).status is CheckStatus.INVALID
    assert verdict.check(INTEGRITY).code is CheckCode.SCHEMA_INVALID


def test_a_signature_for_another_deployment_is_a_domain_mismatch() -> None:
    other = Eip712Domain(chain_id=1, verifying_contract=REGISTRY)
    assert outcome(wrapped()[0], SIGNATURE, other) == ("invalid", CheckCode.DOMAIN_MISMATCH)


def test_another_stated_signer_is_a_signature_mismatch() -> None:
    document = wrapped()[0]
    document["signature"]["signer"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # type: ignore[index]
    assert outcome(document, SIGNATURE) == ("invalid", CheckCode.SIGNATURE_MISMATCH)


@pytest.mark.parametrize("value", ["0x" + "00" * 65, "0x" + "ff" * 64 + "1b"])
def test_a_malformed_signature_value_is_signature_invalid(value: str) -> None:
    document = wrapped()[0]
    document["signature"]["value"] = value  # type: ignore[index]
    assert outcome(document, SIGNATURE) == ("invalid", CheckCode.SIGNATURE_INVALID)

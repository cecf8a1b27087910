"""Signed member requests (ADR 0023): the digest eth-account computes for the same typed
data, and a signature that holds for one method, target, audience, deployment and moment
only."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from certificates.errors import InvalidSignature
from certificates.keccak import keccak256
from certificates.member_requests import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    SIGNER_HEADER,
    TIMESTAMP_HEADER,
    MemberRequest,
    has_member_signature,
    is_fresh,
    recover_member_request,
    request_domain,
    sign_member_request,
)
from certificates.signing import address_of

KEY = keccak256(b"test member key")
SIGNER = address_of(KEY)
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = request_domain(31337, REGISTRY)
REQUEST = MemberRequest(
    "GET", "/ipfs/bafy?format=car&dag-scope=all", "VN", 1_767_225_600, "ab" * 16
)


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _recover(headers: dict[str, str], **changes: Any) -> str:
    where = {"method": REQUEST.method, "target": REQUEST.target, "audience": REQUEST.audience}
    where.update(changes)
    return recover_member_request(DOMAIN, _lower(headers), **where).signer


def test_the_signature_is_the_one_eth_account_makes_for_the_same_typed_data() -> None:
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "MemberRequest": [
                {"name": "method", "type": "string"},
                {"name": "target", "type": "string"},
                {"name": "audience", "type": "bytes2"},
                {"name": "timestamp", "type": "uint64"},
                {"name": "nonce", "type": "bytes16"},
            ],
        },
        "primaryType": "MemberRequest",
        "domain": {
            "name": "docex-member-request",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": REGISTRY,
        },
        "message": {
            "method": REQUEST.method,
            "target": REQUEST.target,
            "audience": REQUEST.audience.encode(),
            "timestamp": REQUEST.timestamp,
            "nonce": bytes.fromhex(REQUEST.nonce),
        },
    }
    reference = Account.sign_typed_data(KEY, full_message=typed)
    headers = sign_member_request(KEY, SIGNER, DOMAIN, REQUEST)
    assert headers[SIGNATURE_HEADER] == "0x" + bytes(reference.signature).hex()


def test_a_genuine_request_recovers_its_signer() -> None:
    headers = sign_member_request(KEY, SIGNER, DOMAIN, REQUEST)
    assert has_member_signature(_lower(headers))
    assert _recover(headers) == SIGNER


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "HEAD"},
        {"target": "/ipfs/bafy?format=raw"},
        {"target": "/v1/batches/0x00/manifest"},
        {"audience": "KR"},
    ],
    ids=["other-method", "other-query", "other-path", "other-node"],
)
def test_a_signature_holds_for_its_own_request_only(changes: dict[str, str]) -> None:
    headers = sign_member_request(KEY, SIGNER, DOMAIN, REQUEST)
    with pytest.raises(InvalidSignature, match="not by the account"):
        _recover(headers, **changes)


def test_a_signature_holds_on_its_own_deployment_only() -> None:
    elsewhere = request_domain(31338, REGISTRY)
    headers = sign_member_request(KEY, SIGNER, elsewhere, REQUEST)
    with pytest.raises(InvalidSignature, match="not by the account"):
        _recover(headers)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (TIMESTAMP_HEADER, str(REQUEST.timestamp + 1)),
        (NONCE_HEADER, "cd" * 16),
        (SIGNER_HEADER, address_of(keccak256(b"another member"))),
    ],
    ids=["timestamp", "nonce", "signer"],
)
def test_a_changed_header_breaks_the_signature(header: str, value: str) -> None:
    headers = {**sign_member_request(KEY, SIGNER, DOMAIN, REQUEST), header: value}
    with pytest.raises(InvalidSignature, match="not by the account"):
        _recover(headers)


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        (NONCE_HEADER, "", "lacks Docex-Nonce"),
        (NONCE_HEADER, "AB" * 16, "nonce"),
        (TIMESTAMP_HEADER, "-5", "seconds"),
        (SIGNATURE_HEADER, "0x00", "65 bytes"),
        (SIGNER_HEADER, "VN", "address"),
    ],
)
def test_malformed_headers_are_refused(header: str, value: str, message: str) -> None:
    headers = {**sign_member_request(KEY, SIGNER, DOMAIN, REQUEST), header: value}
    with pytest.raises(InvalidSignature, match=message):
        _recover(headers)


def test_freshness_is_a_window_on_either_side() -> None:
    assert is_fresh(1000, 1000.0, 300)
    assert is_fresh(1000, 1300.0, 300)
    assert is_fresh(1300, 1000.0, 300)
    assert not is_fresh(1000, 1300.5, 300)
    assert not is_fresh(1301, 1000.0, 300)

"""The node's on-chain checks: each outcome has its own stable code. The index's answers
are stubbed (``ledger.queries``); the integration tests ask a real index."""

from __future__ import annotations

from typing import Any

import pytest

from certificates import CheckCode, CheckStatus, Eip712Domain, WrappedDocument, wrap_batch
from certificates.schemas import validate_document
from certificates.schemas.samples import sample_certificate_of_origin
from ledger import queries
from ledger.queries import Authority, BatchRecord, DocumentStatus
from node.verification.verifier import (
    ON_CHAIN_CHECKS,
    ChainView,
    Verifier,
    check_issuance,
    check_issuer,
    check_recognition,
    check_status,
)

KEY = bytes(range(1, 33))
DOMAIN = Eip712Domain(chain_id=31337, verifying_contract="0x" + "5f" * 20)
INDEX: Any = object()  # never read: the queries are stubbed


@pytest.fixture(scope="module")
def document() -> WrappedDocument:
    (wrapped,) = wrap_batch(
        [validate_document(sample_certificate_of_origin(1, items=1))],
        signing_key=KEY,
        domain=DOMAIN,
    )
    return wrapped


def batch_of(document: WrappedDocument, issuer: str | None = None) -> BatchRecord:
    return BatchRecord(
        root=document.batch.anchor.root,
        issuer_member=1,
        issuer=issuer or document.signature.signer,
        issuer_country="VN",
        document_type=document.document_type,
        document_count=1,
        addressees=("KR",),
        block_number=12,
        timestamp=1_767_225_600,
        tx_hash=bytes(32),
    )


def status_of(
    document: WrappedDocument,
    revoked_at: int | None = None,
    superseded_by: tuple[bytes, bytes] | None = None,
) -> DocumentStatus:
    return DocumentStatus(document.target_hash, None, revoked_at, superseded_by, (), ())


def test_issuance(document: WrappedDocument) -> None:
    anchored = check_issuance(document, batch_of(document), 20)
    assert (anchored.status, anchored.code) == (CheckStatus.VALID, CheckCode.ANCHORED)
    missing = check_issuance(document, None, 20)
    assert (missing.status, missing.code) == (CheckStatus.INVALID, CheckCode.BATCH_NOT_ANCHORED)


def test_an_unanchored_batch_skips_the_other_on_chain_checks_with_its_code(
    document: WrappedDocument,
) -> None:
    for result in (
        check_issuer(INDEX, document, None),
        check_status(INDEX, document, None),
        check_recognition(INDEX, "KR", None, 0),
    ):
        assert (result.status, result.code) == (CheckStatus.SKIPPED, CheckCode.BATCH_NOT_ANCHORED)


@pytest.mark.parametrize(
    ("authority", "code"),
    [
        (Authority("0x", True, 1, "authorised"), CheckCode.AUTHORISED),
        (Authority("0x", False, None, "no key", "no-key"), CheckCode.ISSUER_NOT_AUTHORISED),
        (
            Authority("0x", False, 1, "member is KR", "other-country"),
            CheckCode.ISSUER_OTHER_COUNTRY,
        ),
        (Authority("0x", False, 1, "not active", "not-active"), CheckCode.MEMBER_NOT_ACTIVE),
        (Authority("0x", False, 1, "no cause given"), CheckCode.ISSUER_NOT_AUTHORISED),
    ],
)
def test_issuer(
    document: WrappedDocument,
    monkeypatch: pytest.MonkeyPatch,
    authority: Authority,
    code: CheckCode,
) -> None:
    monkeypatch.setattr(queries, "authority_at", lambda *_: authority)
    result = check_issuer(INDEX, document, batch_of(document))
    assert result.code is code
    assert result.status is (CheckStatus.VALID if authority.authorised else CheckStatus.INVALID)


def test_a_batch_anchored_for_another_account_is_a_signer_mismatch(
    document: WrappedDocument,
) -> None:
    result = check_issuer(INDEX, document, batch_of(document, issuer="0x" + "12" * 20))
    assert (result.status, result.code) == (CheckStatus.INVALID, CheckCode.SIGNER_MISMATCH)


@pytest.mark.parametrize(
    ("revoked_at", "superseded_by", "expected"),
    [
        (None, None, (CheckStatus.VALID, CheckCode.IN_FORCE)),
        (30, None, (CheckStatus.INVALID, CheckCode.REVOKED)),
        (None, (b"\1" * 32, b"\2" * 32), (CheckStatus.INVALID, CheckCode.SUPERSEDED)),
    ],
)
def test_status(
    document: WrappedDocument,
    monkeypatch: pytest.MonkeyPatch,
    revoked_at: int | None,
    superseded_by: tuple[bytes, bytes] | None,
    expected: tuple[CheckStatus, CheckCode],
) -> None:
    answer = status_of(document, revoked_at, superseded_by)
    monkeypatch.setattr(queries, "status_in_batch", lambda *_, **__: answer)
    result = check_status(INDEX, document, batch_of(document))
    assert (result.status, result.code) == expected


@pytest.mark.parametrize(
    ("country", "agreement", "expected"),
    [
        ("VN", False, (CheckStatus.VALID, CheckCode.OWN_COUNTRY)),
        ("KR", True, (CheckStatus.VALID, CheckCode.RECOGNISED)),
        ("KR", False, (CheckStatus.INVALID, CheckCode.NO_AGREEMENT)),
    ],
)
def test_recognition(
    document: WrappedDocument,
    monkeypatch: pytest.MonkeyPatch,
    country: str,
    agreement: bool,
    expected: tuple[CheckStatus, CheckCode],
) -> None:
    monkeypatch.setattr(queries, "recognises", lambda *_: agreement)
    result = check_recognition(INDEX, country, batch_of(document), 0)
    assert (result.status, result.code) == expected


def test_without_a_chain_the_on_chain_checks_are_skipped_as_no_chain(
    document: WrappedDocument,
) -> None:
    verdict = Verifier("KR", None).verify(document.to_json())
    for name in ON_CHAIN_CHECKS:
        check = verdict.check(name)
        assert (check.status, check.code) == (CheckStatus.SKIPPED, CheckCode.NO_CHAIN)


def test_a_chain_in_doubt_is_an_error_with_index_in_doubt(document: WrappedDocument) -> None:
    chain = ChainView(INDEX, DOMAIN, indexed_block=lambda: 0, in_doubt=lambda: True)
    verdict = Verifier("KR", chain).verify(document.to_json())
    assert verdict.check("integrity").code is CheckCode.INTACT
    for name in ON_CHAIN_CHECKS:
        check = verdict.check(name)
        assert (check.status, check.code) == (CheckStatus.ERROR, CheckCode.INDEX_IN_DOUBT)


def test_not_a_wrapped_document_skips_the_on_chain_checks_as_schema_invalid() -> None:
    verdict = Verifier("KR", None).verify({"version": "nothing"})
    assert verdict.check("integrity").code is CheckCode.SCHEMA_INVALID
    for name in ON_CHAIN_CHECKS:
        check = verdict.check(name)
        assert (check.status, check.code) == (CheckStatus.SKIPPED, CheckCode.SCHEMA_INVALID)


def test_documents_of_one_batch_share_its_reads_but_each_gets_its_own_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = wrap_batch(
        [validate_document(sample_certificate_of_origin(n, items=1)) for n in (1, 2)],
        signing_key=KEY,
        domain=DOMAIN,
    )
    reads: dict[str, int] = {"batch": 0, "authority": 0}

    def batch(*_: Any) -> BatchRecord:
        reads["batch"] += 1
        return batch_of(first)

    def authority_at(*_: Any) -> Authority:
        reads["authority"] += 1
        return Authority(first.signature.signer, True, 1, "authorised")

    def status_in_batch(_: Any, target_hash: bytes, __: Any) -> DocumentStatus:
        revoked = 20 if target_hash == second.target_hash else None
        return DocumentStatus(target_hash, None, revoked, None, (), ())

    monkeypatch.setattr(queries, "batch", batch)
    monkeypatch.setattr(queries, "authority_at", authority_at)
    monkeypatch.setattr(queries, "status_in_batch", status_in_batch)
    monkeypatch.setattr(queries, "recognises", lambda *_: True)
    state = [(30, b"\1" * 32)]
    verifier = Verifier(
        "KR", ChainView(INDEX, DOMAIN, lambda: state[0][0], lambda: state[0]), clock=lambda: 1e9
    )

    def status_code(document: WrappedDocument) -> CheckCode:
        verdict = verifier.verify(document.to_json())
        return next(check.code for check in verdict.checks if check.name == "status")

    assert status_code(first) is CheckCode.IN_FORCE
    assert status_code(second) is CheckCode.REVOKED
    assert reads == {"batch": 1, "authority": 1}
    state[0] = (31, b"\2" * 32)  # a new indexed block: the batch is read again
    assert status_code(first) is CheckCode.IN_FORCE
    assert reads == {"batch": 2, "authority": 2}

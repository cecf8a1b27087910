"""Verifying a presented wrapped document: the offline checks, then the on-chain ones.

``integrity`` and ``signature`` come from ``certificates``; ``issuance``, ``issuer``,
``status`` and ``recognition`` read the node's event index (``ledger.queries``), which
the indexer keeps in step with the chain. Each check is one function returning a
:class:`CheckResult`; without a chain they are ``skipped`` with the reason.

The on-chain answers are a function of the document and of the index's state, and the
index changes only in transactions that also move its checkpoint (block number and
hash; a reorg rewinds it): :class:`Verifier` memoises them per checkpoint, so a document
presented again before the next indexed block costs one indexed read, not eight ORM
queries. Recognition of another country's documents also depends on the time (an
agreement's validity) and is memoised per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from sqlalchemy import Engine

from certificates import (
    CheckCode,
    CheckResult,
    CheckStatus,
    Eip712Domain,
    InvalidWrappedDocument,
    Verdict,
    WrappedDocument,
    verify_offline,
)
from certificates.attachments import DeclaredAttachment, check_attachments
from certificates.hashes import to_hex
from certificates.json_types import JsonValue
from certificates.schemas.signed_facts import (
    signed_addressees,
    signed_issuer_country,
    signed_valid_until,
)
from ledger import queries
from ledger.queries import Authority, BatchRecord
from node.chain.index_watch import IndexState
from node.verification.attachments import AttachmentReader

INTEGRITY: Final = "integrity"
ISSUANCE: Final = "issuance"
ISSUER: Final = "issuer"
STATUS: Final = "status"
RECOGNITION: Final = "recognition"
ON_CHAIN_CHECKS: Final = (ISSUANCE, ISSUER, STATUS, RECOGNITION)
#: the issuer check's code for each reason the index gives for an unauthorised signer
_NOT_AUTHORISED: Final = {
    "no-key": CheckCode.ISSUER_NOT_AUTHORISED,
    "other-country": CheckCode.ISSUER_OTHER_COUNTRY,
    "not-active": CheckCode.MEMBER_NOT_ACTIVE,
}
#: memoised on-chain answers kept at most (all dropped at once beyond)
_MEMO_SIZE: Final = 4096


@dataclass(frozen=True, slots=True)
class ChainView:
    """What the on-chain checks read: the index and the trusted signing domain."""

    index: Engine
    domain: Eip712Domain
    #: the index's checkpoint block, for reasons ("not anchored as of block N")
    indexed_block: Callable[[], int]
    #: the index's checkpoint with its block hash (:func:`index_state_reader`): the key
    #: the on-chain answers are memoised under; None: no memo
    index_state: Callable[[], IndexState] | None = None
    #: true while the index may describe blocks a restarted chain no longer has
    #: (:class:`node.chain.restarts.ChainRestarts`): the on-chain checks answer ``error``
    in_doubt: Callable[[], bool] | None = None


def index_state_reader(index: Engine, stream: str) -> Callable[[], IndexState]:
    """Reads the checkpoint (number and hash) of ``stream`` in one prepared read."""

    def read() -> IndexState:
        return queries.checkpoint(index, stream)

    return read


def check_issuance(document: WrappedDocument, batch: BatchRecord | None, at: int) -> CheckResult:
    if batch is None:
        return CheckResult.invalid(
            ISSUANCE,
            CheckCode.BATCH_NOT_ANCHORED,
            f"batch root {to_hex(document.batch.anchor.root)} is not anchored on chain "
            f"(index at block {at})",
        )
    return CheckResult.valid(
        ISSUANCE,
        CheckCode.ANCHORED,
        f"batch root anchored in block {batch.block_number}",
        blockNumber=batch.block_number,
        timestamp=batch.timestamp,
        txHash=to_hex(batch.tx_hash),
        issuerCountry=batch.issuer_country,
    )


def _not_authorised_code(authority: Authority) -> CheckCode:
    # an index that gives no cause: the general one (no key for the type at the block)
    if authority.cause is None:
        return CheckCode.ISSUER_NOT_AUTHORISED
    return _NOT_AUTHORISED[authority.cause]


def check_issuer(
    index: Engine, document: WrappedDocument, batch: BatchRecord | None
) -> CheckResult:
    if batch is None:
        return CheckResult.skipped(
            ISSUER, CheckCode.BATCH_NOT_ANCHORED, "the batch is not anchored: no issuer to check"
        )
    signer = document.signature.signer
    if batch.issuer.lower() != signer.lower():
        return CheckResult.invalid(
            ISSUER,
            CheckCode.SIGNER_MISMATCH,
            f"the batch was anchored by {batch.issuer} but signed by {signer}",
        )
    authority = queries.authority_at(
        index, signer, batch.document_type, batch.issuer_country, batch.block_number
    )
    if not authority.authorised:
        return CheckResult.invalid(
            ISSUER, _not_authorised_code(authority), f"issuer not authorised: {authority.reason}"
        )
    return CheckResult.valid(
        ISSUER,
        CheckCode.AUTHORISED,
        f"{signer} was authorised for {batch.document_type} in {batch.issuer_country} "
        f"at block {batch.block_number}",
        issuer=signer,
        member=authority.member_id,
        country=batch.issuer_country,
    )


def check_bound_to_anchor(document: WrappedDocument, batch: BatchRecord) -> CheckResult | None:
    """The issuer check's failure when what was signed differs from what was anchored:
    the signed type and addressees, the document's own issuing country and addressees
    (where revealed) against the chain's record of the batch; None when they agree.

    Without it a key could sign a batch of a type it no longer holds and anchor its root
    as a type it still holds (the verdict would then check the wrong right)."""
    signed = document.batch.anchor
    if signed.document_type != batch.document_type:
        return CheckResult.invalid(
            ISSUER,
            CheckCode.TYPE_MISMATCH,
            f"the batch was signed as {signed.document_type} but anchored as {batch.document_type}",
            signedType=signed.document_type,
            anchoredType=batch.document_type,
        )
    if tuple(signed.addressees) != tuple(batch.addressees):
        return CheckResult.invalid(
            ISSUER,
            CheckCode.ADDRESSEE_MISMATCH,
            f"the batch was signed for {', '.join(signed.addressees) or 'no country'} but "
            f"anchored for {', '.join(batch.addressees) or 'no country'}",
        )
    data = document.salted.data
    concealed = tuple(document.salted.concealed)
    country = signed_issuer_country(signed.document_type, data, concealed)
    if country is not None and country != batch.issuer_country:
        return CheckResult.invalid(
            ISSUER,
            CheckCode.COUNTRY_MISMATCH,
            f"the document is issued in {country} but was anchored by the member of "
            f"{batch.issuer_country}",
        )
    own = signed_addressees(signed.document_type, data, concealed)
    if own is not None and not set(own) <= set(batch.addressees):
        return CheckResult.invalid(
            ISSUER,
            CheckCode.ADDRESSEE_MISMATCH,
            f"the document is addressed to {', '.join(own) or 'no country'}, which its "
            f"batch was not anchored for ({', '.join(batch.addressees)})",
        )
    return None


def check_expiry(document: WrappedDocument, status: CheckResult, today: date) -> CheckResult:
    """``status``, or an ``expired`` failure when the signed validity ended before
    ``today`` (UTC): a document past its validity is not in force."""
    if status.status is not CheckStatus.VALID:
        return status
    until = signed_valid_until(
        document.document_type, document.salted.data, tuple(document.salted.concealed)
    )
    if until is None or today <= until:
        return status
    return CheckResult.invalid(
        STATUS,
        CheckCode.EXPIRED,
        f"expired: valid until {until.isoformat()}",
        validUntil=until.isoformat(),
    )


def check_status(
    index: Engine, document: WrappedDocument, batch: BatchRecord | None
) -> CheckResult:
    if batch is None:
        return CheckResult.skipped(
            STATUS, CheckCode.BATCH_NOT_ANCHORED, "the batch is not anchored: no status to check"
        )
    status = queries.status_in_batch(index, document.target_hash, batch)
    if status.revoked_at is not None:
        return CheckResult.invalid(
            STATUS, CheckCode.REVOKED, f"revoked in block {status.revoked_at}"
        )
    if status.superseded_by is not None:
        successor, successor_root = status.superseded_by
        return CheckResult.invalid(
            STATUS,
            CheckCode.SUPERSEDED,
            f"superseded by the amendment {to_hex(successor)}",
            successorTargetHash=to_hex(successor),
            successorRoot=to_hex(successor_root),
        )
    # the allowance its issuer committed in the document's terms (integrity proves them
    # against the root; the DocumentRegistry refuses a use beyond them)
    terms = document.batch.terms
    allowed = terms.allowance if terms is not None else 1
    if status.used_quantity >= allowed:
        return CheckResult.invalid(
            STATUS,
            CheckCode.USED_UP,
            f"used up: {status.used_quantity} of {allowed} used",
            usedQuantity=status.used_quantity,
            allowedQuantity=allowed,
            uses=len(status.uses),
        )
    return CheckResult.valid(
        STATUS,
        CheckCode.IN_FORCE,
        "neither revoked nor superseded",
        usedQuantity=status.used_quantity,
        allowedQuantity=allowed,
        uses=len(status.uses),
    )


def check_recognition(
    index: Engine, country: str, batch: BatchRecord | None, now: int
) -> CheckResult:
    if batch is None:
        return CheckResult.skipped(
            RECOGNITION,
            CheckCode.BATCH_NOT_ANCHORED,
            "the batch is not anchored: nothing to recognise",
        )
    if batch.issuer_country == country:
        return CheckResult.valid(
            RECOGNITION,
            CheckCode.OWN_COUNTRY,
            f"issued by this node's own administration ({country})",
        )
    if queries.recognises(index, country, batch.issuer_country, batch.document_type, now):
        return CheckResult.valid(
            RECOGNITION,
            CheckCode.RECOGNISED,
            f"{country} recognises {batch.document_type} from {batch.issuer_country} "
            "under a recorded agreement",
        )
    return CheckResult.invalid(
        RECOGNITION,
        CheckCode.NO_AGREEMENT,
        f"{country} has no agreement in force recognising {batch.document_type} from "
        f"{batch.issuer_country}",
    )


class Verifier:
    """Verifies wrapped documents for the administration of ``country``."""

    def __init__(
        self,
        country: str,
        chain: ChainView | None,
        clock: Callable[[], float] = time.time,
        attachments: AttachmentReader | None = None,
    ) -> None:
        self.country = country
        self.chain = chain
        self._clock = clock
        #: reads attached files for the attachments check (None: not checked)
        self._attachments = attachments
        #: (index state, root, target hash, signer) -> (issuance, issuer, status, batch)
        self._facts: dict[
            tuple[IndexState, bytes, bytes, str],
            tuple[CheckResult, CheckResult, CheckResult, BatchRecord | None],
        ] = {}
        #: (index state, root, signer) -> (batch, issuer): what a batch's documents share,
        #: so a document never presented before costs one status read, not three
        self._batches: dict[
            tuple[IndexState, bytes, str], tuple[BatchRecord | None, CheckResult]
        ] = {}
        #: (index state, issuer country, document type, second) -> recognition
        self._recognitions: dict[tuple[IndexState, str, str, int], CheckResult] = {}

    def verify(self, value: JsonValue) -> Verdict:
        document, verdict = self._verify(value)
        if document is None or self._attachments is None:
            return verdict
        declared = DeclaredAttachment.all_of(document.salted.data)
        if not declared:
            return verdict  # no attachments (or concealed): no attachments check
        reader = self._attachments
        return verdict.with_checks(
            check_attachments(declared, [reader.read(entry) for entry in declared])
        )

    def _verify(self, value: JsonValue) -> tuple[WrappedDocument | None, Verdict]:
        try:
            document = WrappedDocument.from_json(value)
        except InvalidWrappedDocument as error:
            return None, Verdict(
                (
                    CheckResult.invalid(
                        INTEGRITY, CheckCode.SCHEMA_INVALID, f"not a wrapped document: {error}"
                    ),
                    *(
                        CheckResult.skipped(
                            name, CheckCode.SCHEMA_INVALID, "not a wrapped document"
                        )
                        for name in ON_CHAIN_CHECKS
                    ),
                )
            )
        if self.chain is None:
            offline = verify_offline(document)
            return document, offline.with_checks(
                *(
                    CheckResult.skipped(
                        name,
                        CheckCode.NO_CHAIN,
                        "this node has no chain: on-chain checks not run",
                    )
                    for name in ON_CHAIN_CHECKS
                )
            )
        offline = verify_offline(document, self.chain.domain)
        if self.chain.in_doubt is not None and self.chain.in_doubt():
            return document, offline.with_checks(
                *(
                    CheckResult.error(
                        name,
                        CheckCode.INDEX_IN_DOUBT,
                        "the chain restarted: the index is re-checking it; try again",
                    )
                    for name in ON_CHAIN_CHECKS
                )
            )
        if self.chain.index_state is None:
            index = self.chain.index
            batch = queries.batch(index, document.batch.anchor.root)
            return document, offline.with_checks(
                check_issuance(document, batch, self.chain.indexed_block()),
                *self._bound(
                    document,
                    batch,
                    check_issuer(index, document, batch),
                    check_status(index, document, batch),
                ),
                check_recognition(index, self.country, batch, int(self._clock())),
            )
        state = self.chain.index_state()
        issuance, issuer, status, batch = self._on_chain_facts(document, state)
        return document, offline.with_checks(
            issuance,
            *self._bound(document, batch, issuer, status),
            self._recognition(batch, state, int(self._clock())),
        )

    def _bound(
        self,
        document: WrappedDocument,
        batch: BatchRecord | None,
        issuer: CheckResult,
        status: CheckResult,
    ) -> tuple[CheckResult, CheckResult]:
        """The issuer and status checks with what depends on the presented document itself
        (not memoised: concealment and the date change them): the binding of what was
        signed to what was anchored, and the signed validity."""
        if batch is None:
            return issuer, status
        unbound = check_bound_to_anchor(document, batch)
        today = datetime.fromtimestamp(self._clock(), UTC).date()
        # an unauthorised signer is reported as such; an authorised one must also have
        # anchored what it signed
        if issuer.status is CheckStatus.VALID and unbound is not None:
            issuer = unbound
        return issuer, check_expiry(document, status, today)

    def _on_chain_facts(
        self, document: WrappedDocument, state: IndexState
    ) -> tuple[CheckResult, CheckResult, CheckResult, BatchRecord | None]:
        assert self.chain is not None
        key = (state, document.batch.anchor.root, document.target_hash, document.signature.signer)
        facts = self._facts.get(key)
        if facts is None:
            batch, issuer = self._batch_facts(document, state)
            at = state[0] if state is not None else self.chain.indexed_block()
            facts = (
                check_issuance(document, batch, at),
                issuer,
                check_status(self.chain.index, document, batch),
                batch,
            )
            if len(self._facts) >= _MEMO_SIZE:
                self._facts.clear()
            self._facts[key] = facts
        return facts

    def _batch_facts(
        self, document: WrappedDocument, state: IndexState
    ) -> tuple[BatchRecord | None, CheckResult]:
        """The anchored batch and the issuer check, which depend on the root, the signer
        and the index's state only: read once per batch and indexed block."""
        assert self.chain is not None
        key = (state, document.batch.anchor.root, document.signature.signer)
        facts = self._batches.get(key)
        if facts is None:
            batch = queries.batch(self.chain.index, document.batch.anchor.root)
            facts = (batch, check_issuer(self.chain.index, document, batch))
            if len(self._batches) >= _MEMO_SIZE:
                self._batches.clear()
            self._batches[key] = facts
        return facts

    def _recognition(self, batch: BatchRecord | None, state: IndexState, now: int) -> CheckResult:
        assert self.chain is not None
        if batch is None or batch.issuer_country == self.country:
            return check_recognition(self.chain.index, self.country, batch, now)
        key = (state, batch.issuer_country, batch.document_type, now)
        recognition = self._recognitions.get(key)
        if recognition is None:
            recognition = check_recognition(self.chain.index, self.country, batch, now)
            if len(self._recognitions) >= _MEMO_SIZE:
                self._recognitions.clear()
            self._recognitions[key] = recognition
        return recognition

"""Verifying a presented wrapped document: the offline checks, then the on-chain ones.

``integrity`` and ``signature`` come from ``certificates``; ``issuance``, ``issuer``,
``status`` and ``recognition`` read the node's event index (``ledger.queries``), which
the indexer keeps in step with the chain. Each check is one function returning a
:class:`CheckResult`; without a chain they are ``skipped`` with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine

from certificates import (
    CheckResult,
    Eip712Domain,
    InvalidWrappedDocument,
    Verdict,
    WrappedDocument,
    verify_offline,
)
from certificates.json_types import JsonValue
from ledger import queries
from ledger.queries import BatchRecord

INTEGRITY: Final = "integrity"
ISSUANCE: Final = "issuance"
ISSUER: Final = "issuer"
STATUS: Final = "status"
RECOGNITION: Final = "recognition"
ON_CHAIN_CHECKS: Final = (ISSUANCE, ISSUER, STATUS, RECOGNITION)


@dataclass(frozen=True, slots=True)
class ChainView:
    """What the on-chain checks read: the index and the trusted signing domain."""

    index: Engine
    domain: Eip712Domain
    #: the index's checkpoint block, for reasons ("not anchored as of block N")
    indexed_block: Callable[[], int]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def check_issuance(document: WrappedDocument, batch: BatchRecord | None, at: int) -> CheckResult:
    if batch is None:
        return CheckResult.invalid(
            ISSUANCE,
            f"batch root {_hex(document.batch.anchor.root)} is not anchored on chain "
            f"(index at block {at})",
        )
    return CheckResult.valid(
        ISSUANCE,
        f"batch root anchored in block {batch.block_number}",
        blockNumber=batch.block_number,
        timestamp=batch.timestamp,
        txHash=_hex(batch.tx_hash),
        issuerCountry=batch.issuer_country,
    )


def check_issuer(
    index: Engine, document: WrappedDocument, batch: BatchRecord | None
) -> CheckResult:
    if batch is None:
        return CheckResult.skipped(ISSUER, "the batch is not anchored: no issuer to check")
    signer = document.signature.signer
    if batch.issuer.lower() != signer.lower():
        return CheckResult.invalid(
            ISSUER,
            f"the batch was anchored by {batch.issuer} but signed by {signer}",
        )
    authority = queries.authority_at(
        index, signer, batch.document_type, batch.issuer_country, batch.block_number
    )
    if not authority.authorised:
        return CheckResult.invalid(ISSUER, f"issuer not authorised: {authority.reason}")
    return CheckResult.valid(
        ISSUER,
        f"{signer} was authorised for {batch.document_type} in {batch.issuer_country} "
        f"at block {batch.block_number}",
        issuer=signer,
        member=authority.member_id,
        country=batch.issuer_country,
    )


def check_status(
    index: Engine, document: WrappedDocument, batch: BatchRecord | None
) -> CheckResult:
    if batch is None:
        return CheckResult.skipped(STATUS, "the batch is not anchored: no status to check")
    status = queries.document_status(index, document.target_hash, root=batch.root)
    if status.revoked_at is not None:
        return CheckResult.invalid(STATUS, f"revoked in block {status.revoked_at}")
    if status.superseded_by is not None:
        successor, successor_root = status.superseded_by
        return CheckResult.invalid(
            STATUS,
            f"superseded by the amendment {_hex(successor)}",
            successorTargetHash=_hex(successor),
            successorRoot=_hex(successor_root),
        )
    return CheckResult.valid(
        STATUS,
        "neither revoked nor superseded",
        usedQuantity=status.used_quantity,
        uses=len(status.uses),
    )


def check_recognition(
    index: Engine, country: str, batch: BatchRecord | None, now: int
) -> CheckResult:
    if batch is None:
        return CheckResult.skipped(RECOGNITION, "the batch is not anchored: nothing to recognise")
    if batch.issuer_country == country:
        return CheckResult.valid(
            RECOGNITION, f"issued by this node's own administration ({country})"
        )
    if queries.recognises(index, country, batch.issuer_country, batch.document_type, now):
        return CheckResult.valid(
            RECOGNITION,
            f"{country} recognises {batch.document_type} from {batch.issuer_country} "
            "under a recorded agreement",
        )
    return CheckResult.invalid(
        RECOGNITION,
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
    ) -> None:
        self.country = country
        self.chain = chain
        self._clock = clock

    def verify(self, value: JsonValue) -> Verdict:
        try:
            document = WrappedDocument.from_json(value)
        except InvalidWrappedDocument as error:
            return Verdict(
                (
                    CheckResult.invalid(INTEGRITY, f"not a wrapped document: {error}"),
                    *(
                        CheckResult.skipped(name, "not a wrapped document")
                        for name in ON_CHAIN_CHECKS
                    ),
                )
            )
        if self.chain is None:
            offline = verify_offline(document)
            return offline.with_checks(
                *(
                    CheckResult.skipped(name, "this node has no chain: on-chain checks not run")
                    for name in ON_CHAIN_CHECKS
                )
            )
        offline = verify_offline(document, self.chain.domain)
        index = self.chain.index
        batch = queries.batch(index, document.batch.anchor.root)
        return offline.with_checks(
            check_issuance(document, batch, self.chain.indexed_block()),
            check_issuer(index, document, batch),
            check_status(index, document, batch),
            check_recognition(index, self.country, batch, int(self._clock())),
        )

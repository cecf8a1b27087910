"""The inbox: documents other members addressed to this node's country, received and
verified before the goods arrive, and the bookkeeping of the receiver that fills it.

Three tables in ``node.sqlite``: ``inbox`` (one row per received document, only after
it verified), ``receiving_batches`` (each anchored batch addressed to us: pending until
every document for us is filed or refused, with the retry schedule), and
``peer_reports`` (a peer that served a manifest or content that did not verify); their
models are :mod:`node.db.tables`' (``InboxRow`` re-exported for its direct readers).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from node.db.tables import InboxRow as InboxRow
from node.db.tables import PeerReportRow, ReceivingBatchRow

#: roots looked up per query when tracking (a first discovery reads every batch)
_TRACK_CHUNK = 500


class ReceivingState(StrEnum):
    PENDING = "pending"  # not every document for us is filed or refused yet
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ReceivedDocument:
    target_hash: bytes
    batch_root: bytes
    document_type: str
    issuer_country: str
    issuer: str
    cid: str
    confidential: bool
    block_number: int
    received_at: float
    wrapped_json: bytes
    verdict_json: str
    valid: bool
    #: the source that delivered the content (None: received before this was recorded)
    received_from: str | None = None
    #: the sources tried before it, and why each failed
    fallbacks: tuple[ContentFallback, ...] = ()


@dataclass(frozen=True, slots=True)
class ContentFallback:
    """A content source the receiver tried and left for the next one."""

    source: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason, "detail": self.detail}


def _fallbacks(text: str | None) -> tuple[ContentFallback, ...]:
    if not text:
        return ()
    return tuple(
        ContentFallback(str(item["source"]), str(item["reason"]), str(item["detail"]))
        for item in json.loads(text)
    )


@dataclass(frozen=True, slots=True)
class PeerReport:
    peer: str
    issuer_country: str
    batch_root: bytes
    target_hash: bytes | None
    cid: str | None
    reason: str
    detail: str
    reported_at: float


@dataclass(frozen=True, slots=True)
class DueBatch:
    root: bytes
    issuer_country: str
    block_number: int
    attempts: int


def _received(row: InboxRow) -> ReceivedDocument:
    return ReceivedDocument(
        target_hash=row.target_hash,
        batch_root=row.batch_root,
        document_type=row.document_type,
        issuer_country=row.issuer_country,
        issuer=row.issuer,
        cid=row.cid,
        confidential=row.confidential,
        block_number=row.block_number,
        received_at=row.received_at,
        wrapped_json=row.wrapped_json,
        verdict_json=row.verdict_json,
        valid=row.valid,
        received_from=row.received_from,
        fallbacks=_fallbacks(row.fallbacks_json),
    )


class Inbox:
    """The inbox tables, each operation one database transaction."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    # --- the receiver's schedule ---------------------------------------------------------

    def track(self, batches: Sequence[tuple[bytes, str, int]]) -> int:
        """Start tracking (root, issuer country, block) batches not tracked yet."""
        added = 0
        with Session(self._engine) as session:
            for start in range(0, len(batches), _TRACK_CHUNK):
                chunk = batches[start : start + _TRACK_CHUNK]
                known = set(
                    session.scalars(
                        select(ReceivingBatchRow.root).where(
                            ReceivingBatchRow.root.in_([root for root, _, _ in chunk])
                        )
                    )
                )
                for root, issuer_country, block_number in chunk:
                    if root in known:
                        continue
                    known.add(root)
                    session.add(
                        ReceivingBatchRow(
                            root=root,
                            issuer_country=issuer_country,
                            block_number=block_number,
                            state=ReceivingState.PENDING.value,
                            attempts=0,
                            next_attempt_at=0.0,
                            last_error=None,
                        )
                    )
                    added += 1
            session.commit()
        return added

    def due(self, limit: int = 16) -> list[DueBatch]:
        now = self._clock()
        with Session(self._engine) as session:
            rows = session.scalars(
                select(ReceivingBatchRow)
                .where(
                    ReceivingBatchRow.state == ReceivingState.PENDING.value,
                    ReceivingBatchRow.next_attempt_at <= now,
                )
                .order_by(ReceivingBatchRow.block_number)
                .limit(limit)
            ).all()
            return [DueBatch(r.root, r.issuer_country, r.block_number, r.attempts) for r in rows]

    def finish(self, root: bytes) -> None:
        with Session(self._engine) as session:
            row = session.get(ReceivingBatchRow, root)
            assert row is not None
            row.state = ReceivingState.DONE.value
            row.attempts += 1
            row.last_error = None
            session.commit()

    def retry_later(self, root: bytes, delay: float, error: str) -> None:
        with Session(self._engine) as session:
            row = session.get(ReceivingBatchRow, root)
            assert row is not None
            row.attempts += 1
            row.next_attempt_at = self._clock() + delay
            row.last_error = error[:2000]
            session.commit()

    def keep_manifest(self, root: bytes, manifest_json: str) -> None:
        """Keep the batch's manifest as received (verified against the root by the caller)."""
        with Session(self._engine) as session:
            row = session.get(ReceivingBatchRow, root)
            assert row is not None
            row.manifest_json = manifest_json
            session.commit()

    def manifest(self, root: bytes) -> tuple[str, str] | None:
        """(issuer country, manifest JSON) of a tracked batch whose manifest was read."""
        with Session(self._engine) as session:
            row = session.get(ReceivingBatchRow, root)
            if row is None or row.manifest_json is None:
                return None
            return row.issuer_country, row.manifest_json

    def pending_count(self) -> int:
        with Session(self._engine) as session:
            count = session.scalar(
                select(func.count())
                .select_from(ReceivingBatchRow)
                .where(ReceivingBatchRow.state == ReceivingState.PENDING.value)
            )
            return int(count or 0)

    # --- documents and reports -----------------------------------------------------------

    def has(self, target_hash: bytes) -> bool:
        with Session(self._engine) as session:
            return session.get(InboxRow, target_hash) is not None

    def refused(self, root: bytes, target_hash: bytes) -> bool:
        """A document of this batch was refused (reported) already: not fetched again."""
        with Session(self._engine) as session:
            return (
                session.scalars(
                    select(PeerReportRow.id).where(
                        PeerReportRow.batch_root == root, PeerReportRow.target_hash == target_hash
                    )
                ).first()
                is not None
            )

    def file(self, document: ReceivedDocument) -> None:
        with Session(self._engine) as session:
            if session.get(InboxRow, document.target_hash) is None:
                session.add(
                    InboxRow(
                        target_hash=document.target_hash,
                        batch_root=document.batch_root,
                        document_type=document.document_type,
                        issuer_country=document.issuer_country,
                        issuer=document.issuer,
                        cid=document.cid,
                        confidential=document.confidential,
                        block_number=document.block_number,
                        received_at=document.received_at,
                        wrapped_json=document.wrapped_json,
                        verdict_json=document.verdict_json,
                        valid=document.valid,
                        received_from=document.received_from,
                        fallbacks_json=json.dumps(
                            [fallback.to_json() for fallback in document.fallbacks]
                        )
                        if document.fallbacks
                        else None,
                    )
                )
            session.commit()

    def report(self, report: PeerReport) -> None:
        with Session(self._engine) as session:
            session.add(
                PeerReportRow(
                    peer=report.peer,
                    issuer_country=report.issuer_country,
                    batch_root=report.batch_root,
                    target_hash=report.target_hash,
                    cid=report.cid,
                    reason=report.reason,
                    detail=report.detail[:2000],
                    reported_at=report.reported_at,
                )
            )
            session.commit()

    def documents(
        self,
        *,
        limit: int = 100,
        after: float | None = None,
        after_hash: bytes | None = None,
        document_type: str | None = None,
        issuer_country: str | None = None,
    ) -> list[ReceivedDocument]:
        """Received documents in (``received_at``, target hash) order, after the entry
        ``(after, after_hash)`` (keyset paging: documents filed at the same instant are
        neither skipped nor repeated); ``after`` alone: after that instant."""
        with Session(self._engine) as session:
            query = select(InboxRow).order_by(InboxRow.received_at, InboxRow.target_hash)
            if after is not None and after_hash is not None:
                query = query.where(
                    or_(
                        InboxRow.received_at > after,
                        and_(InboxRow.received_at == after, InboxRow.target_hash > after_hash),
                    )
                )
            elif after is not None:
                query = query.where(InboxRow.received_at > after)
            if document_type is not None:
                query = query.where(InboxRow.document_type == document_type)
            if issuer_country is not None:
                query = query.where(InboxRow.issuer_country == issuer_country)
            return [_received(row) for row in session.scalars(query.limit(limit))]

    def document(self, target_hash: bytes) -> ReceivedDocument | None:
        with Session(self._engine) as session:
            row = session.get(InboxRow, target_hash)
            return None if row is None else _received(row)

    def reports(self) -> list[PeerReport]:
        with Session(self._engine) as session:
            return [
                PeerReport(
                    r.peer,
                    r.issuer_country,
                    r.batch_root,
                    r.target_hash,
                    r.cid,
                    r.reason,
                    r.detail,
                    r.reported_at,
                )
                for r in session.scalars(select(PeerReportRow).order_by(PeerReportRow.id))
            ]

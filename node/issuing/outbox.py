"""The durable outbox: accepted documents, the batches they go into, idempotency keys.

A document is committed here (SQLite, ``synchronous=FULL``) before the node answers 202,
so a crash after the answer loses nothing. The batcher claims pending documents into a
batch, records the signed batch (root, wrapped documents, CIDs) *before* it sends the
anchor transaction, then records the anchor: on restart an open batch is wrapped again,
a signed one is anchored under the same transaction key (the ledger's journal sends it
at most once), so every accepted document is anchored exactly once.

The tables are :mod:`node.db.tables`' (``SubmissionRow``, ``BatchRow`` and
``IdempotencyRow`` are re-exported for the modules that query them directly).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, ParamSpec, TypeVar

from sqlalchemy import (
    Engine,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates import DocexError
from certificates.hashes import HASH_RE
from certificates.schemas import ValidatedDocument
from node.db.prepared_writes import PreparedInsert, PreparedWrite
from node.db.schema import writers_lock
from node.db.tables import BatchRow as BatchRow
from node.db.tables import DocumentNumberRow, SubmittedJsonRow, WrappedJsonRow
from node.db.tables import IdempotencyRow as IdempotencyRow
from node.db.tables import SubmissionRow as SubmissionRow
from node.errors import DocumentNumberTaken, IdempotencyKeyInFlight, IdempotencyKeyReused


class DocumentState(StrEnum):
    PENDING = "pending"  # accepted, in no batch yet
    BATCHED = "batched"  # in a batch that is being wrapped or anchored
    ANCHORED = "anchored"  # its batch root is mined
    FAILED = "failed"  # its batch could not be anchored (reason in the batch)
    #: its batch was anchored, then the chain lost the block (node.issuing.anchor_keeper)
    ANCHOR_LOST = "anchor-lost"


class BatchState(StrEnum):
    OPEN = "open"  # documents claimed, not signed yet
    SIGNED = "signed"  # wrapped, stored, signed: the anchor is (being) sent
    ANCHORED = "anchored"
    FAILED = "failed"
    ANCHOR_LOST = "anchor-lost"  # mined once, no longer on the chain (reason in error)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class NewDocument:
    document_type: str
    #: the validated document's JSON (UTF-8), exactly what the batcher salts and hashes
    document_json: bytes
    addressees: tuple[str, ...] = ()
    confidential: bool = False
    #: the total quantity its addressees may use (committed in its terms; 1: single use)
    allowance: int = 1
    #: the number it takes (one document per number and type); None: takes none (an
    #: amendment's replacement keeps the number of the document it replaces)
    document_number: str | None = None

    @classmethod
    def of(
        cls,
        validated: ValidatedDocument,
        *,
        confidential: bool = False,
        takes_number: bool = False,
        allowance: int = 1,
    ) -> NewDocument:
        return cls(
            document_type=validated.type_id,
            document_json=json.dumps(
                validated.data, ensure_ascii=False, separators=(",", ":")
            ).encode("utf-8"),
            addressees=validated.addressee_countries(),
            confidential=confidential,
            allowance=allowance,
            document_number=validated.document_number() if takes_number else None,
        )


def fingerprint(documents: Sequence[NewDocument]) -> bytes:
    """What an Idempotency-Key is bound to: the validated documents of the request (and
    whether they are confidential; a plain request hashes as it always did)."""
    digest = hashlib.sha256(b"\n".join(d.document_json for d in documents))
    if any(d.confidential for d in documents):
        digest.update(b"\nconfidential:" + bytes(d.confidential for d in documents))
    if any(d.allowance != 1 for d in documents):
        digest.update(b"\nallowance:" + ",".join(str(d.allowance) for d in documents).encode())
    return digest.digest()


@dataclass(frozen=True, slots=True)
class SignedDocument:
    receipt_id: str
    target_hash: bytes
    cid: str
    wrapped_json: bytes


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    user_id: int
    document_type: str
    state: DocumentState
    accepted_at: float
    target_hash: bytes | None
    cid: str | None
    wrapped_json: bytes | None
    batch_id: str | None
    batch_root: bytes | None
    tx_hash: str | None
    block_number: int | None
    anchored_at: float | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ClaimedBatch:
    id: str
    document_type: str
    state: BatchState
    #: (receipt id, document JSON, addressees, allowance) in batch order
    documents: tuple[tuple[str, bytes, tuple[str, ...], int], ...]
    root: bytes | None
    addressees: tuple[str, ...]
    #: receipt ids of the documents to store sealed
    confidential: frozenset[str] = frozenset()
    #: when the batch's first document was accepted (the anchoring-latency metric)
    oldest_accepted_at: float | None = None


@dataclass(frozen=True, slots=True)
class BatchAnchor:
    """Where the node believes a batch is anchored (or was, before the chain lost it)."""

    id: str
    root: bytes
    state: BatchState
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True, slots=True)
class BatchDocumentEntry:
    target_hash: bytes
    cid: str
    addressees: tuple[str, ...]
    confidential: bool
    allowance: int = 1


@dataclass(frozen=True, slots=True)
class AnchoredBatchDocuments:
    root: bytes
    document_type: str
    documents: tuple[BatchDocumentEntry, ...]


#: how a document issued here is named: its receipt id (``new_id``) or its target hash
RECEIPT_ID: Final = re.compile(r"^[0-9a-f]{32}$")
TARGET_HASH: Final = HASH_RE


def new_id() -> str:
    return uuid.uuid4().hex


def receipt_ids(accepted_at: float, count: int) -> list[str]:
    """Receipt ids that sort in acceptance order (time, then position in the request),
    so that batches take documents first come, first served: 32 hex characters."""
    stamp = f"{int(accepted_at * 1_000_000):014x}"
    return [f"{stamp}{position:06x}{secrets.token_hex(6)}" for position in range(count)]


def _number_taken(key: tuple[str, str], first: str) -> DocumentNumberTaken:
    return DocumentNumberTaken(
        f"{key[0]} number {key[1]!r} was already issued by this node (receipt {first})",
        first_receipt=first,
    )


def _numbers_taken_by(
    ids: Sequence[str], documents: Sequence[NewDocument]
) -> dict[tuple[str, str], str]:
    """The numbers the documents take, each under its type, with the receipt taking it; a
    number twice in the same request is :class:`DocumentNumberTaken` (nothing is stored)."""
    taken: dict[tuple[str, str], str] = {}
    for receipt_id, document in zip(ids, documents, strict=True):
        if document.document_number is None:
            continue
        key = (document.document_type, document.document_number)
        if key in taken:
            raise _number_taken(key, taken[key])
        taken[key] = receipt_id
    return taken


@dataclass(frozen=True, slots=True)
class Acceptance:
    """One request's documents to store as pending (:meth:`Outbox.enqueue_many`)."""

    user_id: int
    documents: Sequence[NewDocument]
    #: the answer, from the receipt ids (stored under the idempotency key, if any)
    respond: Callable[[list[str]], StoredResponse]
    idempotency_key: str | None = None
    #: when the node accepted the request (receipt ids sort by it); None: at commit
    accepted_at: float | None = None


P = ParamSpec("P")
T = TypeVar("T")
#: a document accepted and not yet in a batch
_PENDING: Final = SubmissionRow.state == DocumentState.PENDING.value


def _one_writer_at_a_time(method: Callable[P, T]) -> Callable[P, T]:
    """An :class:`Outbox` method whose transaction writes: run while holding the
    outbox's writer lock (see ``Outbox._writing``)."""

    @functools.wraps(method)
    def serialised(*args: P.args, **kwargs: P.kwargs) -> T:
        outbox = args[0]
        assert isinstance(outbox, Outbox)
        with outbox._writing:
            return method(*args, **kwargs)

    return serialised


#: the columns of a pending document's row, in the order :meth:`Outbox._insert` gives them
_PENDING_COLUMNS: Final = (
    "id",
    "user_id",
    "document_type",
    "addressees",
    "confidential",
    "allowance",
    "accepted_at",
    "state",
)


@dataclass(frozen=True, slots=True)
class _OutboxWrites:
    """The per-document writes of issuing, compiled once for the outbox's engine."""

    #: pending documents (multi-row statements: one step of the database for many rows)
    pending: PreparedInsert
    #: their validated JSON, in its own table (:class:`node.db.tables.SubmittedJsonRow`)
    submitted: PreparedInsert
    #: numbers taken (the table's primary key refuses one twice)
    number: PreparedInsert
    #: a document claimed into a batch: (state, batch id, position, receipt id)
    claimed: PreparedWrite
    #: a document signed: (target hash, CID, receipt id)
    signed: PreparedWrite
    #: its wrapped JSON, in its own table
    wrapped: PreparedInsert

    @classmethod
    def compile(cls, engine: Engine) -> _OutboxWrites:
        return cls(
            pending=PreparedInsert(engine, SubmissionRow, _PENDING_COLUMNS),
            submitted=PreparedInsert(engine, SubmittedJsonRow, ("receipt_id", "document_json")),
            number=PreparedInsert(
                engine, DocumentNumberRow, ("document_type", "document_number", "receipt_id")
            ),
            claimed=_updating_by_receipt(engine, "state", "batch_id", "position"),
            signed=_updating_by_receipt(engine, "target_hash", "cid"),
            wrapped=PreparedInsert(engine, WrappedJsonRow, ("receipt_id", "wrapped_json")),
        )


def _updating_by_receipt(engine: Engine, *columns: str) -> PreparedWrite:
    """An ``UPDATE`` of one outbox row's ``columns``, found by its receipt id (bound last)."""
    return PreparedWrite(
        engine,
        update(SubmissionRow)
        .where(SubmissionRow.id == bindparam("receipt_id"))
        .values({name: bindparam(name) for name in columns}),
        (*columns, "receipt_id"),
    )


class Outbox:
    """The outbox tables, each operation one database transaction."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        #: held by the writing transactions, one at a time, of this process and of the
        #: node's other processes (:func:`node.db.schema.writers_lock`). SQLite lets one
        #: connection write at once and makes the others retry in sleeps that grow to
        #: 100 ms; under mixed load the acceptance writers, the batcher's claims and its
        #: signed and anchored records waited there (in one process an issue request's
        #: insert took 80-100 ms on average, a batch's record up to 1.4 s). A lock wakes
        #: the next writer as soon as one ends. Reentrant: a refused group stores its
        #: requests one by one.
        self._writing = writers_lock(engine)

    @functools.cached_property
    def _writes(self) -> _OutboxWrites:
        """Compiled on the first write (a command that only reads compiles nothing)."""
        return _OutboxWrites.compile(self._engine)

    # --- idempotency ---------------------------------------------------------------

    @_one_writer_at_a_time
    def reserve_key(self, user_id: int, key: str, body_hash: bytes) -> StoredResponse | None:
        """Claim ``key`` for this request, or return the first request's response.

        Raises :class:`IdempotencyKeyReused` for another body under the same key and
        :class:`IdempotencyKeyInFlight` while the first request has not finished.
        """
        with Session(self._engine) as session:
            session.add(
                IdempotencyRow(
                    user_id=user_id,
                    key=key,
                    body_hash=body_hash,
                    created_at=self._clock(),
                    response_status=None,
                    response_body=None,
                )
            )
            try:
                session.commit()
                return None
            except IntegrityError:
                session.rollback()
            row = session.get(IdempotencyRow, (user_id, key))
            if row is None:  # released between our insert and our read: the caller may retry
                raise IdempotencyKeyInFlight(f"a request with Idempotency-Key {key!r} just ended")
            if row.body_hash != body_hash:
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {key!r} was used with another request body"
                )
            if row.response_status is None or row.response_body is None:
                raise IdempotencyKeyInFlight(
                    f"the first request with Idempotency-Key {key!r} is still being processed"
                )
            return StoredResponse(row.response_status, row.response_body)

    @_one_writer_at_a_time
    def release_key(self, user_id: int, key: str) -> None:
        """Forget a reserved key whose request failed (nothing was stored under it)."""
        with Session(self._engine) as session:
            session.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.user_id == user_id,
                    IdempotencyRow.key == key,
                    IdempotencyRow.response_status.is_(None),
                )
            )
            session.commit()

    # --- accepting documents -----------------------------------------------------------

    def enqueue(
        self,
        user_id: int,
        documents: Sequence[NewDocument],
        respond: Callable[[list[str]], StoredResponse],
        idempotency_key: str | None = None,
    ) -> StoredResponse:
        """Store ``documents`` as pending and, in the same transaction, the response
        ``respond(receipt ids)`` under the idempotency key (if any)."""
        return self._enqueue_one(Acceptance(user_id, documents, respond, idempotency_key))

    @_one_writer_at_a_time
    def enqueue_many(self, requests: Sequence[Acceptance]) -> list[StoredResponse | DocexError]:
        """:meth:`enqueue` for each of ``requests`` in one transaction (one commit, so one
        sync to disk, for all of them): each request's response, or the error that refused
        it (:class:`DocumentNumberTaken`), in order. A request refused stores nothing and
        does not refuse the others: when a number was taken before (or by two requests of
        the group), the group is rolled back and each request committed on its own.
        (:mod:`node.issuing.grouped_acceptance` calls it for the API's requests.)"""
        if len(requests) == 1:
            return [self._refusal_or(requests[0])]
        outcomes: list[StoredResponse | DocexError] = []
        prepared: list[
            tuple[Acceptance, list[str], dict[tuple[str, str], str], StoredResponse]
        ] = []
        for request in requests:
            ids = receipt_ids(request.accepted_at or self._clock(), len(request.documents))
            try:
                numbers = _numbers_taken_by(ids, request.documents)
            except DocumentNumberTaken as error:  # twice in the same request
                outcomes.append(error)
                continue
            response = request.respond(ids)
            prepared.append((request, ids, numbers, response))
            outcomes.append(response)
        try:
            with Session(self._engine) as session:
                self._insert(session, prepared)
                session.commit()
        except IntegrityError:
            # a number some request takes was taken: each request alone says which
            return [self._refusal_or(request) for request in requests]
        return outcomes

    def _refusal_or(self, request: Acceptance) -> StoredResponse | DocexError:
        """The request stored on its own, or the number refusal that refused it."""
        try:
            return self._enqueue_one(request)
        except DocumentNumberTaken as error:
            return error

    @_one_writer_at_a_time
    def _enqueue_one(self, request: Acceptance) -> StoredResponse:
        ids = receipt_ids(request.accepted_at or self._clock(), len(request.documents))
        numbers = _numbers_taken_by(ids, request.documents)
        response = request.respond(ids)
        with Session(self._engine) as session:
            try:
                self._insert(session, [(request, ids, numbers, response)])
            except IntegrityError:
                session.rollback()
                raise self._first_taken(session, numbers) from None
            session.commit()
        return response

    def _insert(
        self,
        session: Session,
        accepted: Sequence[
            tuple[Acceptance, list[str], dict[tuple[str, str], str], StoredResponse]
        ],
    ) -> None:
        """Each request's pending documents, the numbers they take and its stored
        response, in the caller's transaction (an :class:`IntegrityError` if a number was
        taken): multi-row statements for all the documents, then for all the numbers."""
        connection = session.connection()
        pending = DocumentState.PENDING.value
        rows: list[tuple[object, ...]] = []
        for request, ids, _, _ in accepted:
            now = request.accepted_at or self._clock()
            rows.extend(
                (
                    receipt_id,
                    request.user_id,
                    document.document_type,
                    ",".join(document.addressees),
                    document.confidential,
                    document.allowance,
                    now,
                    pending,
                )
                for receipt_id, document in zip(ids, request.documents, strict=True)
            )
        self._writes.pending.execute_many(connection, rows)
        self._writes.submitted.execute_many(
            connection,
            [
                (receipt_id, document.document_json)
                for request, ids, _, _ in accepted
                for receipt_id, document in zip(ids, request.documents, strict=True)
            ],
        )
        # the table's primary key refuses a number taken before (no read on the way in)
        self._writes.number.execute_many(
            connection,
            [
                (kind, number, receipt)
                for _, _, numbers, _ in accepted
                for (kind, number), receipt in numbers.items()
            ],
        )
        for request, _, _, response in accepted:
            if request.idempotency_key is not None:
                row = session.get(IdempotencyRow, (request.user_id, request.idempotency_key))
                if row is not None:
                    row.response_status = response.status
                    row.response_body = response.body

    @staticmethod
    def _first_taken(session: Session, numbers: dict[tuple[str, str], str]) -> DocumentNumberTaken:
        """The refusal naming the receipt that took the first of ``numbers`` taken."""
        kind, number, first = session.execute(
            select(
                DocumentNumberRow.document_type,
                DocumentNumberRow.document_number,
                DocumentNumberRow.receipt_id,
            )
            .where(
                tuple_(DocumentNumberRow.document_type, DocumentNumberRow.document_number).in_(
                    list(numbers)
                )
            )
            .limit(1)
        ).one()
        return _number_taken((kind, number), first)

    # --- batching ----------------------------------------------------------------------

    def pending_count(self) -> int:
        with Session(self._engine) as session:
            count = session.scalar(select(func.count()).select_from(SubmissionRow).where(_PENDING))
            return int(count or 0)

    def claim_batch(self, batch_size: int, max_age: float, *, force: bool = False) -> str | None:
        """Close a batch when one is due: ``batch_size`` pending documents of one type, or
        the oldest pending one older than ``max_age`` seconds (or ``force``). Asking
        takes no writer's turn: only a claim does."""
        now = self._clock()
        with Session(self._engine) as session:
            # ids only: this runs every poll while documents arrive, and loading whole
            # rows (with their documents) just to count them took the API's GIL time
            oldest = session.execute(
                select(SubmissionRow.accepted_at, SubmissionRow.document_type)
                .where(_PENDING)
                .order_by(SubmissionRow.accepted_at, SubmissionRow.id)
                .limit(1)
            ).first()
            if oldest is None:
                return None
            if not force and now - oldest.accepted_at < max_age:
                # due only if a whole batch waits: counted in the index, not fetched (the
                # batcher asks at every request accepted; fetching a batch's ids to count
                # them each time was a tenth of the node's samples under mixed load)
                waiting = session.scalar(
                    select(func.count()).select_from(
                        select(SubmissionRow.id)
                        .where(_PENDING, SubmissionRow.document_type == oldest.document_type)
                        .limit(batch_size)
                        .subquery()
                    )
                )
                if (waiting or 0) < batch_size:
                    return None
        return self._claim(oldest.document_type, batch_size, now)

    @_one_writer_at_a_time
    def _claim(self, document_type: str, batch_size: int, now: float) -> str:
        """The oldest ``batch_size`` pending documents of ``document_type``, claimed into
        a new open batch."""
        with Session(self._engine) as session:
            ids = list(
                session.scalars(
                    select(SubmissionRow.id)
                    .where(_PENDING, SubmissionRow.document_type == document_type)
                    .order_by(SubmissionRow.accepted_at, SubmissionRow.id)
                    .limit(batch_size)
                )
            )
            batch_id = new_id()
            session.add(
                BatchRow(
                    id=batch_id,
                    document_type=document_type,
                    state=BatchState.OPEN.value,
                    created_at=now,
                    document_count=len(ids),
                    root=None,
                    addressees="",
                    tx_hash=None,
                    block_number=None,
                    anchored_at=None,
                    error=None,
                )
            )
            session.flush()
            batched = DocumentState.BATCHED.value
            self._writes.claimed.execute_many(
                session.connection(),
                [
                    (batched, batch_id, position, receipt_id)
                    for position, receipt_id in enumerate(ids)
                ],
            )
            session.commit()
            return batch_id

    def unfinished_batches(self) -> list[str]:
        """Batches claimed or signed but not anchored, oldest first (work to resume)."""
        with Session(self._engine) as session:
            return list(
                session.scalars(
                    select(BatchRow.id)
                    .where(BatchRow.state.in_([BatchState.OPEN.value, BatchState.SIGNED.value]))
                    .order_by(BatchRow.created_at, BatchRow.id)
                )
            )

    def batch(self, batch_id: str) -> ClaimedBatch:
        with Session(self._engine) as session:
            row = session.get(BatchRow, batch_id)
            if row is None:
                raise KeyError(batch_id)
            documents = session.execute(
                select(
                    SubmissionRow.id,
                    SubmittedJsonRow.document_json,
                    SubmissionRow.addressees,
                    SubmissionRow.confidential,
                    SubmissionRow.accepted_at,
                    SubmissionRow.allowance,
                )
                .join(SubmittedJsonRow, SubmittedJsonRow.receipt_id == SubmissionRow.id)
                .where(SubmissionRow.batch_id == batch_id)
                .order_by(SubmissionRow.position)
            ).all()
            return ClaimedBatch(
                id=row.id,
                document_type=row.document_type,
                state=BatchState(row.state),
                documents=tuple(
                    (
                        d.id,
                        d.document_json,
                        tuple(a for a in d.addressees.split(",") if a),
                        d.allowance,
                    )
                    for d in documents
                ),
                root=row.root,
                addressees=tuple(a for a in row.addressees.split(",") if a),
                confidential=frozenset(d.id for d in documents if d.confidential),
                oldest_accepted_at=min((d.accepted_at for d in documents), default=None),
            )

    def anchored_batch_documents(self, root: bytes) -> AnchoredBatchDocuments | None:
        """An anchored batch's documents in batch order (what its manifest lists)."""
        with Session(self._engine) as session:
            batch = session.scalars(
                select(BatchRow).where(
                    BatchRow.root == root, BatchRow.state == BatchState.ANCHORED.value
                )
            ).first()
            if batch is None:
                return None
            rows = session.execute(
                select(
                    SubmissionRow.target_hash,
                    SubmissionRow.cid,
                    SubmissionRow.addressees,
                    SubmissionRow.confidential,
                    SubmissionRow.allowance,
                )
                .where(SubmissionRow.batch_id == batch.id)
                .order_by(SubmissionRow.position)
            ).all()
            return AnchoredBatchDocuments(
                root=root,
                document_type=batch.document_type,
                documents=tuple(
                    BatchDocumentEntry(
                        target_hash=row.target_hash or b"",
                        cid=row.cid or "",
                        addressees=tuple(a for a in row.addressees.split(",") if a),
                        confidential=bool(row.confidential),
                        allowance=row.allowance,
                    )
                    for row in rows
                ),
            )

    @_one_writer_at_a_time
    def record_signed(
        self,
        batch_id: str,
        root: bytes,
        addressees: Sequence[str],
        documents: Sequence[SignedDocument],
    ) -> None:
        with Session(self._engine) as session:
            batch = session.get(BatchRow, batch_id)
            assert batch is not None
            assert batch.state == BatchState.OPEN.value
            batch.root = root
            batch.addressees = ",".join(addressees)
            batch.state = BatchState.SIGNED.value
            session.flush()
            # one executemany by primary key, not one ORM load per document
            connection = session.connection()
            self._writes.signed.execute_many(
                connection,
                [
                    (document.target_hash, document.cid, document.receipt_id)
                    for document in documents
                ],
            )
            self._writes.wrapped.execute_many(
                connection, [(document.receipt_id, document.wrapped_json) for document in documents]
            )
            session.commit()

    @_one_writer_at_a_time
    def record_anchored(self, batch_id: str, tx_hash: str, block_number: int) -> None:
        with Session(self._engine) as session:
            batch = session.get(BatchRow, batch_id)
            assert batch is not None
            batch.state = BatchState.ANCHORED.value
            batch.tx_hash = tx_hash
            batch.block_number = block_number
            batch.anchored_at = self._clock()
            batch.error = None  # an anchor lost and found again (anchor_keeper)
            session.flush()
            session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.batch_id == batch_id)
                .values(state=DocumentState.ANCHORED.value)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def batch_anchors(self, above_block: int = -1) -> list[BatchAnchor]:
        """Batches anchored above ``above_block`` and every batch flagged ``anchor-lost``,
        in anchoring order."""
        anchored = (BatchRow.state == BatchState.ANCHORED.value) & (
            BatchRow.block_number > above_block
        )
        lost = BatchRow.state == BatchState.ANCHOR_LOST.value
        with Session(self._engine) as session:
            rows = session.execute(
                select(
                    BatchRow.id,
                    BatchRow.root,
                    BatchRow.state,
                    BatchRow.tx_hash,
                    BatchRow.block_number,
                )
                .where(anchored | lost, BatchRow.root.is_not(None))
                .order_by(BatchRow.block_number)
            ).all()
        return [
            BatchAnchor(
                row.id, bytes(row.root), BatchState(row.state), row.tx_hash, row.block_number
            )
            for row in rows
        ]

    @_one_writer_at_a_time
    def record_anchor_lost(self, batch_id: str, reason: str) -> None:
        """Flag an anchored batch and its documents: the chain no longer holds its anchor."""
        with Session(self._engine) as session:
            batch = session.get(BatchRow, batch_id)
            assert batch is not None
            batch.state = BatchState.ANCHOR_LOST.value
            batch.error = reason[:2000]
            session.flush()
            session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.batch_id == batch_id)
                .values(state=DocumentState.ANCHOR_LOST.value)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    @_one_writer_at_a_time
    def record_failed(self, batch_id: str, error: str) -> None:
        with Session(self._engine) as session:
            batch = session.get(BatchRow, batch_id)
            assert batch is not None
            batch.state = BatchState.FAILED.value
            batch.error = error[:2000]
            for row in session.scalars(
                select(SubmissionRow).where(SubmissionRow.batch_id == batch_id)
            ):
                row.state = DocumentState.FAILED.value
            session.commit()

    # --- receipts ----------------------------------------------------------------------

    def receipt_id_of(self, target_hash: bytes) -> str | None:
        """The receipt id of the document issued here with ``target_hash``."""
        with Session(self._engine) as session:
            found: str | None = session.scalars(
                select(SubmissionRow.id).where(SubmissionRow.target_hash == target_hash).limit(1)
            ).first()
            return found

    def receipt_of(self, document_id: str) -> Receipt | None:
        """The receipt of a document issued here, named by its receipt id or its target
        hash (``0x`` + 64 lower-case hex digits); None for anything else."""
        if RECEIPT_ID.fullmatch(document_id):
            return self.receipt(document_id)
        if TARGET_HASH.fullmatch(document_id):
            receipt_id = self.receipt_id_of(bytes.fromhex(document_id[2:]))
            return self.receipt(receipt_id) if receipt_id is not None else None
        return None

    def receipt(self, receipt_id: str) -> Receipt | None:
        with Session(self._engine) as session:
            row = session.get(SubmissionRow, receipt_id)
            if row is None:
                return None
            batch = session.get(BatchRow, row.batch_id) if row.batch_id is not None else None
            wrapped = session.get(WrappedJsonRow, receipt_id) if row.cid is not None else None
            return Receipt(
                id=row.id,
                user_id=row.user_id,
                document_type=row.document_type,
                state=DocumentState(row.state),
                accepted_at=row.accepted_at,
                target_hash=row.target_hash,
                cid=row.cid,
                wrapped_json=wrapped.wrapped_json if wrapped is not None else None,
                batch_id=row.batch_id,
                batch_root=batch.root if batch is not None else None,
                tx_hash=batch.tx_hash if batch is not None else None,
                block_number=batch.block_number if batch is not None else None,
                anchored_at=batch.anchored_at if batch is not None else None,
                error=batch.error if batch is not None else None,
            )

    def count_by_state(self) -> dict[str, int]:
        with Session(self._engine) as session:
            rows = session.execute(
                select(SubmissionRow.state, func.count()).group_by(SubmissionRow.state)
            ).all()
            return {state: int(count) for state, count in rows}

"""The wrapped documents this node holds, found by reference: a receipt id, a target hash
or a CID.

A node holds the documents it issued (the outbox: ``submissions``, once signed) and the
documents other members addressed to it (the inbox, opened when they came sealed). A
reference names one of them:

- a **receipt id** (32 hex digits), the ``id`` of ``POST /v1/documents``: issued here;
- a **target hash** (``0x`` + 64 hex digits): issued here, or received;
- a **CID** (CIDv0 ``Qm...`` or CIDv1 ``b...``) of the stored content: issued here or
  received (for a confidential document, the CID of its envelope).

Anything else is not a reference (:class:`InvalidReference`, 422).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Engine, Integer, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from adapters import Cid, InvalidCid
from certificates.errors import Invalid
from certificates.hashes import canonical_hash
from certificates.json_types import JsonValue
from node.db.tables import SubmittedJsonRow, WrappedJsonRow
from node.errors import DocumentNotAnchored, NodeError
from node.issuing.outbox import DocumentState, SubmissionRow
from node.receiving.inbox import InboxRow

RECEIPT_ID: Final = re.compile(r"^[0-9a-f]{32}$")
#: longer than any CID of a sha2-256 multihash in any base
_MAX_REFERENCE: Final = 128


class InvalidReference(Invalid, NodeError):
    """The reference is neither a receipt id, a target hash nor a CID."""

    code = "invalid-reference"


class ReferenceKind(StrEnum):
    RECEIPT_ID = "receiptId"
    TARGET_HASH = "targetHash"
    CID = "cid"


@dataclass(frozen=True, slots=True)
class Reference:
    kind: ReferenceKind
    #: the normalised text: lower-case hex, or the CID as given and in its canonical form
    values: tuple[str, ...]


class DocumentOrigin(StrEnum):
    ISSUED = "issued"  # issued by this node's administration (outbox)
    RECEIVED = "received"  # addressed to it by another member (inbox)


@dataclass(frozen=True, slots=True)
class HeldDocument:
    """A wrapped document this node holds, and what the node knows about it."""

    wrapped: JsonValue
    target_hash: bytes
    origin: DocumentOrigin
    confidential: bool
    issuer_country: str
    cid: str | None
    #: the receipt id for a document issued here
    receipt_id: str | None
    #: the document's own addressee countries
    addressees: tuple[str, ...] = ()
    #: the user (issuer) that submitted a document issued here
    issued_by: int | None = None

    def entitled_countries(self) -> frozenset[str]:
        """The members that may read its content: its issuer and its own addressees."""
        return frozenset((self.issuer_country, *self.addressees))


def parse_reference(text: str) -> Reference:
    """What ``text`` names, or :class:`InvalidReference`."""
    if RECEIPT_ID.fullmatch(text):
        return Reference(ReferenceKind.RECEIPT_ID, (text,))
    target_hash = canonical_hash(text, lenient=True)  # as retyped from paper
    if target_hash is not None:
        return Reference(ReferenceKind.TARGET_HASH, (target_hash,))
    if 0 < len(text) <= _MAX_REFERENCE:
        try:
            canonical = str(Cid.parse(text))
        except (InvalidCid, ValueError):
            pass
        else:
            return Reference(ReferenceKind.CID, tuple(dict.fromkeys((text, canonical))))
    raise InvalidReference(
        "a reference is a receipt id (32 hex digits), a target hash (0x + 64 hex digits) "
        f"or a CID; {text[:80]!r} is none of these"
    )


def _issued(session: Session, row: SubmissionRow, country: str) -> HeldDocument:
    wrapped = session.get(WrappedJsonRow, row.id) if row.target_hash is not None else None
    if wrapped is None or row.target_hash is None:
        state = DocumentState(row.state)
        if state is DocumentState.FAILED:
            raise DocumentNotAnchored(f"document {row.id} failed to anchor: nothing to verify")
        raise DocumentNotAnchored(
            f"document {row.id} is {state.value}: it is not signed and anchored yet"
        )
    return HeldDocument(
        wrapped=json.loads(wrapped.wrapped_json),
        target_hash=row.target_hash,
        origin=DocumentOrigin.ISSUED,
        confidential=row.confidential,
        issuer_country=country,
        cid=row.cid,
        receipt_id=row.id,
        addressees=tuple(a for a in row.addressees.split(",") if a),
        issued_by=row.user_id,
    )


def _signed_addressees(wrapped: JsonValue) -> tuple[str, ...]:
    """A received document's own addressees: those of its terms (or, for a batch built
    without terms, the batch's), as the document it was verified with states them."""
    batch = wrapped.get("batch") if isinstance(wrapped, dict) else None
    if not isinstance(batch, dict):
        return ()
    terms = batch.get("terms")
    listed = terms.get("addressees") if isinstance(terms, dict) else batch.get("addressees")
    return (
        tuple(code for code in listed if isinstance(code, str)) if isinstance(listed, list) else ()
    )


def _received(row: InboxRow) -> HeldDocument:
    wrapped = json.loads(row.wrapped_json)
    return HeldDocument(
        wrapped=wrapped,
        target_hash=row.target_hash,
        origin=DocumentOrigin.RECEIVED,
        confidential=row.confidential,
        issuer_country=row.issuer_country,
        cid=row.cid,
        receipt_id=None,
        addressees=_signed_addressees(wrapped),
    )


def find_held_document(database: Engine, country: str, reference: Reference) -> HeldDocument | None:
    """The document ``reference`` names among those this node (of ``country``) issued or
    received; None when it holds none. A document issued here but not signed yet is
    :class:`~node.errors.DocumentNotAnchored` (409)."""
    with Session(database) as session:
        if reference.kind is ReferenceKind.RECEIPT_ID:
            submission = session.get(SubmissionRow, reference.values[0])
            return None if submission is None else _issued(session, submission, country)
        if reference.kind is ReferenceKind.TARGET_HASH:
            target_hash = bytes.fromhex(reference.values[0][2:])
            submission = session.scalars(
                select(SubmissionRow).where(SubmissionRow.target_hash == target_hash).limit(1)
            ).first()
            if submission is not None:
                return _issued(session, submission, country)
            received = session.get(InboxRow, target_hash)
            return None if received is None else _received(received)
        submission = session.scalars(
            select(SubmissionRow).where(SubmissionRow.cid.in_(reference.values)).limit(1)
        ).first()
        if submission is not None:
            return _issued(session, submission, country)
        received = session.scalars(
            select(InboxRow).where(InboxRow.cid.in_(reference.values)).limit(1)
        ).first()
        return None if received is None else _received(received)


class byte_position(GenericFunction[int]):  # noqa: N801 - named as SQL functions are
    """``byte_position(haystack, needle)``: where ``needle`` starts in a binary column,
    from 1, or 0 when absent (a byte search: SQLite's LIKE does not read a BLOB as text,
    and PostgreSQL's does not take a bytea)."""

    type = Integer()
    inherit_cache = True


@compiles(byte_position)
def _instr(element: byte_position, compiler: SQLCompiler, **options: Any) -> str:
    return f"instr({compiler.process(element.clauses, **options)})"


@compiles(byte_position, "postgresql")
def _position(element: byte_position, compiler: SQLCompiler, **options: Any) -> str:
    haystack, needle = (compiler.process(clause, **options) for clause in element.clauses)
    return f"position({needle} in {haystack})"


def find_document_attaching(database: Engine, country: str, cid: str) -> HeldDocument | None:
    """The anchored document issued here that binds a file stored as ``cid`` among its
    attachments (ADR 0061), or None: who may read the document may read its files."""
    needle = f'"cid":"{cid}"'.encode()
    with Session(database) as session:
        candidates = session.execute(
            select(SubmissionRow, SubmittedJsonRow.document_json)
            .join(SubmittedJsonRow, SubmittedJsonRow.receipt_id == SubmissionRow.id)
            .where(
                SubmissionRow.target_hash.is_not(None),
                byte_position(SubmittedJsonRow.document_json, needle) > 0,
            )
            .limit(8)
        ).all()
        for submission, document_json in candidates:
            attachments = json.loads(document_json).get("attachments")
            if isinstance(attachments, list) and any(
                isinstance(a, dict) and a.get("cid") == cid for a in attachments
            ):
                return _issued(session, submission, country)
    return None

"""Every table of the node database (``node.sqlite``), as SQLAlchemy 2 models.

One module for the whole schema, importing nothing else from ``node``: the
repositories (:mod:`node.issuing.outbox`, :mod:`node.receiving.inbox`,
:mod:`node.access.users`, :mod:`node.documents.lifecycle`) import their tables from
here, and the migrations in ``node/db/migrations/`` are checked against these models.
Index and constraint names are the ones the first releases created, so a database made
before Alembic compares equal to a fresh one.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class NodeBase(DeclarativeBase):
    """Declarative base of the node database's tables."""


# --- access: users and their bearer tokens --------------------------------------------


class UserRow(NodeBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    #: comma-separated type ids (issuers only): "coo/1,permit/1"
    document_types: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[float]
    revoked_at: Mapped[float | None]


class TokenRow(NodeBase):
    __tablename__ = "tokens"

    #: SHA-256 of the token, hex: the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[float]
    revoked_at: Mapped[float | None]


# --- issuing: the outbox, its batches, idempotency keys --------------------------------


#: the outbox's lookup indexes on columns a row gets after it is accepted (revision 0011)
_SET_LATER: Final = (
    ("outbox_target_hash", "target_hash"),
    ("outbox_cid", "cid"),
    ("ix_outbox_batch_id", "batch_id"),
)


def _set_only(name: str, column: str) -> Index:
    """An index of the rows where ``column`` is set (SQLite and PostgreSQL both use it
    for ``column = ...`` and ``column IN (...)``, which imply it is not NULL)."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, sqlite_where=where, postgresql_where=where)


class SubmissionRow(NodeBase):
    """A document accepted for issuing (its receipt), from pending to anchored.

    Its bytes are in tables of their own (:class:`SubmittedJsonRow`,
    :class:`WrappedJsonRow`): this row is rewritten at every step of issuing (claimed,
    signed, anchored), and in SQLite an update writes the whole row again, overflow pages
    and all. With the two documents in it (about 9 kB) a batch's anchored update cost
    20 ms of CPU, against under 1 ms for these small rows (revision 0011).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("outbox_pending", "state", "document_type", "accepted_at"),
        # lookups by target hash or CID (verify by reference, lifecycle)
        # partial: a pending row has no batch, target hash or CID yet, and an entry for
        # its NULL would be written at acceptance and moved at each later step
        *(_set_only(name, column) for name, column in _SET_LATER),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(64))
    #: comma-separated countries the document is addressed to
    addressees: Mapped[str] = mapped_column(String(512), default="")
    #: stored sealed for the issuer, the addressees and the auditors
    #: (node.consortium.member_directory)
    confidential: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: the total quantity its addressees may use, committed in its terms (1: single use)
    allowance: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
    accepted_at: Mapped[float]
    state: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"))
    position: Mapped[int | None]
    target_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    cid: Mapped[str | None] = mapped_column(String(128))


class SubmittedJsonRow(NodeBase):
    """The validated document's JSON (UTF-8) of an outbox row, written once when it is
    accepted: exactly what the batcher salts and hashes."""

    __tablename__ = "outbox_documents"

    receipt_id: Mapped[str] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    document_json: Mapped[bytes] = mapped_column(LargeBinary)


class WrappedJsonRow(NodeBase):
    """The wrapped document's JSON of an outbox row, written once when its batch is
    signed (the issuer's receipt carries it)."""

    __tablename__ = "outbox_wrapped"

    receipt_id: Mapped[str] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    wrapped_json: Mapped[bytes] = mapped_column(LargeBinary)


class DocumentNumberRow(NodeBase):
    """A document number taken by a document accepted for issuing (one per type)."""

    __tablename__ = "document_numbers"

    document_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_number: Mapped[str] = mapped_column(String(128), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("outbox.id"))


class BatchRow(NodeBase):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_type: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[float]
    document_count: Mapped[int]
    root: Mapped[bytes | None] = mapped_column(LargeBinary)
    addressees: Mapped[str] = mapped_column(String(512), default="")
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None]
    anchored_at: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(String(2000))


class IdempotencyRow(NodeBase):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    body_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float]
    response_status: Mapped[int | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)


# --- receiving: the inbox, the receiver's schedule, peer reports -----------------------


class InboxRow(NodeBase):
    """A document addressed to this country, filed once it verified."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("inbox_received", "received_at"),
        Index("inbox_cid", "cid"),  # lookups by CID (verify by reference)
    )

    target_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    batch_root: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    document_type: Mapped[str] = mapped_column(String(64))
    issuer_country: Mapped[str] = mapped_column(String(2))
    issuer: Mapped[str] = mapped_column(String(42))
    cid: Mapped[str] = mapped_column(String(128))
    confidential: Mapped[bool]
    block_number: Mapped[int]
    received_at: Mapped[float]
    #: the wrapped document (opened, when it came sealed)
    wrapped_json: Mapped[bytes] = mapped_column(LargeBinary)
    #: the verdict at reception: {"valid": bool, "checks": [...]}
    verdict_json: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool]
    #: the source that delivered the content: "bitswap via ..." or "gateway XX <url>"
    received_from: Mapped[str | None] = mapped_column(String(300), default=None)
    #: the sources tried before it, each {"source", "reason", "detail"} (JSON list)
    fallbacks_json: Mapped[str | None] = mapped_column(Text, default=None)


class ReceivingBatchRow(NodeBase):
    """An anchored batch addressed to us: pending until each of our documents is filed
    or refused, with its retry schedule."""

    __tablename__ = "receiving_batches"

    root: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    issuer_country: Mapped[str] = mapped_column(String(2))
    block_number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[float]
    last_error: Mapped[str | None] = mapped_column(String(2000))
    #: the batch manifest as received (verified against the root), served to the batch's
    #: other members when its issuer cannot serve it (null until read)
    manifest_json: Mapped[str | None] = mapped_column(Text)


class PeerReportRow(NodeBase):
    """A peer that served a manifest or content that did not verify."""

    __tablename__ = "peer_reports"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    peer: Mapped[str] = mapped_column(String(512))
    issuer_country: Mapped[str] = mapped_column(String(2))
    batch_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    target_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    cid: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(2000))
    reported_at: Mapped[float]


# --- documents: amendments ---------------------------------------------------------------


class AmendmentRow(NodeBase):
    """An original document and its replacement, until supersede(original -> replacement)
    is mined (or failed)."""

    __tablename__ = "amendments"
    __table_args__ = (Index("amendments_state", "state"),)

    original_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    replacement_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int]
    created_at: Mapped[float]
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(2000))


# --- access to stored content: share links, member request nonces (ADR 0023) -------------


class ShareLinkRow(NodeBase):
    """A link that lets whoever holds it read one document's content until it expires or
    is revoked. The token is never stored: only its SHA-256."""

    __tablename__ = "share_links"
    __table_args__ = (Index("share_links_target_hash", "target_hash"),)

    #: the link's public id (listing, revocation): not the token
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    target_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: the user that created it (a name of the users table)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float]
    expires_at: Mapped[float]
    revoked_at: Mapped[float | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class MemberRequestNonceRow(NodeBase):
    """A signed member request seen within the freshness window: the same signer and nonce
    again is a replay. Rows older than the window are deleted as new ones come."""

    __tablename__ = "member_request_nonces"
    __table_args__ = (Index("member_request_nonces_seen_at", "seen_at"),)

    signer: Mapped[str] = mapped_column(String(42), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[float]


# --- credentials: VC export (node/credentials/) -----------------------------------------


class CredentialStatusRow(NodeBase):
    """The Bitstring Status List place of an exported document: ``sequence`` is its place
    over every list (list ``sequence // length + 1``, bit ``sequence % length``), taken
    once, at the first export, and kept for ever (a credential carries it)."""

    __tablename__ = "credential_status"

    target_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sequence: Mapped[int] = mapped_column(unique=True)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("outbox.id"))
    allocated_at: Mapped[float]


class CredentialKeyRow(NodeBase):
    """The public key of an account this node has signed credentials with: the registry
    knows accounts only, and the DID document lists keys (node/credentials/keys.py)."""

    __tablename__ = "credential_keys"

    account: Mapped[str] = mapped_column(String(42), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(65))
    recorded_at: Mapped[float]

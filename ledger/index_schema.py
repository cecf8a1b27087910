"""The event index: SQLAlchemy 2 models of what the indexer mirrors from the chain.

Every table but the checkpoint is **append-only and stamped with its block**: a reorg
is undone by deleting the rows above the fork point, and every status is a query over
the rows, never a column updated in place. Hashes and addresses are stored as their
raw bytes (32 and 20), countries as two-letter text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class IndexBase(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Checkpoint(IndexBase):
    """The last block a stream has fully indexed, and that block's hash (to spot a reorg)."""

    __tablename__ = "checkpoint"
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class IndexedBlock(IndexBase):
    """Hashes of indexed blocks that held events or ended a page: the fork-point search."""

    __tablename__ = "indexed_block"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ChainEvent(IndexBase):
    """Every decoded event, as emitted: the audit trail a document's history is read from."""

    __tablename__ = "chain_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    contract: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    #: the event's arguments as JSON (bytes as 0x-hex)
    arguments: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("block_number", "log_index"),
        Index(None, "name", "block_number", "log_index"),
    )


class Route(IndexBase):
    """A ``RouteRegistered`` event: one issuer key's (document type, addressees), which every
    later ``BatchAnchored`` on the route refers to by its id."""

    __tablename__ = "route"
    route_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    issuer: Mapped[bytes] = mapped_column(LargeBinary(20))
    issuer_member: Mapped[int] = mapped_column(Integer)
    issuer_country: Mapped[str] = mapped_column(String(2))
    type_id: Mapped[bytes] = mapped_column(LargeBinary(32))
    document_type: Mapped[str] = mapped_column(String(64))
    #: sorted ISO codes joined by commas ("TH,VN")
    addressees: Mapped[str] = mapped_column(String(512))
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)


class Batch(IndexBase):
    """A ``BatchAnchored`` event, completed with its route (and ``BatchRelayed``'s submitter)."""

    __tablename__ = "batch"
    root: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    issuer_member: Mapped[int] = mapped_column(Integer, index=True)
    type_id: Mapped[bytes] = mapped_column(LargeBinary(32))
    document_type: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[bytes] = mapped_column(LargeBinary(20))
    submitter: Mapped[bytes] = mapped_column(LargeBinary(20))
    issuer_country: Mapped[str] = mapped_column(String(2))
    document_count: Mapped[int] = mapped_column(Integer)
    #: sorted ISO codes joined by commas ("TH,VN")
    addressees: Mapped[str] = mapped_column(String(512))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class DocumentEvent(IndexBase):
    """A revocation, supersession, use or rejection of one document (target hash)."""

    __tablename__ = "document_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    issuer_member: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # revoked | superseded | used | rejected
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    account: Mapped[bytes] = mapped_column(LargeBinary(20))
    actor_member: Mapped[int | None] = mapped_column(Integer)
    actor_country: Mapped[str | None] = mapped_column(String(2))
    successor_target_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    successor_root: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    declaration_ref: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    used_quantity: Mapped[int | None] = mapped_column(BigInteger)
    allowed_quantity: Mapped[int | None] = mapped_column(BigInteger)
    reason_code: Mapped[int | None] = mapped_column(Integer)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    __table_args__ = (Index(None, "target_hash", "block_number", "log_index"),)


class MemberEvent(IndexBase):
    """A member admitted, suspended or readmitted."""

    __tablename__ = "member_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # admitted | suspended | readmitted
    country: Mapped[str | None] = mapped_column(String(2))
    name: Mapped[str | None] = mapped_column(String(256))
    proposal_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index(None, "member_id", "block_number", "log_index"),)


class KeyEvent(IndexBase):
    """A grant opened (``added``) or closed (``revoked``) for an account and a role."""

    __tablename__ = "key_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer)
    account: Mapped[bytes] = mapped_column(LargeBinary(20))
    type_id: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(16))  # added | revoked
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)
    proposal_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index(None, "account", "type_id"),)


class AgreementEvent(IndexBase):
    """A mutual-recognition agreement window added or withdrawn."""

    __tablename__ = "agreement_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    verifier_country: Mapped[str] = mapped_column(String(2))
    issuer_country: Mapped[str] = mapped_column(String(2))
    type_id: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(16))  # added | withdrawn
    valid_from: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    proposal_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index(None, "verifier_country", "issuer_country", "type_id"),)


#: Tables whose rows above a fork point are deleted when the chain reorganises.
BLOCK_STAMPED = (
    IndexedBlock,
    ChainEvent,
    Route,
    Batch,
    DocumentEvent,
    MemberEvent,
    KeyEvent,
    AgreementEvent,
)

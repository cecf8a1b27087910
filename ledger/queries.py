"""Questions the node asks its event index: each one an indexed lookup, never a log scan."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, select, tuple_
from sqlalchemy.orm import Session

from ledger.contracts import type_id
from ledger.index_schema import (
    AgreementEvent,
    Batch,
    ChainEvent,
    Checkpoint,
    DocumentEvent,
    KeyEvent,
    MemberEvent,
)
from ledger.indexer import OPEN_VALIDITY
from ledger.prepared_reads import PreparedRead

MEMBER_ACCOUNT_ROLE = bytes(32)


@dataclass(frozen=True, slots=True)
class BatchRecord:
    root: bytes
    issuer_member: int
    issuer: str
    issuer_country: str
    document_type: str
    document_count: int
    addressees: tuple[str, ...]
    block_number: int
    timestamp: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class DocumentUse:
    declaration_ref: bytes
    member: int
    country: str
    quantity: int
    used_quantity: int
    allowed_quantity: int
    block_number: int


@dataclass(frozen=True, slots=True)
class DocumentRejection:
    member: int
    country: str
    reason_code: int
    block_number: int


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """What the chain says about one document (target hash) of one issuer member."""

    target_hash: bytes
    batch: BatchRecord | None
    revoked_at: int | None
    superseded_by: tuple[bytes, bytes] | None  # (successor target hash, successor root)
    uses: tuple[DocumentUse, ...]
    rejections: tuple[DocumentRejection, ...]

    @property
    def state(self) -> str:
        """``revoked``, ``superseded``, ``valid`` (anchored, neither) or ``unknown``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.superseded_by is not None:
            return "superseded"
        return "valid" if self.batch is not None else "unknown"

    @property
    def used_quantity(self) -> int:
        return self.uses[-1].used_quantity if self.uses else 0


@dataclass(frozen=True, slots=True)
class AgreementWindow:
    verifier_country: str
    issuer_country: str
    type_id: bytes
    valid_from: int
    valid_until: int  # 0 = open-ended

    def covers(self, timestamp: int) -> bool:
        return self.valid_from <= timestamp and (
            self.valid_until in (0,) or timestamp < self.valid_until
        )


@dataclass(frozen=True, slots=True)
class Authority:
    account: str
    authorised: bool
    member_id: int | None
    reason: str
    #: why not, in words that never change (None when authorised): no key for the type at
    #: the block, a member of another country, or a member not active at the block
    cause: Literal["no-key", "other-country", "not-active"] | None = None


@dataclass(frozen=True, slots=True)
class EncryptionKeyRecord:
    """One of a member's encryption public keys (X25519) as recorded on chain: ``key_id`` is
    its 1-based place in the member's history; in force over blocks ``[valid_from,
    valid_until)`` (``valid_until`` is ``OPEN_VALIDITY`` for the current key)."""

    member_id: int
    key_id: int
    public_key: bytes
    valid_from: int
    valid_until: int
    proposal_id: int


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    block_number: int
    log_index: int
    tx_hash: bytes
    event: str
    arguments: dict[str, Any]


def _address_bytes(account: str) -> bytes:
    return bytes.fromhex(account.removeprefix("0x").lower())


def _batch_record(row: Batch | _BatchRow) -> BatchRecord:
    return BatchRecord(
        root=row.root,
        issuer_member=row.issuer_member,
        issuer="0x" + row.issuer.hex(),
        issuer_country=row.issuer_country,
        document_type=row.document_type,
        document_count=row.document_count,
        addressees=tuple(row.addressees.split(",")) if row.addressees else (),
        block_number=row.block_number,
        timestamp=row.timestamp,
        tx_hash=row.tx_hash,
    )


def batch(engine: Engine, root: bytes) -> BatchRecord | None:
    """The batch anchored under ``root`` (one prepared indexed read), or None."""
    rows = _prepared(engine).batch.rows({"root": root})
    return None if not rows else _batch_record(_BatchRow(*rows[0]))


def document_status(
    engine: Engine, target_hash: bytes, *, root: bytes | None = None
) -> DocumentStatus:
    """A document's status; ``root`` (from its proof) pins the batch and so the issuer.
    Prepared reads, as on the verifier's path: the batch, then the document's events."""
    anchored = batch(engine, root) if root is not None else None
    if anchored is not None:
        return status_in_batch(engine, target_hash, anchored)
    # no batch known: the events of every issuer under this target hash, in chain order
    rows = _prepared(engine).events_of_any_issuer.rows({"target_hash": target_hash})
    events = [_StatusEvent(*row[:-1]) for row in rows]
    if events and root is None:
        anchored = batch(engine, bytes(rows[0][-1]))
    return _status(target_hash, anchored, events)


def status_in_batch(engine: Engine, target_hash: bytes, batch: BatchRecord) -> DocumentStatus:
    """:func:`document_status` of a document of ``batch``, already read: one prepared
    indexed read of its events (the verifier's path for every new document)."""
    rows = _prepared(engine).events.rows(
        {"target_hash": target_hash, "issuer_member": batch.issuer_member}
    )
    return _status(target_hash, batch, [_StatusEvent(*row) for row in rows])


def checkpoint(engine: Engine, stream: str) -> tuple[int, bytes] | None:
    """``stream``'s checkpoint (block number and hash; one prepared read), or None before
    its first pass."""
    rows = _prepared(engine).checkpoint.rows({"stream": stream})
    return None if not rows else (int(rows[0][0]), bytes(rows[0][1]))


#: the event columns a status is made of
_STATUS_COLUMNS: Final = (
    DocumentEvent.kind,
    DocumentEvent.block_number,
    DocumentEvent.successor_target_hash,
    DocumentEvent.successor_root,
    DocumentEvent.declaration_ref,
    DocumentEvent.actor_member,
    DocumentEvent.actor_country,
    DocumentEvent.quantity,
    DocumentEvent.used_quantity,
    DocumentEvent.allowed_quantity,
    DocumentEvent.reason_code,
)


class _StatusEvent(NamedTuple):
    """One row of ``_STATUS_COLUMNS``, as a prepared read returns it."""

    kind: str
    block_number: int
    successor_target_hash: bytes | None
    successor_root: bytes | None
    declaration_ref: bytes | None
    actor_member: int | None
    actor_country: str | None
    quantity: int | None
    used_quantity: int | None
    allowed_quantity: int | None
    reason_code: int | None


class _BatchRow(NamedTuple):
    """The columns of a batch :func:`_batch_record` reads, as a prepared read returns them."""

    root: bytes
    issuer_member: int
    issuer: bytes
    issuer_country: str
    document_type: str
    document_count: int
    addressees: str
    block_number: int
    timestamp: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class _PreparedIndexReads:
    """The reads every verification makes, compiled once per index engine."""

    checkpoint: PreparedRead
    events: PreparedRead
    batch: PreparedRead
    #: a status asked without a known batch (``_STATUS_COLUMNS`` and the event's root)
    events_of_any_issuer: PreparedRead
    #: an account's key events for one role (the issuer check of every anchored batch)
    grants: PreparedRead
    #: a member's status events up to a block
    member_events: PreparedRead


_PREPARED: WeakKeyDictionary[Engine, _PreparedIndexReads] = WeakKeyDictionary()


def _prepared(engine: Engine) -> _PreparedIndexReads:
    reads = _PREPARED.get(engine)
    if reads is None:
        reads = _PreparedIndexReads(
            checkpoint=PreparedRead(
                engine,
                select(Checkpoint.block_number, Checkpoint.block_hash).where(
                    Checkpoint.stream == bindparam("stream")
                ),
            ),
            events=PreparedRead(
                engine,
                select(*_STATUS_COLUMNS)
                .where(
                    DocumentEvent.target_hash == bindparam("target_hash"),
                    DocumentEvent.issuer_member == bindparam("issuer_member"),
                )
                .order_by(DocumentEvent.block_number, DocumentEvent.log_index),
            ),
            batch=PreparedRead(
                engine,
                select(*(getattr(Batch, name) for name in _BatchRow._fields)).where(
                    Batch.root == bindparam("root")
                ),
            ),
            events_of_any_issuer=PreparedRead(
                engine,
                select(*_STATUS_COLUMNS, DocumentEvent.root)
                .where(DocumentEvent.target_hash == bindparam("target_hash"))
                .order_by(DocumentEvent.block_number, DocumentEvent.log_index),
            ),
            grants=PreparedRead(
                engine,
                select(KeyEvent.kind, KeyEvent.member_id, KeyEvent.valid_from, KeyEvent.valid_until)
                .where(
                    KeyEvent.account == bindparam("account"), KeyEvent.type_id == bindparam("role")
                )
                .order_by(KeyEvent.block_number, KeyEvent.log_index),
            ),
            member_events=PreparedRead(
                engine,
                select(MemberEvent.kind, MemberEvent.country)
                .where(
                    MemberEvent.member_id == bindparam("member_id"),
                    MemberEvent.block_number <= bindparam("block_number"),
                )
                .order_by(MemberEvent.block_number, MemberEvent.log_index),
            ),
        )
        _PREPARED[engine] = reads
    return reads


def _status(
    target_hash: bytes, record: BatchRecord | None, events: Sequence[Any]
) -> DocumentStatus:
    """The status from a document's events in chain order (ORM objects or Core rows with
    the columns of ``_STATUS_COLUMNS``)."""
    revoked = next((e.block_number for e in events if e.kind == "revoked"), None)
    superseded = next((e for e in events if e.kind == "superseded"), None)
    return DocumentStatus(
        target_hash=target_hash,
        batch=record,
        revoked_at=revoked,
        superseded_by=(
            (superseded.successor_target_hash or b"", superseded.successor_root or b"")
            if superseded is not None
            else None
        ),
        uses=tuple(
            DocumentUse(
                declaration_ref=e.declaration_ref or b"",
                member=e.actor_member or 0,
                country=e.actor_country or "",
                quantity=e.quantity or 0,
                used_quantity=e.used_quantity or 0,
                allowed_quantity=e.allowed_quantity or 0,
                block_number=e.block_number,
            )
            for e in events
            if e.kind == "used"
        ),
        rejections=tuple(
            DocumentRejection(
                member=e.actor_member or 0,
                country=e.actor_country or "",
                reason_code=e.reason_code or 0,
                block_number=e.block_number,
            )
            for e in events
            if e.kind == "rejected"
        ),
    )


def _member_country_and_status_at(
    engine: Engine, member_id: int, block_number: int
) -> tuple[str | None, str | None]:
    """The country ``member_id`` was admitted for and its last status, as of the block (one
    prepared read: this runs for every anchored batch a verification meets)."""
    events = _prepared(engine).member_events.rows(
        {"member_id": member_id, "block_number": block_number}
    )
    country = next((event_country for kind, event_country in events if kind == "admitted"), None)
    status = events[-1][0] if events else None
    return country, status


def _grants(engine: Engine, account: bytes, role: bytes) -> list[tuple[int, int, int]]:
    """(member, valid_from, valid_until) of each grant, closed ones with their end (one
    prepared read)."""
    grants: dict[int, tuple[int, int, int]] = {}
    for kind, member_id, valid_from, valid_until in _prepared(engine).grants.rows(
        {"account": account, "role": role}
    ):
        if kind == "added":
            grants[valid_from] = (member_id, valid_from, OPEN_VALIDITY)
        elif valid_until is not None:
            grants[valid_from] = (member_id, valid_from, valid_until)
    return list(grants.values())


def authority_at(
    engine: Engine, account: str, document_type: str, country: str, block_number: int
) -> Authority:
    """Was ``account`` authorised to issue ``document_type`` for ``country`` at the block?

    The index's answer to the contract's ``isAuthorised``, with the reason when not.
    """
    grants = _grants(engine, _address_bytes(account), type_id(document_type))
    covering = [g for g in grants if g[1] <= block_number < g[2]]
    if not covering:
        return Authority(
            account,
            False,
            grants[0][0] if grants else None,
            f"no {document_type} key for {account} at block {block_number}",
            "no-key",
        )
    member_id = covering[0][0]
    member_country, status = _member_country_and_status_at(engine, member_id, block_number)
    if member_country != country:
        return Authority(
            account,
            False,
            member_id,
            f"member {member_id} is {member_country}, not {country}",
            "other-country",
        )
    if status not in ("admitted", "readmitted"):
        return Authority(
            account,
            False,
            member_id,
            f"member {member_id} not active at block {block_number}",
            "not-active",
        )
    return Authority(account, True, member_id, "authorised")


@dataclass(frozen=True, slots=True)
class MemberAccount:
    """What the index says of an account as a member account (the key a member's node signs
    its requests to other nodes with, ADR 0023), as of the index's head."""

    account: str
    member_id: int | None
    country: str | None
    #: a current (not revoked) member account of a member that is active now
    current: bool
    #: why not, in words that never change (None when current)
    cause: Literal["not-a-member-account", "revoked", "not-active"] | None = None


def member_account(engine: Engine, account: str) -> MemberAccount:
    """Is ``account`` a current member account of an active member, as far as indexed?

    A grant closed at any block, even one the index has not reached, no longer counts; a
    member's last status event decides (suspended or left: not active).
    """
    grants = _grants(engine, _address_bytes(account), MEMBER_ACCOUNT_ROLE)
    if not grants:
        return MemberAccount(account, None, None, False, "not-a-member-account")
    open_grants = [g for g in grants if g[2] == OPEN_VALIDITY]
    member_id = (open_grants or grants)[-1][0]
    country, status = _member_country_and_status_at(engine, member_id, 2**63 - 1)
    if not open_grants:
        return MemberAccount(account, member_id, country, False, "revoked")
    if status not in ("admitted", "readmitted"):
        return MemberAccount(account, member_id, country, False, "not-active")
    return MemberAccount(account, member_id, country, True)


def agreements(
    engine: Engine, *, verifier_country: str | None = None, issuer_country: str | None = None
) -> list[AgreementWindow]:
    """Every recognition window, withdrawals applied, oldest first."""
    with Session(engine) as session:
        query = select(AgreementEvent)
        if verifier_country is not None:
            query = query.where(AgreementEvent.verifier_country == verifier_country)
        if issuer_country is not None:
            query = query.where(AgreementEvent.issuer_country == issuer_country)
        events = session.scalars(
            query.order_by(AgreementEvent.block_number, AgreementEvent.log_index)
        ).all()
    windows: list[AgreementWindow] = []
    latest: dict[tuple[str, str, bytes], int] = {}
    for event in events:
        triple = (event.verifier_country, event.issuer_country, event.type_id)
        if event.kind == "added":
            latest[triple] = len(windows)
            windows.append(AgreementWindow(*triple, event.valid_from or 0, event.valid_until))
        elif triple in latest:
            index = latest[triple]
            old = windows[index]
            windows[index] = AgreementWindow(
                old.verifier_country,
                old.issuer_country,
                old.type_id,
                old.valid_from,
                event.valid_until,
            )
    return windows


def recognises(
    engine: Engine, verifier_country: str, issuer_country: str, document_type: str, timestamp: int
) -> bool:
    """Does ``verifier_country`` recognise ``document_type`` from ``issuer_country`` then?"""
    wanted = type_id(document_type)
    return any(
        w.type_id == wanted and w.covers(timestamp)
        for w in agreements(
            engine, verifier_country=verifier_country, issuer_country=issuer_country
        )
    )


def document_history(engine: Engine, target_hash: bytes) -> list[HistoryEntry]:
    """Every on-chain event of a document, in chain order: its batch's anchoring first."""
    with Session(engine) as session:
        events = session.execute(
            select(DocumentEvent.block_number, DocumentEvent.log_index, DocumentEvent.root).where(
                DocumentEvent.target_hash == target_hash
            )
        ).all()
        roots = {root for _, _, root in events}
        positions = {(number, index) for number, index, _ in events}
        for row in session.scalars(select(Batch).where(Batch.root.in_(roots))):
            positions.add((row.block_number, row.log_index))
        if not positions:
            return []
        rows = session.scalars(
            select(ChainEvent)
            .where(tuple_(ChainEvent.block_number, ChainEvent.log_index).in_(list(positions)))
            .order_by(ChainEvent.block_number, ChainEvent.log_index)
        ).all()
        return [
            HistoryEntry(r.block_number, r.log_index, r.tx_hash, r.name, json.loads(r.arguments))
            for r in rows
        ]


def encryption_keys(engine: Engine, member_id: int) -> list[EncryptionKeyRecord]:
    """Every encryption key of ``member_id`` (``EncryptionKeySet`` events), oldest first, so
    that an envelope sealed for an older key id can still be opened."""
    with Session(engine) as session:
        found = _events_named(session, "EncryptionKeySet")
    mine = [a for _, a in found if int(a["memberId"]) == member_id]
    keys: list[EncryptionKeyRecord] = []
    for index, a in enumerate(mine):
        until = int(mine[index + 1]["validFrom"]) if index + 1 < len(mine) else OPEN_VALIDITY
        keys.append(
            EncryptionKeyRecord(
                member_id=member_id,
                key_id=int(a["keyId"]),
                public_key=bytes.fromhex(str(a["publicKey"])[2:]),
                valid_from=int(a["validFrom"]),
                valid_until=until,
                proposal_id=int(a["proposalId"]),
            )
        )
    return keys


@dataclass(frozen=True, slots=True)
class SealingKey:
    """An X25519 public key confidential documents are sealed for now: a member's current
    encryption key (``country`` is its country) or an auditor key in force (``country`` is
    None). ``key_id`` is the key's 1-based place in its member's (or the auditors') history."""

    country: str | None
    key_id: int
    public_key: bytes
    name: str


def _events_named(session: Session, *names: str) -> list[tuple[str, dict[str, Any]]]:
    rows = session.scalars(
        select(ChainEvent)
        .where(ChainEvent.name.in_(names))
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    ).all()
    return [(row.name, json.loads(row.arguments)) for row in rows]


def sealing_keys(engine: Engine) -> list[SealingKey]:
    """Every member's current encryption key and every auditor key in force, as the index
    knows them (the chain's ``EncryptionKeySet``, ``AuditorKeyAdded`` and
    ``AuditorKeyRemoved`` events): what a confidential document is sealed for."""
    with Session(engine) as session:
        members = {
            row.member_id: (row.country or "", row.name or "")
            for row in session.scalars(select(MemberEvent).where(MemberEvent.kind == "admitted"))
        }
        events = _events_named(session, "EncryptionKeySet", "AuditorKeyAdded", "AuditorKeyRemoved")
    current: dict[int, SealingKey] = {}
    auditors: dict[int, SealingKey] = {}
    for name, a in events:
        if name == "EncryptionKeySet" and int(a["memberId"]) in members:
            country, member_name = members[int(a["memberId"])]
            current[int(a["memberId"])] = SealingKey(
                country, int(a["keyId"]), bytes.fromhex(str(a["publicKey"])[2:]), member_name
            )
        elif name == "AuditorKeyAdded":
            auditors[int(a["auditorKeyId"])] = SealingKey(
                None,
                int(a["auditorKeyId"]),
                bytes.fromhex(str(a["publicKey"])[2:]),
                str(a["name"]),
            )
        elif name == "AuditorKeyRemoved":
            auditors.pop(int(a["auditorKeyId"]), None)
    return [*current.values(), *auditors.values()]


@dataclass(frozen=True, slots=True)
class IssuerAccount:
    """An issuer account of a member as the registry's key events leave it: ``current``
    while it holds an open grant; ``disowned`` when its last grant was closed by a
    revocation (RevokeKey) rather than a rotation (RotateKey closes one account and opens
    another in the same proposal)."""

    account: str
    current: bool
    disowned: bool


def admitted_member(engine: Engine, country: str) -> tuple[int, str | None] | None:
    """The member id and name of ``country`` (from its admission event), or None."""
    with Session(engine) as session:
        row = session.execute(
            select(MemberEvent.member_id, MemberEvent.name)
            .where(MemberEvent.kind == "admitted", MemberEvent.country == country)
            .limit(1)
        ).first()
    return None if row is None else (row[0], row[1])


def member_active(engine: Engine, member_id: int) -> bool:
    """Is ``member_id`` active at the index's head (admitted or readmitted, not suspended)?"""
    _, status = _member_country_and_status_at(engine, member_id, 2**63 - 1)
    return status in ("admitted", "readmitted")


def member_accounts(engine: Engine, member_id: int) -> list[IssuerAccount]:
    """Every issuer account ``member_id`` ever held (not its governance account), oldest first."""
    with Session(engine) as session:
        events = session.scalars(
            select(KeyEvent)
            .where(KeyEvent.member_id == member_id, KeyEvent.type_id != MEMBER_ACCOUNT_ROLE)
            .order_by(KeyEvent.block_number, KeyEvent.log_index)
        ).all()
    opened_by = {(e.proposal_id, e.type_id) for e in events if e.kind == "added"}
    open_grants: dict[bytes, set[bytes]] = {}
    disowned: dict[bytes, bool] = {}
    for event in events:
        grants = open_grants.setdefault(event.account, set())
        if event.kind == "added":
            grants.add(event.type_id)
            disowned[event.account] = False
        else:
            grants.discard(event.type_id)
            # a rotation opens the successor's grant in the same proposal
            disowned[event.account] = (event.proposal_id, event.type_id) not in opened_by
    return [
        IssuerAccount("0x" + account.hex(), bool(grants), not grants and disowned[account])
        for account, grants in open_grants.items()
    ]


def withdrawn_documents(engine: Engine, member_id: int) -> dict[bytes, str]:
    """Target hash -> ``revoked`` or ``superseded`` for every such document of ``member_id``."""
    with Session(engine) as session:
        rows = session.execute(
            select(DocumentEvent.target_hash, DocumentEvent.kind)
            .where(
                DocumentEvent.issuer_member == member_id,
                DocumentEvent.kind.in_(("revoked", "superseded")),
            )
            .order_by(DocumentEvent.block_number, DocumentEvent.log_index)
        ).all()
    withdrawn: dict[bytes, str] = {}
    for target_hash, kind in rows:
        withdrawn.setdefault(target_hash, kind)
    return withdrawn

"""The durable record of every transaction this node intends: written before sending.

One row per intended transaction (keyed by the caller's idempotency ``key``) and one
row per signed attempt at its nonce (the first send and any fee-bumped replacement).
Every write commits with SQLite's ``synchronous=FULL`` in WAL mode, so a row that the
manager has seen committed survives a power cut; only then is the transaction sent.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ledger.process_lock import ProcessLock


class TxStatus(StrEnum):
    SIGNED = "signed"  # journalled, perhaps not yet sent
    SENT = "sent"  # accepted by a node at least once
    MINED = "mined"  # included with status 1 and confirmed
    REVERTED = "reverted"  # included with status 0: the nonce is spent, never resent
    REJECTED = "rejected"  # refused by the node before inclusion: the nonce was released
    CONFLICT = "conflict"  # the nonce was spent by a transaction the journal does not know


UNFINISHED = (TxStatus.SIGNED, TxStatus.SENT)


@dataclass(frozen=True, slots=True)
class Attempt:
    tx_hash: str
    raw: bytes
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    gas_price: int | None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    key: str
    chain_id: int
    account: str
    nonce: int
    to: str | None
    data: bytes
    value: int
    gas: int
    status: TxStatus
    tx_hash: str
    block_number: int | None
    attempts: tuple[Attempt, ...]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tx (
    key TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    to_address TEXT,
    data BLOB NOT NULL,
    value TEXT NOT NULL,
    gas INTEGER NOT NULL,
    status TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    block_number INTEGER,
    created_at REAL NOT NULL
);
-- one live transaction per nonce: the database itself refuses a duplicate send
CREATE UNIQUE INDEX IF NOT EXISTS tx_live_nonce ON tx (chain_id, account, nonce)
    WHERE status != 'rejected';
CREATE INDEX IF NOT EXISTS tx_unfinished ON tx (status, chain_id, account, nonce);
CREATE TABLE IF NOT EXISTS attempt (
    tx_hash TEXT PRIMARY KEY,
    key TEXT NOT NULL REFERENCES tx (key),
    raw BLOB NOT NULL,
    max_fee_per_gas TEXT,
    max_priority_fee_per_gas TEXT,
    gas_price TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS attempt_by_key ON attempt (key, created_at);
"""


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else int(text)


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


class Journal:
    """The transaction journal in one SQLite file. Thread-safe (one connection, one lock)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.RLock()
        #: held against every other process that uses the journal (``exclusive``)
        self._exclusive = ProcessLock(path.with_name(path.name + ".lock"))
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._exclusive.close()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold this journal against every other process (and thread) that uses it: an
        exclusive ``flock`` on ``<journal>.lock``. The transaction manager allocates a
        nonce, signs and journals under it, so two docex processes sending from one
        account (``docex run --api-workers 2``) never take the same nonce."""
        with self._exclusive:
            yield

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._rollback()
                raise
            try:
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # SQLite ends the transaction itself on some errors (SQLITE_FULL: a full disk) and
        # leaves it open on others (a failed COMMIT may): undone here only if still open,
        # so that the error raised is the one that happened and the next BEGIN works
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def record(self, entry: JournalEntry) -> None:
        """Durably record a newly signed transaction and its first attempt.

        A previous row under the same key is replaced only if the node rejected it.
        """
        attempt = entry.attempts[-1]
        with self._transaction() as db:
            previous = db.execute("SELECT status FROM tx WHERE key = ?", (entry.key,)).fetchone()
            if previous is not None:
                if previous[0] != TxStatus.REJECTED:
                    raise sqlite3.IntegrityError(f"journal already holds {entry.key}")
                db.execute("DELETE FROM attempt WHERE key = ?", (entry.key,))
                db.execute("DELETE FROM tx WHERE key = ?", (entry.key,))
            db.execute(
                "INSERT INTO tx (key, chain_id, account, nonce, to_address, data, value, gas,"
                " status, tx_hash, block_number, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    entry.key,
                    entry.chain_id,
                    entry.account,
                    entry.nonce,
                    entry.to,
                    entry.data,
                    str(entry.value),
                    entry.gas,
                    entry.status.value,
                    attempt.tx_hash,
                    self._clock(),
                ),
            )
            self._insert_attempt(db, entry.key, attempt)

    def _insert_attempt(self, db: sqlite3.Connection, key: str, attempt: Attempt) -> None:
        db.execute(
            "INSERT OR IGNORE INTO attempt (tx_hash, key, raw, max_fee_per_gas,"
            " max_priority_fee_per_gas, gas_price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                attempt.tx_hash,
                key,
                attempt.raw,
                _str_or_none(attempt.max_fee_per_gas),
                _str_or_none(attempt.max_priority_fee_per_gas),
                _str_or_none(attempt.gas_price),
                self._clock(),
            ),
        )

    def add_attempt(self, key: str, attempt: Attempt) -> None:
        """Durably record a replacement (same nonce, higher fee) before it is sent."""
        with self._transaction() as db:
            self._insert_attempt(db, key, attempt)
            db.execute("UPDATE tx SET tx_hash = ? WHERE key = ?", (attempt.tx_hash, key))

    def set_status(
        self,
        key: str,
        status: TxStatus,
        *,
        tx_hash: str | None = None,
        block_number: int | None = None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE tx SET status = ?, tx_hash = COALESCE(?, tx_hash),"
                " block_number = COALESCE(?, block_number) WHERE key = ?",
                (status.value, tx_hash, block_number, key),
            )

    def get(self, key: str) -> JournalEntry | None:
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE key = ?", (key,)).fetchone()
            return None if row is None else self._entry(row)

    def unfinished(self, chain_id: int, account: str | None = None) -> list[JournalEntry]:
        """Signed or sent, not yet final: in nonce order per account."""
        query = _SELECT + " WHERE chain_id = ? AND status IN (?, ?)"
        params: tuple[object, ...] = (chain_id, *(s.value for s in UNFINISHED))
        if account is not None:
            query += " AND account = ?"
            params += (account,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY account, nonce", params).fetchall()
            return [self._entry(row) for row in rows]

    def from_nonce(self, chain_id: int, account: str, nonce: int) -> list[JournalEntry]:
        """Signed, sent or mined transactions of ``account`` at ``nonce`` and above, in
        nonce order: what a chain that lost blocks may no longer hold."""
        live = (TxStatus.SIGNED.value, TxStatus.SENT.value, TxStatus.MINED.value)
        with self._lock:
            rows = self._db.execute(
                _SELECT + " WHERE chain_id = ? AND account = ? AND nonce >= ?"
                " AND status IN (?, ?, ?) ORDER BY nonce",
                (chain_id, account, nonce, *live),
            ).fetchall()
            return [self._entry(row) for row in rows]

    def next_nonce(self, chain_id: int, account: str) -> int:
        """One past the highest nonce this journal has given a live transaction (0 if none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT MAX(nonce) FROM tx WHERE chain_id = ? AND account = ? AND status != ?",
                (chain_id, account, TxStatus.REJECTED.value),
            ).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def count(self, status: TxStatus | None = None) -> int:
        with self._lock:
            if status is None:
                row = self._db.execute("SELECT COUNT(*) FROM tx").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM tx WHERE status = ?", (status.value,)
                ).fetchone()
        return int(row[0])

    def _entry(self, row: tuple[object, ...]) -> JournalEntry:
        key = str(row[0])
        attempts = tuple(
            Attempt(
                tx_hash=a[0],
                raw=a[1],
                max_fee_per_gas=_int_or_none(a[2]),
                max_priority_fee_per_gas=_int_or_none(a[3]),
                gas_price=_int_or_none(a[4]),
            )
            for a in self._db.execute(
                "SELECT tx_hash, raw, max_fee_per_gas, max_priority_fee_per_gas, gas_price"
                " FROM attempt WHERE key = ? ORDER BY created_at, rowid",
                (key,),
            ).fetchall()
        )
        return JournalEntry(
            key=key,
            chain_id=int(str(row[1])),
            account=str(row[2]),
            nonce=int(str(row[3])),
            to=None if row[4] is None else str(row[4]),
            data=bytes(row[5]),  # type: ignore[call-overload]
            value=int(str(row[6])),
            gas=int(str(row[7])),
            status=TxStatus(str(row[8])),
            tx_hash=str(row[9]),
            block_number=None if row[10] is None else int(str(row[10])),
            attempts=attempts,
        )


_SELECT = (
    "SELECT key, chain_id, account, nonce, to_address, data, value, gas, status, tx_hash,"
    " block_number FROM tx"
)

"""Follow the registries' events into the index database: checkpointed and reorg-aware.

Each :meth:`EventIndexer.sync` pass

1. checks that the last indexed block (and the last block that held events) still has
   the hash the index recorded; if not, it walks back through the recorded hashes to
   the fork point and deletes every row above it (all rows are block-stamped);
2. reads logs from the checkpoint up to ``head - confirmations`` in pages of
   ``page_size`` blocks (Besu caps ``eth_getLogs`` at 1,000 blocks), decodes them and
   writes them, with the new checkpoint, in one database transaction per page.

A ``BatchAnchored`` event carries only the root, the route id and the document count (the
anchoring transaction stays within OpenAttestation's gas, ADR 0021): the indexer completes
it from the route's ``RouteRegistered`` event (issuer key, member, country, type,
addressees), indexed earlier or in the same page, from a following ``BatchRelayed`` (the
relayer), and from the block's timestamp (the log's ``blockTimestamp`` when the node gives
it, else one batched header request per page).

A crash between pages loses nothing: the next pass starts from the checkpoint.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from ledger.abi_codec import ContractAbi
from ledger.chains import Chain
from ledger.errors import LedgerError
from ledger.index_schema import (
    BLOCK_STAMPED,
    AgreementEvent,
    Batch,
    ChainEvent,
    Checkpoint,
    DocumentEvent,
    IndexedBlock,
    KeyEvent,
    MemberEvent,
    Route,
)

OPEN_VALIDITY = 2**64 - 1


@dataclass(frozen=True, slots=True)
class WatchedContract:
    name: str
    address: str
    abi: ContractAbi


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    contract: str
    name: str
    arguments: Mapping[str, Any]
    block_number: int
    block_hash: bytes
    log_index: int
    tx_hash: bytes
    #: the block's timestamp when the node includes it in the log (anvil, reth do)
    block_timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    from_block: int
    to_block: int
    events: int
    reorged_to: int | None = None
    #: the chain's head as this pass read it (-1: not read)
    head: int = -1


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _country(value: bytes) -> str:
    return value.decode("ascii", errors="replace")


def _address(value: str) -> bytes:
    return _hex_bytes(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


# --- projections: one function per event, returning (table, row) -------------------

Row = tuple[type[Any], dict[str, Any]]


def _stamp(event: DecodedEvent) -> dict[str, Any]:
    return {"block_number": event.block_number, "log_index": event.log_index}


def split_route_and_count(value: int) -> tuple[int, int]:
    """``BatchAnchored.routeAndCount``: (route id, document count)."""
    return value >> 32, value & 0xFFFFFFFF


def _route_row(e: DecodedEvent) -> dict[str, Any]:
    a = e.arguments
    return {
        "route_id": a["routeId"],
        "issuer": _address(a["issuer"]),
        "issuer_member": a["issuerMember"],
        "issuer_country": _country(a["issuerCountry"]),
        "type_id": a["typeId"],
        "document_type": a["documentType"],
        "addressees": ",".join(_country(c) for c in a["addressees"]),
        **_stamp(e),
    }


def _batch_row(e: DecodedEvent, route: Mapping[str, Any], timestamp: int) -> dict[str, Any]:
    _, count = split_route_and_count(e.arguments["routeAndCount"])
    return {
        "root": e.arguments["root"],
        "issuer_member": route["issuer_member"],
        "type_id": route["type_id"],
        "document_type": route["document_type"],
        "issuer": route["issuer"],
        "submitter": route["issuer"],
        "issuer_country": route["issuer_country"],
        "document_count": count,
        "addressees": route["addressees"],
        "timestamp": timestamp,
        "tx_hash": e.tx_hash,
        **_stamp(e),
    }


def _anchor_arguments(e: DecodedEvent, route: Mapping[str, Any]) -> dict[str, Any]:
    """A ``BatchAnchored``'s arguments for the audit trail, completed with its route."""
    route_id, count = split_route_and_count(e.arguments["routeAndCount"])
    return {
        "root": e.arguments["root"],
        "routeId": route_id,
        "documentCount": count,
        "issuer": "0x" + route["issuer"].hex(),
        "issuerMember": route["issuer_member"],
        "issuerCountry": route["issuer_country"],
        "typeId": route["type_id"],
        "documentType": route["document_type"],
        "addressees": route["addressees"].split(",") if route["addressees"] else [],
    }


def _document(e: DecodedEvent, kind: str, **columns: Any) -> Row:
    a = e.arguments
    return DocumentEvent, {
        "target_hash": a["targetHash"],
        "issuer_member": a["issuerMember"],
        "kind": kind,
        "root": a["root"],
        "account": _address(a["account"]),
        "timestamp": a["timestamp"],
        "tx_hash": e.tx_hash,
        "actor_member": None,
        "actor_country": None,
        "successor_target_hash": None,
        "successor_root": None,
        "declaration_ref": None,
        "quantity": None,
        "used_quantity": None,
        "allowed_quantity": None,
        "reason_code": None,
        **columns,
        **_stamp(e),
    }


def _revoked(e: DecodedEvent) -> Row:
    return _document(e, "revoked", reason_code=e.arguments["reasonCode"])


def _superseded(e: DecodedEvent) -> Row:
    a = e.arguments
    return _document(
        e,
        "superseded",
        successor_target_hash=a["successorTargetHash"],
        successor_root=a["successorRoot"],
    )


def _used(e: DecodedEvent) -> Row:
    a = e.arguments
    return _document(
        e,
        "used",
        actor_member=a["userMember"],
        actor_country=_country(a["userCountry"]),
        declaration_ref=a["declarationRef"],
        quantity=a["quantity"],
        used_quantity=a["usedQuantity"],
        allowed_quantity=a["allowedQuantity"],
    )


def _rejected(e: DecodedEvent) -> Row:
    a = e.arguments
    return _document(
        e,
        "rejected",
        actor_member=a["rejecterMember"],
        actor_country=_country(a["rejecterCountry"]),
        reason_code=a["reasonCode"],
    )


def _member(kind: str) -> Callable[[DecodedEvent], Row]:
    def project(e: DecodedEvent) -> Row:
        a = e.arguments
        country = a.get("country")
        return MemberEvent, {
            "member_id": a["memberId"],
            "kind": kind,
            "country": _country(country) if isinstance(country, bytes) else None,
            "name": a.get("name"),
            # a departure is the member's own act, not a proposal's
            "proposal_id": a.get("proposalId", 0),
            **_stamp(e),
        }

    return project


def _key(kind: str) -> Callable[[DecodedEvent], Row]:
    def project(e: DecodedEvent) -> Row:
        a = e.arguments
        return KeyEvent, {
            "member_id": a["memberId"],
            "account": _address(a["account"]),
            "type_id": a["typeId"],
            "kind": kind,
            "valid_from": a["validFrom"],
            "valid_until": a.get("validUntil"),
            "proposal_id": a["proposalId"],
            **_stamp(e),
        }

    return project


def _agreement(kind: str) -> Callable[[DecodedEvent], Row]:
    def project(e: DecodedEvent) -> Row:
        a = e.arguments
        return AgreementEvent, {
            "verifier_country": _country(a["verifierCountry"]),
            "issuer_country": _country(a["issuerCountry"]),
            "type_id": a["typeId"],
            "kind": kind,
            "valid_from": a.get("validFrom"),
            "valid_until": a["validUntil"],
            "proposal_id": a["proposalId"],
            **_stamp(e),
        }

    return project


#: One row per event; ``RouteRegistered``, ``BatchAnchored`` and ``BatchRelayed`` are
#: projected by the indexer itself (an anchor needs its route and its block's time).
PROJECTIONS: Mapping[str, Callable[[DecodedEvent], Row]] = {
    "DocumentRevoked": _revoked,
    "DocumentSuperseded": _superseded,
    "DocumentUsed": _used,
    "DocumentRejected": _rejected,
    "MemberAdmitted": _member("admitted"),
    "MemberSuspended": _member("suspended"),
    "MemberReadmitted": _member("readmitted"),
    "MemberLeft": _member("left"),
    "KeyAdded": _key("added"),
    "KeyRevoked": _key("revoked"),
    "AgreementAdded": _agreement("added"),
    "AgreementWithdrawn": _agreement("withdrawn"),
}


class EventIndexer:
    """Mirrors the events of ``contracts`` from ``start_block`` into ``engine``."""

    def __init__(
        self,
        chain: Chain,
        engine: Engine,
        contracts: Sequence[WatchedContract],
        *,
        start_block: int,
        confirmations: int = 0,
        page_size: int = 1000,
        stream: str = "registries",
    ) -> None:
        self.chain = chain
        self.engine = engine
        self.start_block = start_block
        self.confirmations = confirmations
        self.page_size = page_size
        self.stream = stream
        self._addresses = [c.address for c in contracts]
        self._abis: dict[bytes, tuple[str, ContractAbi]] = {
            _hex_bytes(c.address.lower()): (c.name, c.abi) for c in contracts
        }
        #: routes by id (static once registered; dropped when a reorg is undone)
        self._routes: dict[int, dict[str, Any]] = {}

    # --- public -------------------------------------------------------------------

    def checkpoint(self) -> int:
        """The last block indexed (``start_block - 1`` before the first pass)."""
        with Session(self.engine) as session:
            row = session.get(Checkpoint, self.stream)
            return self.start_block - 1 if row is None else row.block_number

    def sync(self, *, max_pages: int | None = None) -> SyncReport:
        """Index up to ``head - confirmations``; return what this pass did."""
        reorged_to = self._undo_reorg()
        head = int(self.chain.request("eth_blockNumber"), 16)
        target = head - self.confirmations
        first = self.checkpoint() + 1
        events = 0
        pages = 0
        start = first
        while start <= target and (max_pages is None or pages < max_pages):
            end = min(start + self.page_size - 1, target)
            events += self._index_page(start, end)
            start = end + 1
            pages += 1
        return SyncReport(first, start - 1, events, reorged_to, head)

    def follow(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Sync every ``poll_interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            self.sync()
            stop.wait(poll_interval)

    # --- pages --------------------------------------------------------------------

    def _index_page(self, start: int, end: int) -> int:
        logs, end_block = self.chain.batch(
            [
                (
                    "eth_getLogs",
                    [{"fromBlock": hex(start), "toBlock": hex(end), "address": self._addresses}],
                ),
                ("eth_getBlockByNumber", [hex(end), False]),
            ]
        )
        end_hash = _hex_bytes(end_block["hash"])
        decoded = [e for e in (self._decode(log) for log in logs) if e is not None]
        # a log from a block other than the one just read means the chain moved under us
        page_blocks = {e.block_number: e.block_hash for e in decoded}
        if end in page_blocks and page_blocks[end] != end_hash:
            return 0  # retried next pass, after the reorg check
        timestamps = self._timestamps(decoded, end, int(end_block["timestamp"], 16))
        rows: dict[type[Any], list[dict[str, Any]]] = {}
        page_routes: dict[int, dict[str, Any]] = {}
        page_batches: dict[bytes, dict[str, Any]] = {}
        for event in decoded:
            arguments: Mapping[str, Any] = event.arguments
            if event.name == "RouteRegistered":
                route = _route_row(event)
                page_routes[route["route_id"]] = route
                rows.setdefault(Route, []).append(route)
            elif event.name == "BatchAnchored":
                route_id, _ = split_route_and_count(arguments["routeAndCount"])
                route = page_routes.get(route_id) or self._route(route_id, arguments["root"])
                batch = _batch_row(event, route, timestamps[event.block_number])
                page_batches[batch["root"]] = batch
                rows.setdefault(Batch, []).append(batch)
                arguments = _anchor_arguments(event, route)
            elif event.name == "BatchRelayed":
                # emitted right after its BatchAnchored, in the same transaction and page
                relayed = page_batches.get(arguments["root"])
                if relayed is not None:
                    relayed["submitter"] = _address(arguments["submitter"])
            else:
                projection = PROJECTIONS.get(event.name)
                if projection is not None:
                    table, row = projection(event)
                    rows.setdefault(table, []).append(row)
            rows.setdefault(ChainEvent, []).append(
                {
                    "block_number": event.block_number,
                    "log_index": event.log_index,
                    "block_hash": event.block_hash,
                    "tx_hash": event.tx_hash,
                    "contract": event.contract,
                    "name": event.name,
                    "arguments": json.dumps({k: _json_value(v) for k, v in arguments.items()}),
                }
            )
        page_blocks[end] = end_hash
        with Session(self.engine) as session, session.begin():
            for table, table_rows in rows.items():
                session.execute(insert(table), table_rows)
            session.execute(
                delete(IndexedBlock).where(IndexedBlock.block_number.in_(list(page_blocks)))
            )
            session.execute(
                insert(IndexedBlock),
                [{"block_number": n, "block_hash": h} for n, h in page_blocks.items()],
            )
            self._save_checkpoint(session, end, end_hash)
        self._routes.update(page_routes)
        return len(decoded)

    def _route(self, route_id: int, root: bytes) -> dict[str, Any]:
        """A route indexed in an earlier page (cached once read)."""
        route = self._routes.get(route_id)
        if route is None:
            with Session(self.engine) as session:
                row = session.get(Route, route_id)
            if row is None:
                raise LedgerError(
                    f"batch 0x{root.hex()} is anchored on route {route_id}, whose"
                    " RouteRegistered event is not in the index (index from the deployment block)"
                )
            route = {c.key: getattr(row, c.key) for c in Route.__table__.columns}
            self._routes[route_id] = route
        return route

    def _timestamps(
        self, events: Sequence[DecodedEvent], end: int, end_timestamp: int
    ) -> dict[int, int]:
        """The timestamp of each block holding an anchor: from the logs when the node gives
        it, else from the blocks' headers (one batched request)."""
        known = {end: end_timestamp}
        wanted: set[int] = set()
        for event in events:
            if event.name != "BatchAnchored":
                continue
            if event.block_timestamp is not None:
                known[event.block_number] = event.block_timestamp
            elif event.block_number not in known:
                wanted.add(event.block_number)
        if wanted:
            numbers = sorted(wanted)
            blocks = self.chain.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            for number, block in zip(numbers, blocks, strict=True):
                if block is None:
                    raise LedgerError(f"block {number} vanished while indexing it")
                known[number] = int(block["timestamp"], 16)
        return known

    def _decode(self, log: Mapping[str, Any]) -> DecodedEvent | None:
        if log.get("removed"):
            return None
        topics = [_hex_bytes(t) for t in log["topics"]]
        if not topics:
            return None
        found = self._abis.get(_hex_bytes(str(log["address"]).lower()))
        if found is None:
            return None
        contract, abi = found
        data = _hex_bytes(log["data"])
        codec = abi.event_of(topics, data)
        if codec is None:
            return None
        timestamp = log.get("blockTimestamp")
        return DecodedEvent(
            contract=contract,
            name=codec.name,
            arguments=codec.decode(topics, data),
            block_number=int(log["blockNumber"], 16),
            block_hash=_hex_bytes(log["blockHash"]),
            log_index=int(log["logIndex"], 16),
            tx_hash=_hex_bytes(log["transactionHash"]),
            block_timestamp=int(timestamp, 16) if isinstance(timestamp, str) else None,
        )

    def _save_checkpoint(self, session: Session, number: int, block_hash: bytes) -> None:
        checkpoint = session.get(Checkpoint, self.stream)
        if checkpoint is None:
            session.add(Checkpoint(stream=self.stream, block_number=number, block_hash=block_hash))
        else:
            checkpoint.block_number = number
            checkpoint.block_hash = block_hash

    # --- reorgs -------------------------------------------------------------------

    def _undo_reorg(self) -> int | None:
        """Roll back to the fork point if the chain no longer has the indexed blocks."""
        # common case: the newest two recorded blocks (the checkpoint and the last block
        # with events) are still canonical, so nothing below them changed. Only those two
        # are read: the table gains a row per page, so a year of pages is millions of rows
        newest = self._recorded_blocks(2)
        if not newest:
            return None
        if all(self._still_canonical(newest)):
            return None
        fork, fork_hash = self.start_block - 1, None
        below: int | None = None
        while window := self._recorded_blocks(64, below=below):
            flags = self._still_canonical(window)
            if any(flags):
                # blocks are hash-linked: the newest canonical one is the fork point
                number, block_hash = window[flags.index(True)]
                fork, fork_hash = int(number), bytes(block_hash)
                break
            below = int(window[-1][0])
        self._routes.clear()
        with Session(self.engine) as session, session.begin():
            for table in BLOCK_STAMPED:
                session.execute(delete(table).where(table.block_number > fork))
            if fork_hash is None:
                checkpoint = session.get(Checkpoint, self.stream)
                if checkpoint is not None:
                    session.delete(checkpoint)
            else:
                self._save_checkpoint(session, fork, fork_hash)
        return fork

    def _recorded_blocks(self, count: int, *, below: int | None = None) -> list[Any]:
        """The newest ``count`` recorded ``(number, hash)`` pairs, newest first, of the
        blocks below ``below`` (all of them when None)."""
        query = (
            select(IndexedBlock.block_number, IndexedBlock.block_hash)
            .order_by(IndexedBlock.block_number.desc())
            .limit(count)
        )
        if below is not None:
            query = query.where(IndexedBlock.block_number < below)
        with Session(self.engine) as session:
            return list(session.execute(query).all())

    def _still_canonical(self, blocks: Sequence[Any]) -> list[bool]:
        """For each recorded ``(number, hash)``: does the chain still have that hash there?"""
        if not blocks:
            return []
        answers = self.chain.batch(
            [("eth_getBlockByNumber", [hex(number), False]) for number, _ in blocks]
        )
        return [
            block is not None and _hex_bytes(block["hash"]) == recorded
            for (_, recorded), block in zip(blocks, answers, strict=True)
        ]

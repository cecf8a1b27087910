"""``docex restore``: a backup into a new data directory, checked file by file, then
brought up to date with the chain.

1. The backup's manifest is read; the target must be new or empty.
2. Every file of the backup is checked against the manifest (listed, same size and
   SHA-256; nothing unlisted) before anything is written, and hashed again as it is
   copied: a backup changed on its way is refused, naming the file.
3. Re-sync (:func:`resync_after_restore`, when the node's chain is reachable): the event
   index is rebuilt from the chain, batches addressed to this country that were
   anchored after the backup are fetched from their issuers' nodes (the receiver, as
   the running node does), and the report names what the chain holds that the backup
   did not: the batches this node anchored after the backup's cut.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certificates.hashes import to_hex
from ledger import JsonRpcChain
from ledger.index_schema import Batch
from ledger.rpc import RetryPolicy
from node.backend_kinds import ChainKind
from node.backups.manifest import (
    MANIFEST_FILE,
    BackedUpFile,
    BackupManifest,
    copy_hashing,
    create_private,
    file_sha256,
    make_private_directory,
    safe_relative_path,
)
from node.backups.manifest import manifest_sha256 as manifest_hash
from node.db.tables import BatchRow, InboxRow
from node.errors import BackupError, BackupTampered, BackupTargetNotEmpty
from node.settings import NodeSettings

_log = logging.getLogger("docex.node.restore")

REPORT_FILE = "restore-report.json"


def restore_backup(
    source: Path, data_dir: Path, *, manifest_sha256: str | None = None
) -> BackupManifest:
    """Check the backup in ``source`` (and its manifest against ``manifest_sha256``, the
    hash ``docex backup`` printed, when given) and copy it into ``data_dir`` (new or
    empty)."""
    manifest = BackupManifest.read(source)
    if manifest_sha256 is not None:
        found = manifest_hash(source)
        if found != manifest_sha256.lower().removeprefix("0x"):
            raise BackupTampered(
                f"{source / MANIFEST_FILE} has SHA-256 {found}, not {manifest_sha256}: the "
                "backup's manifest was changed since the backup was taken"
            )
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupTargetNotEmpty(
            f"{data_dir.resolve()} exists and is not empty: restore into a new or empty "
            "directory (a restore never mixes a backup with other node data)"
        )
    verify_backup(source, manifest)
    created = not data_dir.exists()
    make_private_directory(data_dir)
    try:
        for entry in manifest.files:
            _restore_file(source, data_dir, entry)
    except BaseException:
        if created:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            for child in data_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    _log.info("backup restored", extra={"source": str(source), "data_dir": str(data_dir)})
    return manifest


def verify_backup(source: Path, manifest: BackupManifest) -> None:
    """Every file the manifest lists is in ``source`` with its size and SHA-256, and
    ``source`` holds nothing else; :class:`BackupTampered` naming the first that is not."""
    listed = {safe_relative_path(entry.path).as_posix(): entry for entry in manifest.files}
    present: set[str] = set()
    for directory, _, names in os.walk(source):
        for name in names:
            relative = (Path(directory) / name).relative_to(source).as_posix()
            if relative != MANIFEST_FILE:
                present.add(relative)
    for relative in sorted(present - listed.keys()):
        raise BackupTampered(f"{source / relative} is in the backup but not in its manifest")
    for relative, entry in sorted(listed.items()):
        path = source / relative
        if relative not in present:
            raise BackupTampered(f"{path} is listed in the backup's manifest but missing")
        size, digest = file_sha256(path)
        _check(path, entry, size, digest)


def _check(path: Path, entry: BackedUpFile, size: int, digest: str) -> None:
    if size != entry.bytes or digest != entry.sha256:
        raise BackupTampered(
            f"{path} differs from the backup's manifest ({size} bytes, SHA-256 {digest}; "
            f"the manifest says {entry.bytes} bytes, {entry.sha256}): the backup was "
            "changed or damaged"
        )


def _restore_file(source: Path, data_dir: Path, entry: BackedUpFile) -> None:
    relative = safe_relative_path(entry.path)
    target = data_dir / relative
    with (source / relative).open("rb") as reader, create_private(target) as writer:
        size, digest = copy_hashing(reader, writer)
        writer.flush()
        os.fsync(writer.fileno())
    _check(source / relative, entry, size, digest)


# --- re-sync from the chain -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnchoredAfter:
    """A batch this node anchored after the backup's cut: on chain, not in the backup."""

    root: str
    document_type: str
    documents: int
    block: int


@dataclass(frozen=True, slots=True)
class ResyncReport:
    #: the blocks the rebuilt event index covers
    indexed_from: int
    indexed_to: int
    #: batches this node anchored, on chain / of them in the backup
    own_batches_on_chain: int
    own_batches_in_backup: int
    anchored_after_backup: tuple[AnchoredAfter, ...]
    #: batches the backup holds as anchored that the chain does not (the node re-sends
    #: their journalled transactions when it starts)
    anchored_in_backup_not_on_chain: int
    #: documents addressed to this country fetched from their issuers' nodes now
    inbox_refetched: int
    #: batches addressed to this country still to fetch (the node keeps trying)
    inbox_batches_pending: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def resync_skipped_reason(settings: NodeSettings) -> str | None:
    """Why the restore cannot re-sync now (the node does it when it starts), or None."""
    if settings.chain is ChainKind.ANVIL:
        return (
            "the managed anvil is this node's own chain: it starts with the node, which "
            "then rebuilds its event index and fetches its inbox"
        )
    if settings.chain is ChainKind.ETH_TESTER:
        return "the in-process chain holds nothing across runs"
    return None


def check_same_chain(settings: NodeSettings, manifest: BackupManifest) -> None:
    """Refuse a chain other than the backup's (another chain id, no registry there)."""
    if manifest.chain is None or settings.rpc_url is None:
        return
    chain = JsonRpcChain(settings.rpc_url, timeout=10, retry=RetryPolicy(attempts=2))
    try:
        chain_id = chain.chain_id
        code = chain.request("eth_getCode", [manifest.chain.document_registry, "latest"])
    finally:
        chain.close()
    if chain_id != manifest.chain.chain_id:
        raise BackupError(
            f"the chain at {settings.rpc_url} is chain {chain_id}; the backup belongs to "
            f"chain {manifest.chain.chain_id}"
        )
    if not isinstance(code, str) or code in ("0x", "0x0", ""):
        raise BackupError(
            f"the chain at {settings.rpc_url} holds no DocumentRegistry at "
            f"{manifest.chain.document_registry}, the backup's"
        )


def resync_after_restore(
    settings: NodeSettings,
    *,
    timeout: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> ResyncReport:
    """Open the restored node (no API, no batcher), rebuild its index from the chain,
    fetch its inbox's missing batches for up to ``timeout`` s, and report against the
    chain; the report is also written to ``<data dir>/restore-report.json``."""
    from node.runtime import NodeRuntime  # the whole node: only when re-syncing

    runtime = NodeRuntime(settings)
    services = runtime.open()
    try:
        ledger = services.ledger
        indexed_from = ledger.indexer.checkpoint() + 1
        while ledger.indexer.checkpoint() < ledger.head_block() - settings.confirmations:
            ledger.indexer.sync()
        issuer = bytes.fromhex(ledger.issuer.address.removeprefix("0x"))
        with Session(ledger.index) as session:
            on_chain = session.execute(
                select(Batch.root, Batch.document_type, Batch.document_count, Batch.block_number)
                .where(Batch.issuer == issuer)
                .order_by(Batch.block_number, Batch.log_index)
            ).all()
        with Session(services.database) as session:
            batches = session.execute(
                select(BatchRow.root, BatchRow.state).where(BatchRow.root.is_not(None))
            ).all()
            # signed ones too: an offline backup's anchor may have been mined since
            in_backup = {bytes(b.root) for b in batches if b.state != "failed"}
            anchored = {bytes(b.root) for b in batches if b.state == "anchored"}
            inbox_before = session.scalar(select(func.count()).select_from(InboxRow)) or 0
        chain_roots = {bytes(row.root) for row in on_chain}
        after = tuple(
            AnchoredAfter(to_hex(row.root), row.document_type, row.document_count, row.block_number)
            for row in on_chain
            if bytes(row.root) not in in_backup
        )
        pending = 0
        if runtime.receiver is not None:
            deadline = clock() + timeout
            runtime.receiver.discover()
            while (pending := services.inbox.pending_count()) > 0 and clock() < deadline:
                runtime.receiver.run_once()
                time.sleep(0.2)
        with Session(services.database) as session:
            inbox_after = session.scalar(select(func.count()).select_from(InboxRow)) or 0
        report = ResyncReport(
            indexed_from=indexed_from,
            indexed_to=ledger.indexer.checkpoint(),
            own_batches_on_chain=len(on_chain),
            own_batches_in_backup=len(chain_roots & in_backup),
            anchored_after_backup=after,
            anchored_in_backup_not_on_chain=len(anchored - chain_roots),
            inbox_refetched=inbox_after - inbox_before,
            inbox_batches_pending=pending,
        )
    finally:
        runtime.stop()
    (settings.data_dir / REPORT_FILE).write_text(report.to_json(), encoding="utf-8")
    return report

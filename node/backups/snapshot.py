"""``docex backup``: a consistent copy of what a member cannot rebuild from the chain,
taken while the node keeps serving.

What is copied: the node database (``node.sqlite``: outbox, inbox, users, share links,
...) and the transaction journal (``transactions.sqlite``), each through SQLite's online
backup API (a consistent image at one transaction, while the node keeps writing); then
the content stores (``content/``, ``received/``: blocks are written and made durable
*before* the database names them, and never rewritten, so copying them after the
database holds every block it names; each store's pack of small blocks,
``blocks.sqlite``, through the backup API too, its larger blocks' files as they are);
the keys as they are on disk (keystores stay encrypted; their passphrase files are
copied too, so the backup must be kept as safe as the keys); ``chain.json``; a managed
anvil's state file (dev chains); any other file
of the data dir. Not copied: the event index (``index.sqlite``, rebuilt from the chain),
PID files, logs and temporary files.

A running node keeps anchoring while the copy is taken. Documents the copied database
holds as pending or in an unsigned or unanchored batch would be anchored by the live
node *after* the copy, and a node restored from it would anchor them a second time
(wrapping salts them afresh: another root). So an online backup waits until the live node
has anchored them, then brings those batches into the copy (batch, documents and their
numbers, as anchored) before the journal and the content are copied: every document
the backup holds is final, and the journal copied after holds every anchor it names.
Documents accepted after the database was copied are not in the backup (its *cut*).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from adapters.content.block_pack import PACK_FILE
from certificates import DocexError
from ledger import Deployment, JsonRpcChain
from ledger.chains import ManagedAnvil
from ledger.process_records import PidFile
from ledger.rpc import RetryPolicy
from node.backend_kinds import ChainKind
from node.backups.manifest import (
    BackedUpFile,
    BackupManifest,
    ChainPoint,
    copy_hashing,
    create_private,
    file_sha256,
    make_private_directory,
)
from node.errors import BackupError, BackupNotSettled, BackupTargetNotEmpty, NoNodeData
from node.settings import NodeSettings

_log = logging.getLogger("docex.node.backup")

INDEX_FILE = "index.sqlite"
#: the databases copied through SQLite's backup API, in this order (the journal after
#: the node database: it then holds every anchor the node database names)
DATABASES = ("node.sqlite", "transactions.sqlite")
EXCLUDED = {
    INDEX_FILE: "the event index: rebuilt from the chain when the node starts",
    "pids/": "PID files of the processes a running node started",
    "*.log, */tmp/, *.lock, *-wal, *-shm": "logs, temporary and lock files",
    f"anvil/{ManagedAnvil.PID_FILE}": "the managed anvil's PID file",
}
_UNFINISHED = ("pending", "batched")
_ANVIL_STATE = f"anvil/{ManagedAnvil.STATE_FILE}"
_ANVIL_STATE_ATTEMPTS = 10
#: run over the copy with the live database attached as ``live``, in one transaction
_BRING_IN = (
    "INSERT OR IGNORE INTO main.users SELECT * FROM live.users "
    "WHERE id IN (SELECT user_id FROM settled_documents)",
    "INSERT OR IGNORE INTO main.tokens SELECT * FROM live.tokens "
    "WHERE user_id IN (SELECT user_id FROM settled_documents)",
    "INSERT OR REPLACE INTO main.batches SELECT * FROM live.batches "
    "WHERE id IN (SELECT id FROM settled_batches)",
    "INSERT OR REPLACE INTO main.outbox SELECT * FROM live.outbox "
    "WHERE id IN (SELECT id FROM settled_documents)",
    # each document's JSON, and its wrapped JSON once its batch was signed (revision 0011)
    "INSERT OR REPLACE INTO main.outbox_documents SELECT * FROM live.outbox_documents "
    "WHERE receipt_id IN (SELECT id FROM settled_documents)",
    "INSERT OR REPLACE INTO main.outbox_wrapped SELECT * FROM live.outbox_wrapped "
    "WHERE receipt_id IN (SELECT id FROM settled_documents)",
    "INSERT OR REPLACE INTO main.document_numbers SELECT * FROM live.document_numbers "
    "WHERE receipt_id IN (SELECT id FROM settled_documents)",
    "INSERT OR REPLACE INTO main.amendments SELECT * FROM live.amendments "
    "WHERE replacement_id IN (SELECT id FROM settled_documents)",
    # the stored answer of an idempotent request whose receipts are all in the copy now
    # (a client's retry after a restore gets it, as it would have from the live node)
    "INSERT OR IGNORE INTO main.idempotency_keys SELECT * FROM live.idempotency_keys AS k "
    "WHERE k.response_body IS NOT NULL AND EXISTS (SELECT 1 FROM "
    "json_each(CAST(k.response_body AS TEXT), '$.receipts') AS r "
    "WHERE json_extract(r.value, '$.id') IN (SELECT id FROM settled_documents)) "
    "AND NOT EXISTS (SELECT 1 FROM json_each(CAST(k.response_body AS TEXT), '$.receipts') AS r "
    "WHERE json_extract(r.value, '$.id') NOT IN (SELECT id FROM main.outbox))",
    # the batches the copy had open for these documents are replaced by the ones the live
    # node anchored (a restart in between may have batched them again)
    "DELETE FROM main.batches WHERE state IN ('open', 'signed') AND id NOT IN "
    "(SELECT batch_id FROM main.outbox WHERE batch_id IS NOT NULL)",
)
_CHUNK = 500


def take_backup(
    settings: NodeSettings,
    destination: Path,
    *,
    config_file: Path | None = None,
    settle_timeout: float = 300.0,
    clock: Callable[[], float] = time.time,
) -> BackupManifest:
    """Back up the node in ``settings.data_dir`` into ``destination`` (new or empty)."""
    data_dir = settings.data_dir
    if not settings.database_path.is_file():
        raise NoNodeData(
            f"no node data in {data_dir.resolve()} (no {settings.database_path.name}): "
            "nothing to back up; name the node's data directory with --data-dir or "
            "DOCEX_DATA_DIR"
        )
    if not settings.keystore_path.is_file():
        raise NoNodeData(
            f"no issuer keystore for {settings.country} at {settings.keystore_path}: is "
            "this node's country another? name it with --country or DOCEX_COUNTRY (or its "
            "keystore with DOCEX_KEYSTORE), as the node is started"
        )
    _check_destination(destination, data_dir)
    online = PidFile(settings.run_pid_path).running() is not None
    created = not destination.exists()
    make_private_directory(destination)
    try:
        return _back_up(settings, destination, config_file, online, settle_timeout, clock)
    except BaseException:
        _remove_partial(destination, created=created)
        raise


def _back_up(
    settings: NodeSettings,
    destination: Path,
    config_file: Path | None,
    online: bool,
    settle_timeout: float,
    clock: Callable[[], float],
) -> BackupManifest:
    data_dir = settings.data_dir
    cut_at = clock()
    head = _chain_point(settings, online)
    node_copy = destination / DATABASES[0]
    snapshot_sqlite(settings.database_path, node_copy)
    settled = 0
    if online:
        settled = settle_into_copy(settings.database_path, node_copy, settle_timeout, clock)
    files: list[BackedUpFile] = [_entry(destination, node_copy)]
    for name in DATABASES[1:]:
        if (data_dir / name).is_file():
            snapshot_sqlite(data_dir / name, destination / name)
            files.append(_entry(destination, destination / name))
    for path in _plain_files(data_dir):
        relative = path.relative_to(data_dir).as_posix()
        entry = _copier(path, relative)(path, destination, relative)
        if entry is not None:
            files.append(entry)
    files += _outside_files(settings, destination, config_file, {f.path for f in files})
    manifest = BackupManifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        docex_version=_version(),
        country=settings.country,
        mode="online" if online else "offline",
        cut_at=cut_at,
        chain=head,
        settled_documents=settled,
        files=tuple(sorted(files, key=lambda f: f.path)),
        excluded=dict(EXCLUDED),
    )
    manifest.write(destination)
    _log.info(
        "backup taken",
        extra={"destination": str(destination), "files": len(files), "mode": manifest.mode},
    )
    return manifest


def _check_destination(destination: Path, data_dir: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupTargetNotEmpty(
            f"{destination.resolve()} exists and is not empty: a backup goes into a new or "
            "empty directory"
        )
    resolved, source = destination.resolve(), data_dir.resolve()
    if resolved == source or source in resolved.parents:
        raise BackupError(
            f"{destination.resolve()} is inside the data directory {source}: put the backup "
            "elsewhere (ideally on another disk)"
        )


def _remove_partial(destination: Path, *, created: bool) -> None:
    """Undo a failed backup: the destination as it was (absent, or empty)."""
    if created:
        shutil.rmtree(destination, ignore_errors=True)
        return
    for child in destination.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def snapshot_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database ``source`` (SQLite's online backup API,
    in one step: one read transaction, writers carry on under WAL), as one file in
    rollback-journal mode (the node switches it back to WAL when it opens it)."""
    create_private(target).close()  # an empty file is an empty database; mode 0600
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.commit()


def settle_into_copy(
    live_path: Path,
    copy_path: Path,
    timeout: float,
    clock: Callable[[], float] = time.time,
    poll: float = 0.2,
) -> int:
    """Wait until the live node has anchored (or failed) every document the copy holds as
    unfinished, then bring their batches into the copy as the live node has them; the
    number of documents brought in. :class:`BackupNotSettled` after ``timeout`` s."""
    with contextlib.closing(sqlite3.connect(copy_path)) as copy:
        unfinished = [
            row[0]
            for row in copy.execute(
                f"SELECT id FROM outbox WHERE state IN {_UNFINISHED!r}"  # noqa: S608 - constants
            )
        ]
    if not unfinished:
        return 0
    deadline = clock() + timeout
    with contextlib.closing(sqlite3.connect(live_path, timeout=30)) as live:
        while (left := _still_unfinished(live, unfinished)) > 0:
            if clock() >= deadline:
                raise BackupNotSettled(
                    f"the running node did not anchor {left} of the {len(unfinished)} "
                    f"documents it was working on when the backup began within {timeout:g} s "
                    "(is its chain reachable?): no backup was taken; try again, or stop the "
                    "node and back up its data directory offline"
                )
            time.sleep(poll)
    return _bring_in(live_path, copy_path, unfinished)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" * len(values))


def _still_unfinished(live: sqlite3.Connection, ids: Sequence[str]) -> int:
    left = 0
    for chunk in _chunks(ids):
        row = live.execute(
            f"SELECT count(*) FROM outbox WHERE id IN ({_marks(chunk)})"  # noqa: S608
            f" AND state IN {_UNFINISHED!r}",
            tuple(chunk),
        ).fetchone()
        left += int(row[0])
    return left


def _bring_in(live_path: Path, copy_path: Path, ids: Sequence[str]) -> int:
    """Copy, in one transaction over one read of the live database, the batches of
    ``ids`` with every document in them (some accepted after the cut), their document
    numbers, their users and tokens, the amendments they replace documents in, and the
    stored answers of idempotent requests whose receipts are now all in the copy."""
    with contextlib.closing(sqlite3.connect(copy_path, isolation_level=None)) as copy:
        copy.execute("ATTACH DATABASE ? AS live", (str(live_path),))
        copy.execute("BEGIN")
        try:
            copy.execute("CREATE TEMP TABLE settled_ids (id TEXT PRIMARY KEY)")
            copy.executemany("INSERT INTO settled_ids VALUES (?)", [(i,) for i in ids])
            copy.execute(
                "CREATE TEMP TABLE settled_batches AS SELECT DISTINCT batch_id AS id "
                "FROM live.outbox WHERE id IN (SELECT id FROM settled_ids) "
                "AND batch_id IS NOT NULL"
            )
            copy.execute(
                "CREATE TEMP TABLE settled_documents AS SELECT id, user_id FROM live.outbox "
                "WHERE batch_id IN (SELECT id FROM settled_batches) "
                "OR id IN (SELECT id FROM settled_ids)"
            )
            for statement in _BRING_IN:
                copy.execute(statement)
            brought = copy.execute("SELECT count(*) FROM settled_documents").fetchone()[0]
            copy.execute("COMMIT")
        except BaseException:
            copy.execute("ROLLBACK")
            raise
        copy.execute("DETACH DATABASE live")
    return int(brought)


def _chain_point(settings: NodeSettings, online: bool) -> ChainPoint | None:
    """The deployment (chain.json) and, when the chain answers, its head now."""
    try:
        deployment = Deployment.read(settings.data_dir)
    except DocexError:
        return None
    url: str | None = None
    if settings.chain is ChainKind.RPC:
        url = settings.rpc_url
    elif settings.chain is ChainKind.ANVIL and online:
        url = f"http://127.0.0.1:{settings.anvil_port}"
    head_block: int | None = None
    head_hash: str | None = None
    if url is not None:
        chain = JsonRpcChain(url, timeout=10, retry=RetryPolicy(attempts=2))
        try:
            if chain.chain_id == deployment.chain_id:
                block = chain.request("eth_getBlockByNumber", ["latest", False])
                head_block, head_hash = int(block["number"], 16), str(block["hash"])
        except (DocexError, OSError, KeyError, TypeError, ValueError) as error:
            _log.warning("chain head not recorded", extra={"error": str(error)})
        finally:
            chain.close()
    return ChainPoint(
        chain_id=deployment.chain_id,
        consortium_registry=deployment.consortium_registry,
        document_registry=deployment.document_registry,
        deployed_block=deployment.deployed_block,
        head_block=head_block,
        head_hash=head_hash,
    )


def _skipped(relative: Path) -> bool:
    parts = relative.parts
    name = relative.name
    if parts[0] == "pids" or (len(parts) == 1 and name.startswith(INDEX_FILE)):
        return True
    if len(parts) == 1 and any(name.startswith(db) for db in DATABASES):
        return True  # copied through the backup API, with their -wal/-shm left out
    if parts[0] == "anvil" and name != ManagedAnvil.STATE_FILE:
        return True
    return (
        name.endswith((".log", ".lock", ".tmp", "-wal", "-shm", "-journal")) or "tmp" in parts[:-1]
    )


def _plain_files(data_dir: Path) -> Iterator[Path]:
    """Every file of the data dir to copy as it is, in a stable order."""
    # symbolic links are followed: an operator may keep keys or content on another mount
    for directory, subdirectories, names in os.walk(data_dir, followlinks=True):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if path.is_file() and not _skipped(path.relative_to(data_dir)):
                yield path


def _copy(source: Path, destination: Path, relative: str) -> BackedUpFile | None:
    """Copy one file, hashing what was written; None if it vanished meanwhile."""
    target = destination / relative
    try:
        with source.open("rb") as reader, create_private(target) as writer:
            size, digest = copy_hashing(reader, writer)
            writer.flush()
            os.fsync(writer.fileno())
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return None
    return BackedUpFile(relative, size, digest)


def _copier(path: Path, relative: str) -> Callable[[Path, Path, str], BackedUpFile | None]:
    """How a plain file of the data dir is copied: a content pack through SQLite's backup
    API, anvil's state file until the copy is whole, the rest as they are."""
    if relative == _ANVIL_STATE:
        return _copy_anvil_state
    if path.name == PACK_FILE:
        return _copy_pack
    return _copy


def _copy_pack(source: Path, destination: Path, relative: str) -> BackedUpFile:
    """A content store's pack of small blocks: a consistent copy (the node's wrapping
    process may be committing a batch's blocks meanwhile, partly in the pack's WAL)."""
    target = destination / relative
    snapshot_sqlite(source, target)
    return _entry(destination, target)


def _copy_anvil_state(source: Path, destination: Path, relative: str) -> BackedUpFile | None:
    """The managed anvil's state file, which anvil rewrites every second: copied again
    until the copy is whole JSON (a copy taken during a write is not)."""
    for _ in range(_ANVIL_STATE_ATTEMPTS):
        entry = _copy(source, destination, relative)
        if entry is None:
            return None
        try:
            json.loads((destination / relative).read_bytes())
        except ValueError:
            (destination / relative).unlink()
            time.sleep(0.2)
            continue
        return entry
    raise BackupError(
        f"{source} changed during every copy ({_ANVIL_STATE_ATTEMPTS} attempts): stop the "
        "node, or back up a node on a chain of its own (DOCEX_CHAIN=rpc)"
    )


def _entry(destination: Path, path: Path) -> BackedUpFile:
    size, digest = file_sha256(path)
    return BackedUpFile(path.relative_to(destination).as_posix(), size, digest)


def _outside_files(
    settings: NodeSettings, destination: Path, config_file: Path | None, taken: set[str]
) -> list[BackedUpFile]:
    """Key files the settings name outside the data dir (into ``keys/``) and the config
    file (into ``config/``): a restore puts them in the new data dir."""
    wanted: list[tuple[Path, str]] = []
    member = settings.member_keystore_path
    for path in (
        settings.keystore_path,
        settings.passphrase_path,
        member,
        member.with_suffix(".passphrase"),
        settings.encryption_keyring_path,
    ):
        if path.is_file() and not _absolute(path).is_relative_to(_absolute(settings.data_dir)):
            wanted.append((path, f"keys/{path.name}"))
    if config_file is not None and config_file.is_file():
        wanted.append((config_file, f"config/{config_file.name}"))
    copied: list[BackedUpFile] = []
    for path, relative in wanted:
        if relative in taken:
            raise BackupError(
                f"{path} would be backed up as {relative}, which the data dir already has"
            )
        entry = _copy(path, destination, relative)
        if entry is not None:
            copied.append(entry)
            taken.add(relative)
    return copied


def _absolute(path: Path) -> Path:
    """``path`` made absolute, its ``..`` resolved, its symbolic links not."""
    return Path(os.path.normpath(path.absolute()))


def _version() -> str:
    try:
        return metadata.version("docex")
    except metadata.PackageNotFoundError:
        return "unknown"

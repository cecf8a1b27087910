"""``docex backup`` / ``docex restore`` on a real node's data dir (eth-tester chain,
SQLite, embedded store): what a backup holds, and every bad input refused by name."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from certificates.schemas.samples import sample_document
from node.backups import BackupManifest, restore_backup, take_backup
from node.backups.snapshot import settle_into_copy, snapshot_sqlite
from node.cli.main import app
from node.db.schema import open_database
from node.errors import BackupError, BackupNotSettled, BackupTampered
from node.settings import NodeSettings

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

runner = CliRunner()


def issued(node: NodeUnderTest, first: int, count: int) -> list[str]:
    answer = node.issue([sample_document("coo/1", first + i) for i in range(count)])
    assert answer.status_code == 202, answer.text
    return [receipt["id"] for receipt in answer.json()["receipts"]]


def _by_id(path: Path, query: str) -> dict[str, tuple[Any, Any]]:
    """``query``'s rows (an id, then two values) keyed by their id."""
    with sqlite3.connect(path) as db:
        return {row[0]: (row[1], row[2]) for row in db.execute(query)}


def outbox(path: Path) -> dict[str, tuple[str, bytes | None]]:
    return _by_id(
        path,
        "SELECT o.id, o.state, b.root FROM outbox o LEFT JOIN batches b ON o.batch_id = b.id",
    )


def outbox_documents(path: Path) -> dict[str, tuple[bytes, bytes | None]]:
    """Each outbox row's document JSON and wrapped JSON (their tables of their own)."""
    return _by_id(
        path,
        "SELECT o.id, d.document_json, w.wrapped_json FROM outbox o "
        "JOIN outbox_documents d ON d.receipt_id = o.id "
        "LEFT JOIN outbox_wrapped w ON w.receipt_id = o.id",
    )


def stored_contents(path: Path) -> list[Cid]:
    with sqlite3.connect(path) as db:
        return [Cid.parse(row[0]) for row in db.execute("SELECT cid FROM outbox")]


@pytest.fixture
def backed_up(node: NodeUnderTest, tmp_path: Path) -> tuple[NodeUnderTest, Path]:
    """A node with anchored documents and content, and an (offline) backup of it."""
    issued(node, 1, 5)
    node.anchor_pending()
    destination = tmp_path / "backup"
    take_backup(node.runtime.settings, destination)
    return node, destination


def test_a_backup_lists_every_file_with_its_hash_and_leaves_the_index_out(
    backed_up: tuple[NodeUnderTest, Path],
) -> None:
    node, destination = backed_up
    manifest = BackupManifest.read(destination)
    paths = {entry.path for entry in manifest.files}

    assert {"node.sqlite", "transactions.sqlite", "chain.json"} <= paths
    assert any(path.startswith("keys/") and path.endswith("-issuer.json") for path in paths)
    assert "content/blocks.sqlite" in paths  # the pack of small blocks: the documents
    assert not any(path.endswith(("-wal", "-shm")) for path in paths)
    assert "index.sqlite" not in paths
    assert not any(path.startswith("pids/") or "/tmp/" in path for path in paths)
    assert manifest.mode == "offline"
    assert manifest.chain is not None
    assert manifest.chain.chain_id == node.services.ledger.deployment.chain_id
    assert manifest.chain.document_registry == node.services.ledger.deployment.document_registry
    assert outbox(destination / "node.sqlite") == outbox(node.runtime.settings.database_path)


def test_a_backup_and_its_restore_are_readable_by_their_owner_only(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    """It holds the keystores, their passphrase files and the documents."""
    _, destination = backed_up
    target = tmp_path / "restored"
    restore_backup(destination, target)

    for root in (destination, target):
        assert root.stat().st_mode & 0o777 == 0o700
        files = [path for path in root.rglob("*") if path.is_file()]
        assert files
        assert {path.stat().st_mode & 0o777 for path in files} == {0o600}, root


def test_a_restore_brings_back_the_same_outbox_keys_and_content(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    node, destination = backed_up
    target = tmp_path / "restored"

    restore_backup(destination, target)

    original = node.runtime.settings.data_dir
    assert outbox(target / "node.sqlite") == outbox(original / "node.sqlite")
    for key in (original / "keys").iterdir():
        assert (target / "keys" / key.name).read_bytes() == key.read_bytes()
    assert not (target / "index.sqlite").exists()
    # every document's content, though the live pack still held it in its WAL
    assert (original / "content" / "blocks.sqlite-wal").stat().st_size > 0
    documents = stored_contents(original / "node.sqlite")
    assert len(documents) == 5
    live = EmbeddedContentStore(original / "content")
    restored = EmbeddedContentStore(target / "content")
    for cid in documents:
        assert restored.get(cid) == live.get(cid)
    assert restored.pins() == live.pins()


def test_a_tampered_file_is_refused_by_name_and_nothing_is_restored(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    _, destination = backed_up
    keystore = next((destination / "keys").glob("*-issuer.json"))
    keystore.write_bytes(keystore.read_bytes().replace(b'"', b"'", 1))
    target = tmp_path / "restored"

    with pytest.raises(BackupTampered, match=re.escape(str(keystore))):
        restore_backup(destination, target)

    assert not target.exists()


def test_a_file_added_to_a_backup_is_refused_by_name(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    _, destination = backed_up
    (destination / "keys" / "extra.json").write_text("{}")

    with pytest.raises(BackupTampered, match=r"extra\.json is in the backup but not in its"):
        restore_backup(destination, tmp_path / "restored")


def test_a_manifest_naming_a_path_outside_the_backup_is_refused(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    _, destination = backed_up
    manifest = json.loads((destination / "manifest.json").read_text())
    manifest["files"][0]["path"] = "../escape"
    (destination / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(BackupTampered, match="outside the backup"):
        restore_backup(destination, tmp_path / "restored")
    assert not (tmp_path / "escape").exists()


def test_an_online_backup_brings_in_the_batches_the_live_node_anchored_meanwhile(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    """The copy was taken while documents were pending; the live node then anchored
    them: the backup holds them anchored, in the live node's batch (never pending,
    which a restored node would anchor a second time)."""
    settings = node.runtime.settings
    pending = issued(node, 1, 4)
    copy = tmp_path / "copy.sqlite"
    snapshot_sqlite(settings.database_path, copy)
    assert {state for state, _ in outbox(copy).values()} == {"pending"}
    retried = node.issue([sample_document("coo/1", 9)], **{"Idempotency-Key": "after-cut"})
    assert retried.status_code == 202, retried.text
    node.anchor_pending()

    settled = settle_into_copy(settings.database_path, copy, timeout=5)

    # the document accepted after the copy shares their batch: it comes too, with the
    # stored answer of its idempotent request
    assert settled == len(pending) + 1
    assert outbox(copy) == outbox(settings.database_path)
    assert {state for state, _ in outbox(copy).values()} == {"anchored"}
    # with the documents themselves: the one accepted after the cut, and every wrapped one
    documents = outbox_documents(copy)
    assert documents == outbox_documents(settings.database_path)
    assert len(documents) == settled
    assert all(wrapped is not None for _, wrapped in documents.values())
    with sqlite3.connect(copy) as db:
        (key,) = db.execute("SELECT key FROM idempotency_keys").fetchone()
    assert key == "after-cut"


def test_an_online_backup_that_cannot_settle_is_refused_and_says_why(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    settings = node.runtime.settings
    issued(node, 1, 2)
    copy = tmp_path / "copy.sqlite"
    snapshot_sqlite(settings.database_path, copy)
    ticks = iter([0.0, 0.0, 10.0, 10.0])

    with pytest.raises(BackupNotSettled, match="did not anchor 2 of the 2 documents"):
        settle_into_copy(settings.database_path, copy, timeout=5, clock=lambda: next(ticks))


# --- the commands: refusals, exit codes, messages ----------------------------------------


def test_backup_refuses_a_directory_without_node_data(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-node"
    empty.mkdir()

    result = runner.invoke(app, ["backup", str(tmp_path / "b"), "--data-dir", str(empty)])

    assert result.exit_code == 1
    assert f"no-node-data: no node data in {empty.resolve()}" in result.output
    assert not (tmp_path / "b").exists()


def test_backup_refuses_a_country_whose_keys_the_data_dir_does_not_hold(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    """A backup recording the wrong country could not be restored: refused, saying why."""
    data_dir = node.runtime.settings.data_dir

    result = runner.invoke(
        app, ["backup", str(tmp_path / "b"), "--data-dir", str(data_dir), "--country", "TH"]
    )

    assert result.exit_code == 1
    assert "no-node-data: no issuer keystore for TH at" in result.output
    assert "--country or DOCEX_COUNTRY" in result.output
    assert not (tmp_path / "b").exists()


def test_backup_refuses_a_destination_that_is_not_empty(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    destination = tmp_path / "used"
    destination.mkdir()
    (destination / "something").write_text("keep me")
    data_dir = node.runtime.settings.data_dir

    result = runner.invoke(app, ["backup", str(destination), "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    assert f"target-not-empty: {destination.resolve()} exists and is not empty" in result.output
    assert [p.name for p in destination.iterdir()] == ["something"]


def test_backup_refuses_a_destination_inside_the_data_dir(node: NodeUnderTest) -> None:
    data_dir = node.runtime.settings.data_dir

    result = runner.invoke(app, ["backup", str(data_dir / "b"), "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    assert "is inside the data directory" in result.output
    assert not (data_dir / "b").exists()


def test_restore_refuses_a_data_dir_that_is_not_empty(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    _, destination = backed_up
    target = tmp_path / "in-use"
    target.mkdir()
    (target / "node.sqlite").write_text("another node")

    result = runner.invoke(
        app, ["restore", str(destination), "--data-dir", str(target), "--no-resync"]
    )

    assert result.exit_code == 1
    assert f"target-not-empty: {target.resolve()} exists and is not empty" in result.output
    assert (target / "node.sqlite").read_text() == "another node"


def test_restore_of_a_directory_that_is_no_backup_is_unreadable(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["restore", str(tmp_path), "--data-dir", str(tmp_path / "new"), "--no-resync"]
    )

    assert result.exit_code == 2
    assert f"backup-unreadable: {tmp_path} is not a docex backup: it has no manifest.json" in (
        result.output
    )


def test_restore_names_the_tampered_file_and_exits_1(
    backed_up: tuple[NodeUnderTest, Path], tmp_path: Path
) -> None:
    _, destination = backed_up
    (destination / "chain.json").write_text("{}")
    target = tmp_path / "restored"

    result = runner.invoke(
        app, ["restore", str(destination), "--data-dir", str(target), "--no-resync"]
    )

    assert result.exit_code == 1
    assert f"backup-tampered: {destination / 'chain.json'} differs from the backup's" in (
        result.output
    )
    assert not target.exists()


def test_backup_then_restore_through_the_commands(node: NodeUnderTest, tmp_path: Path) -> None:
    issued(node, 1, 3)
    node.anchor_pending()
    data_dir = node.runtime.settings.data_dir
    destination = tmp_path / "backup"

    taken = runner.invoke(app, ["backup", str(destination), "--data-dir", str(data_dir), "--json"])
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout)["mode"] == "offline"

    target = tmp_path / "restored"
    restored = runner.invoke(
        app, ["restore", str(destination), "--data-dir", str(target), "--no-resync"]
    )
    assert restored.exit_code == 0, restored.output
    assert "every file matched its SHA-256" in restored.output
    assert outbox(target / "node.sqlite") == outbox(data_dir / "node.sqlite")
    assert NodeSettings(data_dir=target).database_path.is_file()


@pytest.fixture
def dev_data_dir(tmp_path: Path) -> Path:
    """A data dir as ``make run`` leaves it, with its managed anvil's files (no chain
    running: the backup is offline)."""
    data_dir = tmp_path / "data"
    open_database(data_dir / "node.sqlite").dispose()
    (data_dir / "keys").mkdir()
    (data_dir / "keys" / "VN-issuer.json").write_text("{}")
    (data_dir / "anvil").mkdir()
    (data_dir / "anvil" / "anvil.pid").write_text("123")
    (data_dir / "anvil" / "anvil.log").write_text("log")
    (data_dir / "pids").mkdir()
    (data_dir / "pids" / "wrapping.pid").write_text("456")
    return data_dir


def test_a_dev_chain_state_is_backed_up_but_not_its_pid_or_log(
    dev_data_dir: Path, tmp_path: Path
) -> None:
    (dev_data_dir / "anvil" / "anvil-state.json").write_text('{"block": {}}')

    manifest = take_backup(NodeSettings(data_dir=dev_data_dir), tmp_path / "b")

    paths = {entry.path for entry in manifest.files}
    assert "anvil/anvil-state.json" in paths
    assert not {"anvil/anvil.pid", "anvil/anvil.log", "pids/wrapping.pid"} & paths
    assert manifest.chain is None  # no chain.json: nothing to say about a chain


def test_a_dev_chain_state_caught_mid_write_is_refused(dev_data_dir: Path, tmp_path: Path) -> None:
    (dev_data_dir / "anvil" / "anvil-state.json").write_text('{"block": {')

    with pytest.raises(BackupError, match="changed during every copy"):
        take_backup(NodeSettings(data_dir=dev_data_dir), tmp_path / "b")

    assert not (tmp_path / "b").exists()


def test_a_forged_manifest_is_caught_by_the_hash_the_backup_printed(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    """Whoever rewrites a file and its line in the manifest passes the file check; the
    manifest's own SHA-256, noted apart from the backup, catches it."""
    data_dir = node.runtime.settings.data_dir
    destination = tmp_path / "backup"
    taken = runner.invoke(app, ["backup", str(destination), "--data-dir", str(data_dir), "--json"])
    assert taken.exit_code == 0, taken.output
    printed = json.loads(taken.stdout)["manifest_sha256"]
    forged = b'{"forged": true}\n'
    (destination / "chain.json").write_bytes(forged)
    manifest = json.loads((destination / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "chain.json":
            entry.update(bytes=len(forged), sha256=hashlib.sha256(forged).hexdigest())
    (destination / "manifest.json").write_text(json.dumps(manifest))
    target = tmp_path / "restored"

    refused = runner.invoke(
        app,
        [
            "restore",
            str(destination),
            "--data-dir",
            str(target),
            "--no-resync",
            "--manifest-sha256",
            printed,
        ],
    )

    assert refused.exit_code == 1
    assert f"backup-tampered: {destination / 'manifest.json'} has SHA-256" in refused.output
    assert f"not {printed}" in refused.output
    assert not target.exists()


def test_keys_kept_on_another_mount_or_named_by_the_settings_are_backed_up(
    dev_data_dir: Path, tmp_path: Path
) -> None:
    """A keys directory that is a symbolic link is followed; a keystore the settings
    name outside the data dir goes into the backup's keys/ (restored there)."""
    mount = tmp_path / "secure-mount"
    shutil.move(dev_data_dir / "keys", mount)
    (dev_data_dir / "keys").symlink_to(mount)
    outside = tmp_path / "elsewhere" / "VN-member.json"
    outside.parent.mkdir()
    outside.write_text('{"member": true}')
    settings = NodeSettings(data_dir=dev_data_dir, member_keystore=outside)

    manifest = take_backup(settings, tmp_path / "b")
    restore_backup(tmp_path / "b", tmp_path / "restored")

    paths = {entry.path for entry in manifest.files}
    assert {"keys/VN-issuer.json", "keys/VN-member.json"} <= paths
    restored = tmp_path / "restored" / "keys"
    assert (restored / "VN-member.json").read_text() == '{"member": true}'
    assert not (restored / "VN-issuer.json").is_symlink()

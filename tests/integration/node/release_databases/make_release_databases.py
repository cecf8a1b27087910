"""Regenerate the node databases made by earlier docex code (the fixtures beside this file).

Each fixture is a ``node.sqlite`` created and filled by the code of a past commit, before
the node schema was migrated by Alembic; test_database_migrations.py opens copies of them
with the current code. Run from the repository root (needs git and the .venv)::

    .venv/bin/python tests/integration/node/release_databases/make_release_databases.py

It checks each commit out once with ``git worktree add --detach /tmp/docex-<commit>``
(left there for the next run; ``git worktree remove`` it when done), runs this file
inside that tree (its own ``node`` package first on the path), then shrinks the result
(journal mode DELETE, 1 KiB pages, VACUUM: the schema text and rows are unchanged).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[3]

#: fixture -> (commit, what to make): the release with a row in every table, the same
#: before a node ever started (``docex users add`` only: no amendments table), and the
#: commit before the lookup indexes were added by hand on open
RELEASE_DATABASES = {
    "node-f67523a.sqlite": ("f67523a", "release"),
    "node-f67523a-users-only.sqlite": ("f67523a", "users-only"),
    "node-62e57d6.sqlite": ("62e57d6", "users-only"),
}


def main() -> None:
    for name, (commit, kind) in RELEASE_DATABASES.items():
        tree = Path(f"/tmp/docex-{commit}")
        if not tree.exists():
            subprocess.run(
                ["git", "-C", str(REPOSITORY), "worktree", "add", "--detach", str(tree), commit],
                check=True,
            )
        target = HERE / name
        target.unlink(missing_ok=True)
        environment = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--fill", kind, str(target)],
            cwd=tree,
            env=environment,
            check=True,
        )
        connection = sqlite3.connect(target, isolation_level=None)
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA page_size=1024")
        connection.execute("VACUUM")
        connection.close()
        print(f"{name}: {target.stat().st_size} bytes from {commit} ({kind})")


def fill(kind: str, path: Path) -> None:
    """Run inside the old tree: create ``path`` with that code and add a row per table."""
    import node

    assert Path(node.__file__).is_relative_to(Path.cwd()), node.__file__
    from node.database import open_database  # type: ignore[import-not-found]
    from node.users import Role, UserStore  # type: ignore[import-not-found]

    engine = open_database(path)
    users = UserStore(engine, clock=lambda: 1_700_000_000.0)
    users.add("moit-coo-office", Role.ISSUER, ["coo/1"])
    users.add("hq-admin", Role.ADMIN)
    if kind == "release":
        _fill_release(engine)
    engine.dispose()


def _fill_release(engine: object) -> None:
    from node.inbox import Inbox, PeerReport, ReceivedDocument  # type: ignore[import-not-found]
    from node.lifecycle import AmendmentRow  # type: ignore[import-not-found]
    from node.outbox import (  # type: ignore[import-not-found]
        NewDocument,
        Outbox,
        SignedDocument,
        StoredResponse,
    )
    from sqlalchemy.orm import Session

    outbox = Outbox(engine, clock=lambda: 1_700_000_100.0)
    document = NewDocument("coo/1", b'{"number":"VN-1"}', ("KR",), confidential=False)
    sealed = NewDocument("coo/1", b'{"number":"VN-2"}', ("KR", "SG"), confidential=True)
    assert outbox.reserve_key(1, "key-1", b"\x01" * 32) is None
    outbox.enqueue(1, [document, sealed], lambda ids: StoredResponse(202, b"ok"), "key-1")
    outbox.enqueue(1, [document], lambda ids: StoredResponse(202, b"pending"))
    batch_id = outbox.claim_batch(2, 0.0, force=True)
    assert batch_id is not None
    claimed = outbox.batch(batch_id)
    signed = [
        SignedDocument(receipt_id, bytes([position]) * 32, f"bafy{position}", b"{}")
        for position, (receipt_id, *_) in enumerate(claimed.documents)
    ]
    outbox.record_signed(batch_id, b"\xaa" * 32, ["KR", "SG"], signed)
    outbox.record_anchored(batch_id, "0x" + "ab" * 32, 42)

    inbox = Inbox(engine, clock=lambda: 1_700_000_200.0)
    inbox.track([(b"\xbb" * 32, "KR", 43)])
    inbox.file(
        ReceivedDocument(
            b"\xcc" * 32, b"\xbb" * 32, "coo/1", "KR", "0x" + "11" * 20, "bafyin", False, 43,
            1_700_000_300.0, b"{}", '{"valid": true, "checks": []}', True,
        )
    )  # fmt: skip
    inbox.report(
        PeerReport("http://kr.example", "KR", b"\xbb" * 32, b"\xdd" * 32, None, "bad", "x", 1.0)
    )
    # as DocumentLifecycle.__init__ of this release created it
    AmendmentRow.metadata.create_all(engine, tables=[AmendmentRow.__table__])
    with Session(engine) as session:
        session.add(
            AmendmentRow(
                original_id="a" * 32, replacement_id="b" * 32, user_id=1,
                created_at=1_700_000_400.0, state="pending", tx_hash=None,
                block_number=None, error=None,
            )
        )  # fmt: skip
        session.commit()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fill"]:
        fill(sys.argv[2], Path(sys.argv[3]))
    else:
        main()

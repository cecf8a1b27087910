"""The outbox's writers take turns across the node's processes (``docex run --api-workers
N``): while another process's writer holds the node database's writers' lock, this
process's writers wait for it, where SQLite alone would have them retry in sleeps."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from node.db.schema import open_database, writers_lock
from node.db.tables import SubmissionRow, UserRow
from node.issuing.outbox import NewDocument, Outbox, StoredResponse

#: another node process whose outbox writer holds its turn until told to go on
_OTHER_PROCESS = """
import sys
from pathlib import Path
from node.db.schema import open_database
from node.issuing.outbox import Outbox
outbox = Outbox(open_database(Path(sys.argv[1])))
with outbox._writing:
    print("writing", flush=True)
    sys.stdin.readline()
"""


def _pending(engine: object) -> int:
    with Session(engine) as session:  # type: ignore[call-overload]
        return int(session.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


def test_a_writer_waits_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    engine = open_database(path)
    with Session(engine) as session:
        user = UserRow(name="clerk", role="issuer", document_types="coo/1", created_at=0.0)
        session.add(user)
        session.commit()
        user_id = user.id
    outbox = Outbox(engine)
    other = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    done = threading.Event()

    def issue() -> None:
        document = NewDocument("coo/1", b'{"number":"VN-1"}', ("KR",), False)
        outbox.enqueue(user_id, [document], lambda ids: StoredResponse(202, b"ok"))
        done.set()

    try:
        assert other.stdout is not None
        assert other.stdin is not None
        assert other.stdout.readline().strip() == "writing"
        thread = threading.Thread(target=issue, daemon=True)
        thread.start()
        assert not done.wait(0.5)  # its turn has not come
        assert _pending(engine) == 0
        other.stdin.write("go on\n")
        other.stdin.flush()
        assert done.wait(10)
        thread.join(10)
        assert _pending(engine) == 1
    finally:
        other.kill()
        other.wait()
        engine.dispose()


def test_a_sqlite_file_is_locked_beside_it_and_other_databases_in_process_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "node.sqlite"
    assert writers_lock(create_engine(f"sqlite:///{path}")).path == tmp_path / "node.sqlite.lock"
    assert writers_lock(create_engine("sqlite://")).path is None
    assert writers_lock(create_engine("postgresql+psycopg://docex@127.0.0.1:1/docex")).path is None

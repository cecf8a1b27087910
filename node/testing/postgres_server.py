"""TEST AND BENCH ONLY: a private PostgreSQL server for one test session or one bench run.

``initdb`` makes a cluster in a directory of ours; ``postgres`` serves it on 127.0.0.1 at
a free port, its unix socket in that directory too (never /var/run/postgresql), with a
random password (scram-sha-256) that only this process knows; :meth:`stop` ends it by its
PID. Each test gets a database of its own (:meth:`create_database`).

PostgreSQL refuses to run as root. When we are root (these machines, CI), the server runs
as ``nobody`` (``setpriv``), with one capability, ``CAP_DAC_READ_SEARCH``, so that it can
reach a data directory under pytest's temporary folder (``/tmp/pytest-of-root`` is 0700
and pytest sets it back to 0700 at every run, so opening its mode up does not last). Its
data and socket directories are owned by ``nobody``; it writes nowhere else.
Debian installs the binaries in ``/usr/lib/postgresql/<version>/bin``, which is not on
PATH: they are looked for there too (``make test`` installs Debian's ``postgresql``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Final

import psycopg

from ledger.chains import find_free_port

#: the account the server runs as when we are root
UNPRIVILEGED_USER: Final = "nobody"
SUPERUSER: Final = "docex"
_DEBIAN_BINARIES: Final = Path("/usr/lib/postgresql")
_START_ATTEMPTS: Final = 3


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the server did not start."""


def postgres_binary(name: str) -> Path:
    """``initdb`` or ``postgres``: on PATH, else Debian's newest ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which(name)
    if found is not None:
        return Path(found)
    versions = sorted(
        (path for path in _DEBIAN_BINARIES.glob(f"*/bin/{name}") if path.is_file()),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if not versions:
        raise PostgresUnavailable(
            f"no {name}: install Debian's postgresql package (make test does)"
        )
    return versions[-1]


def _as_server_user() -> list[str]:
    """The command prefix that runs the server's programs unprivileged (empty if we are).

    The server also gets a fast shutdown (SIGINT) when the process that started it dies
    (``--pdeathsig``): a test run killed outright leaves no server behind."""
    if os.geteuid() != 0:
        return []
    return [
        "setpriv",
        f"--reuid={UNPRIVILEGED_USER}",
        f"--regid={_group_of(UNPRIVILEGED_USER)}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        "--pdeathsig=SIGINT",
    ]


def _group_of(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


class PostgresServer:
    """One PostgreSQL cluster under ``base``, served on 127.0.0.1 while started."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data_dir = base / "data"
        self.socket_dir = base / "socket"
        self.log_path = base / "postgres.log"
        self.password = secrets.token_urlsafe(24)
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3)."""
        assert self.port is not None, "the server is not started"
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> None:
        """initdb (fsync off: a test or bench cluster is thrown away) and serve."""
        self.base.mkdir(parents=True, exist_ok=True)
        self._initdb()
        for attempt in range(_START_ATTEMPTS):
            self.port = find_free_port()
            if self._serve(timeout):
                return
            if attempt == _START_ATTEMPTS - 1 or "could not bind" not in self._log_tail():
                break  # another process took the free port between probe and bind: retry
        raise PostgresUnavailable(f"postgres did not start: {self._log_tail()}")

    def _initdb(self) -> None:
        for directory in (self.data_dir, self.socket_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
            _give_to_server_user(directory)
        password_file = self.base / "password"
        password_file.write_text(self.password + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        try:
            completed = subprocess.run(  # noqa: S603 - fixed executables, no shell
                [
                    *_as_server_user(),
                    str(postgres_binary("initdb")),
                    f"--pgdata={self.data_dir}",
                    f"--username={SUPERUSER}",
                    "--auth=scram-sha-256",
                    f"--pwfile={password_file}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        finally:
            password_file.unlink()
        if completed.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {completed.stderr or completed.stdout}")

    def _serve(self, timeout: float) -> bool:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed executables, no shell
            [
                *_as_server_user(),
                str(postgres_binary("postgres")),
                "-D",
                str(self.data_dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"port={self.port}",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
                # a throwaway cluster: nothing to keep across a power cut
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._reap()
                return False
            try:
                with psycopg.connect(self._conninfo(), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        return False

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return ""

    def _conninfo(self) -> str:
        """libpq's URL of the maintenance database (no SQLAlchemy driver name)."""
        return self.url("postgres").replace("postgresql+psycopg://", "postgresql://", 1)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self._conninfo(), autocommit=True)

    def create_database(self, name: str) -> str:
        """A new, empty database ``name``; its URL."""
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending the sessions still connected to it."""
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server by its PID: fast shutdown (SIGINT), then SIGKILL."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._reap()

    def _reap(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

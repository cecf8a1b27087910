"""Clean stops and restarts of ``docex run`` as operators and supervisors do them:
SIGTERM (systemd, ``docker stop``), Ctrl-C at a terminal (SIGINT to the whole process
group), ``kill -9`` then a restart, and a port held by a process docex did not start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ledger.chains import find_free_port
from ledger.process_records import PidFile

if TYPE_CHECKING:
    from tests.e2e.node.conftest import Launcher, NodeProcess

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"

pytestmark = pytest.mark.slow


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}


def _wait_until_serving(node: NodeProcess) -> None:
    """Until it has printed its banner (the last line) and its API answers."""
    node.wait_for_line(f"Ctrl-C or kill -TERM {node.pid} stops the node.", timeout=240)
    node.wait_until_up()


def _gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    """The PIDs of ``pids`` still running after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if _running(pid)}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat[stat.rindex(")") + 2 :].startswith("Z")


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_sigterm_stops_the_node_and_every_process_it_started(
    tmp_path: Path, launch_on_own_chain: Launcher
) -> None:
    port, anvil_port = find_free_port(), find_free_port()
    node = launch_on_own_chain("data", anvil_port, "--api-workers", "2", port=port)
    _wait_until_serving(node)
    started = node.descendants()
    assert len(started) >= 3  # anvil, the API-only process, the wrapping process
    assert PidFile(tmp_path / "data" / "anvil" / "anvil.pid").running() is not None

    node.process.send_signal(signal.SIGTERM)
    status = node.wait()

    assert status == 0, node.stderr[-3000:]
    assert _gone(started) == set()
    assert _port_is_free(anvil_port)
    assert _port_is_free(port)
    assert "Traceback" not in node.stderr
    assert not list((tmp_path / "data").glob("**/*.pid"))


def test_kill_9_then_restart_stops_the_old_chain_and_ctrl_c_prints_no_traceback(
    tmp_path: Path, launch_on_own_chain: Launcher
) -> None:
    port, anvil_port = find_free_port(), find_free_port()
    data_dir = tmp_path / "data"
    first = launch_on_own_chain("data", anvil_port, port=port)
    _wait_until_serving(first)
    old_anvil = PidFile(data_dir / "anvil" / "anvil.pid").running()
    assert old_anvil is not None
    first.kill()  # kill -9: no clean-up at all
    assert old_anvil.is_running(), "the anvil outlived its killed node (what this is about)"

    second = launch_on_own_chain("data", anvil_port)  # its own log file: another port
    _wait_until_serving(second)
    assert not old_anvil.is_running()
    new_anvil = PidFile(data_dir / "anvil" / "anvil.pid").running()
    assert new_anvil is not None
    assert new_anvil.pid in second.descendants()
    started = second.descendants()

    # Ctrl-C at a terminal: SIGINT to the foreground process group
    os.killpg(second.pid, signal.SIGINT)
    status = second.wait()

    assert status == 0, second.stderr[-3000:]
    assert "Traceback" not in second.stderr
    assert "KeyboardInterrupt" not in second.stderr
    assert _gone(started) == set()
    assert _port_is_free(anvil_port)


def test_a_port_held_by_a_process_docex_did_not_start_is_named_and_left_alone(
    launch_on_own_chain: Launcher,
) -> None:
    anvil_port = find_free_port()
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", anvil_port))
        foreign.listen()
        node = launch_on_own_chain("data", anvil_port)
        status = node.wait()
        # still ours, still listening
        with socket.create_connection(("127.0.0.1", anvil_port), timeout=5):
            pass

    assert status != 0
    message = node.stderr
    assert f"127.0.0.1:{anvil_port} is already in use by PID {os.getpid()}" in message
    assert "no PID file at" in message
    assert "--anvil-port" in message
    assert "Traceback" not in message


def test_users_add_in_a_directory_without_node_data_refuses_and_creates_nothing(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [str(DOCEX), "users", "add", "moit", "--role", "issuer", "--types", "coo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
        check=False,
    )

    assert done.returncode == 1
    assert f"no node data in {(tmp_path / 'data').resolve()}" in done.stderr
    assert list(tmp_path.iterdir()) == []

"""More processes for the HTTP API: ``docex run --api-workers N`` (``DOCEX_API_WORKERS``).

Python runs one thread at a time per process, so one process answers requests on one
core. With ``--api-workers N`` the first process binds the port, opens everything as
usual and runs the background workers (batcher, indexer, receiver, amendments) and an
API server; it then starts N-1 *API-only* processes (``spawn``), each listening on the
**same port** with its own socket (``SO_REUSEPORT``: the kernel spreads new connections
evenly over the sockets by their addresses), and announces the node once each of them
listens. An API-only process:

- reaches the chain the first process runs by its JSON-RPC URL (the managed anvil is
  the first process's), and reads the deployment it wrote;
- shares the node's databases (SQLite in WAL mode, or PostgreSQL): the outbox and users
  (``node.sqlite``), the event index (``index.sqlite``; the verifier memoises per indexed
  checkpoint, read from the database, so every process gives the same verdict for the
  same index) and
  the transaction journal, whose lock file serialises nonces between the processes
  (``ledger.Journal.exclusive``);
- runs no worker and recovers nothing: an accepted document waits in the outbox for
  the first process's batcher, as it does in one process.

Per process, not shared: the verify rate limit's buckets (a client may get up to N times
the rate) and the ``/metrics`` counters (each scrape sees the process that answered).
An API-only process stops when the first one does (SIGTERM by PID), and by itself if
the first one disappears (checked every half second). It leaves Ctrl-C to the first
process (the terminal sends it to the whole process group), and exits with status 0 on
SIGTERM, without the traceback or the death by signal a re-raised signal would give.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as EventType

    import uvicorn
    from fastapi import FastAPI

    from node.settings import NodeSettings


def listening_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """The API's socket, bound (the server starts listening on it). ``shared``: with
    ``SO_REUSEPORT``, for a port served by several processes (only processes of the same
    user can join it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def api_server(app: FastAPI, settings: NodeSettings) -> uvicorn.Server:
    """The uvicorn server every API process runs (the first one too)."""
    import uvicorn

    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            # uvloop + httptools (uvicorn[standard]): about twice the requests/s of
            # the pure-Python defaults on one worker
            loop="uvloop",
            http="httptools",
            log_config=None,
            access_log=False,
            lifespan="off",
            # forwarding headers only from the proxies the settings name (uvicorn would
            # otherwise believe any process on 127.0.0.1)
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        )
    )


def start_api_processes(
    settings: NodeSettings, chain_url: str, port: int, count: int, *, timeout: float = 120.0
) -> list[BaseProcess]:
    """Start ``count`` API-only processes, each on its own ``SO_REUSEPORT`` socket on
    ``port`` (the port the first process bound: ``settings.port`` may be 0), and wait
    until each listens. Raises :class:`ApiProcessFailed` (the started ones stopped) if
    one does not."""
    context = multiprocessing.get_context("spawn")
    started: list[tuple[BaseProcess, EventType]] = []
    for index in range(count):
        ready = context.Event()
        process = context.Process(
            target=serve_api_only,
            args=(settings, chain_url, port, os.getpid(), ready),
            name=f"docex-api-{index + 2}",
            daemon=False,
        )
        process.start()
        started.append((process, ready))
    processes = [process for process, _ in started]
    deadline = time.monotonic() + timeout
    for child, ready in started:
        while not ready.wait(0.2):
            if not child.is_alive() or time.monotonic() > deadline:
                stop_api_processes(processes)
                raise ApiProcessFailed(
                    f"API-only process {child.pid} did not start (exit code "
                    f"{child.exitcode}); its error is in the log"
                )
    return processes


class ApiProcessFailed(Exception):
    """An API-only process exited or hung before it listened."""


def stop_api_processes(processes: list[BaseProcess], timeout: float = 15.0) -> None:
    """SIGTERM each (by PID), wait for it; SIGKILL one that does not stop in time."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0.1))
        if process.is_alive():
            process.kill()
            process.join()


def serve_api_only(
    settings: NodeSettings, chain_url: str, port: int, parent: int, ready: EventType
) -> None:
    """An API-only process (the target of :func:`start_api_processes`): ``ready`` is set
    once it listens (connections queue on its socket until its server takes them)."""
    from node.http.app import create_app
    from node.observability.json_logs import configure_logging
    from node.runtime import NodeRuntime, apply_gil_switch_interval

    configure_logging(settings.log_level)
    apply_gil_switch_interval(settings)
    # uvicorn handles both signals while it serves, then re-raises the one it caught:
    # ignored (SIGINT) or a clean exit (SIGTERM) here, in start-up too
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    _stop_with_parent(parent)
    runtime = NodeRuntime(settings)
    try:
        services = runtime.open_for_api(chain_url)
        server = api_server(create_app(settings, services), settings)
        gc.collect()
        gc.freeze()
        listener = listening_socket(settings.host, port, shared=True)
        listener.listen(2048)
        ready.set()
        server.run(sockets=[listener])
    finally:
        runtime.stop()


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _stop_with_parent(parent: int) -> None:
    """SIGTERM this process (uvicorn's graceful stop) once ``parent`` is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="docex-api-parent-watch", daemon=True).start()

"""More processes for the HTTP API: ``docex run --api-workers N`` (``DOCEX_API_WORKERS``).

Python runs one thread at a time per process, so one process answers requests on one
core. With ``--api-workers N`` the first process binds the port, opens everything as
usual and runs the background workers (batcher, indexer, receiver, amendments) and an
API server; it then starts N-1 *API-only* processes (``spawn``) that accept connections
on the **same listening socket** (passed to them; the kernel hands each new connection
to one of the processes waiting in ``accept``). An API-only process:

- reaches the chain the first process runs by its JSON-RPC URL (the managed anvil is
  the first process's), and reads the deployment it wrote;
- shares the node's SQLite databases (WAL): the outbox and users (``node.sqlite``),
  the event index (``index.sqlite``; the verifier memoises per indexed checkpoint, read
  from the database, so every process gives the same verdict for the same index) and
  the transaction journal, whose lock file serialises nonces between the processes
  (``ledger.Journal.exclusive``);
- runs no worker and recovers nothing: an accepted document waits in the outbox for
  the first process's batcher, as it does in one process.

Per process, not shared: the verify rate limit's buckets (a client may get up to N times
the rate) and the ``/metrics`` counters (each scrape sees the process that answered).
An API-only process stops when the first one does (SIGTERM by PID), and by itself if
the first one disappears (checked every half second).
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
    import uvicorn
    from fastapi import FastAPI

    from node.settings import NodeSettings


def listening_socket(host: str, port: int) -> socket.socket:
    """The API's socket, bound (the server starts listening on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
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
        )
    )


def start_api_processes(
    settings: NodeSettings, chain_url: str, listener: socket.socket, count: int
) -> list[BaseProcess]:
    """Start ``count`` API-only processes serving on ``listener``."""
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    for index in range(count):
        process = context.Process(
            target=serve_api_only,
            args=(settings, chain_url, listener, os.getpid()),
            name=f"docex-api-{index + 2}",
            daemon=False,
        )
        process.start()
        processes.append(process)
    return processes


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
    settings: NodeSettings, chain_url: str, listener: socket.socket, parent: int
) -> None:
    """An API-only process (the target of :func:`start_api_processes`)."""
    from node.app import create_app
    from node.json_logs import configure_logging
    from node.runtime import NodeRuntime

    configure_logging(settings.log_level)
    _stop_with_parent(parent)
    runtime = NodeRuntime(settings)
    try:
        services = runtime.open_for_api(chain_url)
        server = api_server(create_app(settings, services), settings)
        gc.collect()
        gc.freeze()
        server.run(sockets=[listener])
    finally:
        runtime.stop()


def _stop_with_parent(parent: int) -> None:
    """SIGTERM this process (uvicorn's graceful stop) once ``parent`` is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="docex-api-parent-watch", daemon=True).start()

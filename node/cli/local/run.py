"""``docex run``: start this node on its configured (by default embedded) components.

On the defaults: a managed anvil chain in ``<data dir>/anvil``, the dev consortium (VN,
KR, SG) deployed on first start, the VN node's API on 127.0.0.1:8000. Ctrl-C (SIGINT)
and SIGTERM (systemd, ``docker stop``) both stop the API, the workers and every process
this command started (by PID); the next run resumes on the persisted state.

Each process it starts is recorded in a PID file (PID, start time, command line: see
``ledger.process_records``): this one in ``<data dir>/pids/docex-run.pid``, the API-only
and wrapping processes beside it, the managed anvil in ``<data dir>/anvil/anvil.pid``.
A start refuses while the recorded ``docex run`` still runs; after a ``kill -9`` of it,
the next start stops what it left running, and never a process it did not start.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from certificates.errors import DocexError
from node.backend_kinds import ChainKind
from node.cli.exits import EXIT_REFUSED, describe, fail
from node.cli.settings_options import ConfigOption, DataDirOption, settings_for

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from node.access.users import UserStore
    from node.settings import NodeSettings

SAMPLE_USER = "sample-issuer"
_log = logging.getLogger("docex.node")


def register(app: typer.Typer) -> None:
    """Add ``docex run`` to ``app``."""
    app.command("run")(run_node)


def _sample_token(users: UserStore) -> str:
    """A fresh token of the sample issuer (created on first start) for trying the API."""
    from node.access.roles import Role
    from node.access.users import document_types_from

    if any(u.name == SAMPLE_USER and not u.revoked for u in users.list()):
        return users.issue_token(SAMPLE_USER)
    if any(u.name == SAMPLE_USER for u in users.list()):
        return ""
    return users.add(
        SAMPLE_USER, Role.ISSUER, document_types_from(["coo", "permit", "declaration"])
    )


def _stop_on_sigterm() -> None:
    """SIGTERM stops the node as Ctrl-C does (KeyboardInterrupt): the ``finally`` of
    :func:`run_node` stops every process it started. uvicorn catches both signals while it
    serves and re-raises the one it caught once it has shut down: with this handler that
    is a KeyboardInterrupt too, not the default action that ends the process at once."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _ignore_stop_signals() -> None:
    """While stopping: a second Ctrl-C or SIGTERM must not cut the clean-up short (each
    step is bounded by a timeout; SIGKILL still ends everything, and the next start
    cleans up after it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _claim_data_dir(settings: NodeSettings) -> None:
    """Refuse while another ``docex run`` uses this data dir; otherwise stop what a
    killed one left running (by its PID files) and record this process."""
    from ledger.process_records import PidFile

    pids = settings.pids_dir
    run_record = PidFile(settings.run_pid_path)
    live = run_record.running()
    if live is not None and live.pid != os.getpid():
        fail(
            "run",
            EXIT_REFUSED,
            f"another docex run (PID {live.pid}) is using {settings.data_dir.resolve()} "
            f"({run_record.path}); stop it first (kill -TERM {live.pid})",
        )
    for path in sorted(pids.glob("*.pid")) if pids.is_dir() else []:
        if path.name == settings.run_pid_path.name:
            continue
        leftover = PidFile(path).running()
        if leftover is not None:
            leftover.stop()
            _log.warning(
                "stopped a process a killed run left running",
                extra={"pid": leftover.pid, "pid_file": str(path)},
            )
        PidFile(path).forget()
    run_record.record(os.getpid())


def _port_in_use(settings: NodeSettings, error: OSError) -> str:
    from ledger.process_records import describe_process, listening_pid

    holder = listening_pid(settings.port)
    who = describe_process(holder) if holder is not None else "a process not visible here"
    return (
        f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}; "
        f"held by {who}, which this node did not start (its processes are recorded in "
        f"{settings.pids_dir}); stop that process or choose another port (--port, "
        "DOCEX_PORT)"
    )


def _peer_gateways(values: list[str] | None) -> dict[str, str] | None:
    """``["KR=http://127.0.0.1:8001", ...]`` -> ``{"KR": "http://127.0.0.1:8001"}``."""
    if not values:
        return None
    gateways: dict[str, str] = {}
    for value in values:
        country, separator, url = value.partition("=")
        if not separator or len(country) != 2 or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"expected CC=http(s)://host:port, got {value!r}")
        gateways[country.upper()] = url
    return gateways


def run_node(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Bind address (DOCEX_HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="API port (DOCEX_PORT).")] = None,
    chain: Annotated[
        ChainKind | None, typer.Option("--chain", help="anvil, rpc or eth-tester (DOCEX_CHAIN).")
    ] = None,
    anvil_port: Annotated[
        int | None, typer.Option("--anvil-port", help="Managed anvil's port (DOCEX_ANVIL_PORT).")
    ] = None,
    rpc_url: Annotated[
        str | None, typer.Option("--rpc-url", help="JSON-RPC URL for --chain rpc (DOCEX_RPC_URL).")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="This node's member country (DOCEX_COUNTRY).")
    ] = None,
    peer_gateway: Annotated[
        list[str] | None,
        typer.Option(
            "--peer-gateway",
            help="CC=URL of another member's node, repeatable (DOCEX_PEER_GATEWAYS as JSON).",
        ),
    ] = None,
    join: Annotated[
        Path | None,
        typer.Option(
            "--join",
            help="On first start, join the dev consortium deployed in this data dir "
            "(DOCEX_JOIN_FROM) instead of deploying one.",
            file_okay=False,
        ),
    ] = None,
    api_workers: Annotated[
        int | None,
        typer.Option(
            "--api-workers",
            min=1,
            help="Processes serving the API on the port; the background workers run in "
            "the first only (DOCEX_API_WORKERS).",
        ),
    ] = None,
) -> None:
    """Start the node service (chain, content store, API)."""
    # The service stack (FastAPI, uvicorn, web3) loads here, not when `docex` starts.
    from node.http.api_process import (
        ApiProcessFailed,
        api_server,
        listening_socket,
        start_api_processes,
        stop_api_processes,
    )
    from node.http.app import create_app
    from node.observability.json_logs import configure_logging
    from node.runtime import NodeRuntime, apply_gil_switch_interval

    settings = settings_for(
        "run",
        config,
        data_dir=data_dir,
        host=host,
        port=port,
        chain=chain,
        anvil_port=anvil_port,
        rpc_url=rpc_url,
        country=country,
        peer_gateways=_peer_gateways(peer_gateway),
        join_from=join,
        api_workers=api_workers,
    )
    configure_logging(settings.log_level)
    apply_gil_switch_interval(settings)
    _stop_on_sigterm()
    _claim_data_dir(settings)
    runtime = NodeRuntime(settings)
    api_processes: list[BaseProcess] = []
    stopped_by_signal = False
    try:
        try:
            services = runtime.open()
            token = _sample_token(services.users)
        except DocexError as error:
            fail("run", EXIT_REFUSED, describe(error))
        runtime.start_workers()
        app = create_app(settings, services)
        server = api_server(app, settings)
        try:
            listener = listening_socket(
                settings.host, settings.port, shared=settings.api_workers > 1
            )
        except OSError as error:
            fail("run", EXIT_REFUSED, _port_in_use(settings, error))
        if settings.api_workers > 1:
            chain_url = runtime.chain_url
            if chain_url is None:
                fail("run", EXIT_REFUSED, "--api-workers needs a chain reachable by URL")
            try:
                api_processes = start_api_processes(
                    settings, chain_url, listener.getsockname()[1], settings.api_workers - 1
                )
            except ApiProcessFailed as error:
                fail("run", EXIT_REFUSED, str(error))
            _record_api_processes(settings, api_processes)
        # start-up's objects (web3, SQLAlchemy, pydantic, schemas) never become garbage:
        # out of the collector's way, full collections stay short (verify's p99)
        gc.collect()
        gc.freeze()
        base = f"http://{settings.host}:{settings.port}"
        ledger = services.ledger
        lines = [
            f"docex node {settings.country} on {base}  (data in {settings.data_dir.resolve()})",
            f"  inbox        GET {base}/v1/inbox   (customs officer, auditor, admin)",
            f"  verify page  {settings.base_url}/verify   (public: a file, JSON or link)",
            f"  issue page   {settings.base_url}/issue    (issuers, with their token)",
            f"  API docs     {base}/docs",
            f"  verify       POST {base}/v1/verify, GET {base}/v1/verify/<ref>   (public)",
            f"  issue        POST {base}/v1/documents   (bearer token)",
            f"  content      {base}/ipfs/<cid>",
            f"  health       {base}/healthz  {base}/readyz  {base}/metrics",
        ]
        lines.append(
            f"  chain        {ledger.deployment.chain_id}, DocumentRegistry "
            f"{ledger.deployment.document_registry}"
        )
        if token:
            lines.append(
                f"  sample token ({SAMPLE_USER}, issuer of coo/permit/declaration): {token}"
            )
        if settings.api_workers > 1:
            others = ", ".join(str(process.pid) for process in api_processes)
            lines.append(
                f"  API          {settings.api_workers} processes: PID {os.getpid()} (with the "
                f"workers); API only: {others}"
            )
        lines.append(f"Ctrl-C or kill -TERM {os.getpid()} stops the node.")
        typer.echo("\n".join(lines))
        # uvicorn re-raises the signal it handled once it has shut down: done, cleanly
        try:
            server.run(sockets=[listener])
        except KeyboardInterrupt:
            stopped_by_signal = True
    except KeyboardInterrupt:
        stopped_by_signal = True  # during start-up
    finally:
        _ignore_stop_signals()
        stop_api_processes(api_processes)
        runtime.stop()
        _forget_records(settings)
    if stopped_by_signal:
        typer.echo("docex node stopped.", err=True)


def _record_api_processes(settings: NodeSettings, processes: list[BaseProcess]) -> None:
    from ledger.process_records import PidFile

    for process in processes:
        if process.pid is not None:
            PidFile(settings.pids_dir / f"{process.name}.pid").record(process.pid)


def _forget_records(settings: NodeSettings) -> None:
    """Every process this run started is stopped: its PID files go, this run's last."""
    from ledger.process_records import PidFile

    if settings.pids_dir.is_dir():
        for path in settings.pids_dir.glob("*.pid"):
            if path.name != settings.run_pid_path.name:
                PidFile(path).forget()
    PidFile(settings.run_pid_path).forget()

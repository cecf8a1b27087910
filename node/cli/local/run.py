"""``docex run``: start this node on its configured (by default embedded) components.

On the defaults: a managed anvil chain in ``<data dir>/anvil``, the dev consortium (VN,
KR, SG) deployed on first start, the VN node's API on 127.0.0.1:8000. Ctrl-C stops the
API, the workers and the anvil this command started (by PID); the next run resumes on
the persisted state.
"""

from __future__ import annotations

import contextlib
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from certificates.errors import DocexError
from node.backend_kinds import ChainKind
from node.cli.exits import EXIT_REFUSED, describe, fail
from node.cli.settings_options import ConfigOption, DataDirOption, settings_for

if TYPE_CHECKING:
    from node.access.users import UserStore

SAMPLE_USER = "sample-issuer"


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
    from multiprocessing.process import BaseProcess

    from node.http.api_process import (
        ApiProcessFailed,
        api_server,
        listening_socket,
        start_api_processes,
        stop_api_processes,
    )
    from node.http.app import create_app
    from node.observability.json_logs import configure_logging
    from node.runtime import NodeRuntime

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
    runtime = NodeRuntime(settings)
    api_processes: list[BaseProcess] = []
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
            fail("run", EXIT_REFUSED, f"cannot listen on {settings.host}:{settings.port}: {error}")
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
        lines.append("Ctrl-C stops the node.")
        typer.echo("\n".join(lines))
        # uvicorn re-raises the Ctrl-C it handled once it has shut down: done, cleanly
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[listener])
    finally:
        stop_api_processes(api_processes)
        runtime.stop()

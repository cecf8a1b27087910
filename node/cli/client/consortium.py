"""``docex consortium``: propose and approve consortium actions through this member's node
(``POST /v1/consortium/proposals``, ``.../{id}/approve``; an admin token), and list them.

A proposal is the API's JSON body, e.g. ``{"action": "admitMember", "country": "MY",
"name": "Royal Malaysian Customs", "account": "0x..."}`` as ``docex member init`` prints
it. Exit codes: 0 done; 1 refused by the node (or the body is not a JSON object); 2 the
node cannot be reached or failed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
)
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, fail
from node.cli.settings_options import ConfigOption

consortium_app = typer.Typer(
    name="consortium",
    help="Propose, approve and list consortium proposals through this member's node.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``docex consortium ...`` to ``app``."""
    app.add_typer(consortium_app)


def _send(
    command: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    node: str | None,
    token: str | None,
    config: Any,
) -> dict[str, Any]:
    from node.cli.client.node_client import open_client

    try:
        with open_client(command, config, node, token) as client:
            answer: dict[str, Any] = client.request(
                method, path, json=body, params=params, headers=headers
            ).json()
    except NodeClientError as error:
        exit_on_client_error(command, error)
    except ValueError:
        fail(command, EXIT_UNREADABLE, "the node's answer is not JSON")
    return answer


@consortium_app.command("propose")
def propose(
    proposal: Annotated[str, typer.Argument(help="The proposal, a JSON object (the API body).")],
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Makes a retry return the first proposal."),
    ] = None,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Propose a consortium action as this member (its approval counts at once)."""
    command = "consortium propose"
    try:
        body = json.loads(proposal)
    except ValueError as error:
        fail(command, EXIT_REFUSED, f"the proposal is not JSON: {error}")
    if not isinstance(body, dict):
        fail(command, EXIT_REFUSED, "the proposal is a JSON object")
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    answer = _send(
        command,
        "POST",
        "/v1/consortium/proposals",
        body=body,
        headers=headers,
        node=node,
        token=token,
        config=config,
    )
    typer.echo(json.dumps(answer, indent=2))


@consortium_app.command("approve")
def approve(
    proposal_id: Annotated[int, typer.Argument(help="The proposal's number.", min=1)],
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Approve a proposal as this member (it executes once the quorum is reached)."""
    answer = _send(
        "consortium approve",
        "POST",
        f"/v1/consortium/proposals/{proposal_id}/approve",
        node=node,
        token=token,
        config=config,
    )
    typer.echo(json.dumps(answer, indent=2))


@consortium_app.command("proposals")
def proposals(
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """List proposals, newest first, with their approvals and the quorum."""
    answer = _send(
        "consortium proposals",
        "GET",
        "/v1/consortium/proposals",
        params={"limit": limit},
        node=node,
        token=token,
        config=config,
    )
    typer.echo(json.dumps(answer, indent=2))

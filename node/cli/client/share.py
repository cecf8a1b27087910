"""``docex share create|list|revoke``: share links for one document (ADR 0023).

- ``share create ID --days N`` (the document's issuer, or a customs officer of one of its
  addressees): prints the link's URL, which carries its token (shown this once); whoever
  holds it reads that one document until it expires (at most the node's
  ``DOCEX_SHARE_LINK_MAX_DAYS``) or is revoked.
- ``share list ID`` (the same, auditors, admins): every link of the document, never a token.
- ``share revoke LINK_ID`` (the same as create, admins): at once, for good.

Exit codes as the other client commands: 0 done; 1 refused by the node; 2 unreadable
answer or unreachable node.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from node.cli.client.lifecycle import DocumentId, JsonFlag, _call, _print
from node.cli.client.node_client import NodeOption, TokenOption
from node.cli.settings_options import ConfigOption

share_app = typer.Typer(help="Share links: one document readable by whoever holds the link.")


def register(app: typer.Typer) -> None:
    """Add ``docex share`` to ``app``."""
    app.add_typer(share_app, name="share")


def _when(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


@share_app.command("create")
def create_link(
    document_id: DocumentId,
    days: Annotated[
        int, typer.Option("--days", min=1, help="Days until the link stops working (required).")
    ],
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Create a share link for a document (its URL is shown this once)."""
    answer = _call(
        "share create",
        "POST",
        f"/v1/documents/{document_id}/share-links",
        config,
        node,
        token,
        json={"expiresInDays": days},
    )
    _print(
        answer,
        as_json,
        f"{answer.get('url')}\nlink {answer.get('id')}, expires {_when(answer.get('expiresAt'))}",
    )


@share_app.command("list")
def list_links(
    document_id: DocumentId,
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """List a document's share links (never their tokens)."""
    answer = _call(
        "share list", "GET", f"/v1/documents/{document_id}/share-links", config, node, token
    )
    lines = [
        f"{link.get('id')}  {link.get('state'):<8}  by {link.get('createdBy')}  "
        f"expires {_when(link.get('expiresAt'))}"
        for link in answer.get("links", [])
    ]
    _print(answer, as_json, "\n".join(lines) or "no share links")


@share_app.command("revoke")
def revoke_link(
    link_id: Annotated[str, typer.Argument(help="The link's id (from share create or list).")],
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a share link: refused from its next use on."""
    answer = _call("share revoke", "DELETE", f"/v1/share-links/{link_id}", config, node, token)
    _print(answer, as_json, f"revoked share link {answer.get('id')}")

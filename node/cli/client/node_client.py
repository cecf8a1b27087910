"""The CLI as a client of a node: ``--node``/``--token``, an HTTP client, its two errors.

Every command that talks to a node over HTTP (``docex issue``, ``verify``, ``revoke``,
``history``, ``inbox``, ``audit``, ``render``, ...) builds its client with
:func:`open_client` and sends requests with :meth:`NodeClient.request`:

- the node is ``--node URL``, else ``DOCEX_NODE_URL`` / ``node_url`` in the ``--config``
  file, else this node's public URL (``NodeSettings.client_node_url``);
- the token is ``--token T``, else ``DOCEX_TOKEN`` / ``token`` in the config file; without
  one no ``Authorization`` header is sent (public endpoints such as verification);
- an answer with status >= 400 raises :class:`NodeRefused` carrying the problem+json
  ``status``, ``title``, ``detail``, ``type`` (and ``code``); a node that cannot be
  reached, or times out, raises :class:`NodeUnreachable`;
- :func:`exit_on_client_error` prints either on stderr and exits: 1 for a refusal (4xx),
  2 for an unreachable node or a server error (5xx).

httpx is imported when a client is built, so ``docex cid`` and the offline commands stay light.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Self

import typer

from certificates.errors import UpstreamFailed
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, fail
from node.cli.settings_options import settings_for

if TYPE_CHECKING:
    import httpx

    from node.settings import NodeSettings

NodeOption = Annotated[
    str | None,
    typer.Option(
        "--node",
        help="Base URL of the node to talk to (DOCEX_NODE_URL; default: this node's URL).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Bearer token from `docex users add` (DOCEX_TOKEN).",
        show_default=False,
    ),
]

#: seconds: connecting fails fast; an answer may take a while (a revoke waits for mining)
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0
PROBLEM_TYPE_PREFIX = "urn:docex:problem:"


class NodeClientError(UpstreamFailed):
    """A request to a node that did not give a successful answer."""

    code = "node-client-error"


class NodeRefused(NodeClientError):
    """The node answered with an error status (its problem+json, when it sent one)."""

    code = "node-refused"

    def __init__(
        self,
        *,
        status: int,
        title: str,
        detail: str,
        problem_type: str = "about:blank",
        problem: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.problem_type = problem_type
        #: the whole problem document (``errors``, ``path``, ``retryAfter``, ...)
        self.problem: dict[str, Any] = problem or {}
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")

    @property
    def problem_code(self) -> str:
        """The docex code (``not-authorised``, ...) of ``urn:docex:problem:<code>``."""
        code = self.problem.get("code")
        if isinstance(code, str):
            return code
        return self.problem_type.removeprefix(PROBLEM_TYPE_PREFIX)

    @property
    def is_server_error(self) -> bool:
        return self.status >= 500


class NodeUnreachable(NodeClientError):
    """No answer at all: connection refused, DNS, timeout, a broken connection."""

    code = "node-unreachable"

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the node at {url}: {reason}")


class NodeClient:
    """An httpx client bound to one node, with the token and timeouts; a context manager."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # here, not at import: `docex cid` and friends stay light

        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout or httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            transport=transport,
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        files: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; the response if its status is < 400, else :class:`NodeRefused`."""
        import httpx

        try:
            response = self._http.request(
                method,
                path,
                json=json,
                content=content,
                files=files,
                params=params,
                headers=headers,
            )
        except httpx.TransportError as error:  # connect, read, timeouts, protocol errors
            raise NodeUnreachable(self.base_url, _transport_reason(error)) from error
        if response.status_code >= 400:
            raise refusal_from(response)
        return response

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def refusal_from(response: httpx.Response) -> NodeRefused:
    """The :class:`NodeRefused` of an error answer, problem+json or not."""
    status = response.status_code
    reason = response.reason_phrase or "error"
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        return NodeRefused(status=status, title=reason, detail=text)
    problem: dict[str, Any] = body
    title = problem.get("title")
    detail = problem.get("detail")
    problem_type = problem.get("type")
    return NodeRefused(
        status=status,
        title=title if isinstance(title, str) else reason,
        detail=detail if isinstance(detail, str) else "",
        problem_type=problem_type if isinstance(problem_type, str) else "about:blank",
        problem=problem,
    )


def _transport_reason(error: httpx.TransportError) -> str:
    import httpx

    if isinstance(error, httpx.ConnectError):
        return "connection refused or host unknown"
    if isinstance(error, httpx.TimeoutException):
        return f"no answer in time ({type(error).__name__})"
    return str(error) or type(error).__name__


def open_client(
    command: str, config: Path | None, node: str | None, token: str | None
) -> NodeClient:
    """The client for ``command``: ``--node``/``--token`` > ``DOCEX_*`` > config file."""
    return client_from(settings_for(command, config, node_url=node, token=token))


def client_from(settings: NodeSettings) -> NodeClient:
    """The client of already loaded settings (``client_node_url``, ``token``)."""
    secret = settings.token.get_secret_value() if settings.token is not None else None
    return NodeClient(settings.client_node_url, secret)


def describe_client_error(error: NodeClientError) -> str:
    """How a client error reads on a terminal (one line, plus the fields a problem named)."""
    if isinstance(error, NodeRefused):
        message = f"the node refused ({error.status} {error.title})"
        if error.detail:
            message += f": {error.detail}"
        path = error.problem.get("path")
        if isinstance(path, str) and path and f"(at {path})" not in error.detail:
            message += f" (at {path})"
        if error.status == 401:
            message += " [pass a valid token with --token or DOCEX_TOKEN]"
        elif error.status == 403:
            message += " [this token's institution may not do this]"
        for item in error.problem.get("errors") or []:
            if isinstance(item, dict):
                where = item.get("path") or ""
                message += f"\n  {where}: {item.get('message') or item}"
        return message
    return str(error)


def exit_code_for(error: NodeClientError) -> int:
    """1 when the node refused the request (4xx), 2 when it could not answer it."""
    if isinstance(error, NodeRefused) and not error.is_server_error:
        return EXIT_REFUSED
    return EXIT_UNREADABLE


def exit_on_client_error(
    command: str, error: NodeClientError, exit_code: int | None = None
) -> NoReturn:
    """Print ``docex COMMAND: ...`` on stderr and exit (``exit_code`` or :func:`exit_code_for`)."""
    fail(
        command,
        exit_code if exit_code is not None else exit_code_for(error),
        describe_client_error(error),
    )

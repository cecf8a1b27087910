"""The demo's HTTP client of one member node: a bearer token and a bounded connection
pool, shared by the demo's worker threads (``httpx.Client`` is thread-safe)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import httpx

from node.dev.demo.failures import DemoAborted

#: concurrent requests the demo sends to one node (a bounded pool: the node's API runs
#: one worker on a machine shared with the chain and two other nodes)
POOL: Final = 8
Value = TypeVar("Value")
#: a JSON answer of the node API, read as untyped JSON
ApiJson = dict[str, Any]


class NodeApi:
    """Requests to one node as one of its users."""

    def __init__(self, name: str, base_url: str, token: str | None = None) -> None:
        self.name = name
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(120.0, connect=10.0),
            limits=httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL),
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise DemoAborted(f"{self.name}: {method} {path}: {error!r}") from error

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def json(self, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
        """The JSON body of an answer that must have status ``expect``."""
        answer = self.request(method, path, **kwargs)
        if answer.status_code != expect:
            raise DemoAborted(
                f"{self.name}: {method} {path} answered {answer.status_code}: {answer.text[:500]}"
            )
        return answer.json()

    def close(self) -> None:
        self._client.close()


def wait_for(what: str, probe: Callable[[], Value | None], timeout: float) -> Value:
    """``probe()``'s first value that is not None, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise DemoAborted(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)

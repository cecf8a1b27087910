"""A thin JSON-RPC 2.0 client over httpx.

The hot paths (send, receipts, logs, reads) use this client directly: web3.py issues
extra ``eth_chainId`` calls per request, which costs more than the call itself on a
local node. Unreachable endpoints are retried with exponential backoff, then reported
as :class:`~ledger.errors.RpcUnreachable`; error objects become
:class:`~ledger.errors.RpcError`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ledger.errors import RpcError, RpcUnreachable


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently an unreachable endpoint is retried."""

    attempts: int = 5
    first_delay: float = 0.1
    max_delay: float = 2.0

    def delays(self) -> list[float]:
        """The waits between consecutive attempts (one fewer than ``attempts``)."""
        return [
            min(self.first_delay * 2**i, self.max_delay) for i in range(max(self.attempts - 1, 0))
        ]


_RETRIABLE_STATUS = frozenset({429, 502, 503, 504})


class JsonRpcClient:
    """JSON-RPC over HTTP; thread-safe (one pooled httpx client)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 32,
    ) -> None:
        """``max_connections`` caps concurrent requests (ganache hangs on many at once)."""
        self.url = url
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._ids = itertools.count(1)
        self._ids_lock = threading.Lock()
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"content-type": "application/json"},
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    def _next_id(self) -> int:
        with self._ids_lock:
            return next(self._ids)

    def _post(self, payload: Any) -> Any:
        delays = self._retry.delays()
        last_cause = ""
        for attempt in range(self._retry.attempts):
            try:
                response = self._http.post(self.url, json=payload)
            except httpx.TransportError as exc:
                last_cause = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in _RETRIABLE_STATUS:
                    if response.status_code >= 400 and not response.content:
                        last_cause = f"HTTP {response.status_code}"
                        break
                    return response.json()
                last_cause = f"HTTP {response.status_code}"
            if attempt < len(delays):
                self._sleep(delays[attempt])
        raise RpcUnreachable(self.url, self._retry.attempts, last_cause)

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Call ``method`` and return its ``result``."""
        payload = {
            "jsonrpc": "2.0",
            "id": self._next_id(),
            "method": method,
            "params": list(params),
        }
        return _result_of(method, self._post(payload))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Call several methods in one HTTP round trip; results in the order of ``calls``.

        The first error object in the answer is raised as :class:`RpcError`.
        """
        if not calls:
            return []
        ids = [self._next_id() for _ in calls]
        payload = [
            {"jsonrpc": "2.0", "id": call_id, "method": method, "params": list(params)}
            for call_id, (method, params) in zip(ids, calls, strict=True)
        ]
        answers = self._post(payload)
        if not isinstance(answers, list):
            return [_result_of(calls[0][0], answers)]
        by_id = {answer.get("id"): answer for answer in answers if isinstance(answer, dict)}
        return [
            _result_of(method, by_id.get(call_id))
            for call_id, (method, _) in zip(ids, calls, strict=True)
        ]

    def close(self) -> None:
        self._http.close()


def _result_of(method: str, answer: Any) -> Any:
    if not isinstance(answer, dict):
        raise RpcError(method, -32603, f"malformed JSON-RPC answer: {answer!r:.200}")
    error = answer.get("error")
    if error is not None:
        if not isinstance(error, dict):
            raise RpcError(method, -32603, str(error))
        raise RpcError(
            method,
            int(error.get("code", -32603)),
            str(error.get("message", "")),
            error.get("data"),
        )
    if "result" not in answer:
        raise RpcError(method, -32603, "JSON-RPC answer without result or error")
    return answer["result"]

"""JSON-RPC to geth over its IPC socket: the only place its ``admin`` API is served.

``admin_*`` (peers, trusted peers) is never exposed over HTTP: over HTTP anyone on the
member's address could also call ``admin_startHTTP`` and open the RPC beyond the
consortium. The IPC socket is a file geth creates with mode 0600 in the member's data
directory, so only the member's own operating-system account reaches it. The follower
of a member's validator (:mod:`node.network.signer_follower`) talks to its geth here.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from node.network.errors import NetworkError

#: sun_path is 108 bytes on Linux, the terminating NUL included
MAX_SOCKET_PATH: Final = 107


class GethIpc:
    """A JSON-RPC client of one geth over its IPC socket (a ``ledger.Chain``)."""

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.request("eth_chainId"), 16)
        return self._chain_id

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call; :class:`NetworkError` when geth does not answer it or refuses it."""
        answer = self._exchange(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        )
        if not isinstance(answer, dict):
            raise NetworkError(f"geth {method}: not a JSON-RPC answer")
        if "error" in answer:
            raise NetworkError(f"geth {method}: {answer['error']}")
        return answer.get("result")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return [self.request(method, params) for method, params in calls]

    def close(self) -> None:
        """Nothing held between calls: each opens and closes its own connection."""

    def _exchange(self, message: dict[str, Any]) -> Any:
        with self._lock, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(self.timeout)
            try:
                connection.connect(str(self.path))
                connection.sendall(json.dumps(message).encode("utf-8"))
                buffer = b""
                decoder = json.JSONDecoder()
                while True:
                    chunk = connection.recv(65536)
                    if not chunk:
                        raise NetworkError(f"geth at {self.path} closed the connection")
                    buffer += chunk
                    try:
                        value, _ = decoder.raw_decode(buffer.decode("utf-8").lstrip())
                    except (ValueError, UnicodeDecodeError):
                        continue  # not a whole answer yet
                    return value
            except OSError as error:
                raise NetworkError(
                    f"geth IPC {self.path} does not answer {message['method']}: {error}"
                ) from None

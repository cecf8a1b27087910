"""A lean HTTP/1.1 keep-alive client on raw asyncio streams, for load generators.

32 ``httpx`` clients in one Python process used more CPU than the node itself on a
2-core machine, so they measured the load generator. This client writes a request and
reads the head and a ``Content-Length`` body, nothing more: every answer is still read
in full. Chunked answers are refused (the servers measured here always send a length).
"""

from __future__ import annotations

import asyncio


class RawHttpConnection:
    """One keep-alive connection to ``host:port``; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawHttpConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._writer is not None:
            self._writer.close()

    def head(
        self, method: str, path: str, body_length: int, headers: dict[str, str] | None = None
    ) -> bytes:
        """The request line and headers for a body of ``body_length`` bytes."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append(f"Content-Length: {body_length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send a complete request (head + body); the answer's status and body."""
        assert self._reader is not None, "not connected"
        assert self._writer is not None, "not connected"
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length: int | None = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked answers are not read by this client")
        return status, await self._reader.readexactly(length or 0)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        return await self.send(self.head(method, path, len(body), headers) + body)

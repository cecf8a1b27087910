"""A ContentStore over the Kubo RPC API (``/api/v0``), with httpx.

Works the same against an IPFS Cluster's IPFS proxy endpoint, which answers
``add``, ``pin/add``, ``pin/rm`` and ``pin/ls`` itself (replicating across the
cluster) and forwards the rest to its Kubo daemon.

``add`` sends the import parameters explicitly (chunker, raw leaves, CID version,
hash) so that a daemon configured with another import profile still produces the
CID docex computes; the CID is computed locally as well and a different answer from
the daemon is an error. ``cat`` answers are verified by re-importing the bytes: the
result must be the requested CID (so content added with non-default parameters is
refused rather than trusted).

Beyond the ContentStore, a :class:`~adapters.content.store.DagStore`: single blocks
and whole DAGs read *offline* (``block/stat``, ``block/get``, ``dag/export`` with
``offline``: what the node's trustless gateway serves never triggers a network fetch),
blocks written with ``dag/import``; and :meth:`KuboContentStore.fetch_dag`, the one
call that does reach the network: the DAG under a CID fetched through the daemon's
peers (bitswap in the consortium's private swarm), every block verified here as well.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, BinaryIO, Final

import httpx

from adapters.content.blockstore import MAX_BLOCK_SIZE
from adapters.content.car import CarReader, write_car
from adapters.content.cid import RAW, Cid
from adapters.content.store import ContentStat
from adapters.content.unixfs_importer import (
    DEFAULT_CHUNK_SIZE,
    ImportLayout,
    import_bytes,
    import_stream,
    rechunk,
)
from adapters.content.verified_dag import (
    BodyReader,
    DagRejected,
    DagVerifier,
    FetchedDag,
    FetchLimits,
    read_car_into,
)
from adapters.errors import (
    ContentError,
    ContentNotFound,
    ContentStoreUnavailable,
    ContentTooLarge,
    ContentVerificationFailed,
    InvalidCid,
    KuboError,
    PeerFetchFailed,
    PeerRejection,
)

_SPOOL_IN_MEMORY: Final = 8 * 1024 * 1024
_NOT_FOUND_MARKERS: Final = ("not found", "could not find", "no link named")
_NOT_PINNED_MARKERS: Final = ("not pinned",)
#: what Kubo answers when its ``timeout`` ran out before its peers delivered
_DEADLINE_MARKERS: Final = ("context deadline exceeded",)
_OFFLINE: Final = {"offline": "true"}


@dataclass(frozen=True, slots=True)
class KuboVersion:
    version: str
    commit: str
    repo: str
    system: str
    golang: str


class KuboContentStore:
    """A ContentStore backed by a Kubo daemon or an IPFS Cluster proxy at ``api_url``."""

    def __init__(
        self,
        api_url: str,
        *,
        cid_version: int = 1,
        timeout_seconds: float = 60.0,
        max_content_bytes: int = 1024 * 1024 * 1024,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.layout = ImportLayout(cid_version=cid_version)
        self.max_content_bytes = max_content_bytes
        self._client = httpx.Client(
            base_url=api_url.rstrip("/") + "/api/v0",
            timeout=httpx.Timeout(timeout_seconds),
            headers=dict(headers or {}),
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> KuboContentStore:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    # -- RPC plumbing -------------------------------------------------------------

    def _post(self, command: str, params: Mapping[str, str], **kwargs: object) -> httpx.Response:
        try:
            response = self._client.post(command, params=params, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            raise KuboError(f"Kubo RPC {command} failed: {type(error).__name__}: {error}") from None
        if response.status_code != 200:
            raise _rpc_error(command, response)
        return response

    def _json(self, command: str, params: Mapping[str, str]) -> dict[str, object]:
        response = self._post(command, params)
        try:
            body = response.json()
        except ValueError:
            raise KuboError(f"Kubo RPC {command} did not answer JSON") from None
        if not isinstance(body, dict):
            raise KuboError(f"Kubo RPC {command} answered {type(body).__name__}, not an object")
        return body

    # -- ContentStore ---------------------------------------------------------------

    def put(self, content: bytes | BinaryIO, *, pin: bool = True) -> Cid:
        if isinstance(content, bytes | bytearray | memoryview):
            payload: bytes | IO[bytes] = bytes(content)
            expected = import_bytes(bytes(content), self.layout).cid
        else:
            payload = _rewindable(content)
            start = payload.tell()
            expected = import_stream(payload, self.layout).cid
            payload.seek(start)
        params = {
            "cid-version": str(self.layout.cid_version),
            "raw-leaves": "true" if self.layout.raw_leaves else "false",
            "chunker": f"size-{DEFAULT_CHUNK_SIZE}",
            "hash": "sha2-256",
            "pin": "true" if pin else "false",
            "progress": "false",
            "quieter": "true",
        }
        response = self._post("add", params, files={"file": ("content", payload)})
        # one JSON object per line (NDJSON); with quieter, the last names the root
        lines = [line for line in response.text.splitlines() if line.strip()]
        if not lines:
            raise KuboError("Kubo add answered nothing")
        try:
            added = json.loads(lines[-1])
            cid = Cid.parse(str(added["Hash"]))
        except (ValueError, KeyError, TypeError, InvalidCid) as error:
            raise KuboError(f"Kubo add answered an unreadable line: {error}") from None
        if cid != expected:
            raise ContentVerificationFailed(
                f"Kubo add gave {cid}, but the content's CID is {expected}"
                " (daemon importing with other parameters?)"
            )
        return cid

    def get(self, cid: Cid) -> bytes:
        return b"".join(self.stream(cid))

    def stream(self, cid: Cid) -> Iterator[bytes]:
        """The content, verified whole before the first byte is yielded."""
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        try:
            self._cat_into(cid, spool)
            spool.seek(0)
            layout = ImportLayout(cid_version=0 if cid.version == 0 else 1)
            actual = import_stream(spool, layout).cid
            if actual != cid:
                raise ContentVerificationFailed(f"Kubo returned bytes whose CID is {actual}")
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return _drain(spool)

    def has(self, cid: Cid) -> bool:
        params = {"arg": f"/ipfs/{cid}", "with-local": "true", "offline": "true"}
        try:
            body = self._json("files/stat", params)
        except ContentNotFound:
            return False
        return body.get("Local") is True

    def pin(self, cid: Cid) -> None:
        body = self._json("pin/add", {"arg": str(cid), "recursive": "true"})
        if str(cid) not in _string_list(body.get("Pins")):
            raise KuboError(f"Kubo pin/add did not confirm {cid}")

    def unpin(self, cid: Cid) -> None:
        try:
            self._json("pin/rm", {"arg": str(cid), "recursive": "true"})
        except KuboError as error:
            if any(marker in error.message for marker in _NOT_PINNED_MARKERS):
                return
            raise

    def pins(self) -> frozenset[Cid]:
        body = self._json("pin/ls", {"type": "recursive"})
        keys = body.get("Keys")
        if not isinstance(keys, dict):
            raise KuboError("Kubo pin/ls answered without Keys")
        try:
            return frozenset(Cid.parse(key) for key in keys)
        except InvalidCid as error:
            raise KuboError(f"Kubo pin/ls listed an unreadable CID: {error.message}") from None

    def stat(self, cid: Cid) -> ContentStat:
        body = self._json("files/stat", {"arg": f"/ipfs/{cid}"})
        size, cumulative = body.get("Size"), body.get("CumulativeSize")
        if not isinstance(size, int) or not isinstance(cumulative, int):
            raise KuboError("Kubo files/stat answered without sizes")
        if body.get("Type") != "file":
            raise KuboError(f"{cid} is a {body.get('Type')}, not a file")
        if cid.codec == RAW and size != cumulative:
            raise ContentVerificationFailed(f"Kubo reports a raw block {cid} with two sizes")
        return ContentStat(cid, size, cumulative)

    def check_ready(self) -> None:
        try:
            self.version()
        except KuboError as error:
            raise ContentStoreUnavailable(f"Kubo: {error.message}") from None

    # -- beyond the ContentStore ----------------------------------------------------

    def version(self) -> KuboVersion:
        body = self._json("version", {})
        return KuboVersion(
            version=str(body.get("Version", "")),
            commit=str(body.get("Commit", "")),
            repo=str(body.get("Repo", "")),
            system=str(body.get("System", "")),
            golang=str(body.get("Golang", "")),
        )

    # -- DagStore: blocks read offline, written by dag/import ----------------------

    def has_block(self, cid: Cid) -> bool:
        try:
            self._json("block/stat", {"arg": str(cid), **_OFFLINE})
        except ContentNotFound:
            return False
        return True

    def get_block(self, cid: Cid) -> bytes:
        """One block held by the daemon (never fetched from its peers), checked here."""
        block = self._post("block/get", {"arg": str(cid), **_OFFLINE}).content
        if len(block) > MAX_BLOCK_SIZE or not cid.matches(block):
            raise ContentVerificationFailed(f"Kubo returned a block that is not {cid}")
        return block

    def dag_blocks(self, root: Cid) -> Iterator[tuple[Cid, bytes]]:
        """The DAG under ``root`` as the daemon holds it (``dag export``, offline), each
        block checked against its CID as it is read."""
        response = self._open("dag/export", {"arg": str(root), **_OFFLINE})
        return _car_blocks(response, self.max_content_bytes)

    def put_blocks(self, blocks: Iterable[tuple[Cid, bytes]]) -> int:
        """Write blocks (verified by the caller) with ``dag import``, unpinned: the
        caller pins the root it means to keep."""
        held = list(blocks)
        if not held:
            return 0
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        with spool:
            write_car([held[0][0]], held, spool)  # type: ignore[arg-type]
            spool.seek(0)
            self._post(
                "dag/import",
                {"pin-roots": "false", "stats": "true"},
                files={"file": ("blocks.car", spool)},
            )
        return len(held)

    # -- the network: bitswap among the daemon's peers ------------------------------

    @property
    def source_name(self) -> str:
        """How a fetch through this daemon is named in logs and records."""
        return f"bitswap via {self._client.base_url.host}:{self._client.base_url.port}"

    def fetch_dag(self, cid: Cid, *, limits: FetchLimits | None = None) -> FetchedDag:
        """The DAG under ``cid`` fetched through the daemon's peers (bitswap), every
        block verified here, parents first, as a gateway peer's would be. Kubo keeps the
        blocks (unpinned); :class:`PeerFetchFailed` when its peers do not deliver within
        ``limits.deadline_seconds`` (reason ``not-in-swarm``) or deliver something else."""
        limits = limits or FetchLimits()
        verifier = DagVerifier(cid, limits)
        params = {"arg": str(cid), "timeout": f"{max(1, math.ceil(limits.deadline_seconds))}s"}
        try:
            response = self._open(
                "dag/export", params, timeout=httpx.Timeout(limits.deadline_seconds + 5)
            )
        except KuboError as error:
            reason = (
                "not-in-swarm"
                if any(marker in error.message for marker in _DEADLINE_MARKERS)
                else "unreachable"
            )
            raise self._fetch_failed(cid, reason, error.message) from None
        except ContentNotFound as error:
            raise self._fetch_failed(cid, "not-in-swarm", error.message) from None
        deadline = time.monotonic() + limits.deadline_seconds + 5
        body = BodyReader(response.iter_bytes(), limits.max_content_bytes, deadline, time.monotonic)
        try:
            read_car_into(verifier, body.read)
            return verifier.result(self.source_name)
        except DagRejected as rejected:
            raise self._fetch_failed(cid, rejected.reason, rejected.detail) from None
        except httpx.TimeoutException as error:
            raise self._fetch_failed(cid, "timeout", type(error).__name__) from None
        except httpx.HTTPError as error:
            raise self._fetch_failed(cid, "unreachable", f"{type(error).__name__}") from None
        finally:
            response.close()

    def _fetch_failed(self, cid: Cid, reason: str, detail: str) -> PeerFetchFailed:
        rejection = PeerRejection(self.source_name, reason, detail)
        return PeerFetchFailed(f"{self.source_name} did not deliver {cid}", rejections=(rejection,))

    def _open(
        self, command: str, params: Mapping[str, str], *, timeout: httpx.Timeout | None = None
    ) -> httpx.Response:
        """A streamed answer to ``command``; its status checked before a byte is read."""
        request = self._client.build_request(
            "POST",
            command,
            params=params,
            timeout=timeout if timeout is not None else self._client.timeout,
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise KuboError(f"Kubo RPC {command} failed: {type(error).__name__}: {error}") from None
        if response.status_code != 200:
            response.read()
            response.close()
            raise _rpc_error(command, response)
        return response

    def _cat_into(self, cid: Cid, spool: IO[bytes]) -> None:
        response = self._open("cat", {"arg": str(cid)})
        try:
            received = 0
            for piece in response.iter_bytes():
                received += len(piece)
                if received > self.max_content_bytes:
                    raise ContentTooLarge(f"{cid} is larger than {self.max_content_bytes} bytes")
                spool.write(piece)
            trailer_error = response.headers.get("x-stream-error")
            if trailer_error:
                raise KuboError(f"Kubo cat stream failed: {trailer_error}")
        finally:
            response.close()


def _rpc_error(command: str, response: httpx.Response) -> ContentError:
    """Kubo reports failures as HTTP 500 with ``{"Message", "Code", "Type": "error"}``."""
    try:
        body = response.json()
        message = str(body.get("Message", "")) if isinstance(body, dict) else ""
    except ValueError:
        message = response.text[:200]
    text = f"Kubo RPC {command}: HTTP {response.status_code}: {message}"
    if any(marker in message.lower() for marker in _NOT_FOUND_MARKERS):
        return ContentNotFound(text)
    return KuboError(text)


def _car_blocks(response: httpx.Response, limit: int) -> Iterator[tuple[Cid, bytes]]:
    try:
        body = BodyReader(response.iter_bytes(), limit, math.inf, time.monotonic)
        try:
            yield from CarReader(body.read).blocks()
        except DagRejected as rejected:  # BodyReader's only reason with no deadline
            raise ContentTooLarge(rejected.detail) from None
    finally:
        response.close()


def _string_list(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _rewindable(stream: IO[bytes]) -> IO[bytes]:
    """The stream itself if it can seek, else a spooled copy that can."""
    if stream.seekable():
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    for piece in rechunk(iter(lambda: stream.read(io.DEFAULT_BUFFER_SIZE * 64), b"")):
        spool.write(piece)
    spool.seek(0)
    return spool


def _drain(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while piece := spool.read(DEFAULT_CHUNK_SIZE):
            yield piece

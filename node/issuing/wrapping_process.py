"""Wrapping and signing batches in a process of their own (the batcher's signer stage).

Salting, hashing and signing a batch is pure Python work under the GIL, as is answering
HTTP requests. In one process the two take turns on one core however many cores the
machine has, so ``docex run`` hands each batch to one child process (a
``ProcessPoolExecutor`` of one worker, started with ``spawn``: never ``fork`` from a
process that runs threads) and the API keeps its own core.

The child sees no database and no chain: it gets the documents' JSON, the issuer key
and the EIP-712 domain, and returns the root and the wrapped documents. With the
embedded content store it also puts each signed batch's content there
(:func:`store_contents`: the UnixFS import and a row of the store's pack per document,
made durable as a group before it answers), which in the node's process took its API's
turns on the GIL at every file-system call. The batcher then commits the batch as
before: a crash of either process before that commit leaves the batch open in the
outbox, signed and stored again on restart (blocks are content-addressed: a block
written twice is the same row). A child that dies is replaced on the next batch.

The child ignores SIGINT: a Ctrl-C at the terminal reaches the whole process group, and
the node stops its child itself (``close``), after the batch in hand; it exits by itself
when the node is gone. It is spawned with SIGINT blocked, so a Ctrl-C while it is still
importing stays pending until it ignores the signal (no ``KeyboardInterrupt``
traceback). Its PID is recorded (``pid_file``) so that the next ``docex run`` stops it
should it outlive a ``kill -9`` of the node.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from adapters import EmbeddedContentStore
from certificates import BatchBuilder
from certificates.json_types import JsonObject
from certificates.signing import Eip712Domain

if TYPE_CHECKING:
    from ledger.process_records import PidFile

J = TypeVar("J")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Issuable:
    """An accepted document as ``BatchBuilder`` takes it (it passed its schema at 202)."""

    type_id: str
    data: JsonObject
    addressees: tuple[str, ...]

    def addressee_countries(self) -> tuple[str, ...]:
        return self.addressees


@dataclass(frozen=True, slots=True)
class BatchToWrap:
    document_type: str
    #: (validated document JSON, addressee countries, allowance) in batch order
    documents: tuple[tuple[bytes, tuple[str, ...], int], ...]
    signing_key: bytes
    domain: Eip712Domain


@dataclass(frozen=True, slots=True)
class WrappedBatch:
    root: bytes
    addressees: tuple[str, ...]
    #: (target hash, wrapped document JSON) in batch order
    documents: tuple[tuple[bytes, bytes], ...]


def wrap_and_sign(job: BatchToWrap) -> WrappedBatch:
    """Salt, hash and sign ``job``'s documents; serialise each wrapped document."""
    builder = BatchBuilder()
    for document_json, addressees, allowance in job.documents:
        data: JsonObject = json.loads(document_json)
        builder.add(_Issuable(job.document_type, data, addressees), allowance=allowance)
    signed = builder.sign(signing_key=job.signing_key, domain=job.domain)
    return WrappedBatch(
        root=signed.anchor.root,
        addressees=signed.anchor.addressees,
        documents=tuple(
            (
                wrapped.target_hash,
                json.dumps(wrapped.to_json(), ensure_ascii=False, separators=(",", ":")).encode(),
            )
            for wrapped in signed
        ),
    )


@dataclass(frozen=True, slots=True)
class ContentToStore:
    """A signed batch's content, for the embedded store in ``root`` (its settings)."""

    root: Path
    cid_version: int
    fsync: bool
    #: each document's content (its wrapped JSON, or sealed), in batch order
    contents: tuple[bytes, ...]

    @classmethod
    def of(cls, store: EmbeddedContentStore, contents: tuple[bytes, ...]) -> ContentToStore:
        return cls(store.root, store.layout.cid_version, store.fsync, contents)


#: in the child: the embedded store opened for each (root, CID version, fsync)
_stores: dict[tuple[Path, int, bool], EmbeddedContentStore] = {}


def store_contents(job: ContentToStore) -> tuple[str, ...]:
    """Put ``job``'s contents in its embedded store, all durable together before this
    returns (:meth:`EmbeddedContentStore.grouped_writes`); their CIDs, in order."""
    key = (job.root, job.cid_version, job.fsync)
    store = _stores.get(key)
    if store is None:
        store = EmbeddedContentStore(job.root, cid_version=job.cid_version, fsync=job.fsync)
        _stores[key] = store
    return put_together(store, job.contents)


def put_together(store: EmbeddedContentStore, contents: tuple[bytes, ...]) -> tuple[str, ...]:
    """Put ``contents`` in ``store``, durable together when this returns; their CIDs."""
    with store.grouped_writes():
        return tuple(str(store.put(content)) for content in contents)


def _exit_with_parent(parent: int) -> None:
    """In the child: exit as soon as the node is gone (a ``kill -9`` of the node leaves
    no orphan behind; a pool only notices a dead parent when it next reads a task), and
    leave Ctrl-C to the node (a pending one is discarded here)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="docex-wrapping-watch", daemon=True).start()


class WrappingProcess:
    """One child process that runs :func:`wrap_and_sign` and :func:`store_contents`,
    started on first use."""

    def __init__(self, pid_file: PidFile | None = None) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pid_file = pid_file

    def start(self) -> None:
        """Start the child now (it takes about a second to import), not on the first
        batch, whose documents would wait for it."""
        self._running_pool()

    def wrap(self, job: BatchToWrap) -> WrappedBatch:
        """:func:`wrap_and_sign` in the child; a dead child raises ``BrokenProcessPool``
        (the caller retries) and is replaced on the next call."""
        return self._in_child(wrap_and_sign, job)

    def store(self, job: ContentToStore) -> tuple[str, ...]:
        """:func:`store_contents` in the child (durable when it returns), as :meth:`wrap`."""
        return self._in_child(store_contents, job)

    def _in_child(self, function: Callable[[J], R], job: J) -> R:
        pool = self._running_pool()
        try:
            return pool.submit(function, job).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    def _running_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_exit_with_parent,
                    initargs=(os.getpid(),),
                )
                # the first task spawns the child, from this thread: with SIGINT blocked
                # here, the child starts with it blocked (masks are inherited)
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    child_pid = self._pool.submit(os.getpid)
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                child_pid.add_done_callback(self._record)
            return self._pool

    def _record(self, child_pid: Future[int]) -> None:
        if self._pid_file is not None and child_pid.exception() is None:
            self._pid_file.record(child_pid.result())

    def close(self) -> None:
        """Stop the child (it finishes the batch it is wrapping, if any)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            if self._pid_file is not None:
                self._pid_file.forget()

"""Accepting the API's documents off the event loop, committed in groups.

A document is on disk before the node answers 202 (``synchronous=FULL``), and that
sync is most of what storing a request costs: 2.5 ms of a 3.3 ms enqueue on these
machines. Done on the API's event loop it stalls every other request for that long (the
mixed-load bench: issue requests spent most of their time there while verifications
waited behind them).

:class:`GroupedAcceptance` hands each request's documents to one writer thread and
awaits the outcome. The writer takes every request waiting (up to ``max_requests``, or
``max_documents`` documents) and stores them with :meth:`Outbox.enqueue_many`: one
transaction, one sync, for all of them; while it syncs, the event loop serves others
and more requests queue up for the next group. Nothing changes for the client: each
request is answered once its own documents are committed, with its own receipts, or its
own refusal (a number already taken refuses that request only).

An idempotency key reserved for a request is released by the writer if the request is
refused, not by the request: a request whose client went away still ends as its
commit does, and a retry finds the stored answer or a free key, never both.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from node.issuing.outbox import Acceptance, NewDocument, Outbox, StoredResponse

_log = logging.getLogger("docex.node.acceptance")

#: requests stored in one transaction at most
MAX_REQUESTS: Final = 64
#: documents stored in one transaction at most (a request larger than this is alone)
MAX_DOCUMENTS: Final = 2_000


@dataclass(frozen=True, slots=True)
class _Waiting:
    request: Acceptance
    loop: asyncio.AbstractEventLoop
    outcome: asyncio.Future[StoredResponse]


class GroupedAcceptance:
    """The API's way to store accepted documents: one writer thread, group commits."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        max_requests: int = MAX_REQUESTS,
        max_documents: int = MAX_DOCUMENTS,
        clock: Callable[[], float] = time.time,
        on_group: Callable[[int], None] = lambda _requests: None,
    ) -> None:
        self._outbox = outbox
        self._max_requests = max_requests
        self._max_documents = max_documents
        self._clock = clock
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: told the number of requests of each transaction (the group-size metric)
        self._on_group = on_group

    async def enqueue(
        self,
        user_id: int,
        documents: Sequence[NewDocument],
        respond: Callable[[list[str]], StoredResponse],
        idempotency_key: str | None = None,
    ) -> StoredResponse:
        """Store ``documents`` as :meth:`Outbox.enqueue` does, in the writer's next group;
        raises the request's refusal (:class:`node.errors.DocumentNumberTaken`)."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[StoredResponse] = loop.create_future()
        request = Acceptance(user_id, documents, respond, idempotency_key, self._clock())
        try:
            self._start()
        except RuntimeError:
            if idempotency_key is not None:
                self._release(request)
            raise
        self._queue.put(_Waiting(request, loop, outcome))
        return await outcome

    def close(self) -> None:
        """Store what is waiting, then stop the writer (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()

    # --- the writer ----------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the node is stopping: no more documents are accepted")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="docex-acceptance", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, stopping = self._group(first)
            self._store(group)
            if stopping:
                return

    def _group(self, first: _Waiting) -> tuple[list[_Waiting], bool]:
        """``first`` and the requests waiting behind it, within the group's limits."""
        group = [first]
        documents = len(first.request.documents)
        while len(group) < self._max_requests and documents < self._max_documents:
            try:
                waiting = self._queue.get_nowait()
            except queue.Empty:
                break
            if waiting is None:
                return group, True
            group.append(waiting)
            documents += len(waiting.request.documents)
        return group, False

    def _store(self, group: list[_Waiting]) -> None:
        outcomes: Sequence[StoredResponse | BaseException]
        try:
            outcomes = self._outbox.enqueue_many([waiting.request for waiting in group])
        except Exception as error:  # the database failed (disk full, ...): all refused
            _log.exception("storing accepted documents failed")
            outcomes = [error] * len(group)
        self._on_group(len(group))
        for waiting, outcome in zip(group, outcomes, strict=True):
            request = waiting.request
            if isinstance(outcome, BaseException) and request.idempotency_key is not None:
                self._release(request)
            try:
                waiting.loop.call_soon_threadsafe(_settle, waiting.outcome, outcome)
            except RuntimeError:  # that event loop is closed: nobody waits for the answer
                continue

    def _release(self, request: Acceptance) -> None:
        assert request.idempotency_key is not None
        try:
            self._outbox.release_key(request.user_id, request.idempotency_key)
        except Exception:
            _log.exception("releasing an idempotency key failed")


def _settle(
    future: asyncio.Future[StoredResponse], outcome: StoredResponse | BaseException
) -> None:
    if future.done():  # the request was cancelled (its client went away)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

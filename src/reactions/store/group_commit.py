"""Group commit: one writer thread takes every queued item (a reader's tap, a view of the
reaction bar), writes them in one statement or transaction, and only then answers each
caller — so concurrent writes share a commit and nothing is acknowledged before it is
durable. A Store runs one writer for taps and one for views.

Callers are threads (Streamlit's script runs: `submit` blocks) or coroutines on the server's
event loop (the JSON API: `submit_async` awaits). The event loop needs no thread pool for a
tap: the writer wakes it once per batch rather than once per tap, which is what keeps the
API's cost per tap small (measured: thread hand-offs were a third of a request's CPU time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reactions.errors import ReactionsError
from reactions.store.tap_writer import SETTLE_SECONDS

_LOG = logging.getLogger(__name__)

# Items per batch: bounds the statement size and the wait of the last item in a batch.
MAX_BATCH = 500
# How long a batch may wait to fill up to the recent peak: long enough for concurrent API
# clients' taps to share a batch, short against a tap's own round trip (tuned with make bench).
LINGER_SECONDS = 0.002

ItemT = TypeVar("ItemT")
OutcomeT = TypeVar("OutcomeT")


@dataclass
class _Pending(Generic[ItemT, OutcomeT]):
    item: ItemT
    future: asyncio.Future[None] | None = None  # set for submit_async
    written: threading.Event | None = None  # set for submit
    outcome: OutcomeT | None = None
    error: BaseException | None = None

    def result(self) -> OutcomeT:
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


class GroupCommitWriter(Generic[ItemT, OutcomeT]):
    """Serializes every write of one kind through a single thread, in batches.

    `write_batch` writes a batch and returns per item its outcome or its own error; `idle`
    runs whenever the queue has been empty for SETTLE_SECONDS (taps settle their derived
    table then)."""

    def __init__(
        self,
        write_batch: Callable[[list[ItemT]], list[OutcomeT | ReactionsError]],
        idle: Callable[[], None],
        name: str,
    ) -> None:
        self._write_batch = write_batch
        self._idle = idle
        self._name = name
        self._cond = threading.Condition()
        self._queue: list[_Pending[ItemT, OutcomeT]] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self._recent_sizes: list[int] = []  # the last few batch sizes: how many write at once

    def submit(self, item: ItemT) -> OutcomeT:
        """Queue an item and block until the write that holds it has committed."""
        pending: _Pending[ItemT, OutcomeT] = _Pending(item, written=threading.Event())
        self._enqueue(pending)
        assert pending.written is not None
        pending.written.wait()
        return pending.result()

    async def submit_async(self, item: ItemT) -> OutcomeT:
        """Queue an item and await its commit without blocking the event loop."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending: _Pending[ItemT, OutcomeT] = _Pending(item, future=future)
        self._enqueue(pending)
        # A client that hangs up cancels this wait, not its write: the writer still writes it
        # and skips the cancelled future (see _resolve).
        await future
        return pending.result()

    def close(self) -> None:
        """Write what is queued and settle, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _enqueue(self, pending: _Pending[ItemT, OutcomeT]) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the store is closed")
            self._queue.append(pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._closed:
                    self._cond.wait(SETTLE_SECONDS)
                self._linger()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                if batch:
                    self._recent_sizes = [*self._recent_sizes[-7:], len(batch)]
                closed = self._closed
            if batch:
                self._write(batch)
                continue
            try:  # idle for SETTLE_SECONDS (or closing)
                self._idle()
            except Exception:
                _LOG.exception("%s: idle work failed", self._name)
            if closed:
                return

    def _linger(self) -> None:
        """With several callers about, wait briefly until as many items are queued as the recent
        peak. Callers answered together come back together; without this, 8 API clients
        settled into alternating batches of 4 that cost nearly as much each as one of 8."""
        target = min(max(self._recent_sizes, default=1), MAX_BATCH)
        if not self._queue or target <= 1:
            return
        deadline = time.monotonic() + LINGER_SECONDS
        while len(self._queue) < target and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _write(self, batch: list[_Pending[ItemT, OutcomeT]]) -> None:
        try:
            results: list[OutcomeT | BaseException] = list(
                self._write_batch([p.item for p in batch])
            )
        except BaseException as exc:  # the write failed: every item in it failed
            results = [exc] * len(batch)
        waiting: dict[asyncio.AbstractEventLoop, list[_Pending[ItemT, OutcomeT]]] = {}
        for pending, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                pending.error = result
            else:
                pending.outcome = result
            if pending.written is not None:
                pending.written.set()
            if pending.future is not None:
                waiting.setdefault(pending.future.get_loop(), []).append(pending)
        for loop, pendings in waiting.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(_resolve, pendings)


def _resolve(pendings: list[_Pending[ItemT, OutcomeT]]) -> None:
    for pending in pendings:
        if pending.future is not None and not pending.future.done():
            pending.future.set_result(None)

"""Reader taps: what one tap means, applying a batch of them in a fixed number of statements,
and group commit so concurrent taps share one transaction.

DuckDB costs about 0.5–1.7 ms per statement here whatever its size, so the cost of a tap is
the number of statements. A batch of any size runs: one validation query, BEGIN, one lookup
of the readers' current reactions, one multi-row event insert, one delete and one insert that
rewrite those readers' rows of the derived table, COMMIT.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from reactions.config import MAX_ID_LENGTH
from reactions.db import transaction
from reactions.errors import InvalidInput, ReactionsError, UnknownArticle, UnknownKind

EVENT_SOURCES = ("widget", "api", "synthetic", "import")
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "article_id",
    "reader_hash",
    "kind_id",
    "action",
    "source",
    "network_hash",
)
# Event ids are consecutive; assigned inside the write transaction, under the write lock.
NEXT_EVENT_ID = "SELECT coalesce(max(event_id), 0) + 1 AS next_id FROM reaction_events"
MAX_BATCH = 500  # taps per group-commit transaction: bounds statement size and latency
# How long a new leader may hold its batch open for concurrent taps to join. A batch costs
# ~5 ms of fixed statement overhead whatever its size, so filling it is worth ~1 ms.
LINGER_SECONDS = 0.0015


def utc_now() -> datetime:
    """Naive UTC: every TIMESTAMP column in the schema holds UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def validate_id(value: object, what: str) -> str:
    """Ids are non-empty text of at most MAX_ID_LENGTH characters with no control characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{what} is empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{what} is {len(value)} characters long; the limit is {MAX_ID_LENGTH}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput(f"{what} contains control characters")
    return value


@dataclass(frozen=True)
class Tap:
    """A reader tapping one reaction under one article."""

    article_id: str
    reader_id: str  # the raw client id or fingerprint; only its salted hash is stored
    kind: str
    source: str = "api"
    network: str | None = None  # raw network key (e.g. IP prefix); stored hashed
    at: datetime | None = None  # naive UTC; now when omitted

    def check_shape(self) -> None:
        validate_id(self.article_id, "article id")
        validate_id(self.reader_id, "reader id")
        if not isinstance(self.kind, str):
            raise InvalidInput(f"kind must be a string, not {type(self.kind).__name__}")
        if self.source not in EVENT_SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(EVENT_SOURCES)}")


@dataclass(frozen=True)
class TapOutcome:
    article_id: str
    reader_hash: str
    before: tuple[str, ...]  # the reader's kinds on this article before the tap
    after: tuple[str, ...]  # … and after it
    event_ids: tuple[int, ...] = ()

    @property
    def change(self) -> str:
        """'added', 'undone' or 'switched', as a reader would say it."""
        if not self.before or set(self.before) < set(self.after):
            return "added"
        if set(self.after) < set(self.before):
            return "undone"
        return "switched"


@dataclass
class WriterState:
    """Shared by every Store on one database file in this process: the write lock, and what
    the writer may keep in memory because it is the only writer (design rule 2) — enabled
    kinds, article ids, the next event id. `None` means "read it again from the database";
    the store resets a field whenever it changes what the field mirrors."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    kinds: list[str] | None = None
    articles: set[str] | None = None
    next_event_id: int | None = None

    def forget(self) -> None:
        self.kinds = self.articles = self.next_event_id = None

    def load(self, cur: duckdb.DuckDBPyConnection) -> None:
        if self.kinds is None:
            self.kinds = [
                r[0]
                for r in cur.execute(
                    "SELECT kind_id FROM reaction_kinds WHERE enabled ORDER BY position"
                ).fetchall()
            ]
        if self.articles is None:
            self.articles = {
                r[0] for r in cur.execute("SELECT article_id FROM articles").fetchall()
            }
        if self.next_event_id is None:
            self.next_event_id = int(cur.execute(NEXT_EVENT_ID).fetchall()[0][0])

    def error_for(self, tap: Tap) -> ReactionsError | None:
        assert self.kinds is not None and self.articles is not None
        if tap.kind not in self.kinds:
            return UnknownKind(
                f"unknown reaction kind {tap.kind[:40]!r}; use one of {', '.join(self.kinds)}"
            )
        if tap.article_id not in self.articles:
            return UnknownArticle(f"no article with id {tap.article_id[:80]!r}")
        return None


def changes_for(before: Sequence[str], kind: str, *, multiple: bool) -> list[tuple[str, str]]:
    """The (kind, action) events one tap produces, given the reader's current kinds."""
    if kind in before:  # the same kind again: undo it
        return [(kind, "remove")]
    if multiple:
        return [(kind, "add")]
    # a switch is the old kind's remove and the new kind's add, in one transaction
    return [*((old, "remove") for old in before), (kind, "add")]


def write_batch(
    cur: duckdb.DuckDBPyConnection,
    state: WriterState,
    taps: Sequence[Tap],
    *,
    multiple: bool,
    hash_reader: Callable[[str], str],
    all_or_nothing: bool = False,
) -> list[TapOutcome | ReactionsError]:
    """Check and write taps in order, in one transaction. The caller holds `state.lock`.

    Returns, per tap, its outcome or its error; with `all_or_nothing`, the first error is
    raised instead and nothing is written."""
    state.load(cur)
    errors: list[ReactionsError | None] = []
    for tap in taps:
        try:
            tap.check_shape()
            errors.append(state.error_for(tap))
        except ReactionsError as exc:
            errors.append(exc)
    first_error = next((e for e in errors if e is not None), None)
    if all_or_nothing and first_error is not None:
        raise first_error
    good = [t for t, e in zip(taps, errors, strict=True) if e is None]
    outcomes: list[TapOutcome] = []
    if good:
        try:
            with transaction(cur):
                outcomes = _apply(cur, state, good, multiple=multiple, hash_reader=hash_reader)
        except BaseException:
            state.forget()  # whatever the failure left behind, read it afresh next time
            raise
    done = iter(outcomes)
    return [e if e is not None else next(done) for e in errors]


def _apply(
    cur: duckdb.DuckDBPyConnection,
    state: WriterState,
    taps: Sequence[Tap],
    *,
    multiple: bool,
    hash_reader: Callable[[str], str],
) -> list[TapOutcome]:
    reader_hashes = [hash_reader(t.reader_id) for t in taps]
    readers = sorted(set(reader_hashes))
    # Every current row of the touched readers (all their articles): the derived table is
    # rewritten per reader, which keeps it to one delete and one insert.
    held: dict[tuple[str, str], dict[str, tuple[int, datetime]]] = {}
    # `IN (?, …)` rather than list_contains: only an IN list of values uses the reader index.
    in_readers = f"reader_hash IN ({', '.join('?' * len(readers))})"
    for article_id, reader_hash, kind_id, event_id, added_at in cur.execute(
        "SELECT article_id, reader_hash, kind_id, event_id, added_at FROM current_reactions "
        f"WHERE {in_readers} ORDER BY event_id",
        readers,
    ).fetchall():
        held.setdefault((article_id, reader_hash), {})[kind_id] = (event_id, added_at)
    had_rows = bool(held)

    assert state.next_event_id is not None
    next_id = state.next_event_id
    events: list[tuple[object, ...]] = []
    outcomes: list[TapOutcome] = []
    for tap, reader_hash in zip(taps, reader_hashes, strict=True):
        current = held.setdefault((tap.article_id, reader_hash), {})
        before = tuple(current)
        changes = changes_for(before, tap.kind, multiple=multiple)
        at = tap.at or utc_now()
        network = hash_reader(f"net:{tap.network}") if tap.network else None
        ids = tuple(range(next_id, next_id + len(changes)))
        next_id += len(changes)
        for event_id, (kind, action) in zip(ids, changes, strict=True):
            events.append(
                (event_id, at, tap.article_id, reader_hash, kind, action, tap.source, network)
            )
            if action == "add":
                current[kind] = (event_id, at)
            else:
                del current[kind]
        outcomes.append(TapOutcome(tap.article_id, reader_hash, before, tuple(current), ids))

    _insert_rows(cur, "reaction_events", EVENT_COLUMNS, events)
    if had_rows:
        cur.execute(f"DELETE FROM current_reactions WHERE {in_readers}", readers)
    _insert_rows(
        cur,
        "current_reactions",
        ("article_id", "reader_hash", "kind_id", "event_id", "added_at"),
        [(a, r, k, e, t) for (a, r), kinds in held.items() for k, (e, t) in kinds.items()],
    )
    state.next_event_id = next_id
    return outcomes


def _insert_rows(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
) -> None:
    """One multi-row INSERT with bound values (`table` and `columns` are ours, never input)."""
    if not rows:
        return
    placeholder = "(" + ", ".join("?" * len(columns)) + ")"
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        + ", ".join([placeholder] * len(rows)),
        [value for row in rows for value in row],
    )


@dataclass
class _Pending:
    tap: Tap
    outcome: TapOutcome | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    """Coalesces concurrent taps into shared transactions.

    The first waiting thread becomes the leader: it takes everything queued (up to MAX_BATCH),
    writes it in one transaction via `write_batch`, and wakes the others. A caller returns
    only after the commit that holds its tap, so nothing is acknowledged before it is durable.
    """

    def __init__(self, write_batch: Callable[[list[Tap]], list[TapOutcome | ReactionsError]]):
        self._write_batch = write_batch
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False
        self._recent_sizes: list[int] = []  # the last few batch sizes: how many write at once

    def submit(self, tap: Tap) -> TapOutcome:
        pending = _Pending(tap)
        with self._cond:
            self._queue.append(pending)
            self._cond.notify_all()  # a lingering leader may be waiting for this tap
        while True:
            with self._cond:
                while not pending.done and self._leading:
                    self._cond.wait()
                if pending.done:
                    return self._result(pending)
                self._leading = True  # lead: the queue holds this tap, maybe past MAX_BATCH
                self._linger()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self._recent_sizes = [*self._recent_sizes[-7:], len(batch)]
            self._write(batch)

    def _linger(self) -> None:
        """With concurrent writers about, wait briefly until as many taps are queued as the
        recent peak, so batches stay full instead of alternating between large and tiny."""
        target = min(max(self._recent_sizes, default=1), MAX_BATCH)
        if target <= 1:
            return
        deadline = time.monotonic() + LINGER_SECONDS
        while len(self._queue) < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            results = self._write_batch([p.tap for p in batch])
            for p, result in zip(batch, results, strict=True):
                if isinstance(result, ReactionsError):
                    p.error = result
                else:
                    p.outcome = result
        except BaseException as exc:  # the transaction failed: every tap in it failed
            for p in batch:
                p.error = exc
        finally:
            with self._cond:
                for p in batch:
                    p.done = True
                self._leading = False
                self._cond.notify_all()

    @staticmethod
    def _result(pending: _Pending) -> TapOutcome:
        if pending.error is not None:
            raise pending.error
        assert pending.outcome is not None
        return pending.outcome

"""Reader taps: what one tap means, and applying a batch of them (`group_commit` decides what
goes into a batch).

DuckDB 2.0 costs about 0.4–2 ms per statement here whatever its size (parsing and planning
dominate), so the cost of a tap is the number of statements in its batch. A batch writes one
statement: an appender flush of its events, which commits on its own — the event log is the
truth (design rule 3), so a tap is durable, and acknowledged, once its events are.

Everything else the writer needs it keeps in memory, as the only writer (design rule 2):
kinds, article ids, the next event id, each tapped article's counts, and the whole current
state of recently seen readers. A reader not in memory costs one lookup per batch.

The derived table `current_reactions` follows the log a little behind: `settle` writes the
rows of readers whose state changed ("dirty") in one transaction — when the writer is idle
for SETTLE_SECONDS, once SETTLE_AT readers are dirty, and before anyone reads through the
Store — and records the last event it reflects in `meta` (`current_reactions_through`). If
the process dies in between, `WriterState.load` replays the events after that mark.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from reactions.clock import utc_now
from reactions.config import MAX_ID_LENGTH
from reactions.errors import InvalidInput, ReactionsError, UnknownArticle, UnknownKind
from reactions.store.derived import (
    catch_up_current_reactions,
    compact_rollup,
    set_current_reactions_through,
)
from reactions.store.known_readers import KnownReaders
from reactions.store.sql import quarter_hour, transaction

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
CURRENT_COLUMNS = ("article_id", "reader_hash", "kind_id", "event_id", "added_at", "reader_no")
ROLLUP_COLUMNS = ("article_id", "kind_id", "bucket", "excluded", "reactions")
# Event ids are consecutive; assigned inside the write transaction, under the write lock.
NEXT_EVENT_ID = "SELECT coalesce(max(event_id), 0) + 1 AS next_id FROM reaction_events"
SETTLE_SECONDS = 0.2  # the derived table trails the event log by about this much at most…
SETTLE_AT = 2_000  # … or by this many readers, whichever comes first
READERS_KEPT = 50_000  # readers whose current state stays in memory (least recent dropped)
# A rollup is compacted (db.compact_rollup) once writes appended this many rows to it, and at
# least as many as it held after its last compaction: it never more than doubles, and the
# cost (0.3–1 s at 10M events) is spread over the writes that made it necessary.
COMPACT_AFTER = 100_000

# A reader's current state: article -> kind -> (event id of the add, its time).
ReaderState = dict[str, dict[str, tuple[int, datetime]]]


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
    # The article's current count per enabled kind (in display order) right after this tap,
    # from the writer's mirror: what the reaction bar shows, without reading the database.
    counts: dict[str, int] = field(default_factory=dict)

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
    the writer keeps in memory (see the module docstring). `None` (or a missing entry) means
    "read it from the database"; the store calls `forget` whenever it writes any other way
    (bulk appends, rebuilds) or a write fails."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    kinds: list[str] | None = None
    articles: dict[str, datetime] | None = None  # article id -> published_at (UTC)
    next_event_id: int | None = None
    counts: dict[str, dict[str, int]] | None = None
    readers: OrderedDict[str, ReaderState] = field(default_factory=OrderedDict)
    dirty: set[str] = field(default_factory=set)  # readers whose rows await `settle`
    known: KnownReaders | None = None  # loaded by the first lookup that needs it
    # Views already counted on one UTC day (views.py): the day, and a key per reader+article.
    viewed_day: date | None = None
    viewed_keys: set[int] = field(default_factory=set)
    # Rows writes appended to each rollup since it was last compacted (or since loading).
    appended: dict[str, int] = field(default_factory=dict)
    # Events integrity excludes (excluded_events): the rollup's `excluded` column. Scans and
    # decisions write outside the tap path, so forget() drops this with everything else.
    excluded: set[int] | None = None
    # Bumped by every forget() and compaction: a Store's TapTables and ViewTables from an older
    # generation are remade (a rebuild replaces the derived table their appenders point at).
    generation: int = 0

    def forget(self) -> None:
        """Drop everything; unsettled changes are replayed from the log by the next `load`."""
        self.kinds = self.articles = self.next_event_id = None
        self.counts = None
        self.readers = OrderedDict()
        self.dirty = set()
        self.known = None
        self.viewed_day, self.viewed_keys = None, set()
        self.appended = {}
        self.excluded = None
        self.generation += 1

    def excluded_events(self, cur: duckdb.DuckDBPyConnection) -> set[int]:
        if self.excluded is None:
            rows = cur.execute("SELECT event_id FROM excluded_events").fetchall()
            self.excluded = {int(r[0]) for r in rows}
        return self.excluded

    def grew(self, cur: duckdb.DuckDBPyConnection, table: str, rows: int) -> None:
        """Note `rows` appended to a rollup (after they committed), and compact it when they
        are due (COMPACT_AFTER). The caller holds the lock and uses no appender afterwards."""
        appended = self.appended.get(table, 0) + rows
        self.appended[table] = appended
        if appended < COMPACT_AFTER:
            return
        held = int(cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        if appended < held - appended:
            return
        try:
            with transaction(cur):
                compact_rollup(cur, table)
        except BaseException:
            self.forget()
            raise
        self.appended[table] = 0
        self.generation += 1  # the rollup is a new table: appenders are remade

    def article_counts(self, cur: duckdb.DuckDBPyConnection, article_id: str) -> dict[str, int]:
        """The article's live count per kind (every kind with a current reaction, enabled or
        not). Every article's counts are read in one query the first time (~0.1 s at 10M
        events; one scan per article cost 5–10 ms each), then kept by `_apply`. Nothing is
        dirty then: `counts` is None only after `forget`, and the first tap reads it."""
        if self.counts is None:
            self.counts = {}
            for article, kind, n in cur.execute(
                "SELECT article_id, kind_id, count(*) FROM current_reactions GROUP BY ALL"
            ).fetchall():
                self.counts.setdefault(article, {})[kind] = int(n)
        return self.counts.setdefault(article_id, {})

    def shown(self, counts: dict[str, int]) -> dict[str, int]:
        """A copy of an article's counts as the bar shows them: every enabled kind, in order."""
        return {kind: counts.get(kind, 0) for kind in self.kinds or ()}

    def load(self, cur: duckdb.DuckDBPyConnection) -> None:
        if self.kinds is None:
            self.kinds = [
                r[0]
                for r in cur.execute(
                    "SELECT kind_id FROM reaction_kinds WHERE enabled ORDER BY position"
                ).fetchall()
            ]
        if self.articles is None:
            self.articles = dict(
                cur.execute("SELECT article_id, published_at FROM articles").fetchall()
            )
        if self.next_event_id is None:
            next_id = int(cur.execute(NEXT_EVENT_ID).fetchall()[0][0])
            # Events the derived table does not reflect yet: a crash before a settle.
            catch_up_current_reactions(cur, through=next_id - 1)
            self.next_event_id = next_id

    def recall(self, cur: duckdb.DuckDBPyConnection, reader_hashes: Sequence[str]) -> None:
        """Bring these readers' current state into memory: one query for those not there
        who may have reactions; nothing at all for first-time readers."""
        # Not `set(...) - self.readers.keys()`: that copies every remembered reader.
        missing = {r for r in reader_hashes if r not in self.readers}
        lookup: list[str] = []
        if missing:
            if self.known is None:
                self.known = KnownReaders(cur)
            for reader in missing:
                self.readers[reader] = {}
            lookup = sorted(r for r in missing if r in self.known)
        if lookup:
            # `IN (?, …)` rather than list_contains: only an IN list uses the reader index.
            for article_id, reader_hash, kind_id, event_id, added_at in cur.execute(
                "SELECT article_id, reader_hash, kind_id, event_id, added_at "
                f"FROM current_reactions WHERE reader_hash IN ({', '.join('?' * len(lookup))}) "
                "ORDER BY event_id",
                lookup,
            ).fetchall():
                self.readers[reader_hash].setdefault(article_id, {})[kind_id] = (
                    event_id,
                    added_at,
                )
        for reader in reader_hashes:
            self.readers.move_to_end(reader)

    def error_for(self, tap: Tap) -> ReactionsError | None:
        assert self.kinds is not None and self.articles is not None
        if tap.kind not in self.kinds:
            return UnknownKind(
                f"unknown reaction kind {tap.kind[:40]!r}; use one of {', '.join(self.kinds)}"
            )
        if tap.article_id not in self.articles:
            return UnknownArticle(f"no article with id {tap.article_id[:80]!r}")
        return None


def _reader_no(articles: ReaderState) -> int:
    """The reader's number (db.READER_NO): the event id of its earliest standing reaction;
    0 for a reader with none (it then has no rows to number)."""
    return min(
        (event_id for kinds in articles.values() for event_id, _ in kinds.values()), default=0
    )


def changes_for(before: Sequence[str], kind: str, *, multiple: bool) -> list[tuple[str, str]]:
    """The (kind, action) events one tap produces, given the reader's current kinds."""
    if kind in before:  # the same kind again: undo it
        return [(kind, "remove")]
    if multiple:
        return [(kind, "add")]
    # a switch is the old kind's remove and the new kind's add, in one transaction
    return [*((old, "remove") for old in before), (kind, "add")]


class TapTables:
    """Where taps land: one cursor and an appender per table, made once per Store and
    generation (making an appender costs about what a statement does). Used only under the
    write lock."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, generation: int) -> None:
        self.cur = cur
        self.generation = generation
        self.events = cur.appender("reaction_events", columns=list(EVENT_COLUMNS))
        self.current = cur.appender("current_reactions", columns=list(CURRENT_COLUMNS))
        self.rollup = cur.appender("reaction_counts", columns=list(ROLLUP_COLUMNS))


def write_batch(
    tables: TapTables,
    state: WriterState,
    taps: Sequence[Tap],
    *,
    multiple: bool,
    hash_reader: Callable[[str], str],
    all_or_nothing: bool = False,
) -> list[TapOutcome | ReactionsError]:
    """Check and write taps in order, all in one statement. The caller holds `state.lock`.

    Returns, per tap, its outcome or its error; with `all_or_nothing`, the first error is
    raised instead and nothing is written."""
    state.load(tables.cur)
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
            outcomes = _apply(tables, state, good, multiple=multiple, hash_reader=hash_reader)
        except BaseException:
            tables.events.clear()  # rows a failed flush left buffered must not land later
            state.forget()  # memory may be ahead of the log: read it afresh next time
            raise
        if len(state.dirty) >= SETTLE_AT:
            settle(tables, state)
    done = iter(outcomes)
    return [e if e is not None else next(done) for e in errors]


def _apply(
    tables: TapTables,
    state: WriterState,
    taps: Sequence[Tap],
    *,
    multiple: bool,
    hash_reader: Callable[[str], str],
) -> list[TapOutcome]:
    cur = tables.cur
    reader_hashes = [hash_reader(t.reader_id) for t in taps]
    state.recall(cur, reader_hashes)
    assert state.next_event_id is not None
    next_id = state.next_event_id
    events: list[tuple[object, ...]] = []
    outcomes: list[TapOutcome] = []
    for tap, reader_hash in zip(taps, reader_hashes, strict=True):
        articles = state.readers[reader_hash]
        current = articles.setdefault(tap.article_id, {})
        counts = state.article_counts(cur, tap.article_id)
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
                counts[kind] = counts.get(kind, 0) + 1
            else:
                del current[kind]
                counts[kind] -= 1
        if not current:
            del articles[tap.article_id]
        state.dirty.add(reader_hash)
        if state.known is not None:
            state.known.add(reader_hash)
        outcomes.append(
            TapOutcome(
                tap.article_id, reader_hash, before, tuple(current), ids, state.shown(counts)
            )
        )
    # One statement, so atomic on its own; when it returns the taps are durable.
    tables.events.append_rows(events)
    tables.events.flush()
    state.next_event_id = next_id
    return outcomes


def settle(tables: TapTables, state: WriterState) -> None:
    """Write the dirty readers' current rows to the derived table, in one transaction, with
    the last event they reflect. The caller holds `state.lock`."""
    if not state.dirty:
        return
    assert state.next_event_id is not None
    readers = sorted(state.dirty)
    rows = [
        (article_id, reader, kind, event_id, added_at, reader_no)
        for reader in readers
        for reader_no in [_reader_no(state.readers[reader])]
        for article_id, kinds in state.readers[reader].items()
        for kind, (event_id, added_at) in kinds.items()
    ]
    cur = tables.cur
    excluded = state.excluded_events(cur)
    # The rollup's net change: each rewritten reader's old rows out, its new rows in. Most
    # of a reader's rows come back as they were, so a settle adds a few cells, not a row each.
    change: Counter[tuple[str, str, datetime, bool]] = Counter(
        (article_id, kind, quarter_hour(added_at), event_id in excluded)
        for article_id, _, kind, event_id, added_at, _ in rows
    )
    try:
        with transaction(cur):
            for start in range(0, len(readers), 1_000):  # bounded IN lists plan quickly
                chunk = readers[start : start + 1_000]
                for article_id, kind, event_id, added_at in cur.execute(
                    "DELETE FROM current_reactions "
                    f"WHERE reader_hash IN ({', '.join('?' * len(chunk))}) "
                    "RETURNING article_id, kind_id, event_id, added_at",
                    chunk,
                ).fetchall():
                    change[(article_id, kind, quarter_hour(added_at), event_id in excluded)] -= 1
            if rows:
                tables.current.append_rows(rows)
                tables.current.flush()
            cells = [(*cell, n) for cell, n in change.items() if n]
            if cells:
                tables.rollup.append_rows(cells)
                tables.rollup.flush()
            set_current_reactions_through(cur, state.next_event_id - 1)
    except BaseException:
        tables.current.clear()
        tables.rollup.clear()
        state.forget()  # the next load replays the log from the last settled event
        raise
    state.dirty.clear()
    state.grew(cur, "reaction_counts", len(cells))
    while len(state.readers) > READERS_KEPT:
        state.readers.popitem(last=False)

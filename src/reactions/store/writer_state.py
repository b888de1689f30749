"""What the only writer keeps in memory (design rule 2), by concern, and the lock it holds
while it writes. One `WriterState` per database file per process (store.py), shared by every
Store on that file. `None` (or a missing entry) means "read it from the database"; the store
calls `forget` whenever it writes any other way (bulk appends, rebuilds) or a write fails.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from reactions.errors import ReactionsError, UnknownArticle, UnknownKind
from reactions.store.derived import catch_up_current_reactions, compact_rollup
from reactions.store.known_readers import KnownReaders, KnownReadersLoad
from reactions.store.sql import transaction
from reactions.store.taps import Tap

# Event ids are consecutive; assigned inside the write transaction, under the write lock.
NEXT_EVENT_ID = "SELECT coalesce(max(event_id), 0) + 1 AS next_id FROM reaction_events"
# A rollup is compacted (derived.compact_rollup) once writes appended this many rows to it,
# and at least as many as it held after its last compaction: it never more than doubles, and
# its cost is spread over the writes that made it necessary.
COMPACT_AFTER = 100_000

# A reader's current state: article -> kind -> (event id of the add, its time).
ReaderState = dict[str, dict[str, tuple[int, datetime]]]


@dataclass
class TapMemory:
    """What deciding a tap needs without reading the database: the enabled kinds, the
    articles (with their publication time, which views need too), the next event id, each
    tapped article's live counts, and the whole current state of recently seen readers."""

    kinds: list[str] | None = None
    articles: dict[str, datetime] | None = None  # article id -> published_at (UTC)
    next_event_id: int | None = None
    counts: dict[str, dict[str, int]] | None = None
    # Each article's counts as the bar shows them, as of the last commit: replaced (never
    # changed) once a batch's events are durable, so readers take them without the lock and
    # never see a tap that is not committed yet.
    published: dict[str, dict[str, int]] = field(default_factory=dict)
    readers: OrderedDict[str, ReaderState] = field(default_factory=OrderedDict)
    dirty: set[str] = field(default_factory=set)  # readers whose rows await `settle`
    # Readers in memory known to have no rows in `current_reactions` (first-time readers,
    # mostly): their settle inserts without deleting first. At 100M reactions a DELETE's
    # index probes for readers who are not there cost the writer ~10 % of its taps.
    rowless: set[str] = field(default_factory=set)
    known: KnownReaders | None = None  # the filter, once `loading` has read it
    loading: KnownReadersLoad | None = None  # started by the first lookup that needs it

    def article_counts(self, cur: duckdb.DuckDBPyConnection, article_id: str) -> dict[str, int]:
        """The article's live count per kind (every kind with a current reaction, enabled or
        not). Every article's counts are read in one query the first time (a scan per article
        costs a scan each), then kept by the tap writer. Nothing is
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

    def publish(self, cur: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> None:
        """After a commit: these articles' counts are what the bar shows from now on."""
        for article_id in article_ids:
            self.published[article_id] = self.shown(self.article_counts(cur, article_id))

    def kinds_at_hand(self, article_id: str, reader_hash: str) -> list[str] | None:
        """The reader's kinds on the article from memory — their remembered state (which may
        hold a tap of theirs being committed this instant), or none at all if the known-
        readers filter says they never reacted — or None when only the database knows."""
        remembered = self.readers.get(reader_hash)
        if remembered is not None:
            return list(remembered.get(article_id, ()))
        if self.known is not None and reader_hash not in self.known:
            return []
        return None

    def known_readers(self, cur: duckdb.DuckDBPyConnection) -> KnownReaders | None:
        """The known-readers filter, or None while it loads in the background (the first call
        starts that, on a cursor of its own): meanwhile every reader not in memory is looked
        up, so no tap waits for a read of every reader. Under the lock."""
        if self.known is None:
            if self.loading is not None and self.loading.failed:
                self.stop_loading()
            if self.loading is None:
                self.loading = KnownReadersLoad(cur.cursor(), self.readers)
            self.known = self.loading.ready()
            if self.known is not None:
                self.stop_loading()
        return self.known

    def tapped(self, reader_hash: str) -> None:
        """The reader now has rows (or will, once settled): the filter must say so."""
        if self.known is not None:
            self.known.add(reader_hash)
        elif self.loading is not None:
            self.loading.add(reader_hash)

    def stop_loading(self) -> None:
        if self.loading is not None:
            self.loading.stop()
            self.loading = None

    def drop_live_counts(self) -> None:
        """Forget counts and readers (read again when next needed) but not kinds, articles
        or the next event id: for a replica whose events arrive from elsewhere (a filter
        loading now could miss their readers: it is loaded again)."""
        self.counts = None
        self.published = {}
        self.readers = OrderedDict()
        self.rowless = set()
        self.stop_loading()
        self.known = None

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
            known = self.known_readers(cur)
            for reader in missing:
                self.readers[reader] = {}
            lookup = sorted(r for r in missing if known is None or r in known)
            self.rowless.update(missing)  # until the lookup shows their rows
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
                self.rowless.discard(reader_hash)
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


@dataclass
class ViewedToday:
    """Which (reader, article) pairs had a view counted on one UTC day (bar_views.py): a key
    per pair, Python's own hash: tens of bytes each, so memory follows a day's readers."""

    day: date | None = None
    keys: set[int] = field(default_factory=set)

    def on(self, cur: duckdb.DuckDBPyConnection, day: date) -> set[int]:
        """The keys counted on `day`, from memory or, the first time the day is asked for,
        from the log."""
        if self.day != day:
            start = datetime(day.year, day.month, day.day)
            rows = cur.execute(
                "SELECT reader_hash, article_id FROM view_events "
                "WHERE viewed_at >= ? AND viewed_at < ?",
                [start, start + timedelta(days=1)],
            ).fetchall()
            self.keys = {hash(row) for row in rows}
            self.day = day
        return self.keys


@dataclass
class ExcludedEvents:
    """The events integrity excludes (the view excluded_events): the rollup's `excluded`
    column, as settles write it. Scans and decisions change it outside the tap path."""

    ids: set[int] | None = None

    def get(self, cur: duckdb.DuckDBPyConnection) -> set[int]:
        if self.ids is None:
            rows = cur.execute("SELECT event_id FROM excluded_events").fetchall()
            self.ids = {int(r[0]) for r in rows}
        return self.ids


@dataclass
class RollupGrowth:
    """Rows writes appended to each rollup since it was last compacted (or since loading)."""

    appended: dict[str, int] = field(default_factory=dict)

    def due(self, cur: duckdb.DuckDBPyConnection, table: str, rows: int) -> bool:
        """Note `rows` appended to `table`; whether it is due for compaction."""
        appended = self.appended.get(table, 0) + rows
        self.appended[table] = appended
        if appended < COMPACT_AFTER:
            return False
        held = int(cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        return appended >= held - appended


@dataclass
class WriterState:
    """The write lock and the writer's memory, by concern."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    taps: TapMemory = field(default_factory=TapMemory)
    viewed: ViewedToday = field(default_factory=ViewedToday)
    excluded: ExcludedEvents = field(default_factory=ExcludedEvents)
    growth: RollupGrowth = field(default_factory=RollupGrowth)
    # Bumped by every forget() and compaction: a Store's TapTables and ViewTables from an older
    # generation are remade (a rebuild replaces the derived table their appenders point at).
    generation: int = 0

    def forget(self) -> None:
        """Drop everything; unsettled changes are replayed from the log by the next `load`."""
        self.taps.stop_loading()
        self.taps = TapMemory()
        self.viewed = ViewedToday()
        self.excluded = ExcludedEvents()
        self.growth = RollupGrowth()
        self.generation += 1

    def load(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.taps.load(cur)

    def grew(self, cur: duckdb.DuckDBPyConnection, table: str, rows: int) -> None:
        """Note `rows` appended to a rollup (after they committed), and compact it when they
        are due. The caller holds the lock and uses no appender afterwards."""
        if not self.growth.due(cur, table, rows):
            return
        try:
            with transaction(cur):
                compact_rollup(cur, table)
        except BaseException:
            self.forget()
            raise
        self.growth.appended[table] = 0
        self.generation += 1  # the rollup is a new table: appenders are remade

"""The one writer of a database: its lock, its transactions, and the group-commit writers of
taps and views. Every other write — bulk loads (bulk.py), articles, kinds, tokens, integrity
flags and decisions — runs through `Store.writing()`.

Every write runs inside one transaction under a per-database lock, because Streamlit serves
each session on its own thread and DuckDB's optimistic concurrency would otherwise let two
taps of the same reader both see "no reaction yet" and both add one.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import duckdb

from reactions.errors import ReactionsError, UnknownArticle
from reactions.store.bar_views import (
    View,
    ViewOutcome,
    ViewTables,
    write_views,
)
from reactions.store.connection import connect
from reactions.store.group_commit import GroupCommitWriter
from reactions.store.sql import scalar, transaction
from reactions.store.tap_writer import TapTables, settle, write_batch
from reactions.store.taps import Tap, TapOutcome
from reactions.store.writer_state import ExcludedEvents, WriterState

if TYPE_CHECKING:
    from reactions.store.postgres.writes import PgRecord

T = TypeVar("T")
_APPEND_CHUNK = 1_000_000
# Reader and network hashes keep 72 bits: 12 base64url characters, which DuckDB stores inline
# (strings up to 12 bytes), so joins, group-bys and the reader index avoid heap strings.
# Collisions stay negligible: about 1e-8 for ten million readers.
IDENTITY_BYTES = 9


def identity_text(raw: bytes) -> str:
    """9 bytes -> 12 URL-safe characters (no padding)."""
    return base64.urlsafe_b64encode(raw).decode("ascii")


_STATES_GUARD = threading.Lock()
_WRITER_STATES: dict[str, WriterState] = {}


def _writer_state_for(path: str, con: duckdb.DuckDBPyConnection) -> WriterState:
    """One state (and lock) per database file per process: DuckDB hands every connection to
    the same file in a process the same database, so the lock must be shared the same way.
    Each in-memory database is its own."""
    key = f":memory:{id(con)}" if path == ":memory:" else str(Path(path).resolve())
    with _STATES_GUARD:
        return _WRITER_STATES.setdefault(key, WriterState())


@dataclass(frozen=True)
class BarCounts:
    counts: dict[str, int]  # every enabled kind, in display order
    mine: list[str]  # the reader's current kinds on the article


class WriteCursor(Protocol):
    """What portable writes use of a cursor (DuckDB's, or store.postgres's PgCursor)."""

    def execute(self, query: str, parameters: Sequence[Any] = ..., /) -> WriteCursor: ...

    def executemany(self, query: str, parameters: Sequence[Sequence[Any]], /) -> WriteCursor: ...

    def fetchall(self) -> list[Any]: ...


class Store:
    """Owns the write side of one database. Reads take `cursor()`."""

    # Whether this store's DuckDB file is a replica of PostgreSQL (store.postgres): then its
    # derived tables follow the replica's syncs, rate limits are counted there, and the
    # writes that are DuckDB-specific here go to `record` instead.
    replicated = False
    record: PgRecord | None = None

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, *, multiple: bool = False):
        self.con = con
        self.path = path
        self.multiple_reactions = multiple
        self._state = _writer_state_for(path, con)
        self._lock = self._state.lock
        self._writer: GroupCommitWriter[Tap, TapOutcome] = GroupCommitWriter(
            self._write_taps, self.settle, "tap-writer"
        )
        self._view_writer: GroupCommitWriter[View, ViewOutcome] = GroupCommitWriter(
            self._write_views, lambda: None, "view-writer"
        )
        self._view_tables: ViewTables | None = None  # made on the first view
        self._tables: TapTables | None = None  # made on the first write through them
        self._pepper: str = scalar(
            self.con.cursor(), "SELECT value FROM meta WHERE key = 'reader_pepper'"
        )
        with self._lock:  # the first Store of a process replays what a crash left unsettled
            self._state.load(self.con.cursor())

    @classmethod
    def open(cls, path: str | Path, *, multiple: bool = False) -> Store:
        return cls(connect(path), str(path), multiple=multiple)

    def close(self) -> None:
        self._writer.close()  # writes what is queued
        self._view_writer.close()
        self.settle()
        with self._lock:  # another process may write the file before it is opened here again
            self._state.forget()
        self.con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor for reading: DuckDB connections are not shareable across threads,
        cursors are. Settles first, so a read sees every tap acknowledged before it."""
        self.settle()
        return self.con.cursor()

    @contextmanager
    def only_one(self, job: str) -> Iterator[bool]:
        """Whether this process may run `job` now (held for the block): always here, where one
        process owns the file; several servers on PostgreSQL take turns (ClusterStore)."""
        yield True

    def sync_now(self) -> None:
        """Nothing to do: this file is the record (a replica of PostgreSQL syncs here)."""

    def settle(self) -> None:
        """Bring the derived table up to the event log now (see `taps`)."""
        if not self._state.taps.dirty:  # the common case costs no lock
            return
        with self._lock:
            settle(self._tap_tables(), self._state)

    def _tap_tables(self) -> TapTables:
        """This Store's cursor and appenders for taps; the caller holds the lock."""
        if self._tables is None or self._tables.generation != self._state.generation:
            self._tables = TapTables(self.con.cursor(), self._state.generation)
        return self._tables

    def _views_tables(self) -> ViewTables:
        """This Store's cursor and appenders for views; the caller holds the lock."""
        if self._view_tables is None or self._view_tables.generation != self._state.generation:
            self._view_tables = ViewTables(self.con.cursor(), self._state.generation)
        return self._view_tables

    def hash_reader(self, reader_id: str) -> str:
        digest = hashlib.sha256(f"{self._pepper}:{reader_id}".encode()).digest()
        return identity_text(digest[:IDENTITY_BYTES])

    # --- reader taps -----------------------------------------------------------------

    def record_reaction(
        self,
        article_id: str,
        reader_id: str,
        kind: str,
        *,
        source: str = "api",
        network: str | None = None,
        limits: tuple[tuple[str, int], ...] = (),
    ) -> TapOutcome:
        """One tap: add the kind, undo it if it is already the reader's, or switch to it.

        Safe from any number of threads: concurrent taps share a transaction (group commit)
        and this returns once the tap is committed. Raises the tap's own error, if any."""
        return self._writer.submit(Tap(article_id, reader_id, kind, source, network, limits=limits))

    async def record_reaction_async(
        self,
        article_id: str,
        reader_id: str,
        kind: str,
        *,
        source: str = "api",
        network: str | None = None,
        limits: tuple[tuple[str, int], ...] = (),
    ) -> TapOutcome:
        """`record_reaction` for the server's event loop: awaits the commit, blocks nothing."""
        tap = Tap(article_id, reader_id, kind, source, network, limits=limits)
        return await self._writer.submit_async(tap)

    def record_taps(self, taps: Sequence[Tap]) -> list[TapOutcome]:
        """Apply taps in order in one transaction; one bad tap rejects them all."""
        results = self._write_taps(list(taps), all_or_nothing=True)
        return [r for r in results if isinstance(r, TapOutcome)]

    def _write_taps(
        self, taps: list[Tap], *, all_or_nothing: bool = False
    ) -> list[TapOutcome | ReactionsError]:
        if not taps:
            return []
        with self._lock:
            return write_batch(
                self._tap_tables(),
                self._state,
                taps,
                multiple=self.multiple_reactions,
                hash_reader=self.hash_reader,
                all_or_nothing=all_or_nothing,
            )

    # --- views of the reaction bar ---------------------------------------------------

    def record_view(
        self,
        article_id: str,
        reader_id: str,
        *,
        source: str = "widget",
        network: str | None = None,
        limits: tuple[tuple[str, int], ...] = (),
    ) -> ViewOutcome:
        """The reaction bar was shown to this reader: counted unless it already was today
        (`.counted` says whether; with PostgreSQL the outcome also holds the bar it shows).
        Raises the view's own error, if any."""
        view = View(article_id, reader_id, source, network=network, limits=limits)
        return self._view_writer.submit(view)

    async def record_view_async(
        self,
        article_id: str,
        reader_id: str,
        *,
        source: str = "api",
        network: str | None = None,
        limits: tuple[tuple[str, int], ...] = (),
    ) -> ViewOutcome:
        """`record_view` for the server's event loop."""
        view = View(article_id, reader_id, source, network=network, limits=limits)
        return await self._view_writer.submit_async(view)

    def record_views(self, views: Sequence[View]) -> list[ViewOutcome]:
        """Write views in order in one transaction (tests and imports give their times);
        one bad view rejects them all."""
        results = self._write_views(list(views), all_or_nothing=True)
        return [r for r in results if isinstance(r, ViewOutcome)]

    def _write_views(
        self, views: list[View], *, all_or_nothing: bool = False
    ) -> list[ViewOutcome | ReactionsError]:
        if not views:
            return []
        with self._lock:
            try:
                return write_views(
                    self._views_tables(),
                    self._state,
                    views,
                    hash_reader=self.hash_reader,
                    all_or_nothing=all_or_nothing,
                )
            except duckdb.Error:  # the write failed: read what landed afresh next time
                self._state.forget()
                raise

    def bar_counts(self, article_id: str, reader_hash: str | None = None) -> BarCounts:
        """What an article's reaction bar needs (metrics.queries.bar_state makes its shape):
        every enabled kind's count as of the last commit, and the reader's kinds. From the
        writer's memory and without its lock, so a batch being written delays no reader;
        the database only for a reader who has reactions somewhere and is not in memory."""
        counts = self._published_counts(article_id)
        return BarCounts(counts, self._reader_kinds(article_id, reader_hash) if reader_hash else [])

    def bar_counts_at_hand(
        self, article_id: str, reader_hash: str | None = None
    ) -> BarCounts | None:
        """`bar_counts` when memory has all of it (it then costs microseconds and blocks
        nothing: the server's event loop may call it); None when it needs the database."""
        taps = self._state.taps
        counts = taps.published.get(article_id)
        if counts is None:
            return None
        mine = taps.kinds_at_hand(article_id, reader_hash) if reader_hash else []
        return None if mine is None else BarCounts(counts, mine)

    def _published_counts(self, article_id: str) -> dict[str, int]:
        taps = self._state.taps
        shown = taps.published.get(article_id)
        if shown is not None:
            return shown
        if taps.articles is not None and article_id not in taps.articles:
            raise UnknownArticle(f"no article with id {article_id[:80]!r}")
        cur = self.con.cursor()
        with self._lock:  # the article's first read since loading: its counts, published
            self._state.load(cur)
            taps = self._state.taps
            assert taps.articles is not None
            if article_id not in taps.articles:
                raise UnknownArticle(f"no article with id {article_id[:80]!r}")
            taps.publish(cur, [article_id])
            return taps.published[article_id]

    def _reader_kinds(self, article_id: str, reader_hash: str) -> list[str]:
        taps = self._state.taps
        mine = taps.kinds_at_hand(article_id, reader_hash)
        # The filter (most readers never reacted, and need no query) starts loading, or is
        # taken once loaded; while it loads, reads go to the database without the lock.
        loading = taps.loading
        if mine is None and taps.known is None and (loading is None or loading.wait(0)):
            with self._lock:
                taps = self._state.taps
                taps.known_readers(self.con)
            mine = taps.kinds_at_hand(article_id, reader_hash)
        if mine is not None:
            return mine
        # Not in memory, so not dirty: the derived table has this reader's state. By the
        # reader alone: with `AND article_id = ?` DuckDB skips the index and scans.
        rows = (
            self.con.cursor()
            .execute(
                "SELECT article_id, kind_id FROM current_reactions WHERE reader_hash = ?",
                [reader_hash],
            )
            .fetchall()
        )
        return [kind for article, kind in rows if article == article_id]

    @contextmanager
    def writing(self, *, flags_only: bool = False) -> Iterator[WriteCursor]:
        """The one way to write the system of record outside the tap and view paths (as
        datasette's `execute_write_fn`): a cursor in one transaction, all of it or none.
        Here that is the DuckDB file (`local_writing`); with PostgreSQL (ClusterStore) it is
        PostgreSQL. Portable SQL only: values bound with `?`."""
        with self.local_writing(flags_only=flags_only) as cur:
            yield cur

    @contextmanager
    def local_writing(
        self, *, flags_only: bool = False, in_transaction: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """This process's DuckDB file: the one write connection, under the write lock, in a
        transaction (unless `in_transaction` is False: an index is made after its table
        committed), with every acknowledged tap settled first. Afterwards the writer's memory
        is read afresh; `flags_only` says the change touched integrity flags and nothing the
        tap path keeps, so only the excluded events are."""
        with self._lock:
            cur = self.cursor()
            try:
                if in_transaction:
                    with transaction(cur):
                        yield cur
                else:
                    yield cur
            finally:
                if flags_only:
                    self._state.excluded = ExcludedEvents()
                else:
                    self._state.forget()

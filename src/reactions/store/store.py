"""The write path, and the only code that writes: reader taps, bulk event appends, articles.

Every write runs inside one transaction under a per-database lock, because Streamlit serves
each session on its own thread and DuckDB's optimistic concurrency would otherwise let two
taps of the same reader both see "no reaction yet" and both add one.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from reactions.clock import utc_now
from reactions.errors import InvalidInput, ReactionsError, UnknownArticle, UnknownKind
from reactions.metrics.queries import bar_state
from reactions.store.bar_views import (
    SYNTHETIC_VIEW_COLUMNS,
    View,
    ViewOutcome,
    ViewTables,
    write_views,
)
from reactions.store.db import (
    connect,
    index_current_reactions,
    insert_arrow,
    rebuild_current_reactions,
    rebuild_view_counts,
    scalar,
    transaction,
)
from reactions.store.group_commit import GroupCommitWriter
from reactions.store.kinds import DEFAULT_COLOR, KindChange, check_change, check_id
from reactions.store.taps import (
    EVENT_COLUMNS,
    NEXT_EVENT_ID,
    Tap,
    TapOutcome,
    TapTables,
    WriterState,
    settle,
    write_batch,
)
from reactions.web.tokens import NewToken, check_name, new_token

T = TypeVar("T")
_APPEND_CHUNK = 1_000_000
# Reader and network hashes keep 72 bits: 12 base64url characters, which DuckDB stores inline
# (strings up to 12 bytes), so joins, group-bys and the reader index avoid heap strings.
# Collisions stay negligible: about 1e-8 for ten million readers.
IDENTITY_BYTES = 9


def identity_text(raw: bytes) -> str:
    """9 bytes -> 12 URL-safe characters (no padding)."""
    return base64.urlsafe_b64encode(raw).decode("ascii")


ARTICLE_COLUMNS = (
    "article_id",
    "title",
    "dek",
    "body",
    "url",
    "topic",
    "tags",
    "author",
    "dateline",
    "published_at",
    "updated_at",
    "origin",
)

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
class UpsertReport:
    added: int
    updated: int


class Store:
    """Owns the write side of one database. Reads take `cursor()` and go to `queries`."""

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

    def settle(self) -> None:
        """Bring the derived table up to the event log now (see `taps`)."""
        if not self._state.dirty:  # the common case costs no lock
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
    ) -> TapOutcome:
        """One tap: add the kind, undo it if it is already the reader's, or switch to it.

        Safe from any number of threads: concurrent taps share a transaction (group commit)
        and this returns once the tap is committed. Raises the tap's own error, if any."""
        return self._writer.submit(Tap(article_id, reader_id, kind, source, network))

    async def record_reaction_async(
        self,
        article_id: str,
        reader_id: str,
        kind: str,
        *,
        source: str = "api",
        network: str | None = None,
    ) -> TapOutcome:
        """`record_reaction` for the server's event loop: awaits the commit, blocks nothing."""
        return await self._writer.submit_async(Tap(article_id, reader_id, kind, source, network))

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
    ) -> bool:
        """The reaction bar was shown to this reader: counted unless it already was today
        (returns whether it was). Raises the view's own error, if any."""
        view = View(article_id, reader_id, source, network=network)
        return self._view_writer.submit(view).counted

    async def record_view_async(
        self,
        article_id: str,
        reader_id: str,
        *,
        source: str = "api",
        network: str | None = None,
    ) -> ViewOutcome:
        """`record_view` for the server's event loop."""
        view = View(article_id, reader_id, source, network=network)
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

    def reaction_bar(self, article_id: str, reader_hash: str | None = None) -> dict[str, Any]:
        """What an article's reaction bar shows (`queries.bar_state`), from the writer's memory
        where it can: the article's counts always, the reader's reaction if recently seen."""
        cur = self.con.cursor()
        state = self._state
        with self._lock:
            state.load(cur)
            assert state.articles is not None
            if article_id not in state.articles:
                raise UnknownArticle(f"no article with id {article_id[:80]!r}")
            counts = state.shown(state.article_counts(cur, article_id))
            remembered = state.readers.get(reader_hash) if reader_hash else None
            mine = list(remembered.get(article_id, {})) if remembered is not None else None
        if mine is None and reader_hash is not None:
            # Not in memory, so not dirty: the derived table has this reader's state. By the
            # reader alone: with `AND article_id = ?` DuckDB skips the index (11 ms, not 0.7).
            mine = [
                kind
                for article, kind in cur.execute(
                    "SELECT article_id, kind_id FROM current_reactions WHERE reader_hash = ?",
                    [reader_hash],
                ).fetchall()
                if article == article_id
            ]
        return bar_state(article_id, counts, mine or [])

    # --- bulk ------------------------------------------------------------------------

    def append_events(
        self,
        events: pd.DataFrame,
        labels: pd.Series | None = None,
        *,
        rebuild: bool = True,
        progress: Callable[[float], None] | None = None,
    ) -> range:
        """Append generated or imported events in one transaction, in the frame's row order.

        `events` has every column of EVENT_COLUMNS except `event_id`, which is assigned here
        (consecutive, after the newest event). `labels` (same index, NULL for most rows) marks
        planted anomalies in synthetic data. Returns the assigned event id range.

        The events must already be a consistent log (no remove without a prior add); the
        current-reactions table is rebuilt from the whole log afterwards unless `rebuild` is
        False (the caller then calls `rebuild_derived`).
        """
        expected = [c for c in EVENT_COLUMNS if c != "event_id"]
        missing = [c for c in expected if c not in events.columns]
        if missing:
            raise InvalidInput(f"events are missing columns: {', '.join(missing)}")
        with self._writing() as cur:
            start: int = scalar(cur, NEXT_EVENT_ID)
            table = pa.Table.from_pandas(events[expected], preserve_index=False)
            table = table.add_column(
                0, "event_id", pa.array(np.arange(start, start + len(events), dtype=np.int64))
            )
            # Chunks inside the one transaction: progress to report, still all-or-nothing.
            for offset in range(0, max(len(table), 1), _APPEND_CHUNK):
                insert_arrow(cur, "reaction_events", table.slice(offset, _APPEND_CHUNK))
                if progress:
                    progress(min(offset + _APPEND_CHUNK, len(table)) / max(len(table), 1) * 0.8)
            if labels is not None:
                marked = pd.DataFrame(
                    {"event_id": np.arange(start, start + len(labels)), "label": labels}
                ).dropna()
                insert_arrow(
                    cur, "synthetic_labels", pa.Table.from_pandas(marked, preserve_index=False)
                )
            if rebuild:
                rebuild_current_reactions(cur)
        if rebuild:
            self._index_derived()
        if progress:
            progress(1.0)
        return range(start, start + len(events))

    def append_views(
        self,
        queries: Sequence[tuple[str, Sequence[object]]],
        *,
        progress: Callable[[float], None] | None = None,
    ) -> int:
        """Append the view rows each query selects (columns as `SYNTHETIC_VIEW_COLUMNS`; the
        synthetic generator makes tens of millions this way, inside DuckDB), then rebuild
        their rollup — all in one transaction. Returns how many rows were appended."""
        columns = ", ".join(SYNTHETIC_VIEW_COLUMNS)
        with self._writing() as cur:
            before = int(scalar(cur, "SELECT count(*) FROM view_events"))
            for done, (select_sql, params) in enumerate(queries, start=1):
                cur.execute(f"INSERT INTO view_events ({columns}) {select_sql}", list(params))
                if progress:
                    progress(done / len(queries) * 0.9)
            rebuild_view_counts(cur)
            added = int(scalar(cur, "SELECT count(*) FROM view_events")) - before
        if progress:
            progress(1.0)
        return added

    def rebuild_derived(self) -> None:
        """Recompute every derived table from the event logs."""
        with self._writing() as cur:
            rebuild_current_reactions(cur)
            rebuild_view_counts(cur)
        self._index_derived()

    def _index_derived(self) -> None:
        with self._lock:
            index_current_reactions(self.cursor())

    # --- articles --------------------------------------------------------------------

    def upsert_articles(self, articles: pd.DataFrame) -> UpsertReport:
        """Insert new articles and replace the fields of existing ones, by article_id."""
        if articles.empty:
            return UpsertReport(0, 0)
        unknown = set(articles.columns) - set(ARTICLE_COLUMNS)
        if unknown or "article_id" not in articles.columns:
            raise InvalidInput(
                f"article columns must come from {', '.join(ARTICLE_COLUMNS)} and include "
                f"article_id (got {', '.join(sorted(map(str, unknown))) or 'no article_id'})"
            )
        with self._writing() as cur:
            cur.register("incoming_articles", articles)
            try:
                existing: int = scalar(
                    cur,
                    "SELECT count(*) FROM articles WHERE article_id IN "
                    "(SELECT article_id FROM incoming_articles)",
                )
                moved = "published_at" in articles.columns and scalar(
                    cur,
                    "SELECT count(*) FROM incoming_articles i JOIN articles a USING (article_id) "
                    "WHERE i.published_at IS DISTINCT FROM a.published_at",
                )
                columns = ", ".join(articles.columns)
                cur.execute(
                    f"INSERT OR REPLACE INTO articles ({columns}) "
                    f"SELECT {columns} FROM incoming_articles"
                )
                if moved:  # the views' hours since publication moved with it
                    rebuild_view_counts(cur)
            finally:
                cur.unregister("incoming_articles")
        return UpsertReport(added=len(articles) - existing, updated=existing)

    # --- reaction kinds --------------------------------------------------------------

    def set_kind_enabled(self, kind: str, enabled: bool) -> None:
        """Enable or disable a kind. A disabled kind keeps its past events; new taps of it
        are refused."""
        with self._writing() as cur:
            found = cur.execute(
                "UPDATE reaction_kinds SET enabled = ? WHERE kind_id = ? RETURNING kind_id",
                [enabled, kind],
            ).fetchall()
            if not found:
                raise UnknownKind(f"unknown reaction kind {kind[:40]!r}")

    # --- API tokens ------------------------------------------------------------------

    def create_token(self, name: str) -> NewToken:
        """A new export token; the plain token is in the result and nowhere else."""
        token = new_token()
        with self._writing() as cur:
            cur.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, NULL)",
                [token.token_id, check_name(name), token.sha256, utc_now()],
            )
        return token

    def revoke_token(self, token_id: str) -> None:
        with self._writing() as cur:
            found = cur.execute(
                "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE token_id = ? "
                "RETURNING token_id",
                [utc_now(), token_id],
            ).fetchall()
            if not found:
                raise InvalidInput(
                    f"no token with id {token_id[:40]!r} (see `reactions token list`)"
                )

    def add_kind(self, kind_id: str, change: KindChange) -> None:
        """A new kind at the end of the bar. Label, emoji and sentiment are required."""
        check_id(kind_id)
        change = check_change(change)
        if change.label is None or change.emoji is None or change.sentiment is None:
            raise InvalidInput("a new kind needs a label, an emoji and a sentiment")
        with self._writing() as cur:
            if cur.execute("SELECT 1 FROM reaction_kinds WHERE kind_id = ?", [kind_id]).fetchall():
                raise InvalidInput(f"kind {kind_id!r} exists; edit it, or enable it again")
            cur.execute(
                "INSERT INTO reaction_kinds (kind_id, label, emoji, sentiment, position, enabled,"
                " color) SELECT ?, ?, ?, ?, coalesce(max(position), -1) + 1, TRUE, ? "
                "FROM reaction_kinds",
                [
                    kind_id,
                    change.label,
                    change.emoji,
                    change.sentiment,
                    change.color or DEFAULT_COLOR,
                ],
            )

    def edit_kind(self, kind_id: str, change: KindChange) -> None:
        """Relabel, re-emoji, re-score or recolour a kind; its id and history stay."""
        change = check_change(change)
        with self._writing() as cur:
            found = cur.execute(
                "UPDATE reaction_kinds SET label = coalesce(?, label), emoji = coalesce(?, emoji), "
                "sentiment = coalesce(?, sentiment), color = coalesce(?, color) "
                "WHERE kind_id = ? RETURNING kind_id",
                [change.label, change.emoji, change.sentiment, change.color, kind_id],
            ).fetchall()
            if not found:
                raise UnknownKind(f"unknown reaction kind {kind_id[:40]!r}")

    def move_kind(self, kind_id: str, position: int) -> None:
        """Put a kind at `position` (0 = first) in the bar and on every chart."""
        with self._writing() as cur:
            order = [
                r[0]
                for r in cur.execute(
                    "SELECT kind_id FROM reaction_kinds ORDER BY position"
                ).fetchall()
            ]
            if kind_id not in order:
                raise UnknownKind(f"unknown reaction kind {kind_id[:40]!r}")
            if not 0 <= position < len(order):
                raise InvalidInput(f"position must be 0–{len(order) - 1}")
            order.remove(kind_id)
            order.insert(position, kind_id)
            cur.executemany(
                "UPDATE reaction_kinds SET position = ? WHERE kind_id = ?",
                [(i, k) for i, k in enumerate(order)],
            )

    def write(
        self, change: Callable[[duckdb.DuckDBPyConnection], T], *, flags_only: bool = False
    ) -> T:
        """Run `change` on the one write connection, under the write lock, in a transaction,
        with every acknowledged tap settled first — the one way to write outside the tap and
        view paths (datasette's `execute_write_fn`). Afterwards the writer's memory is read
        afresh; `flags_only` says the change touched integrity flags and nothing the tap
        path keeps, so only the excluded events are."""
        with self._lock:
            cur = self.cursor()
            try:
                with transaction(cur):
                    return change(cur)
            finally:
                if flags_only:
                    self._state.excluded = None
                else:
                    self._state.forget()

    @contextmanager
    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Lock, cursor and transaction for a write outside the tap path; afterwards the
        in-memory mirror of kinds, articles and event ids is read afresh."""
        with self._lock:
            cur = self.cursor()
            try:
                with transaction(cur):
                    yield cur
            finally:
                self._state.forget()

"""The write path, and the only code that writes: reader taps, bulk event appends, articles.

Every write runs inside one transaction under a per-database lock, because Streamlit serves
each session on its own thread and DuckDB's optimistic concurrency would otherwise let two
taps of the same reader both see "no reaction yet" and both add one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from reactions.config import MAX_ID_LENGTH
from reactions.db import connect, rebuild_current_reactions, scalar, transaction
from reactions.errors import InvalidInput, UnknownArticle, UnknownKind

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
_NEXT_EVENT_ID = "SELECT coalesce(max(event_id), 0) + 1 FROM reaction_events"

_LOCKS_GUARD = threading.Lock()
_WRITE_LOCKS: dict[str, threading.RLock] = {}


def _write_lock_for(path: str) -> threading.RLock:
    """One lock per database file per process: DuckDB hands every connection to the same
    file in a process the same database, so the lock must be shared the same way."""
    key = path if path == ":memory:" else str(Path(path).resolve())
    with _LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


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


@dataclass(frozen=True)
class TapOutcome:
    article_id: str
    reader_hash: str
    before: tuple[str, ...]  # the reader's kinds on this article before the tap
    after: tuple[str, ...]  # … and after it
    event_ids: tuple[int, ...] = field(default=())

    @property
    def change(self) -> str:
        """'added', 'undone' or 'switched', as a reader would say it."""
        if not self.before:
            return "added"
        if not self.after or set(self.after) < set(self.before):
            return "undone"
        if set(self.before) < set(self.after):
            return "added"
        return "switched"


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
        self._lock = _write_lock_for(path)
        self._pepper: str = scalar(self.cursor(), "SELECT value FROM meta WHERE key = 'reader_pepper'")

    @classmethod
    def open(cls, path: str | Path, *, multiple: bool = False) -> Store:
        return cls(connect(path), str(path), multiple=multiple)

    def close(self) -> None:
        self.con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor: DuckDB connections are not shareable across threads, cursors are."""
        return self.con.cursor()

    def hash_reader(self, reader_id: str) -> str:
        digest = hashlib.sha256(f"{self._pepper}:{reader_id}".encode()).hexdigest()
        return digest[:32]

    # --- reader taps -----------------------------------------------------------------

    def record_reaction(
        self, article_id: str, reader_id: str, kind: str, *, source: str = "api"
    ) -> TapOutcome:
        """One tap: add the kind, undo it if it is already the reader's, or switch to it."""
        return self.record_taps([Tap(article_id, reader_id, kind, source=source)])[0]

    def record_taps(self, taps: Sequence[Tap]) -> list[TapOutcome]:
        """Apply taps in order, in one transaction: all are durable when this returns.

        Every tap is validated before anything is written; one bad tap rejects the batch.
        """
        if not taps:
            return []
        for tap in taps:
            validate_id(tap.article_id, "article id")
            validate_id(tap.reader_id, "reader id")
            if tap.source not in EVENT_SOURCES:
                raise InvalidInput(f"source must be one of {', '.join(EVENT_SOURCES)}")
        with self._lock:
            cur = self.cursor()
            self._check_targets(cur, taps)
            with transaction(cur):
                return self._apply_taps(cur, taps)

    def _check_targets(self, cur: duckdb.DuckDBPyConnection, taps: Sequence[Tap]) -> None:
        enabled = {
            row[0]
            for row in cur.execute("SELECT kind_id FROM reaction_kinds WHERE enabled").fetchall()
        }
        for tap in taps:
            if tap.kind not in enabled:
                raise UnknownKind(
                    f"unknown reaction kind {tap.kind[:40]!r}; "
                    f"use one of {', '.join(sorted(enabled))}"
                )
        article_ids = sorted({tap.article_id for tap in taps})
        found = {
            row[0]
            for row in cur.execute(
                "SELECT article_id FROM articles WHERE list_contains(?, article_id)",
                [article_ids],
            ).fetchall()
        }
        missing = [a for a in article_ids if a not in found]
        if missing:
            raise UnknownArticle(f"no article with id {missing[0][:80]!r}")

    def _apply_taps(self, cur: duckdb.DuckDBPyConnection, taps: Sequence[Tap]) -> list[TapOutcome]:
        hashes = [self.hash_reader(tap.reader_id) for tap in taps]
        pairs = sorted({(tap.article_id, h) for tap, h in zip(taps, hashes, strict=True)})
        state: dict[tuple[str, str], list[str]] = {pair: [] for pair in pairs}
        for article_id, reader_hash, kind_id in cur.execute(
            """
            SELECT article_id, reader_hash, kind_id FROM current_reactions
            WHERE list_contains(?, reader_hash) ORDER BY event_id
            """,
            [sorted({h for _, h in pairs})],
        ).fetchall():
            if (article_id, reader_hash) in state:
                state[(article_id, reader_hash)].append(kind_id)

        next_id: int = scalar(cur, _NEXT_EVENT_ID)
        events: list[tuple[object, ...]] = []
        outcomes: list[TapOutcome] = []
        for tap, reader_hash in zip(taps, hashes, strict=True):
            key = (tap.article_id, reader_hash)
            before = tuple(state[key])
            changes = self._changes_for(before, tap.kind)
            after = [k for k in before if (k, "remove") not in changes]
            if (tap.kind, "add") in changes:
                after.append(tap.kind)
            state[key] = after
            at = tap.at or utc_now()
            network = self.hash_reader(f"net:{tap.network}") if tap.network else None
            ids = tuple(range(next_id, next_id + len(changes)))
            next_id += len(changes)
            events.extend(
                (event_id, at, tap.article_id, reader_hash, kind, action, tap.source, network)
                for event_id, (kind, action) in zip(ids, changes, strict=True)
            )
            outcomes.append(TapOutcome(tap.article_id, reader_hash, before, tuple(after), ids))

        cur.executemany(
            f"INSERT INTO reaction_events ({', '.join(EVENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
            events,
        )
        self._replace_current(cur, state, events)
        return outcomes

    def _changes_for(self, before: tuple[str, ...], kind: str) -> list[tuple[str, str]]:
        """The (kind, action) events one tap produces, given the reader's current kinds."""
        if kind in before:  # the same kind again: undo it
            return [(kind, "remove")]
        if self.multiple_reactions:
            return [(kind, "add")]
        # a switch is the old kind's remove and the new kind's add, in one transaction
        return [*((old, "remove") for old in before), (kind, "add")]

    def _replace_current(
        self,
        cur: duckdb.DuckDBPyConnection,
        state: dict[tuple[str, str], list[str]],
        events: list[tuple[object, ...]],
    ) -> None:
        """Write the touched readers' current reactions (the derived table) from `state`."""
        add_ids = {(e[2], e[3], e[4]): e[0] for e in events if e[5] == "add"}
        for (article_id, reader_hash), kinds in state.items():
            existing = {
                row[0]: row[1]
                for row in cur.execute(
                    "SELECT kind_id, event_id FROM current_reactions "
                    "WHERE reader_hash = ? AND article_id = ?",
                    [reader_hash, article_id],
                ).fetchall()
            }
            if set(existing) == set(kinds):
                continue
            cur.execute(
                "DELETE FROM current_reactions WHERE reader_hash = ? AND article_id = ?",
                [reader_hash, article_id],
            )
            for kind in kinds:
                event_id = existing.get(kind) or add_ids[(article_id, reader_hash, kind)]
                cur.execute(
                    "INSERT INTO current_reactions VALUES (?, ?, ?, ?)",
                    [article_id, reader_hash, kind, event_id],
                )

    # --- bulk ------------------------------------------------------------------------

    def append_events(
        self,
        events: pd.DataFrame,
        labels: pd.Series | None = None,
        *,
        rebuild: bool = True,
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
        with self._lock:
            cur = self.cursor()
            with transaction(cur):
                start: int = scalar(cur, _NEXT_EVENT_ID)
                batch = pa.Table.from_pandas(events[expected], preserve_index=False)
                batch = batch.add_column(
                    0, "event_id", pa.array(np.arange(start, start + len(events), dtype=np.int64))
                )
                _insert_arrow(cur, "reaction_events", batch)
                if labels is not None:
                    marked = pd.DataFrame(
                        {"event_id": np.arange(start, start + len(labels)), "label": labels}
                    ).dropna()
                    _insert_arrow(
                        cur, "synthetic_labels", pa.Table.from_pandas(marked, preserve_index=False)
                    )
                if rebuild:
                    rebuild_current_reactions(cur)
        return range(start, start + len(events))

    def rebuild_derived(self) -> None:
        """Recompute every derived table from the event log."""
        with self._lock:
            cur = self.cursor()
            with transaction(cur):
                rebuild_current_reactions(cur)

    # --- articles --------------------------------------------------------------------

    def upsert_articles(self, articles: pd.DataFrame) -> UpsertReport:
        """Insert new articles and replace the fields of existing ones, by article_id."""
        if articles.empty:
            return UpsertReport(0, 0)
        with self._lock:
            cur = self.cursor()
            with transaction(cur):
                cur.register("incoming_articles", articles)
                try:
                    existing: int = scalar(
                        cur,
                        "SELECT count(*) FROM articles WHERE article_id IN "
                        "(SELECT article_id FROM incoming_articles)",
                    )
                    columns = ", ".join(articles.columns)
                    cur.execute(
                        f"INSERT OR REPLACE INTO articles ({columns}) "
                        f"SELECT {columns} FROM incoming_articles"
                    )
                finally:
                    cur.unregister("incoming_articles")
        return UpsertReport(added=len(articles) - existing, updated=existing)

    def article_ids(self) -> set[str]:
        return {row[0] for row in self.cursor().execute("SELECT article_id FROM articles").fetchall()}


def _insert_arrow(cur: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    """INSERT every row of an Arrow table, columns matched by name. `table` is one of ours."""
    cur.register("_incoming", data)
    try:
        columns = ", ".join(f'"{name}"' for name in data.column_names)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        cur.unregister("_incoming")

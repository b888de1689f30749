"""`ClusterStore`: a Store whose system of record is PostgreSQL, shared by any number of
servers, and whose DuckDB file is this process's replica of it.

- Taps and views go through the same group-commit writers as embedded, each batch one call of
  `apply_taps` / `apply_views` in PostgreSQL (writer.py): acknowledged once committed there.
- Every other write (`writing()`: kinds, tokens, decisions; and articles, flags and bulk
  loads through `record`) is a PostgreSQL transaction; the replica syncs right after, so the
  writer reads its own write.
- A thread syncs the replica every SYNC_SECONDS (replica.py); reads — pages, exports, the
  CLI — take `cursor()` on the replica as ever. When PostgreSQL is unreachable the replica
  keeps serving what it has (`as_of` says since when) and writes answer `StoreUnavailable`;
  both resume on their own when it is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import psycopg

from reactions.errors import ReactionsError, StoreUnavailable, UnknownArticle
from reactions.store.bar_views import View, ViewOutcome
from reactions.store.connection import connect
from reactions.store.postgres.connection import PgCursor, connect_pg, unavailable
from reactions.store.postgres.replica import Synced, sync
from reactions.store.postgres.writer import PgWriter
from reactions.store.postgres.writes import PgRecord
from reactions.store.store import BarCounts, Store, WriteCursor
from reactions.store.taps import Tap, TapOutcome

log = logging.getLogger(__name__)

SYNC_SECONDS = 0.5  # a tap on any server is in every replica within about this, plus a sync


class ClusterStore(Store):
    replicated = True

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: str,
        url: str,
        *,
        multiple: bool = False,
        background_sync: bool = True,
    ) -> None:
        self.url = url
        self.pg = PgRecord(connect_pg(url))
        self.record = self.pg
        self.synced: Synced | None = None
        self.sync_problem: str | None = None
        # The enabled kinds, in order: read again after a sync copies them.
        self._kinds: list[str] | None = None
        # Before the Store reads its pepper: the installation's secrets come from PostgreSQL.
        self.synced = sync(con.cursor(), self.pg.con)
        super().__init__(con, path, multiple=multiple)
        self._taps_pg = PgWriter(url)
        self._views_pg = PgWriter(url)
        self._stop = threading.Event()
        self._syncer: threading.Thread | None = None
        if background_sync:
            self._syncer = threading.Thread(
                target=self._sync_loop, name="replica-sync", daemon=True
            )
            self._syncer.start()

    @classmethod
    def open_cluster(
        cls, path: str | Path, url: str, *, multiple: bool = False, background_sync: bool = True
    ) -> ClusterStore:
        return cls(
            connect(path), str(path), url, multiple=multiple, background_sync=background_sync
        )

    def close(self) -> None:
        self._stop.set()
        if self._syncer is not None:
            self._syncer.join(timeout=30)
        super().close()
        self._taps_pg.close()
        self._views_pg.close()
        self.pg.con.close()

    # --- the replica ---------------------------------------------------------------------

    @property
    def as_of(self) -> datetime | None:
        """When the replica last read PostgreSQL (the clock's time)."""
        return self.synced.at if self.synced else None

    def sync_now(self) -> None:
        """Bring the replica up to PostgreSQL now (the sync thread does it every
        SYNC_SECONDS). Raises StoreUnavailable when PostgreSQL cannot be read."""
        with self._lock:  # the replica's one writer
            try:
                with self.pg.lock:
                    if self.pg.con.closed:
                        self.pg.con = connect_pg(self.url, migrate=False)
                    synced = sync(self.con.cursor(), self.pg.con)
            except psycopg.OperationalError as exc:
                self.pg.con.close()
                raise unavailable(exc) from None
            if synced.tables:
                self._state.forget()  # kinds or articles may have changed
                self._kinds = None
            else:
                if synced.events:
                    # The bar's fallback while PostgreSQL is away reads the replica's memory
                    # of counts and readers: other servers' taps just made it stale.
                    self._state.taps.drop_live_counts()
                if synced.rollup_cells:
                    self._state.grew(self.con.cursor(), "reaction_counts", synced.rollup_cells)
            self.synced = synced

    @contextmanager
    def only_one(self, job: str) -> Iterator[bool]:
        """A PostgreSQL advisory lock on its own connection: one server at a time runs `job`
        (the others skip their turn); released when the block ends or the server dies."""
        try:
            con = connect_pg(self.url, migrate=False)
        except StoreUnavailable:
            yield False
            return
        key = [f"reactions:{job}"]
        held = False
        try:
            row = con.execute("SELECT pg_try_advisory_lock(hashtext(%s))", key).fetchone()
            held = bool(row and row[0])
            yield held
        finally:
            # Unlocked at once: closing alone frees the lock only once PostgreSQL notices,
            # and the next server to ask could be told it is still held.
            try:
                if held:
                    con.execute("SELECT pg_advisory_unlock(hashtext(%s))", key)
            except psycopg.Error:
                pass  # the connection is gone, and the lock with it
            con.close()

    def _sync_loop(self) -> None:
        while not self._stop.wait(SYNC_SECONDS):
            try:
                self.sync_now()
                self.sync_problem = None
            except StoreUnavailable as exc:
                if self.sync_problem is None:
                    log.warning("replica sync paused: %s", exc)
                self.sync_problem = str(exc)
            except Exception:  # the next round tries again; the server keeps serving
                log.exception("replica sync failed")

    # --- writes --------------------------------------------------------------------------

    def _write_taps(
        self, taps: list[Tap], *, all_or_nothing: bool = False
    ) -> list[TapOutcome | ReactionsError]:
        if not taps:
            return []
        return self._taps_pg.taps(
            taps,
            multiple=self.multiple_reactions,
            all_or_nothing=all_or_nothing,
            hash_reader=self.hash_reader,
            kinds=self._enabled_kinds,
        )

    def _write_views(
        self, views: list[View], *, all_or_nothing: bool = False
    ) -> list[ViewOutcome | ReactionsError]:
        if not views:
            return []
        return self._views_pg.views(
            views,
            hash_reader=self.hash_reader,
            kinds=self._enabled_kinds,
            all_or_nothing=all_or_nothing,
        )

    def _enabled_kinds(self) -> list[str]:
        """The bar's kinds, from the replica once per change (a query per tap was the API's
        bottleneck)."""
        kinds = self._kinds
        if kinds is None:
            rows = self.con.cursor().execute(
                "SELECT kind_id FROM reaction_kinds WHERE enabled ORDER BY position"
            )
            kinds = self._kinds = [r[0] for r in rows.fetchall()]
        return kinds

    @contextmanager
    def writing(self, *, flags_only: bool = False) -> Iterator[WriteCursor]:
        """A PostgreSQL transaction for the store's portable writes; the replica syncs after."""
        with self.pg.transaction() as cur:
            yield PgCursor(cur)
        self.sync_now()

    def bar_counts_at_hand(
        self, article_id: str, reader_hash: str | None = None
    ) -> BarCounts | None:
        return None  # every server's taps are in PostgreSQL, not in this one's memory

    def bar_counts(self, article_id: str, reader_hash: str | None = None) -> BarCounts:
        """From PostgreSQL, where every server's taps are; from the replica while it is
        unreachable (the bar still shows, a little behind)."""
        try:
            with self.pg.transaction() as cur:
                cur.execute("SELECT 1 FROM articles WHERE article_id = %s", [article_id])
                if cur.fetchone() is None:
                    raise UnknownArticle(f"no article with id {article_id[:80]!r}")
                cur.execute(
                    "SELECT kind_id, reactions FROM article_counts WHERE article_id = %s",
                    [article_id],
                )
                counts = dict(cur.fetchall())
                mine: list[str] = []
                if reader_hash is not None:
                    cur.execute(
                        "SELECT kind_id FROM current_reactions WHERE reader_hash = %s "
                        "AND article_id = %s ORDER BY event_id",
                        [reader_hash, article_id],
                    )
                    mine = [r[0] for r in cur.fetchall()]
        except StoreUnavailable:
            return super().bar_counts(article_id, reader_hash)
        return BarCounts({k: int(counts.get(k, 0)) for k in self._enabled_kinds()}, mine)

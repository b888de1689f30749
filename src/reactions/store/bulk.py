"""Bulk writes: generated or imported events and views in one transaction each, and rebuilding
every derived table from the logs. Through `Store.write`, so they take the one write lock."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from reactions.errors import InvalidInput
from reactions.store.bar_views import SYNTHETIC_VIEW_COLUMNS
from reactions.store.derived import (
    index_current_reactions,
    rebuild_current_reactions,
    rebuild_view_counts,
)
from reactions.store.sql import insert_arrow, scalar
from reactions.store.store import Store
from reactions.store.taps import EVENT_COLUMNS
from reactions.store.writer_state import NEXT_EVENT_ID

_APPEND_CHUNK = 1_000_000


def append_events(
    store: Store,
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
    if store.record is not None:  # PostgreSQL, by COPY; the replica pulls them
        added = store.record.append_events(events[expected], labels)
        store.sync_now()
        if progress:
            progress(1.0)
        return added
    with store.local_writing() as cur:
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
        index_derived(store)
    if progress:
        progress(1.0)
    return range(start, start + len(events))


def append_views(
    store: Store,
    queries: Sequence[tuple[str, Sequence[object]]],
    *,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Append the view rows each query selects (columns as `SYNTHETIC_VIEW_COLUMNS`; the
    synthetic generator makes tens of millions this way, inside DuckDB), then rebuild
    their rollup — all in one transaction. Returns how many rows were appended."""
    if store.record is not None:  # made from the replica's events, copied into PostgreSQL
        added = store.record.append_views(store.cursor(), queries)
        store.sync_now()
        if progress:
            progress(1.0)
        return added
    columns = ", ".join(SYNTHETIC_VIEW_COLUMNS)
    with store.local_writing() as cur:
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


def rebuild_derived(store: Store) -> None:
    """Recompute every derived table from the event logs (of this process's file: with
    PostgreSQL, its replica)."""
    with store.local_writing() as cur:
        rebuild_current_reactions(cur)
        rebuild_view_counts(cur)
    index_derived(store)


def index_derived(store: Store) -> None:
    """The reader index of `current_reactions`, made after its rebuild has committed."""
    with store.local_writing(in_transaction=False) as cur:
        index_current_reactions(cur)

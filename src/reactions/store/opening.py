"""Which store a process opens: the DuckDB file alone (the default, one process owns it), or —
with a PostgreSQL URL — that file as this process's replica of PostgreSQL (store.postgres)."""

from __future__ import annotations

from reactions.config import Settings
from reactions.store.store import Store


def open_store(settings: Settings, *, background_sync: bool = True) -> Store:
    if settings.database_url:
        from reactions.store.postgres.cluster import ClusterStore

        return ClusterStore.open_cluster(
            settings.db_path,
            settings.database_url,
            multiple=settings.multiple_reactions,
            background_sync=background_sync,
        )
    return Store.open(settings.db_path, multiple=settings.multiple_reactions)

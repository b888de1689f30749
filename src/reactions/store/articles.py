"""Articles: inserted or updated by id (imports, the demo), through `Store.writing`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reactions.errors import InvalidInput
from reactions.store.derived import rebuild_view_counts
from reactions.store.sql import scalar
from reactions.store.store import Store

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


@dataclass(frozen=True)
class UpsertReport:
    added: int
    updated: int


def upsert_articles(store: Store, articles: pd.DataFrame) -> UpsertReport:
    """Insert new articles and replace the fields of existing ones, by article_id."""
    if articles.empty:
        return UpsertReport(0, 0)
    unknown = set(articles.columns) - set(ARTICLE_COLUMNS)
    if unknown or "article_id" not in articles.columns:
        raise InvalidInput(
            f"article columns must come from {', '.join(ARTICLE_COLUMNS)} and include "
            f"article_id (got {', '.join(sorted(map(str, unknown))) or 'no article_id'})"
        )
    if store.record is not None:  # PostgreSQL; the replica follows
        added, updated = store.record.upsert_articles(articles)
        store.sync_now()
        return UpsertReport(added, updated)
    with store.local_writing() as cur:
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

"""What an article's reaction bar shows — the API's answer and the reader page's bar: the
writer's live counts (Store.bar_counts) in the shape DESIGN.md gives (metrics.queries)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from reactions.metrics.queries import bar_state
from reactions.store.bar_views import ViewOutcome
from reactions.store.store import Store


def reaction_bar(store: Store, article_id: str, reader_hash: str | None = None) -> dict[str, Any]:
    live = store.bar_counts(article_id, reader_hash)
    return bar_state(article_id, live.counts, live.mine)


async def reaction_bar_async(
    store: Store, article_id: str, reader_hash: str | None = None
) -> dict[str, Any]:
    """`reaction_bar` for the server's event loop: straight from memory when it holds the
    answer, else on a worker thread (the database, or PostgreSQL, blocks)."""
    live = store.bar_counts_at_hand(article_id, reader_hash)
    if live is None:
        live = await run_in_threadpool(store.bar_counts, article_id, reader_hash)
    return bar_state(article_id, live.counts, live.mine)


def bar_of_view(outcome: ViewOutcome) -> dict[str, Any] | None:
    """The bar a view's outcome carries (PostgreSQL decides the view and reads the counts in
    one call), or None: then `reaction_bar` has it from the store's memory."""
    if outcome.counts is None:
        return None
    return bar_state(outcome.article_id, outcome.counts, outcome.mine)

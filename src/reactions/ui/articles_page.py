"""Articles: every article with its current reaction counts and true shares."""

from __future__ import annotations

from typing import Any

import streamlit as st

from reactions.queries import article_counts, reaction_kinds
from reactions.ui.resources import get_store


def render() -> None:
    st.title("Articles")
    cur = get_store().cursor()
    kinds = reaction_kinds(cur, enabled_only=False)
    table = article_counts(cur)
    if table.empty:
        st.info("No articles yet. Run `reactions demo` or `reactions import-articles FILE`.")
        return
    total = int(table["total"].sum())
    left, middle, right = st.columns(3)
    left.metric("Articles", f"{len(table):,}")
    middle.metric("Current reactions", f"{total:,}")
    right.metric("Articles with reactions", f"{int((table['total'] > 0).sum()):,}")
    columns: dict[str, Any] = {
        "title": st.column_config.TextColumn("Title", width="large"),
        "topic": "Topic",
        "author": "Author",
        "published_at": st.column_config.DatetimeColumn(
            "Published (UTC)", format="YYYY-MM-DD HH:mm"
        ),
        "total": st.column_config.NumberColumn("Total", format="%d"),
    }
    for kind_id, emoji, label in zip(
        kinds["kind_id"].tolist(), kinds["emoji"].tolist(), kinds["label"].tolist(), strict=True
    ):
        columns[kind_id] = st.column_config.NumberColumn(f"{emoji} {label}", format="%d")
    st.dataframe(
        table[list(columns)],
        column_config=columns,
        hide_index=True,
        height=600,
    )
    st.caption(
        "Counts are readers' current reactions, recomputed from the event log: adds minus removes."
    )

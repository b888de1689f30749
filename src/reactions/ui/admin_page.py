"""Admin: the reaction set (add, relabel, reorder, disable — history stays) and the export
API's tokens (create, shown once; revoke)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from reactions.errors import ReactionsError
from reactions.metrics.queries import reaction_kinds
from reactions.store.kinds import (
    DEFAULT_COLOR,
    KindChange,
    add_kind,
    edit_kind,
    move_kind,
    set_kind_enabled,
)
from reactions.store.store import Store
from reactions.ui import data
from reactions.ui.resources import get_store
from reactions.web.tokens import create_token, list_tokens, revoke_token

SENTIMENTS = {1: "positive (+1)", 0: "neutral (0)", -1: "negative (−1)"}


def render() -> None:
    st.title("Admin")
    store = get_store()
    if "admin_notice" in st.session_state:
        st.success(st.session_state.pop("admin_notice"))
    reaction_set(store)
    st.divider()
    tokens(store)


def _apply(action: Callable[[], None], notice: str) -> None:
    """Run a change; on success reload every cached figure, on failure say why."""
    try:
        action()
    except ReactionsError as exc:
        st.error(str(exc))
        return
    data.forget()
    st.session_state.admin_notice = notice
    st.rerun()


def reaction_set(store: Store) -> None:
    st.subheader("Reaction set")
    st.caption(
        "Kinds are shown in this order on the bar and every chart. A kind's id is permanent; "
        "disable a kind to stop offering it — its past reactions stay in history and exports."
    )
    kinds = reaction_kinds(store.cursor(), enabled_only=False).set_index("kind_id")
    shown = kinds[["emoji", "label", "sentiment", "color", "enabled"]]
    edited = st.data_editor(
        shown,
        key="kinds_editor",
        disabled=["kind_id"],
        column_config={
            "sentiment": st.column_config.SelectboxColumn("sentiment", options=[-1, 0, 1]),
            "color": st.column_config.TextColumn("colour", help="#rrggbb"),
        },
    )
    if st.button("Save changes", key="kinds_save"):
        _apply(lambda: _save(store, shown, edited), "Reaction set saved.")

    left, right = st.columns(2)
    with left.form("kind_move"):
        kind = st.selectbox("Move", list(kinds.index), key="move_kind")
        position = st.number_input("to position (0 = first)", 0, len(kinds) - 1, key="move_to")
        if st.form_submit_button("Move"):
            _apply(lambda: move_kind(store, str(kind), int(position)), f"Moved {kind}.")
    with right.form("kind_add"):
        kind_id = st.text_input("New kind id", key="add_id", placeholder="shocked")
        label = st.text_input("Label", key="add_label", placeholder="Shocked")
        emoji = st.text_input("Emoji", key="add_emoji", placeholder="😱")
        sentiment: int = st.selectbox(
            "Sentiment", [1, 0, -1], format_func=lambda v: SENTIMENTS[v], key="add_sentiment"
        )
        color = st.color_picker("Colour", DEFAULT_COLOR, key="add_color")
        if st.form_submit_button("Add kind"):
            change = KindChange(label, emoji, sentiment, color)
            _apply(lambda: add_kind(store, kind_id.strip(), change), f"Added {kind_id}.")


def _save(store: Store, before: pd.DataFrame, after: pd.DataFrame) -> None:
    for kind_id in before.index:
        old, new = before.loc[kind_id], after.loc[kind_id]
        change = KindChange(
            label=str(new["label"]) if new["label"] != old["label"] else None,
            emoji=str(new["emoji"]) if new["emoji"] != old["emoji"] else None,
            sentiment=int(new["sentiment"]) if new["sentiment"] != old["sentiment"] else None,
            color=str(new["color"]) if new["color"] != old["color"] else None,
        )
        if change != KindChange():
            edit_kind(store, str(kind_id), change)
        if bool(new["enabled"]) != bool(old["enabled"]):
            set_kind_enabled(store, str(kind_id), bool(new["enabled"]))


def tokens(store: Store) -> None:
    st.subheader("Export API tokens")
    if "new_token" in st.session_state:
        st.warning("Copy this token now; it is stored only as a hash and cannot be shown again.")
        st.code(st.session_state.pop("new_token"), language=None)
    table = list_tokens(store.cursor())
    if table.empty:
        st.caption("No tokens yet.")
    else:
        st.dataframe(table, hide_index=True)
    left, right = st.columns(2)
    with left.form("token_create"):
        name = st.text_input("Name", key="token_name", placeholder="newsroom BI")
        if st.form_submit_button("Create token"):
            try:
                created = create_token(store, name)
            except ReactionsError as exc:
                st.error(str(exc))
            else:
                st.session_state.new_token = created.token
                st.rerun()
    active = table[table["revoked_at"].isna()]["token_id"].tolist() if not table.empty else []
    with right.form("token_revoke"):
        token_id = st.selectbox("Revoke", active, key="token_revoke_id")
        if st.form_submit_button("Revoke", disabled=not active) and token_id:
            _apply(lambda: revoke_token(store, str(token_id)), f"Revoked {token_id}.")

"""The reader page: `/?article=<id>` shows the article as readers see it, then "What's Your
Reaction?" with each kind's count and true share. Tap to react, tap again to undo, tap another
to switch; your reaction is highlighted and survives a reload (same browser, same day).
`&embed=true` shows only the reaction bar, for an iframe under an article (with
`&article_toggle=true`, a toggle that shows the article too)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from reactions.config import Settings
from reactions.errors import ReactionsError
from reactions.metrics import article_detail
from reactions.metrics.queries import reaction_kinds
from reactions.store.bar_views import ViewOutcome
from reactions.store.store import Store
from reactions.ui import data
from reactions.ui.format import local
from reactions.ui.resources import get_store
from reactions.web import reaction_bar as bar
from reactions.web.identity import client_address, network_identity, reader_identity
from reactions.web.limits import is_bot


def render() -> None:
    article_id = st.query_params.get("article", "")
    # Streamlit keeps `embed` for itself (it hides the app chrome) and reports it here only.
    embed = bool(st.context.is_embedded)
    store = get_store()
    info = article_detail.article(store.cursor(), article_id) if article_id else None
    if info is None:
        st.error(
            "We couldn't find this article. The link may be wrong or the story removed."
            if article_id
            else "No article was named in the link (?article=…)."
        )
        return
    tz = st.context.timezone or "UTC"
    # The embed sits under the host's own article: the bar only, unless the host asks for a
    # way to show the story too (`&article_toggle=true`).
    offered = st.query_params.get("article_toggle") == "true"
    if not embed or (offered and st.toggle("Show the article", key="show_article")):
        article(info, tz)
    viewed = _count_view(store, info["article_id"])
    reaction_bar(store, info["article_id"], bar.bar_of_view(viewed) if viewed else None)


def _count_view(store: Store, article_id: str) -> ViewOutcome | None:
    """The bar is shown: one view, the denominator of the reaction rate. Once per session
    and article (reruns after a tap are the same view; the store also counts a reader once
    a day), and never for a crawler. Its outcome may carry the bar (as the API's does)."""
    seen = st.session_state.setdefault("viewed_articles", set())
    agent = st.context.headers.get("User-Agent")
    if article_id in seen or is_bot(agent if isinstance(agent, str) else None):
        return None
    try:
        outcome = store.record_view(article_id, _identity(), source="widget", network=_network())
    except ReactionsError:
        return None  # a lost view must not disturb the reader
    seen.add(article_id)
    return outcome


def article(info: dict[str, Any], tz: str) -> None:
    st.title(info["title"])
    if info["dek"]:
        st.markdown(info["dek"])
    published, updated = local(info["published_at"], tz), local(info["updated_at"], tz)
    stamps = [f"{published:%b %d, %Y - %H:%M}" if published is not None else ""]
    if updated is not None:
        stamps.append(f"Updated {updated:%b %d, %Y - %H:%M}")
    st.caption(" · ".join(s for s in [*stamps, info["author"]] if s))
    # The body is text/markdown: imported HTML was reduced to text on the way in, and
    # st.markdown without unsafe_allow_html shows any leftover tag as text.
    st.markdown(info["body"])


def _client() -> str | None:
    """The reader's address, through trusted proxies. Only real strings count (outside a
    server, e.g. under AppTest, the context can hold placeholders)."""
    ip = st.context.ip_address
    forwarded = st.context.headers.get("X-Forwarded-For")
    return client_address(
        ip if isinstance(ip, str) else None,
        forwarded if isinstance(forwarded, str) else None,
        Settings.load().trusted_proxies,
    )


def _identity() -> str:
    """The cookieless identity: network address and browser, rotating daily."""
    agent = st.context.headers.get("User-Agent")
    return reader_identity(None, _client(), agent if isinstance(agent, str) else None)


def _network() -> str | None:
    return network_identity(_client())


def _tap(store: Store, article_id: str, kind: str) -> None:
    try:
        store.record_reaction(article_id, _identity(), kind, source="widget", network=_network())
    except ReactionsError as exc:
        st.session_state.reader_error = str(exc)
        return
    data.forget()  # the dashboard shows the tap on its next refresh, not after the cache


def reaction_bar(store: Store, article_id: str, state: dict[str, Any] | None = None) -> None:
    """The bar: `state` if the view's outcome brought it, else from the store."""
    st.subheader("What's Your Reaction?")
    cur = store.cursor()
    state = state or bar.reaction_bar(store, article_id, store.hash_reader(_identity()))
    kinds = reaction_kinds(cur)
    columns = st.columns(len(kinds))
    for column, kind, emoji, label in zip(
        columns, kinds["kind_id"], kinds["emoji"], kinds["label"], strict=True
    ):
        count = state["counts"][kind]
        share = f"{state['shares'][kind]:.0%}" if state["total"] else "–"
        mine = state["your_reaction"] == kind
        column.button(
            f"{emoji} {label} · {count:,} · {share}",
            key=f"react_{kind}",
            type="primary" if mine else "secondary",
            width="stretch",
            on_click=_tap,
            args=(store, article_id, kind),
            help="Your reaction — tap again to undo" if mine else f"React {label.lower()}",
        )
    if "reader_error" in st.session_state:
        st.error(st.session_state.pop("reader_error"))
    st.caption(f"{state['total']:,} reactions · percentages are shares of all reactions here")

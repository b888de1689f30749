"""Integrity: what the scan flagged as bot-like, raw against cleaned counts, the burst on a
timeline, its events, and the editor's decision (kept in the exclusion log)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from reactions.config import Settings
from reactions.errors import ReactionsError
from reactions.exports.writer import file_name
from reactions.jobs.integrity_scans import scan
from reactions.metrics import article_detail
from reactions.metrics.integrity_reports import (
    activity_around,
    exclusion_log,
    flag_events,
    flags_with_status,
)
from reactions.store import integrity_flags
from reactions.ui import charts, data
from reactions.ui.context import PageContext, page_context, page_header
from reactions.ui.downloads import table_button
from reactions.ui.format import local_column
from reactions.ui.resources import get_store


def render() -> None:
    ctx = page_context()
    page_header("Integrity", ctx)
    store = get_store()
    if "integrity_notice" in st.session_state:
        st.success(st.session_state.pop("integrity_notice"))
    if st.button("Scan the log now", key="integrity_scan"):
        flags = scan(store)
        data.forget()
        st.session_state.integrity_notice = f"Scan done: {len(flags)} flags."
        st.rerun()
    flags = flags_with_status(ctx.cur)
    if flags.empty:
        st.info(
            "Nothing flagged. Scans look for toggle storms, hyperactive readers and bursts "
            "from one network; run one with the button above or `reactions integrity scan`."
        )
        return
    excluded = flags[flags["status"] != "dismissed"]["events"].sum()
    st.caption(
        f"{len(flags)} flags covering {flags['events'].sum():,} events; "
        f"{excluded:,} of them are left out of every page and export while "
        "“Exclude flagged events” is on (dismissed flags count again)."
    )
    st.dataframe(
        flags[["flag_id", "severity", "status", "title", "reason", "events"]],
        hide_index=True,
        column_config={
            "title": st.column_config.TextColumn("article", width="medium"),
            "reason": st.column_config.TextColumn("reason", width="large"),
        },
    )
    table_button(
        "Exclusion log (CSV)",
        lambda: exclusion_log(get_store().cursor()),
        file_name("exclusion-log", ctx.filters, "csv"),
        key="download_exclusion_log",
    )
    by_id = flags.set_index("flag_id")
    chosen = st.selectbox(
        "Look at a flag",
        by_id.index.tolist(),
        format_func=lambda f: f"{f} — {by_id.loc[f, 'reason'][:90]}",
        key="integrity_flag",
    )
    flag: pd.Series = by_id.loc[str(chosen)]  # type: ignore[assignment]
    detail(ctx, str(chosen), flag)
    decide(str(chosen))


def detail(ctx: PageContext, flag_id: str, flag: pd.Series) -> None:
    st.markdown(f"**{flag['reason']}**")
    st.caption(
        f"Severity {flag['severity']} · status {flag['status']}"
        + (f" by {flag['decided_by']}: “{flag['why']}”" if flag["status"] != "undecided" else "")
    )
    article_id = flag["article_id"]
    if isinstance(article_id, str):
        raw = replace(ctx.filters, exclude_flagged=False)
        clean = replace(ctx.filters, exclude_flagged=True)
        counts = (
            pd.DataFrame(
                {
                    "raw": article_detail.article_breakdown(ctx.cur, raw, article_id).set_index(
                        "kind_id"
                    )["reactions"],
                    "cleaned": article_detail.article_breakdown(
                        ctx.cur, clean, article_id
                    ).set_index("kind_id")["reactions"],
                }
            )
            .reindex(list(ctx.style.order))
            .fillna(0)
            .astype("int64")
        )
        counts["raw share"] = counts["raw"] / max(int(counts["raw"].sum()), 1) * 100
        counts["cleaned share"] = counts["cleaned"] / max(int(counts["cleaned"].sum()), 1) * 100
        counts.index = [ctx.style.names.get(k, k) for k in counts.index]
        st.markdown(f"Article: **{flag['title']}** — in {ctx.filters.describe_range()}")
        st.dataframe(
            counts,
            column_config={
                "raw share": st.column_config.NumberColumn(format="%.1f%%"),
                "cleaned share": st.column_config.NumberColumn(format="%.1f%%"),
            },
        )
        around = activity_around(ctx.cur, article_id, flag["first_at"], flag["last_at"])
        tz = ctx.filters.tz
        around["bucket"] = local_column(around["bucket"], tz)
        start, end = local_column(pd.Series([flag["first_at"], flag["last_at"]]), tz)
        figure = charts.burst_timeline(around, ctx.style, start, end, tz)
        st.plotly_chart(figure, width="stretch")
    events = flag_events(ctx.cur, flag_id)
    with st.expander(f"The {len(events):,} flagged events"):
        st.dataframe(events, hide_index=True)


def decide(flag_id: str) -> None:
    with st.form("integrity_decide"):
        decision = st.radio(
            "Decision",
            ["confirm", "dismiss"],
            format_func=lambda d: (
                "Confirm: keep these events out"
                if d == "confirm"
                else "Dismiss: these are real readers, count them"
            ),
            horizontal=True,
            key="integrity_decision",
        )
        why = st.text_input("Why", key="integrity_why", max_chars=500)
        if st.form_submit_button("Record decision"):
            settings = Settings.load()
            who = (
                st.user.get("email") if settings.auth_configured and st.user.is_logged_in else None
            ) or "an editor on this machine"
            try:
                integrity_flags.decide(get_store(), flag_id, str(decision), str(who), why)
            except ReactionsError as exc:
                st.error(str(exc))
                return
            data.forget()
            st.session_state.integrity_notice = f"{flag_id}: {decision}ed."
            st.rerun()

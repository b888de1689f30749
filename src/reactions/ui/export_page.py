"""Export: the analyst's datasets under the page's filters, with their column dictionary, and
the same file from the CLI and the API (the numbers agree: all three run `export_dataset`)."""

from __future__ import annotations

import shlex
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from reactions.datasets import DATASETS, columns_for
from reactions.export import FORMATS
from reactions.filters import Filters
from reactions.ui.context import page_context, page_header
from reactions.ui.downloads import dataset_button

DESCRIPTIONS = {
    "events": "Raw reaction events in the range: every add and remove, with the article, "
    "the time in UTC and in your timezone, and the hashed reader.",
    "articles": "One row per article with standing reactions in the range: counts, true "
    "shares with 95 % intervals, net sentiment, and the previous period.",
    "timeseries": "One row per interval bucket and kind (the mix chart, zero-filled), with "
    "the previous period's value beside it.",
}


def render() -> None:
    ctx = page_context()
    page_header("Export", ctx)
    dataset = st.radio("Dataset", DATASETS, horizontal=True, key="export_dataset", captions=None)
    st.caption(DESCRIPTIONS[str(dataset)])
    left, right = st.columns(2)
    fmt = str(left.selectbox("Format", FORMATS, key="export_format"))
    with_manifest = right.toggle(
        "Bundle with its manifest (zip)",
        key="export_zip",
        help="manifest.json says what the file holds: filters, timezone, interval, "
        "comparison, row count, a SHA-256 of the data and every column's meaning.",
    )
    dataset_button(
        f"Download {dataset}",
        str(dataset),
        ctx.filters,
        key="export_download",
        fmt=fmt,
        with_manifest=with_manifest,
    )
    if dataset == "events":
        st.caption("Large raw exports are faster from the CLI or the API (streamed to disk).")
    st.subheader("Columns")
    columns = columns_for(ctx.cur, str(dataset), ctx.filters)
    st.dataframe(
        pd.DataFrame(
            [(c.name, c.type, c.meaning) for c in columns], columns=["column", "type", "meaning"]
        ),
        hide_index=True,
    )
    st.subheader("The same file elsewhere")
    st.code(cli_command(str(dataset), ctx.filters, fmt), language="bash")
    host = st.context.headers.get("host") or "localhost:8501"
    st.code(api_command(str(dataset), ctx.filters, fmt, host), language="bash")


def cli_command(dataset: str, f: Filters, fmt: str) -> str:
    parts = ["reactions", "export", dataset]
    if f.preset == "custom" and f.start and f.end:
        parts += ["--from", str(f.start), "--to", str(f.end)]
    else:
        parts += ["--range", f.preset]
    for option, values in (
        ("--topic", f.topics),
        ("--author", f.authors),
        ("--tag", f.tags),
        ("--kind", f.kinds),
    ):
        for value in values:
            parts += [option, value]
    if f.search:
        parts += ["--q", f.search]
    parts += ["--interval", f.interval, "--tz", f.tz, "--format", fmt, "-o", f"{dataset}.{fmt}"]
    return shlex.join(parts)


def api_command(dataset: str, f: Filters, fmt: str, host: str) -> str:
    query = {**f.to_query()}
    if f.preset != "custom":
        query["range"] = [f.preset]  # explicit: the API's default range is the dashboard's
    url = f"http://{host}/api/v1/export/{dataset}.{fmt}?{urlencode(query, doseq=True)}"
    return f'curl -H "Authorization: Bearer $REACTIONS_TOKEN" -o {dataset}.{fmt} {shlex.quote(url)}'

"""Export: the analyst's datasets under the page's filters, with their column dictionary, and
the same file from the CLI and the API (the numbers agree: all three run `export_dataset`)."""

from __future__ import annotations

import shlex
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from reactions.exports.datasets import DATASETS
from reactions.exports.dialect import FORMATS
from reactions.exports.writer import columns_for
from reactions.metrics.filters import Filters
from reactions.ui.context import page_context, page_header
from reactions.ui.downloads import dataset_button

DESCRIPTIONS = {
    "events": "Raw reaction events in the range: every add and remove, with the article, "
    "the time in UTC and in your timezone, and the hashed reader.",
    "articles": "One row per article published, viewed or reacted to in the range (zeros "
    "where nobody reacted): counts, views and the reaction rate, true shares with 95 % "
    "intervals, net sentiment, and the previous period.",
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
        st.caption(
            "Raw events stream from the server as a file, never held in memory; the link "
            "works for 15 minutes."
        )
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
    """The CLI's options are the URL's parameters by name, so the command is the same query
    as `api_command`'s — the same bytes (tests/test_exports.py runs both)."""
    parts = ["reactions", "export", dataset]
    for key, values in _explicit_query(f).items():
        for value in values:
            parts += [f"--{key}", value]
    parts += ["--format", fmt, "-o", f"{dataset}.{fmt}"]
    return shlex.join(parts)


def api_command(dataset: str, f: Filters, fmt: str, host: str) -> str:
    url = f"http://{host}/api/v1/export/{dataset}.{fmt}?{urlencode(_explicit_query(f), doseq=True)}"
    return f'curl -H "Authorization: Bearer $REACTIONS_TOKEN" -o {dataset}.{fmt} {shlex.quote(url)}'


def _explicit_query(f: Filters) -> dict[str, list[str]]:
    """The view's URL query with its range and interval spelled out, so a command pasted
    months later still names the view it was copied from."""
    query = f.to_query()
    if f.preset != "custom":
        query["range"] = [f.preset]
    query["interval"] = [f.interval]
    return query

"""Download buttons: each exports what the element beside it shows, under the page's filters,
in the same files the CLI and the API make. The file is built only when the button is
clicked (a callable `data`), so buttons cost a page nothing."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
import streamlit as st

from reactions.exports.delivery import deliver
from reactions.exports.dialect import MEDIA_TYPES
from reactions.exports.writer import export_frame, file_name
from reactions.metrics.filters import Filters
from reactions.ui.resources import get_store
from reactions.web.download_links import link_secret, signed_url


def dataset_bytes(dataset: str, f: Filters, shape: str) -> bytes:
    """A small dataset (articles, timeseries: a row per article or bucket) as the download
    button's bytes; the raw events never come here (see `dataset_button`)."""
    buffer = io.BytesIO()
    deliver(get_store().cursor(), dataset, f, shape, buffer)
    return buffer.getvalue()


def dataset_button(
    label: str, dataset: str, f: Filters, *, key: str, fmt: str = "csv", with_manifest: bool = False
) -> None:
    shape = "zip" if with_manifest else fmt
    if dataset == "events":
        # Raw events can be gigabytes: a download button would hold them in this process's
        # memory. The link streams them from the export route (a temporary file), signed.
        st.link_button(label, download_url(dataset, f, shape), icon=":material/download:")
        return
    st.download_button(
        label,
        data=lambda: dataset_bytes(dataset, f, shape),
        file_name=file_name(dataset, f, shape),
        mime=MEDIA_TYPES[shape],
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )


def download_url(dataset: str, f: Filters, shape: str) -> str:
    """The export route's URL for this dataset and view, with a ticket valid for a few
    minutes (download_links)."""
    secret = link_secret(get_store().cursor())
    return signed_url(secret, f"/api/v1/export/{dataset}.{shape}", f.to_query())


def table_button(label: str, frame: Callable[[], pd.DataFrame], name: str, *, key: str) -> None:
    """A shown table that is not one of the datasets, as CSV (same dialect and safety)."""

    def build() -> bytes:
        buffer = io.BytesIO()
        export_frame(get_store().cursor(), frame(), buffer)
        return buffer.getvalue()

    st.download_button(
        label,
        data=build,
        file_name=name,
        mime=MEDIA_TYPES["csv"],
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )

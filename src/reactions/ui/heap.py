"""The server's start-up heap, kept out of every garbage collection.

Streamlit runs a full collection (`gc.collect(2)`) after every script run — every page view,
every 10-s refresh of every open dashboard, every filter change (`runner.postScriptGC`, kept
on: it is what keeps a long-lived server's memory flat). A full collection walks every
container object in the process, and most of them are the ~120,000 that importing Streamlit,
pandas, DuckDB and plotly leaves behind and that live as long as the server. Measured on the
bench machine: 85–110 ms per run, holding the GIL, so the run's last messages — and every API
request — waited for it (a warm Overview's script itself takes ~80 ms).

`gc.freeze()` moves the objects alive now into a generation the collector never walks; a full
collection then costs what the run left behind (under 5 ms). Frozen objects are still freed by
reference counting when dropped; only a cycle among them would never be collected, which is why
this runs once, at start-up, after a collection, and not after runs."""

from __future__ import annotations

import gc
import importlib

# What a page run imports: loaded here, before the freeze, so their module objects (and
# plotly's validators) are frozen too instead of walked after every run.
PAGE_MODULES = (
    "plotly.graph_objects",
    "reactions.ui.overview_page",
    "reactions.ui.article_page",
    "reactions.ui.topics_page",
    "reactions.ui.integrity_page",
    "reactions.ui.export_page",
    "reactions.ui.admin_page",
    "reactions.ui.reader_page",
)


def freeze_startup_heap() -> None:
    """Import what pages use, collect once, and freeze what is left."""
    for name in PAGE_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()

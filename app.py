"""Entry point: `streamlit run app.py` (or `reactions serve`) serves the UI and the API on one
port. Kept thin: the UI lives in src/reactions/ui, the HTTP routes in reactions.web."""

import functools
import sys
import threading
from pathlib import Path

import streamlit as st

import reactions.ui
from reactions.config import Settings
from reactions.jobs.integrity_scans import ScheduledScans
from reactions.server_log import log_to_stderr
from reactions.ui.heap import freeze_startup_heap
from reactions.ui.resources import get_store
from reactions.web.api import routes
from reactions.web.server_tuning import enable_tcp_nodelay

UI_ENTRY = Path(reactions.ui.__file__).with_name("entry.py")

log_to_stderr()  # e.g. when the writer is warm after a start
enable_tcp_nodelay()  # kept-alive API requests otherwise wait ~40 ms each (see the module)

# Pages and API routes share one cached Store: one writer, one lock (DESIGN rule 2).
settings = Settings.load()
if not settings.auth_configured:
    print(
        "Reactions: no [auth] in .streamlit/secrets.toml, so the newsroom pages (dashboard, "
        "exports) answer this machine only; other visitors get the reader page and the API.",
        file=sys.stderr,
    )
# Resolved once for the API: a lookup through st.cache_resource costs ~0.2 ms per request.
api_store = functools.cache(lambda: get_store(settings))
app = st.App(UI_ENTRY, routes=routes(api_store, settings))
if settings.database_url:
    # A replica syncs from the start, not from its first request: a server the balancer has
    # not yet sent anyone to must still have today's figures when someone arrives.
    threading.Thread(target=api_store, name="replica-open", daemon=True).start()
# Integrity scans recent events on its own, so a live burst leaves cleaned figures within
# minutes with nobody present (reactions.jobs.integrity_scans).
if settings.scan_every_seconds:
    scheduled_scans = ScheduledScans(api_store, settings.scan_every_seconds)

# Last: what is alive now lives as long as the server; the collection Streamlit runs after every
# page run need not walk it (reactions.ui.heap).
freeze_startup_heap()

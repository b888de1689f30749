"""Process-wide resources for the UI: one cached Store (design rule 2: the server process owns
the database; every script run takes its own cursor from it)."""

from __future__ import annotations

import streamlit as st

from reactions.config import Settings
from reactions.store.store import Store


@st.cache_resource(show_spinner=False)
def _store_for(db_path: str, multiple: bool) -> Store:
    return Store.open(db_path, multiple=multiple)


def get_store(settings: Settings | None = None) -> Store:
    """The process's Store for these settings (read afresh when not given: pages may run
    after secrets.toml changed). The API passes the settings it started with, so a request
    costs no file read."""
    settings = settings or Settings.load()
    return _store_for(str(settings.db_path), settings.multiple_reactions)

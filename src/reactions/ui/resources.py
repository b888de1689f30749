"""Process-wide resources for the UI: one cached Store (design rule 2: the server process owns
the database; every script run takes its own cursor from it)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from reactions.config import Settings
from reactions.store.opening import open_store
from reactions.store.store import Store


@st.cache_resource(show_spinner=False)
def _store_for(db_path: str, multiple: bool, database_url: str | None) -> Store:
    return open_store(
        Settings(db_path=Path(db_path), multiple_reactions=multiple, database_url=database_url)
    )


def get_store(settings: Settings | None = None) -> Store:
    """The process's Store for these settings (read afresh when not given: pages may run
    after secrets.toml changed). The API passes the settings it started with, so a request
    costs no file read."""
    settings = settings or Settings.load()
    return _store_for(str(settings.db_path), settings.multiple_reactions, settings.database_url)

"""Entry point: `streamlit run app.py` (or `reactions serve`) serves the UI and the API on one
port. Kept thin: the UI lives in src/reactions/ui, the HTTP routes in reactions.api."""

from pathlib import Path

import streamlit as st

import reactions.ui

UI_ENTRY = Path(reactions.ui.__file__).with_name("entry.py")

app = st.App(UI_ENTRY)

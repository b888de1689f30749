"""The script Streamlit runs for every session and rerun: page set-up and navigation."""

from __future__ import annotations

import streamlit as st

from reactions.ui import pages

st.set_page_config(page_title="Reactions", page_icon="👍", layout="wide")

page = st.navigation({"Newsroom": pages.EDITOR_PAGES})
page.run()

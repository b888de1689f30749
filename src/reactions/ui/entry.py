"""The script Streamlit runs for every session and rerun: page set-up and navigation."""

from __future__ import annotations

import streamlit as st

from reactions.ui import pages

st.set_page_config(page_title="Reactions", page_icon="👍", layout="wide")

# The page list is built on every rerun: a link with ?article=<id> makes the reader page the
# one page of this request (served at /), while / alone opens the editors' overview.
if "article" in st.query_params:
    page = st.navigation([pages.READER], position="hidden")
else:
    page = st.navigation({"Newsroom": pages.EDITOR_PAGES})
page.run()

"""The script Streamlit runs for every session and rerun: page set-up and navigation."""

from __future__ import annotations

import streamlit as st

from reactions.config import Settings
from reactions.ui import pages
from reactions.ui.access import account_corner, current_roles

st.set_page_config(page_title="Reactions", page_icon="👍", layout="wide")

# The page list is built on every rerun, from this request's roles: a link with
# ?article=<id> makes the reader page the one page (served at /); otherwise the newsroom pages
# the visitor may see, or the welcome page if none.
settings = Settings.load()
if "article" in st.query_params:
    page = st.navigation([pages.READER], position="hidden")
else:
    roles = current_roles(settings)
    allowed = [p for p, needs in pages.NEWSROOM_PAGES if needs in roles]
    if allowed:
        account_corner(settings)
        page = st.navigation({"Newsroom": allowed})
    else:
        page = st.navigation([pages.WELCOME], position="hidden")
page.run()

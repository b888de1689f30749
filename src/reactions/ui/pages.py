"""The app's pages, defined once so pages can link to each other (st.switch_page).

Each page is a file in views/ (paths relative to entry.py, the main script): AppTest can
switch only to file-based pages."""

from __future__ import annotations

import streamlit as st

from reactions.web.auth import Role

OVERVIEW = st.Page(
    "views/overview.py", title="Overview", icon="📊", url_path="overview", default=True
)
ARTICLE = st.Page("views/article.py", title="Article detail", icon="📰", url_path="article")
TOPICS = st.Page("views/topics.py", title="Topics", icon="🗂️", url_path="topics")
INTEGRITY = st.Page("views/integrity.py", title="Integrity", icon="🛡️", url_path="integrity")
EXPORT = st.Page("views/export.py", title="Export", icon="⬇️", url_path="export")
ADMIN = st.Page("views/admin.py", title="Admin", icon="🛠️", url_path="admin")

WELCOME = st.Page(
    "views/welcome.py", title="Reactions", icon="👍", url_path="welcome", default=True
)

# Each newsroom page and the role it needs. A page the request's roles do not allow is not
# registered at all, so its URL does not open it either.
NEWSROOM_PAGES = [
    (OVERVIEW, Role.EDITOR),
    (ARTICLE, Role.EDITOR),
    (TOPICS, Role.EDITOR),
    (INTEGRITY, Role.EDITOR),
    (EXPORT, Role.ANALYST),
    (ADMIN, Role.ADMIN),
]
READER = st.Page("views/reader.py", title="Article", icon="👍", url_path="read", default=True)

"""The request's roles (from st.user and the client address), the sign-in corner of the
sidebar, and the page a visitor without newsroom roles gets instead of the dashboard."""

from __future__ import annotations

from typing import Any

import streamlit as st

from reactions.config import Settings
from reactions.web.auth import Role, is_loopback, roles_for


def current_roles(settings: Settings) -> frozenset[Role]:
    ip = st.context.ip_address
    # AppTest has no client connection: it runs on this machine, like a loopback visitor.
    local = is_loopback(ip if isinstance(ip, str) else None)
    user: dict[str, Any] | None = st.user.to_dict() if settings.auth_configured else None
    return roles_for(settings, user=user, local=local)


def account_corner(settings: Settings) -> None:
    """Who is signed in, and the way out; nothing without login configured."""
    if not settings.auth_configured or not st.user.is_logged_in:
        return
    with st.sidebar:
        st.caption(f"Signed in as {st.user.get('email') or st.user.get('name') or 'you'}")
        st.button("Log out", on_click=st.logout, key="logout")


def render_welcome() -> None:
    """For visitors without a newsroom role: what this server offers them."""
    settings = Settings.load()
    st.title("Reactions")
    st.markdown(
        "This server collects reader reactions. Readers see an article's reaction bar at "
        "`/?article=<id>`; news sites embed it with `widget.js` or an iframe."
    )
    if settings.auth_configured:
        if st.user.is_logged_in:
            st.warning(
                f"{st.user.get('email') or 'This account'} has no newsroom role here. "
                "Ask an admin to add you as an editor or analyst."
            )
            st.button("Log out", on_click=st.logout, key="welcome_logout")
        else:
            st.info("Editors and analysts: log in to open the dashboard.")
            st.button("Log in", on_click=st.login, type="primary", key="login")
    else:
        st.info(
            "The newsroom dashboard is served on this machine only, because no login is "
            "configured. See the README, *Access*, to let editors log in."
        )

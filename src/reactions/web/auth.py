"""Who may see what: roles, and which roles a request has. No Streamlit here (ui/access.py
reads st.user and the client address and asks this module).

- reader: the reader page, the reactions API and widget.js — public.
- editor: the dashboard pages.
- analyst: the dashboard and exports.
- admin: everything (reaction set, tokens, imports).

With login configured ([auth] in secrets.toml), roles come from the user's claim named by
`roles_claim` and from the editors / analysts / admins lists (emails, or "@domain" for a
whole domain); a visitor who is not logged in is a reader. Without login, the newsroom pages
are served to this machine only (loopback) — a laptop running `make run` sees everything, the
same config exposed on a network shows others the reader surfaces alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from reactions.config import Settings


class Role(StrEnum):
    READER = "reader"
    EDITOR = "editor"
    ANALYST = "analyst"
    ADMIN = "admin"


# What each role includes: an analyst sees the dashboard too, an admin sees everything.
INCLUDES: dict[Role, frozenset[Role]] = {
    Role.READER: frozenset({Role.READER}),
    Role.EDITOR: frozenset({Role.READER, Role.EDITOR}),
    Role.ANALYST: frozenset({Role.READER, Role.EDITOR, Role.ANALYST}),
    Role.ADMIN: frozenset(Role),
}
EVERYONE = INCLUDES[Role.READER]


def is_loopback(host: str | None) -> bool:
    """The request came from this machine. `None` is how Streamlit reports a loopback
    client (st.context.ip_address)."""
    if host is None:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def roles_for(
    settings: Settings, *, user: Mapping[str, Any] | None, local: bool
) -> frozenset[Role]:
    if not settings.auth_configured:
        return INCLUDES[Role.ADMIN] if local else EVERYONE
    if not user or not user.get("is_logged_in"):
        return EVERYONE
    granted: set[Role] = set()
    if settings.roles_claim:
        granted |= _claimed(user.get(settings.roles_claim))
    email = str(user.get("email") or "").strip().lower()
    verified = user.get("email_verified", True) is not False  # an unverified email is no proof
    if email and verified:
        for role, listed in (
            (Role.EDITOR, settings.editors),
            (Role.ANALYST, settings.analysts),
            (Role.ADMIN, settings.admins),
        ):
            if _listed(email, listed):
                granted.add(role)
    return frozenset().union(EVERYONE, *(INCLUDES[r] for r in granted))


def _claimed(value: object) -> set[Role]:
    names: Iterable[object] = (
        value.replace(",", " ").split()
        if isinstance(value, str)
        else value
        if isinstance(value, list | tuple)
        else ()
    )
    return {Role(str(n).lower()) for n in names if str(n).lower() in Role._value2member_map_}


def _listed(email: str, entries: tuple[str, ...]) -> bool:
    domain = "@" + email.rpartition("@")[2]
    return any(entry == email or (entry.startswith("@") and entry == domain) for entry in entries)

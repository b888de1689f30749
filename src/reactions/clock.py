"""The product's one clock (design rule 4): every "now" — a tap's time, "today" for the last
7 days, the day a cookieless reader's identity rotates on, a token's creation, the demo's
last hour — is read here and nowhere else.

`REACTIONS_NOW` (an ISO instant; UTC when it names no offset) sets where the clock stood at
the wall-clock instant `REACTIONS_NOW_AT` (default: when this process first reads it); from
there it runs on at the wall clock's pace, so a live server under a set clock still sees taps
seconds apart. Tests set both (tests/conftest.py) so that the suite's data and its "last 7
days" always meet, whatever the calendar says; child processes (the CLI, `streamlit run`)
inherit them and so share one timeline: a second CLI command never stamps a time before the
first's.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reactions.errors import InvalidInput

ENV = "REACTIONS_NOW"
ENV_AT = "REACTIONS_NOW_AT"

_guard = threading.Lock()
# (the two settings as read, the clock's offset from the wall clock)
_setting: tuple[tuple[str, str], timedelta] = (("", ""), timedelta(0))


def _wall() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _offset() -> timedelta:
    """How far the product's clock stands from the wall clock. Re-read when the setting
    changes (a test moving the clock), otherwise one dictionary lookup."""
    global _setting
    raw = (os.environ.get(ENV, ""), os.environ.get(ENV_AT, ""))
    if raw == _setting[0]:
        return _setting[1]
    with _guard:
        offset = timedelta(0)
        if raw[0]:
            at = parse_instant(raw[1], ENV_AT) if raw[1] else _wall()
            offset = parse_instant(raw[0], ENV) - at
        _setting = (raw, offset)
    return offset


def parse_instant(raw: str, name: str = ENV) -> datetime:
    """`2026-11-20T12:30`, `2026-11-20 12:30:00+01:00` → naive UTC."""
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{name}={raw[:40]!r} is not an ISO time like 2026-11-20T12:30"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def utc_now() -> datetime:
    """Now, as a naive UTC instant (the database stores naive UTC)."""
    offset = _offset()  # first: the wall clock read after it is never behind the setting
    return _wall() + offset


def today_in(zone: str | ZoneInfo) -> date:
    """Today's date where the editor is."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return utc_now().replace(tzinfo=UTC).astimezone(tz).date()

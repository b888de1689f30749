"""Who a reader is, without storing who they are.

A reader is the client id the widget keeps in localStorage or, cookieless, their network
address and browser with the day's date, so that fallback identity rotates daily (as
privacy-first analytics do). Either way the store only ever sees a digest, which it salts
with the installation's pepper and hashes again."""

from __future__ import annotations

import hashlib
from datetime import datetime

from reactions.clock import utc_now
from reactions.taps import validate_id


def reader_identity(
    client_id: str | None, host: str | None, user_agent: str | None, now: datetime | None = None
) -> str:
    if client_id is not None:
        source = f"client:{validate_id(client_id, 'reader_id')}"
    else:
        day = (now or utc_now()).strftime("%Y-%m-%d")
        source = f"anon:{day}:{host or 'unknown'}:{(user_agent or '')[:300]}"
    return hashlib.sha256(source.encode()).hexdigest()

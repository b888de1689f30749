"""Who a reader is, without storing who they are.

A reader is the client id the widget keeps in localStorage or, cookieless, their network
address and browser with the day's date, so that fallback identity rotates daily (as
privacy-first analytics do). Either way the store only ever sees a digest, which it salts
with the installation's pepper and hashes again."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime

from reactions.clock import utc_now
from reactions.store.taps import validate_id


def reader_identity(
    client_id: str | None, host: str | None, user_agent: str | None, now: datetime | None = None
) -> str:
    if client_id is not None:
        source = f"client:{validate_id(client_id, 'reader_id')}"
    else:
        day = (now or utc_now()).strftime("%Y-%m-%d")
        source = f"anon:{day}:{host or 'unknown'}:{(user_agent or '')[:300]}"
    return hashlib.sha256(source.encode()).hexdigest()


def network_identity(host: str | None, now: datetime | None = None) -> str | None:
    """The client's network — its IPv4 /24 or IPv6 /64 — with the UTC day, so it rotates
    daily like the cookieless identity; None when `host` is not an address. The store salts
    and hashes it like a reader id (the "bursts from one network" integrity rule groups by
    it). A network, not an address: a bot farm rotates addresses within its block, while a
    household or office shares one."""
    try:
        address = ipaddress.ip_address((host or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return f"{(now or utc_now()):%Y-%m-%d}:{network}"

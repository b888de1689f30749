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


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]
) -> str | None:
    """The client behind a request: the peer itself, unless the peer is a trusted proxy (a
    load balancer), then the nearest address in X-Forwarded-For that is not one — so readers
    behind the balancer keep their own limits and cookieless identities, and a client cannot
    name itself anyone by sending the header straight to us."""
    if not trusted or not peer or not forwarded_for or not _is_in(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _is_in(hop, trusted):
            return hop
    return peer


def _is_in(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n) for n in networks)

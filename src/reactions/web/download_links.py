"""Signed download links: how the Export page hands a browser the raw events export without
building it in the server's memory.

A Streamlit download button keeps the whole file in memory (gigabytes of raw events). Instead
the page links to the export API's own route — the same query, the same bytes, streamed from a
temporary file — with `ticket=<expires>.<signature>` in place of a Bearer token (a link cannot
carry a header). The signature is an HMAC, under the installation's link secret, of exactly
that path and query and the expiry: it authorizes that one download for a few minutes, nothing
else, and needs no state on the server that signed it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, timedelta
from enum import Enum
from urllib.parse import urlencode

import duckdb

from reactions.clock import utc_now
from reactions.store.sql import scalar

TICKET = "ticket"
LIFETIME = timedelta(minutes=15)
SECRET_KEY = "link_secret"  # in `meta`


class LinkCheck(Enum):
    VALID = "valid"
    BAD = "bad"  # malformed, or not signed for this path and query
    EXPIRED = "expired"


def link_secret(cur: duckdb.DuckDBPyConnection) -> str:
    return str(scalar(cur, "SELECT value FROM meta WHERE key = ?", [SECRET_KEY]))


def signed_url(secret: str, path: str, query: Mapping[str, Sequence[str]]) -> str:
    """`path?query&ticket=…`, valid for LIFETIME from now."""
    expires = int(_epoch() + LIFETIME.total_seconds())
    ticket = f"{expires}.{_signature(secret, path, query, expires)}"
    return f"{path}?{urlencode({**query, TICKET: [ticket]}, doseq=True)}"


def check_ticket(
    secret: str, path: str, query: Mapping[str, Sequence[str]], ticket: str
) -> LinkCheck:
    """Whether `ticket` was signed for exactly `path` and `query` (the ticket left out) and
    has not expired."""
    expires_text, _, signature = ticket.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return LinkCheck.BAD
    expires = int(expires_text)
    if not hmac.compare_digest(signature, _signature(secret, path, query, expires)):
        return LinkCheck.BAD
    return LinkCheck.VALID if _epoch() < expires else LinkCheck.EXPIRED


def _signature(secret: str, path: str, query: Mapping[str, Sequence[str]], expires: int) -> str:
    # Sorted pairs, so the order a browser or proxy sends them in does not matter.
    pairs = sorted((key, value) for key, values in query.items() for value in values)
    message = f"{expires}|{path}|{urlencode(pairs)}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _epoch() -> float:
    return utc_now().replace(tzinfo=UTC).timestamp()

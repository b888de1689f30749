"""Response headers every API answer carries: the browser must not sniff a JSON or CSV body
into something executable, frame it, leak the page address, or cache private data."""

from __future__ import annotations

from starlette.responses import Response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "cross-origin",  # widget.js and the API serve other sites
}


# Unless a route says otherwise (the public counts, widget.js), an answer is about one reader
# or one analyst: no cache may keep it.
PRIVATE = "private, no-store"


def secured(response: Response, *, cache: str = PRIVATE) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", cache)
    return response

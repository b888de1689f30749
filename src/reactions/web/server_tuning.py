"""Socket tuning for the server that `streamlit run app.py` starts.

asyncio turns Nagle's algorithm off (TCP_NODELAY) only for sockets whose protocol number is
IPPROTO_TCP, and Streamlit 1.67 binds its listening socket with protocol 0, so every accepted
connection keeps Nagle on. With HTTP keep-alive each response then waits for the client's
delayed ACK, which capped kept-alive clients far below the API's target (`make bench` measures
both). Setting TCP_NODELAY when uvicorn's HTTP protocol receives a connection fixes that
without touching Streamlit."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

_INSTALLED = False


def enable_tcp_nodelay() -> None:
    """Patch uvicorn's HTTP protocol classes once so each new connection gets TCP_NODELAY."""
    global _INSTALLED
    if _INSTALLED:
        return
    from uvicorn.protocols.http.h11_impl import H11Protocol

    protocols: list[Any] = [H11Protocol]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        protocols.append(HttpToolsProtocol)
    except ImportError:  # httptools is optional
        pass
    for protocol in protocols:
        original = protocol.connection_made

        def connection_made(
            self: Any, transport: asyncio.Transport, _original: Any = original
        ) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with contextlib.suppress(OSError):  # the peer may already be gone
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _original(self, transport)

        protocol.connection_made = connection_made
    _INSTALLED = True

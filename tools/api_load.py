"""A lean HTTP/1.1 load generator for the reactions API: N kept-alive TCP connections, each
sending one request at a time and reading the whole response before the next.

Why not httpx: on a 2-core machine the load generator shares the CPU with the server, and a
full-featured client spends more time per request than the server does. This client writes
the request bytes itself and parses only the status line, Content-Length and body, so what
`make bench` and the load tests measure is the server. It is still real HTTP over real TCP.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# What a test or bench does with each answered request: (client number, request number,
# the body sent, the status, the decoded JSON answer).
Reply = tuple[int, int, dict[str, Any], int, Any]


@dataclass
class LoadResult:
    replies: list[Reply] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # connections that broke, and why
    seconds: float = 0.0

    @property
    def accepted(self) -> list[Reply]:
        return [r for r in self.replies if r[3] == 200]

    def per_second(self) -> float:
        return len(self.replies) / self.seconds if self.seconds else 0.0


def _request(host: str, path: str, body: bytes, user_agent: str, keep_alive: bool) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


@dataclass(frozen=True)
class Load:
    url: str
    clients: int
    per_client: int
    body_for: Callable[[int, int], dict[str, Any]]
    keep_alive: bool = True
    user_agent: str = "Mozilla/5.0 (reactions load test)"
    # The local address a client's connection for its i-th request comes from: any
    # 127.x.y.z is loopback on Linux, so one machine can play readers on many networks
    # (None: the system's choice).
    source: Callable[[int, int], str] | None = None


async def _client(number: int, load: Load, result: LoadResult) -> None:
    parts = urlsplit(load.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    connection = None
    try:
        for i in range(load.per_client):
            if connection is None:
                local = (load.source(number, i), 0) if load.source else None
                connection = await asyncio.open_connection(host, port, local_addr=local)
            reader, writer = connection
            body = load.body_for(number, i)
            payload = json.dumps(body).encode()
            writer.write(
                _request(parts.netloc, parts.path, payload, load.user_agent, load.keep_alive)
            )
            await writer.drain()
            status, raw = await _read_response(reader)
            result.replies.append((number, i, body, status, json.loads(raw) if raw else None))
            if not load.keep_alive:
                writer.close()
                connection = None
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        result.failures.append(f"client {number}: {type(exc).__name__}: {exc}")
    finally:
        if connection is not None:
            connection[1].close()


async def _run(load: Load, result: LoadResult) -> LoadResult:
    start = time.perf_counter()
    await asyncio.gather(*(_client(n, load, result) for n in range(load.clients)))
    result.seconds = time.perf_counter() - start
    return result


def post_load(load: Load, result: LoadResult | None = None) -> LoadResult:
    """Run `load`: POST `body_for(client, i)` as JSON from `clients` concurrent connections,
    `per_client` requests each, one at a time per connection. Pass `result` to watch replies
    arrive from another thread. Broken connections are recorded, not raised: a test that
    kills the server wants to know what was acknowledged before it died."""
    return asyncio.run(_run(load, result if result is not None else LoadResult()))

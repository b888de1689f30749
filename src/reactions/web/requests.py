"""Reading an API request strictly: a JSON object body within MAX_BODY_BYTES with only the
fields a route knows and no key twice, required string fields, and the reader behind it.
Every refusal is an `ApiError` with the status and the sentence the client gets."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from reactions.web.identity import client_address, reader_identity

MAX_BODY_BYTES = 4_096
JSON_BODY_TYPES = ("application/json", "text/plain")


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds, for a 429


def client_host(request: Request, trusted: tuple[str, ...] = ()) -> str | None:
    """The client's address, through trusted proxies (identity.client_address)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)


async def json_object(request: Request, fields: frozenset[str]) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # text/plain too: widget.js posts its JSON so, as a simple cross-origin request that
    # needs no CORS preflight (one request per page view, not two). No cookies are read, so
    # a form on another site gains nothing by it.
    if content_type not in JSON_BODY_TYPES:
        raise ApiError(415, "send the body as JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is over {MAX_BODY_BYTES:,} bytes")
    raw = bytearray()
    async for chunk in request.stream():  # a lying or missing Content-Length is capped too
        raw.extend(chunk)
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, f"the body is over {MAX_BODY_BYTES:,} bytes")
    try:
        parsed = json.loads(bytes(raw).decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # duplicate keys
        raise ApiError(400, str(exc)) from None
    if not isinstance(parsed, dict):
        raise ApiError(422, "the body must be a JSON object")
    unknown = sorted(set(parsed) - fields)
    if unknown:
        raise ApiError(422, f"unknown field {unknown[0][:40]!r}; send {', '.join(sorted(fields))}")
    return parsed


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key[:40]!r} appears twice")
        seen[key] = value
    return seen


def required(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise ApiError(422, f"{field} is required")
    if not isinstance(value, str):
        raise ApiError(422, f"{field} must be a string, not {type(value).__name__}")
    return value


def reader_of(request: Request, reader_id: object, trusted: tuple[str, ...] = ()) -> str:
    if reader_id is not None and not isinstance(reader_id, str):
        raise ApiError(422, f"reader_id must be a string, not {type(reader_id).__name__}")
    host = client_host(request, trusted)
    return reader_identity(reader_id, host, request.headers.get("user-agent"))

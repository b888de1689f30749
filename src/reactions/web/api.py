"""The reader-facing JSON API, served by st.App beside the UI (same process, same Store).

Routes (shapes from DESIGN.md):
- POST /api/v1/reactions  {"article_id", "kind", "reader_id"?} → the article's state
- GET  /api/v1/articles/{article_id}/reactions[?reader_id=…] → the article's state
- POST /api/v1/views      {"article_id", "reader_id"?} → {"article_id", "counted"}: the bar
  was shown (counted once per reader, article and UTC day)
- GET  /widget.js → the drop-in script for <div data-reactions-article="ID"></div>
- GET  /api/v1/export/{dataset}.{csv|parquet|zip|manifest.json} → see `api_export`

Errors are JSON {"error": "…"} with 400 (malformed JSON), 404 (unknown article), 413 (body
too large), 415 (not JSON), 422 (well-formed but invalid), and a rejected request writes
nothing. No Streamlit here: app.py hands in the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reactions.config import Settings
from reactions.errors import InvalidInput, ReactionsError, UnknownArticle, UnknownKind
from reactions.metrics.queries import bar_state, reaction_kinds
from reactions.store.store import Store
from reactions.web.export_api import export_route
from reactions.web.headers import secured
from reactions.web.identity import network_identity, reader_identity
from reactions.web.limits import RateLimiter, is_bot
from reactions.web.reaction_bar import reaction_bar

MAX_BODY_BYTES = 4_096
REACTION_FIELDS = frozenset({"article_id", "kind", "reader_id"})
VIEW_FIELDS = frozenset({"article_id", "reader_id"})
STATUS = {UnknownArticle: 404, UnknownKind: 422, InvalidInput: 422}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _cors(request: Request, response: Response, origins: tuple[str, ...]) -> Response:
    """Let pages on the configured sites call the API (widget.js); nobody else."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return secured(response)


def widget_script(store: Store) -> str:
    """widget.js with the enabled kinds (id, label, emoji, colour) built in."""
    kinds = reaction_kinds(store.cursor())
    config = [
        {"id": k, "label": lbl, "emoji": e, "color": c}
        for k, lbl, e, c in zip(
            kinds["kind_id"], kinds["label"], kinds["emoji"], kinds["color"], strict=True
        )
    ]
    template = resources.files("reactions").joinpath("data/widget.js").read_text("utf-8")
    return template.replace("__KINDS__", json.dumps(config, ensure_ascii=False))


def routes(store: Callable[[], Store], settings: Settings) -> list[Route]:
    origins = settings.allowed_origins
    per_reader = RateLimiter(settings.taps_per_reader_minute)
    per_network = RateLimiter(settings.taps_per_ip_minute)
    # Views have limits of the same size but their own budget: a reader scrolling through
    # ten stories must not use up the reactions they may tap.
    views_per_reader = RateLimiter(settings.taps_per_reader_minute)
    views_per_network = RateLimiter(settings.taps_per_ip_minute)

    async def preflight(request: Request) -> Response:
        response = Response(status_code=204)
        if request.headers.get("origin", "").rstrip("/") in origins:
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        return _cors(request, response, origins)

    async def widget(request: Request) -> Response:
        text = await run_in_threadpool(widget_script, store())
        return secured(
            Response(text, media_type="text/javascript; charset=utf-8"),
            cache="public, max-age=300",
        )

    async def post_reaction(request: Request) -> Response:
        return _cors(request, await _post_reaction(request), origins)

    async def get_reactions(request: Request) -> Response:
        return _cors(request, await _get_reactions(request), origins)

    async def _post_reaction(request: Request) -> JSONResponse:
        try:
            agent = request.headers.get("user-agent")
            if is_bot(agent):
                raise ApiError(403, "automated clients cannot react")
            body = await _json_object(request, REACTION_FIELDS)
            article_id, kind = _required(body, "article_id"), _required(body, "kind")
            reader = body.get("reader_id")
            reader_id = _reader_identity(request, reader)
            host = request.client.host if request.client else "unknown"
            wait = per_network.retry_after(host) or per_reader.retry_after(reader_id)
            if wait:
                return _too_many(wait, "reactions")
            outcome = await store().record_reaction_async(
                article_id, reader_id, kind, network=network_identity(host)
            )
        except ApiError as exc:
            return error(exc.status, str(exc))
        except ReactionsError as exc:
            return error(STATUS.get(type(exc), 422), str(exc))
        # The counts right after this tap's commit come with the outcome: no second read.
        state = bar_state(article_id, outcome.counts, outcome.after)
        return JSONResponse({**state, "change": outcome.change})

    async def post_view(request: Request) -> Response:
        return _cors(request, await _post_view(request), origins)

    async def _post_view(request: Request) -> JSONResponse:
        try:
            if is_bot(request.headers.get("user-agent")):
                raise ApiError(403, "automated clients are not counted as views")
            body = await _json_object(request, VIEW_FIELDS)
            article_id = _required(body, "article_id")
            reader_id = _reader_identity(request, body.get("reader_id"))
            host = request.client.host if request.client else "unknown"
            wait = views_per_network.retry_after(host) or views_per_reader.retry_after(reader_id)
            if wait:
                return _too_many(wait, "views")
            outcome = await store().record_view_async(
                article_id, reader_id, network=network_identity(host)
            )
        except ApiError as exc:
            return error(exc.status, str(exc))
        except ReactionsError as exc:
            return error(STATUS.get(type(exc), 422), str(exc))
        return JSONResponse({"article_id": outcome.article_id, "counted": outcome.counted})

    async def _get_reactions(request: Request) -> JSONResponse:
        article_id = request.path_params["article_id"]
        reader = request.query_params.get("reader_id")
        try:
            current = store()
            reader_hash = current.hash_reader(_reader_identity(request, reader))
            state = await run_in_threadpool(reaction_bar, current, article_id, reader_hash)
        except ApiError as exc:
            return error(exc.status, str(exc))
        except ReactionsError as exc:
            return error(STATUS.get(type(exc), 422), str(exc))
        return JSONResponse(state)

    return [
        Route("/api/v1/reactions", post_reaction, methods=["POST"]),
        Route("/api/v1/reactions", preflight, methods=["OPTIONS"]),
        Route("/api/v1/views", post_view, methods=["POST"]),
        Route("/api/v1/views", preflight, methods=["OPTIONS"]),
        Route("/api/v1/articles/{article_id:path}/reactions", get_reactions, methods=["GET"]),
        Route("/widget.js", widget, methods=["GET"]),
        export_route(store),
    ]


def _too_many(seconds: int, what: str) -> JSONResponse:
    response = error(429, f"too many {what}; try again in {seconds} s")
    response.headers["Retry-After"] = str(seconds)
    return response


async def _json_object(request: Request, fields: frozenset[str]) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "send the body as application/json")
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


def _required(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise ApiError(422, f"{field} is required")
    if not isinstance(value, str):
        raise ApiError(422, f"{field} must be a string, not {type(value).__name__}")
    return value


def _reader_identity(request: Request, reader_id: object) -> str:
    if reader_id is not None and not isinstance(reader_id, str):
        raise ApiError(422, f"reader_id must be a string, not {type(reader_id).__name__}")
    host = request.client.host if request.client else None
    return reader_identity(reader_id, host, request.headers.get("user-agent"))

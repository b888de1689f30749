"""The reader-facing JSON API, served by st.App beside the UI (same process, same Store).

Routes (shapes from DESIGN.md):
- POST /api/v1/reactions  {"article_id", "kind", "reader_id"?} → the article's state
- GET  /api/v1/articles/{article_id}/reactions[?reader_id=…] → the article's state; without
  a reader it is the same for everyone and cacheable (web/caching: max-age, ETag, 304)
- POST /api/v1/views      {"article_id", "reader_id"?} → the article's state and "counted":
  the bar was shown (counted once per reader, article and UTC day). Its answer is the bar,
  so a page view costs the origin this one request.
- GET  /widget.js → the drop-in script for <div data-reactions-article="ID"></div>
- GET  /api/v1/openapi.json → the OpenAPI description of all of these (web/openapi)
- GET  /api/v1/export/{dataset}.{csv|parquet|zip|manifest.json} → see `api_export`

Errors are JSON {"error": "…"} with 400 (malformed JSON), 404 (unknown article), 413 (body
too large), 415 (not JSON), 422 (well-formed but invalid), and a rejected request writes
nothing. No Streamlit here: app.py hands in the store.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from importlib import resources

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reactions.config import Settings
from reactions.errors import (
    InvalidInput,
    RateLimited,
    ReactionsError,
    StoreUnavailable,
    UnknownArticle,
    UnknownKind,
)
from reactions.metrics.queries import bar_state, reaction_kinds
from reactions.store.store import Store
from reactions.web.caching import cacheable_json, public_policy
from reactions.web.export_api import export_route
from reactions.web.headers import secured
from reactions.web.identity import network_identity
from reactions.web.limits import RateLimiter, is_bot
from reactions.web.openapi import openapi_document
from reactions.web.reaction_bar import bar_of_view, reaction_bar_async
from reactions.web.requests import ApiError, client_host, json_object, reader_of, required

REACTION_FIELDS = frozenset({"article_id", "kind", "reader_id"})
VIEW_FIELDS = frozenset({"article_id", "reader_id"})
STATUS = {UnknownArticle: 404, UnknownKind: 422, InvalidInput: 422}
RETRY_WHEN_UNAVAILABLE = 5  # seconds, in Retry-After of a 503


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
    taps = Budget(settings.taps_per_reader_minute, settings.taps_per_ip_minute, "reactions")
    # Views have limits of the same size but their own budget: a reader scrolling through
    # ten stories must not use up the reactions they may tap.
    views = Budget(settings.taps_per_reader_minute, settings.taps_per_ip_minute, "views")
    answering = _answering(origins)
    proxies = settings.trusted_proxies
    public = public_policy(settings.counts_max_age, settings.counts_stale_while_revalidate)

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

    async def openapi(request: Request) -> Response:
        kinds, newest = await run_in_threadpool(_described_data, store())
        return secured(JSONResponse(openapi_document(kinds, newest)), cache="public, max-age=60")

    @answering
    async def post_reaction(request: Request) -> JSONResponse:
        if is_bot(request.headers.get("user-agent")):
            raise ApiError(403, "automated clients cannot react")
        body = await json_object(request, REACTION_FIELDS)
        article_id, kind = required(body, "article_id"), required(body, "kind")
        reader_id = reader_of(request, body.get("reader_id"), proxies)
        host = client_host(request, proxies)
        current = store()
        outcome = await current.record_reaction_async(
            article_id,
            reader_id,
            kind,
            network=network_identity(host),
            limits=taps.spend(host or "unknown", reader_id, shared=current.replicated),
        )
        # The counts right after this tap's commit come with the outcome: no second read.
        state = bar_state(article_id, outcome.counts, outcome.after)
        return JSONResponse({**state, "change": outcome.change})

    @answering
    async def post_view(request: Request) -> JSONResponse:
        if is_bot(request.headers.get("user-agent")):
            raise ApiError(403, "automated clients are not counted as views")
        body = await json_object(request, VIEW_FIELDS)
        article_id = required(body, "article_id")
        reader_id = reader_of(request, body.get("reader_id"), proxies)
        host = client_host(request, proxies)
        current = store()
        outcome = await current.record_view_async(
            article_id,
            reader_id,
            network=network_identity(host),
            limits=views.spend(host or "unknown", reader_id, shared=current.replicated),
        )
        # The view's answer is the bar (counts, shares, this reader's reaction): a page
        # carrying the bar costs the origin this one request.
        state = bar_of_view(outcome) or await reaction_bar_async(
            current, article_id, current.hash_reader(reader_id)
        )
        return JSONResponse({**state, "counted": outcome.counted})

    @answering
    async def get_reactions(request: Request) -> Response:
        article_id = request.path_params["article_id"]
        current = store()
        reader_id = request.query_params.get("reader_id")
        if reader_id is None:  # the same for everyone: a cache in front may answer it
            state = await reaction_bar_async(current, article_id)
            return cacheable_json(request, state, public)
        reader = reader_of(request, reader_id, proxies)
        state = await reaction_bar_async(current, article_id, current.hash_reader(reader))
        return JSONResponse(state)

    served = [
        Route("/api/v1/reactions", post_reaction, methods=["POST"]),
        Route("/api/v1/reactions", preflight, methods=["OPTIONS"]),
        Route("/api/v1/views", post_view, methods=["POST"]),
        Route("/api/v1/views", preflight, methods=["OPTIONS"]),
        Route("/api/v1/articles/{article_id:path}/reactions", get_reactions, methods=["GET"]),
        Route("/widget.js", widget, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        export_route(store),
    ]
    return served + _not_allowed(served)


def _described_data(store: Store) -> tuple[list[str], str | None]:
    """What the description names from the data: the enabled kinds, the newest article."""
    cur = store.cursor()
    newest = cur.execute(
        "SELECT article_id FROM articles ORDER BY published_at DESC, article_id LIMIT 1"
    ).fetchall()
    return list(reaction_kinds(cur)["kind_id"]), newest[0][0] if newest else None


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _not_allowed(served: list[Route]) -> list[Route]:
    """Each API path answers any other method with a JSON 405 and an Allow header (else the
    request would fall through to Streamlit, which answers a GET with its HTML page)."""
    allowed: dict[str, set[str]] = {}
    for route in served:
        allowed.setdefault(route.path, set()).update(route.methods or ())
    extra = []
    for path, methods in allowed.items():
        allow = ", ".join(m for m in METHODS if m in methods)

        async def refuse(request: Request, allow: str = allow) -> Response:
            response = error(405, f"{request.method} is not allowed here; use {allow}")
            response.headers["Allow"] = allow
            return secured(response)

        others = [m for m in METHODS if m not in methods]
        if others:
            extra.append(Route(path, refuse, methods=others))
    return extra


Handler = Callable[[Request], Awaitable[Response]]


def _answering(origins: tuple[str, ...]) -> Callable[[Handler], Handler]:
    """A route's errors as JSON with their status (and Retry-After for a 429), and CORS for
    the configured sites, on every answer."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def answer(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except ApiError as exc:
                response = error(exc.status, str(exc))
                if exc.retry_after is not None:
                    response.headers["Retry-After"] = str(exc.retry_after)
            except RateLimited as exc:
                response = error(429, str(exc))
                response.headers["Retry-After"] = str(exc.retry_after)
            except StoreUnavailable:
                # Nothing was written; the reader's widget tries again.
                response = error(503, "reactions are unavailable for a moment; try again")
                response.headers["Retry-After"] = str(RETRY_WHEN_UNAVAILABLE)
            except ReactionsError as exc:
                response = error(STATUS.get(type(exc), 422), str(exc))
            _cors(request, response, origins)
            return response

        return answer

    return wrap


class Budget:
    """Requests per minute per network address and per reader, for one kind of request."""

    def __init__(self, per_reader: int, per_network: int, what: str) -> None:
        self.per_reader = RateLimiter(per_reader)
        self.per_network = RateLimiter(per_network)
        self.what = what

    def spend(self, host: str, reader_id: str, *, shared: bool) -> tuple[tuple[str, int], ...]:
        """Count one request here, or refuse it with a 429 saying when to try again. With
        `shared` (several servers on PostgreSQL) nothing is counted here: the keys and limits
        travel with the write and are counted there, across servers."""
        keys = (
            (f"{self.what}:net:{host}", self.per_network.limit),
            (f"{self.what}:reader:{reader_id}", self.per_reader.limit),
        )
        if shared:
            return keys
        wait = self.per_network.retry_after(host) or self.per_reader.retry_after(reader_id)
        if wait:
            raise ApiError(429, f"too many {self.what}; try again in {wait} s", retry_after=wait)
        return ()

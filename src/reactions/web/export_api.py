"""GET /api/v1/export/{dataset}.{csv|parquet|zip|manifest.json}: the analyst's datasets over
HTTP, with the dashboard's query parameter names and a Bearer token (`reactions token`).

A signed `ticket` parameter (download_links: the Export page's links) stands in for the
token. 401 without a valid token (and a WWW-Authenticate header), 403 for a revoked one or a
bad or expired ticket, 404 for an unknown dataset or format, 422 for a bad filter — always
JSON, and no file. A `.zip` holds the
data and manifest.json; `.manifest.json` is the manifest alone; the data responses carry the
row count and SHA-256 in headers. Files are written to a temporary directory by COPY and
streamed from there, so memory stays flat."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from reactions.errors import ExportWriteError, ReactionsError
from reactions.exports.datasets import DATASETS
from reactions.exports.delivery import deliver
from reactions.exports.dialect import SHAPES
from reactions.metrics.filters import URL_PARAMS, strict_filters
from reactions.metrics.queries import known_values
from reactions.store.store import Store
from reactions.web.download_links import TICKET, LinkCheck, check_ticket, link_secret
from reactions.web.headers import secured
from reactions.web.tokens import TokenCheck, check_bearer

FILTER_PARAMS = set(URL_PARAMS)


def export_route(store: Callable[[], Store]) -> Route:
    async def export(request: Request) -> Response:
        return secured(await _export(request))

    async def _export(request: Request) -> Response:
        current = store()
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        ticket = params.pop(TICKET, [""])[0]
        refused = await run_in_threadpool(_refusal, current, request, params, ticket)
        if refused is not None:
            return refused
        name = request.path_params["name"]
        dataset, shape = _split(name)
        if dataset not in DATASETS or shape not in SHAPES:
            return _error(
                404,
                f"no export {name[:60]!r}; use /api/v1/export/<{'|'.join(DATASETS)}>"
                f".<{'|'.join(SHAPES)}>",
            )
        unknown = sorted(set(params) - FILTER_PARAMS)
        if unknown:
            return _error(
                422,
                f"unknown parameter {unknown[0][:40]!r}; use {', '.join(sorted(FILTER_PARAMS))}",
            )
        tmp = Path(tempfile.mkdtemp(prefix="reactions-api-export-"))
        cleanup = BackgroundTask(shutil.rmtree, tmp, ignore_errors=True)
        try:
            return await run_in_threadpool(_build, current, dataset, shape, params, tmp, cleanup)
        except ExportWriteError:
            shutil.rmtree(tmp, ignore_errors=True)
            return _error(500, "the server could not write the export file (is its disk full?)")
        except ReactionsError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            return _error(422, str(exc))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    return Route("/api/v1/export/{name}", export, methods=["GET"])


def _refusal(
    store: Store, request: Request, params: dict[str, list[str]], ticket: str
) -> JSONResponse | None:
    """Why this request may not have the file (an answer to send), or None: a Bearer token,
    or a ticket signed for exactly this path and query (download_links)."""
    cur = store.cursor()
    if ticket:
        check = check_ticket(link_secret(cur), request.url.path, params, ticket)
        if check is LinkCheck.EXPIRED:
            return _error(403, "this download link has expired; reload the page for a new one")
        return _error(403, "this download link is not valid") if check is LinkCheck.BAD else None
    token = check_bearer(cur, request.headers.get("authorization"))
    if token in (TokenCheck.MISSING, TokenCheck.UNKNOWN):
        response = _error(401, "send Authorization: Bearer <token> (see `reactions token create`)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="reactions"'
        return response
    return _error(403, "this token was revoked") if token is TokenCheck.REVOKED else None


def _split(name: str) -> tuple[str, str]:
    if name.endswith(".manifest.json"):
        return name.removesuffix(".manifest.json"), "manifest.json"
    dataset, _, shape = name.rpartition(".")
    return dataset, shape


def _build(
    store: Store,
    dataset: str,
    shape: str,
    params: dict[str, list[str]],
    tmp: Path,
    cleanup: BackgroundTask,
) -> Response:
    cur = store.cursor()
    f = strict_filters(params, known_values(cur))
    if shape == "manifest.json":
        result = deliver(cur, dataset, f, shape, io.BytesIO())
        shutil.rmtree(tmp, ignore_errors=True)
        return JSONResponse(result.manifest)
    path = tmp / "export"
    result = deliver(cur, dataset, f, shape, path)
    headers = {"X-Reactions-Rows": str(result.rows), "X-Reactions-SHA256": result.sha256}
    return FileResponse(
        path,
        media_type=result.media_type,
        filename=result.name,
        headers=headers,
        background=cleanup,
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)

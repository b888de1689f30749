"""Public counts that a CDN or an nginx cache may keep: an article's counts without a reader
are the same for everyone, so their answer says how long a cache may reuse it
(`Cache-Control: public, max-age=…, stale-while-revalidate=…`) and carries a strong ETag (a
hash of the exact bytes, so every server gives the same one for the same counts); a request
whose `If-None-Match` holds it is answered `304 Not Modified` with no body. Anything about
one reader stays `private, no-store`."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def public_policy(max_age: int, stale_while_revalidate: int) -> str:
    return f"public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}"


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def is_fresh(request: Request, etag: str) -> bool:
    """Whether the client's copy is this one (RFC 9110 If-None-Match: a list, `*`, and weak
    comparison, so a W/ prefix a proxy added still matches)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = [tag.strip() for tag in header.split(",")]
    return "*" in candidates or any(tag.removeprefix("W/") == etag for tag in candidates)


def cacheable_json(request: Request, content: object, policy: str) -> Response:
    """`content` as JSON that caches may keep under `policy`, or a 304 when the client has it.
    Vary: Origin on both, so a cache never hands one site's CORS answer to another."""
    response: Response = JSONResponse(content)
    etag = entity_tag(bytes(response.body))
    if is_fresh(request, etag):
        response = Response(status_code=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = policy
    response.headers["Vary"] = "Origin"
    return response

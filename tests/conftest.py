"""Shared fixtures. Every test gets real DuckDB files under tmp_path; nothing is mocked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient

from reactions import clock
from reactions.demo.newsroom import Newsroom, generate, populate
from reactions.store.articles import upsert_articles
from reactions.store.store import Store
from reactions.web.tokens import create_token
from tools.pg_cluster import Cluster, pg_bin, pg_cluster

# A fixed "now" for generated data, so every run of the suite sees the same newsroom.
DEMO_END = datetime(2026, 11, 20, 12, 0)
# The product's clock (reactions.clock) starts here for the whole suite, this process and every
# child it starts (CLI, `streamlit run`): "last 7 days" always holds the demo's newest week,
# whatever the calendar says. CI runs the suite a second time with the wall clock a year ahead
# (.ci/run) to prove it.
TEST_NOW = DEMO_END
os.environ[clock.ENV] = TEST_NOW.isoformat()
os.environ[clock.ENV_AT] = datetime.now(UTC).isoformat()  # one timeline for every process
# No server in the suite scans on its own schedule unless its test asks for it.
os.environ["REACTIONS_SCAN_EVERY_SECONDS"] = "0"
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[1]


def make_articles(*ids: str, topic: str = "World") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "article_id": list(ids),
            "title": [f"Title of {i}" for i in ids],
            "topic": [topic] * len(ids),
            "published_at": [pd.Timestamp("2026-11-01 08:00")] * len(ids),
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh database with two articles and no events."""
    s = Store.open(tmp_path / "reactions.duckdb")
    upsert_articles(s, make_articles("budget-vote", "cup-final"))
    yield s
    s.close()


@pytest.fixture(scope="session")
def small_newsroom() -> Newsroom:
    return generate(articles=80, events=60_000, days=30, seed=11, end=DEMO_END)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, small_newsroom: Newsroom) -> Path:
    """A database holding `small_newsroom`. Read-only for tests: copy it to write."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    s = Store.open(path)
    populate(s, small_newsroom)
    s.con.execute("CHECKPOINT")
    s.close()
    return path


@contextmanager
def app_client(
    db: Path, env: dict[str, str] | None = None, client: tuple[str, int] = ("testclient", 50000)
) -> Iterator[TestClient]:
    """The real app (app.py: st.App, its routes, its Store) on `db`, in this process, through
    Starlette's TestClient; `client` is the address requests come from."""
    import importlib

    import streamlit as st
    from starlette.testclient import TestClient
    from streamlit.runtime import Runtime

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REACTIONS_DB", str(db))
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        patch.syspath_prepend(str(ROOT))
        st.cache_resource.clear()
        sys.modules.pop("app", None)
        try:
            with TestClient(importlib.import_module("app").app, client=client) as test_client:
                yield test_client
        finally:
            st.cache_resource.clear()
            sys.modules.pop("app", None)
            # Streamlit keeps its runtime as a process-wide singleton and does not clear it
            # when the app stops (AppTest clears it after each run); the next app needs it gone.
            Runtime._instance = None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster (Debian's, installed by .ci/run) for the session. A
    machine without it skips these tests, except under CI, where that is a failure."""
    if pg_bin() is None:
        if os.environ.get("CI"):
            raise RuntimeError("PostgreSQL is missing: .ci/run must install Debian's postgresql")
        pytest.skip("no PostgreSQL on this machine (CI installs it)")
    with pg_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_server: Cluster) -> Iterator[str]:
    """A fresh, empty database on that cluster for one test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield pg_server.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def copy_with_token(source: Path, copy: Path, name: str) -> str:
    """`source` copied to `copy` (a file a test server will serve), holding an export token
    named `name`; returns the token."""
    shutil.copy(source, copy)
    store = Store.open(copy)
    try:
        return create_token(store, name).token
    finally:
        store.close()


def event_count(s: Store) -> int:
    return int(s.cursor().execute("SELECT count(*) FROM reaction_events").fetchall()[0][0])


def run_cli(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The `reactions` command in a child process, as a user runs it."""
    extra = ["--db", str(db)] if db else []
    return subprocess.run(
        [sys.executable, "-m", "reactions", *args, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )

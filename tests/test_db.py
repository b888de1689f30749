"""Schema migrations, upgrades in place, and the one-process lock turned into one line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from reactions.errors import DatabaseError
from reactions.store.connection import connect
from reactions.store.schema import MIGRATIONS, apply_migrations
from reactions.store.sql import scalar


def test_fresh_database_records_every_migration_in_order(tmp_path: Path) -> None:
    con = connect(tmp_path / "r.duckdb")
    names = [
        r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
    ]
    assert names == [name for name, _ in MIGRATIONS]
    assert apply_migrations(con) == []  # idempotent: a second start applies nothing
    kinds = con.execute("SELECT kind_id, emoji FROM reaction_kinds ORDER BY position").fetchall()
    assert kinds == [
        ("like", "👍"),
        ("dislike", "👎"),
        ("love", "❤️"),
        ("funny", "😂"),
        ("angry", "😡"),
        ("sad", "😢"),
        ("wow", "😮"),
    ]


def test_older_database_upgrades_in_place_keeping_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    apply_migrations(old, up_to="002_default_reaction_kinds")  # as an early version left it
    old.execute(
        "INSERT INTO articles (article_id, title, topic, published_at) "
        "VALUES ('a', 'A', 'World', TIMESTAMP '2026-01-01')"
    )
    old.execute(
        "INSERT INTO reaction_events VALUES "
        "(1, TIMESTAMP '2026-01-01 01:00', 'a', 'r1', 'like', 'add', 'api', NULL),"
        "(2, TIMESTAMP '2026-01-01 01:01', 'a', 'r1', 'like', 'remove', 'api', NULL),"
        "(3, TIMESTAMP '2026-01-01 01:01', 'a', 'r1', 'love', 'add', 'api', NULL),"
        "(4, TIMESTAMP '2026-01-01 01:02', 'a', 'r2', 'sad', 'add', 'api', NULL)"
    )
    old.close()

    con = connect(path)  # the new version opens it
    assert scalar(con.cursor(), "SELECT count(*) FROM reaction_events") == 4
    current = con.execute(
        "SELECT reader_hash, kind_id, event_id, strftime(added_at, '%H:%M') "
        "FROM current_reactions ORDER BY reader_hash"
    ).fetchall()
    assert current == [("r1", "love", 3, "01:01"), ("r2", "sad", 4, "01:02")]


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "r.duckdb")
    con.execute("INSERT INTO schema_migrations VALUES ('999_from_the_future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(DatabaseError, match="newer version"):
        connect(tmp_path / "r.duckdb")


def test_extensions_are_never_downloaded(tmp_path: Path) -> None:
    con = connect(tmp_path / "r.duckdb")
    setting = con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchall()
    assert setting == [(False,)]


def test_cli_on_a_locked_database_says_who_holds_it_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; con = duckdb.connect({str(path)!r}); print('ready', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "reactions", "stats", "--db", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"in use by process {holder.pid}" in lines[0]
    assert "--db" in lines[0] and "Traceback" not in result.stderr
    assert time.monotonic() - started < 30

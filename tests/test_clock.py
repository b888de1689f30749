"""The one clock (design rule 4): the product reads "now" from reactions.clock only, tests set
it, and the suite passes whatever the calendar says (CI runs it again a year ahead)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from reactions import clock
from reactions.errors import InvalidInput
from tests.conftest import TEST_NOW, run_cli
from tools.wall_clock_ahead import MOVED_BY_DAYS, MOVED_FROM

SRC = Path(__file__).parents[1] / "src" / "reactions"


def test_the_clock_starts_where_it_is_set_and_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV, "2031-02-03T04:05:06+01:00")
    monkeypatch.delenv(clock.ENV_AT)  # from this process's first reading
    first = clock.utc_now()
    assert datetime(2031, 2, 3, 3, 5, 6) <= first < datetime(2031, 2, 3, 3, 5, 16)
    assert clock.utc_now() >= first
    assert clock.today_in("Pacific/Kiritimati") == datetime(2031, 2, 3).date()
    assert clock.today_in("America/Anchorage") == datetime(2031, 2, 2).date()


def test_the_suite_runs_at_its_own_time() -> None:
    assert TEST_NOW <= clock.utc_now() < TEST_NOW + timedelta(hours=6)


def test_every_process_of_a_run_shares_one_timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anchored to a wall-clock instant, the clock reads the same in every process: the
    second of two CLI commands never stamps a time before the first's."""
    anchor = datetime.now(UTC) - timedelta(minutes=10)
    monkeypatch.setenv(clock.ENV, "2030-01-01T00:00:00")
    monkeypatch.setenv(clock.ENV_AT, anchor.isoformat())
    now = clock.utc_now()
    assert datetime(2030, 1, 1, 0, 10) <= now < datetime(2030, 1, 1, 0, 11)
    child = subprocess.run(
        [sys.executable, "-c", "from reactions.clock import utc_now; print(utc_now().isoformat())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert now <= datetime.fromisoformat(child.stdout.strip()) < now + timedelta(seconds=30)


def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV, "next tuesday")
    with pytest.raises(InvalidInput, match="REACTIONS_NOW='next tuesday' is not an ISO time"):
        clock.utc_now()


def test_the_cli_reads_the_same_clock(tmp_path: Path) -> None:
    """A child process (the CLI) inherits the clock: its demo ends at the set hour."""
    db = tmp_path / "clock.duckdb"
    done = run_cli("demo", "--articles", "3", "--events", "200", "--days", "2", "--no-views", db=db)
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        newest = con.execute(
            "SELECT max(occurred_at) FROM reaction_events WHERE source = 'synthetic'"
        ).fetchall()[0][0]
    assert TEST_NOW - timedelta(hours=1) <= newest <= TEST_NOW + timedelta(hours=1)


# --- nothing else reads the calendar ------------------------------------------------------

WALL_CLOCK_CALLS = re.compile(r"\b(datetime|date)\.(now|today|utcnow)\(|\btime\.time\(\)")
# DuckDB's own clock, in SQL text
SQL_CLOCK = re.compile(r"\b(now|today|current_date|current_timestamp|get_current_time)\b\s*\(?")


def _string_constants(path: Path) -> list[str]:
    """The string constants of a module, its docstrings left out (prose, not SQL)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    readers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "clock.py" and WALL_CLOCK_CALLS.search(path.read_text(encoding="utf-8"))
    )
    assert readers == []
    in_sql = sorted(
        f"{path.relative_to(SRC)}: {text.strip()[:60]!r}"
        for path in SRC.rglob("*.py")
        for text in _string_constants(path)
        if re.search(r"\b(SELECT|INSERT|UPDATE|WHERE)\b", text) and SQL_CLOCK.search(text)
    )
    assert in_sql == []


def test_the_scan_sees_a_wall_clock_read() -> None:
    assert WALL_CLOCK_CALLS.search("today = datetime.now(UTC).date()")
    assert WALL_CLOCK_CALLS.search("day = date.today()")
    assert SQL_CLOCK.search("WHERE added_at > now()::TIMESTAMP - INTERVAL 1 HOUR")
    assert SQL_CLOCK.search("WHERE day = current_date")


@pytest.mark.skipif(MOVED_FROM not in os.environ, reason="only under tools.wall_clock_ahead")
def test_the_wall_clock_really_moved() -> None:
    """Under `make test-year-ahead`: Python, DuckDB and a child process all see the moved
    date — otherwise that pass would prove nothing."""
    days = int(os.environ[MOVED_BY_DAYS])
    moved_from = datetime.fromisoformat(os.environ[MOVED_FROM])
    expected = moved_from + timedelta(days=days)
    assert abs(datetime.now(UTC) - expected) < timedelta(hours=2)
    duck = duckdb.connect().execute("SELECT now()::TIMESTAMPTZ").fetchall()[0][0]
    assert abs(duck.astimezone(UTC) - expected) < timedelta(hours=2)
    child = subprocess.run(["date", "-u", "+%Y-%m-%d"], capture_output=True, text=True)
    near = {(expected + timedelta(hours=h)).strftime("%Y-%m-%d") for h in (-2, 0, 2)}
    assert child.stdout.strip() in near

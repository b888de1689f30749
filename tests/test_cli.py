"""The `reactions` command: every command explains itself with an example, errors are one
line with a non-zero exit, and the commands work together on a real file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
import pytest

from reactions.cli import cli
from tests.conftest import DATA
from tests.conftest import run_cli as run


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help) > 30, f"{name} lacks a description"
    assert command.epilog and "Example" in command.epilog, f"{name} lacks an example"
    # every command that touches the database takes --db (a group's through its subcommands)
    leaves = list(command.commands.values()) if isinstance(command, click.Group) else [command]
    for leaf in leaves:
        if name != "serve":
            assert any(isinstance(p, click.Option) and "--db" in p.opts for p in leaf.params)
        assert leaf.help, f"{name} {leaf.name} lacks a description"
    result = run(name, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout and f"reactions {name}" in result.stdout


def test_the_required_commands_exist() -> None:
    assert {"init", "demo", "import-articles", "stats", "export", "serve", "token"} <= set(
        cli.commands
    )


def test_init_then_demo_then_stats_then_export(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    first = run("init", db=db)
    assert first.returncode == 0 and "applied 001_core_tables" in first.stdout
    assert "schema up to date" in run("init", db=db).stdout

    demo = run(
        "demo",
        "--articles",
        "30",
        "--events",
        "25000",
        "--days",
        "10",
        "--end",
        "2026-11-20T12:00",
        db=db,
    )
    assert demo.returncode == 0, demo.stderr
    assert "31 articles, 25,000 events and " in demo.stdout
    assert "generating" in demo.stderr and "100%" in demo.stderr  # the progress bar

    stats = run("stats", db=db)
    assert stats.returncode == 0
    assert "articles            31" in stats.stdout
    assert "events              25,000" in stats.stdout
    # the demo's views, as many as the stats line and the demo's own report say
    reported = demo.stdout.split(" events and ")[1].split(" views")[0]
    assert f"views of the bar    {reported}  (" in stats.stdout
    assert "reactions per 100 views" in stats.stdout

    assert "integrity scan:" in demo.stdout  # the planted bursts are flagged from the start
    out = tmp_path / "events.csv"
    export = run(
        "export", "events", "--range", "all", "--flagged", "include", "-o", str(out), db=db
    )
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == 25_000
    assert list(rows[0]) == [
        "event_id",
        "occurred_at_utc",
        "occurred_at_local",
        "timezone",
        "article_id",
        "title",
        "topic",
        "author",
        "tags",
        "kind",
        "action",
        "source",
        "reader_hash",
    ]
    assert [int(r["event_id"]) for r in rows] == list(range(1, 25_001))  # the log's order
    assert rows[0]["occurred_at_utc"].endswith("Z") and "T" in rows[0]["occurred_at_utc"]

    to_stdout = run("export", "events", "--range", "all", db=db)  # flagged events left out
    cleaned = len(list(csv.reader(io.StringIO(to_stdout.stdout)))) - 1
    flagged = run("integrity", "scan", db=db).stderr
    assert cleaned == 25_000 - int(flagged.split(" flags, ")[1].split()[0]) < 25_000

    assert run("rebuild", "--check", db=db).returncode == 0


def test_import_articles_reports_added_updated_rejected(tmp_path: Path) -> None:
    db = tmp_path / "import.duckdb"
    result = run("import-articles", str(DATA / "articles.csv"), db=db)
    assert result.returncode == 0
    assert "articles.csv: 3 added, 0 updated, 1 rejected" in result.stdout
    assert "rejected record 3: published_at is missing" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--events", "-5"], "error: Invalid value for '--events'"),
        (["demo", "--end", "yesterday-ish"], "error: Invalid value for --end"),
        (["export", "sales"], "error: Invalid value for '{events|articles|timeseries}'"),
        (["import-articles", "does-not-exist.csv"], "error: Invalid value for 'FILE'"),
        (["import-articles", str(DATA / "malformed.json")], "error: malformed JSON at line 3"),
        (["launch"], "error: No such command 'launch'"),
    ],
)
def test_bad_input_is_one_line_and_a_failing_exit(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db = tmp_path / "bad.duckdb"
    result = run(*args, db=db)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message), lines[0]
    assert "Traceback" not in result.stderr


def test_demo_refuses_to_pile_onto_existing_events(tmp_path: Path) -> None:
    db = tmp_path / "twice.duckdb"
    assert run("demo", "--articles", "5", "--events", "1000", db=db).returncode == 0
    again = run("demo", "--articles", "5", "--events", "1000", db=db)
    assert again.returncode == 1
    assert "already holds 1,000 events; pass --force" in again.stderr

"""Commands that make and look after a database: init, demo, import-articles, stats, rebuild, serve."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import duckdb

from reactions.cli.common import (
    EPILOG_EXAMPLES,
    cli,
    db_option,
    open_store,
    progress_bar,
    settings_for,
)
from reactions.errors import ReactionsError
from reactions.metrics.stats import per_100_views
from reactions.store.bulk import rebuild_derived
from reactions.store.connection import connect
from reactions.store.schema import applied_migrations, apply_migrations


@cli.command(epilog=EPILOG_EXAMPLES["init"])
@db_option
def init(db_path: Path | None) -> None:
    """Create the database, or upgrade it to this version's schema (with --database-url:
    PostgreSQL's)."""
    settings = settings_for(db_path)
    if settings.database_url:
        from reactions.store.postgres.connection import connect_pg
        from reactions.store.postgres.schema import MIGRATIONS

        pg = connect_pg(settings.database_url, migrate=False)
        try:
            from reactions.store.postgres.schema import apply_migrations as apply_pg

            done = apply_pg(pg)
        finally:
            pg.close()
        what = ", ".join(done) if done else "nothing; the schema is up to date"
        click.echo(f"PostgreSQL: applied {what} ({len(MIGRATIONS)} migrations in all)")
        return
    con = connect(settings.db_path, migrate=False)
    try:
        applied = apply_migrations(con)
        total = len(applied_migrations(con.cursor()))
    finally:
        con.close()
    if applied:
        click.echo(f"{settings.db_path}: applied {', '.join(applied)} ({total} migrations in all)")
    else:
        click.echo(f"{settings.db_path}: schema up to date ({total} migrations)")


def _parse_end(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date/time, e.g. 2026-11-26T08:00", param_hint="--end"
        ) from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


@cli.command(epilog=EPILOG_EXAMPLES["demo"])
@db_option
@click.option(
    "--articles",
    type=click.IntRange(1, 200_000),
    default=500,
    show_default=True,
    help="Articles to generate (plus the seed article).",
)
@click.option(
    "--events",
    type=click.IntRange(0, 500_000_000),
    default=1_000_000,
    show_default=True,
    help="Reaction events to generate.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="Publication window, ending now.",
)
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Random seed: the same seed and --end give the same data.",
)
@click.option(
    "--end",
    "end_text",
    metavar="ISO",
    default=None,
    help="Newest instant (UTC unless an offset is given). Default: this hour.",
)
@click.option(
    "--views/--no-views",
    default=True,
    show_default=True,
    help="Also make the views of the reaction bar (20–200 per reaction) that rates need.",
)
@click.option("--force", is_flag=True, help="Add demo data even if the database has events.")
def demo(
    db_path: Path | None,
    articles: int,
    events: int,
    days: int,
    seed: int,
    end_text: str | None,
    views: bool,
    force: bool,
) -> None:
    """Fill the database with a synthetic newsroom: articles, and reactions shaped like
    real reading (publication curves, daily cycle, topic moods, switches, undos, bot bursts)."""
    from reactions.demo.newsroom import generate, populate
    from reactions.jobs.integrity_scans import scan

    end = _parse_end(end_text)
    with open_store(db_path) as store:
        existing = store.cursor().execute("SELECT count(*) FROM reaction_events").fetchall()[0][0]
        if existing and not force:
            raise ReactionsError(
                f"{store.path} already holds {existing:,} events; pass --force to add demo "
                "data anyway, or --db for a new file"
            )
        with progress_bar(100, "generating") as bar:

            def on_generate(stage: str, fraction: float) -> None:
                share = 0.1 if stage == "articles" else 0.9
                base = 0.0 if stage == "articles" else 10.0
                bar.n = round(base + share * 100 * fraction, 1)
                bar.refresh()

            newsroom = generate(
                articles=articles,
                events=events,
                days=days,
                seed=seed,
                end=end,
                views=views,
                progress=on_generate,
            )
        with progress_bar(100, "loading") as bar:

            def on_load(fraction: float) -> None:
                bar.n = round(100 * fraction, 1)
                bar.refresh()

            view_count = populate(store, newsroom, progress=on_load)
        flags = scan(store)  # so the Integrity page names the planted bursts from the start
    click.echo(
        f"{store.path}: {len(newsroom.articles):,} articles, {len(newsroom.events):,} "
        f"events and {view_count:,} views (seed {seed}); integrity scan: {len(flags)} flags"
    )


@cli.command("import-articles", epilog=EPILOG_EXAMPLES["import-articles"])
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "rss"]),
    default=None,
    help="File format. Default: from the file name (.csv, .json, .xml/.rss/.atom).",
)
def import_articles_command(db_path: Path | None, file: Path, fmt: str | None) -> None:
    """Add or update articles from a CSV, JSON or RSS/Atom file (upsert by article id).

    CSV/JSON fields: article_id, title, dek, body, url, topic, tags, author, dateline,
    published_at, updated_at (title and published_at required; times ISO 8601, UTC unless
    an offset is given). HTML is reduced to text. A malformed file changes nothing.
    """
    from reactions.store.article_import import import_articles

    with open_store(db_path) as store:
        report = import_articles(store, file, fmt)
    for rejected in report.rejected[:50]:
        click.echo(f"rejected record {rejected.row}: {rejected.reason}", err=True)
    if len(report.rejected) > 50:
        click.echo(f"… and {len(report.rejected) - 50} more rejected", err=True)
    click.echo(f"{file.name}: {report.summary()}")


@cli.command(epilog=EPILOG_EXAMPLES["stats"])
@db_option
def stats(db_path: Path | None) -> None:
    """Summarize the database: articles, events, readers, views and the current reaction mix."""
    from reactions.metrics.queries import database_summary

    with open_store(db_path) as store:
        summary = database_summary(store.cursor())
    span = (
        f"{summary.first_event:%Y-%m-%d %H:%M} → {summary.last_event:%Y-%m-%d %H:%M} UTC"
        if summary.first_event is not None
        else "no events yet"
    )
    click.echo(f"database            {store.path}")
    click.echo(f"articles            {summary.articles:,}")
    click.echo(f"events              {summary.events:,}  ({span})")
    click.echo(f"readers             {summary.readers:,}")
    click.echo(f"current reactions   {summary.current_reactions:,}")
    per_100 = per_100_views(summary.current_reactions, summary.views)
    rate = f"  ({per_100:.2f} reactions per 100 views)" if per_100 is not None else ""
    click.echo(f"views of the bar    {summary.views:,}{rate}")
    for row in summary.by_kind.itertuples():
        click.echo(f"  {row.emoji}  {row.label:<9} {row.current:>12,}  {row.share:6.1%}")


@cli.command(epilog=EPILOG_EXAMPLES["rebuild"])
@db_option
@click.option(
    "--check",
    is_flag=True,
    help="Only compare the derived tables with the event log; change nothing.",
)
def rebuild(db_path: Path | None, check: bool) -> None:
    """Rebuild derived tables (each reader's current reactions, reactions and views per
    quarter hour) from the event logs, the truth."""
    from reactions.store.derived import (
        derived_state_mismatches,
        reaction_count_mismatches,
        view_count_mismatches,
    )

    def differences(cur: duckdb.DuckDBPyConnection) -> list[str]:
        found = (
            ("current_reactions differs from the event log in {:,} rows", derived_state_mismatches),
            (
                "reaction_counts differs from current_reactions in {:,} cells",
                reaction_count_mismatches,
            ),
            ("view_counts differs from the view log in {:,} quarter hours", view_count_mismatches),
        )
        return [message.format(n) for message, count in found if (n := count(cur))]

    tables = "current_reactions, reaction_counts and view_counts"
    with open_store(db_path) as store:
        before = differences(store.cursor())
        if check:
            if before:
                raise ReactionsError("; ".join(before) + "; run `reactions rebuild`")
            click.echo(f"{tables} match the event logs exactly")
            return
        rebuild_derived(store)
        after = differences(store.cursor())
    click.echo(
        f"rebuilt {tables} from the event logs "
        f"(before: {'; '.join(before) or 'no differences'}; now: {'; '.join(after) or 'none'})"
    )


@cli.command(epilog=EPILOG_EXAMPLES["serve"])
@db_option
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.option(
    "--host",
    default="localhost",
    show_default=True,
    help="Address to listen on; 0.0.0.0 exposes the app on the network.",
)
def serve(db_path: Path | None, port: int, host: str) -> None:
    """Run the app (dashboard, reader page and API) with Streamlit on one port."""
    settings = settings_for(db_path)
    app = Path(__file__).resolve().parents[3] / "app.py"
    if not app.is_file():
        raise ReactionsError(f"cannot find app.py next to the package ({app}); run from a checkout")
    env = {**os.environ, "REACTIONS_DB": str(settings.db_path.resolve())}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--browser.gatherUsageStats",
        "false",
        "--server.headless",
        "true",
    ]
    click.echo(f"serving {settings.db_path} on http://{host}:{port}", err=True)
    raise SystemExit(subprocess.call(command, env=env, cwd=app.parent))

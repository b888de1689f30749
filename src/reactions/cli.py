"""`reactions`: a thin click layer over the library. Every failure a user can cause prints one
line (`error: …`) on stderr and exits non-zero; no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import duckdb
import pandas as pd
from tqdm import tqdm

from reactions import __version__
from reactions.config import ConfigError, Settings
from reactions.errors import ReactionsError
from reactions.store.bulk import rebuild_derived
from reactions.store.connection import connect
from reactions.store.kinds import add_kind, edit_kind, move_kind, set_kind_enabled
from reactions.store.schema import applied_migrations, apply_migrations
from reactions.store.store import Store
from reactions.web.tokens import create_token, revoke_token

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_EXAMPLES = {
    "init": "Example:\n\n\b\n  reactions init --db data/newsroom.duckdb",
    "demo": "Example:\n\n\b\n  reactions demo --articles 500 --events 1000000 --days 90 --seed 7",
    "import-articles": "Example:\n\n\b\n  reactions import-articles feed.xml\n"
    "  reactions import-articles articles.csv --format csv",
    "stats": "Example:\n\n\b\n  reactions stats --db data/reactions.duckdb",
    "export": "Examples:\n\n\b\n  reactions export events -o events.csv\n"
    "  reactions export articles --range 7d --topic Politics --tz Europe/Berlin -o politics.csv\n"
    "  reactions export timeseries --from 2026-11-01 --to 2026-11-07 --interval hour --zip -o week.zip\n"
    "  reactions export events --format parquet -o events.parquet",
    "serve": "Example:\n\n\b\n  reactions serve --port 8501",
    "kinds": "Examples:\n\n\b\n  reactions kinds list\n"
    "  reactions kinds add shocked --label Shocked --emoji 😱 --sentiment -1\n"
    "  reactions kinds edit love --label Adore\n  reactions kinds move angry 0\n"
    "  reactions kinds disable funny",
    "integrity": "Examples:\n\n\b\n  reactions integrity scan\n"
    "  reactions integrity decide toggle-1234 confirm --why 'one reader, 108 taps'\n"
    "  reactions integrity log -o exclusions.csv",
    "token": "Examples:\n\n\b\n  reactions token create --name 'newsroom BI'\n"
    "  reactions token list\n  reactions token revoke 1a2b3c4d5e6f",
    "rebuild": "Example:\n\n\b\n  reactions rebuild --check",
}


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Database file. Default: $REACTIONS_DB or data/reactions.duckdb.",
    )(func)


def _settings(db_path: Path | None) -> Settings:
    return Settings.load(db_path)


@contextmanager
def _open_store(db_path: Path | None) -> Iterator[Store]:
    settings = _settings(db_path)
    store = Store.open(settings.db_path, multiple=settings.multiple_reactions)
    try:
        yield store
    finally:
        store.close()


def _bar(total: float, desc: str, unit: str = "%") -> tqdm[Any]:
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        leave=True,
        bar_format="{desc:<22} {percentage:3.0f}%|{bar}| {elapsed}",
    )


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example:\n\n\b\n  reactions demo && reactions stats && reactions serve",
)
@click.version_option(__version__, prog_name="reactions")
def cli() -> None:
    """Reader reactions for news sites: event store, demo data, exports and the app.

    Every command takes --db (default $REACTIONS_DB or data/reactions.duckdb). While the app
    runs it owns the database file; stop it before commands that write.
    """


@cli.command(epilog=EPILOG_EXAMPLES["init"])
@db_option
def init(db_path: Path | None) -> None:
    """Create the database, or upgrade it to this version's schema."""
    settings = _settings(db_path)
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
    with _open_store(db_path) as store:
        existing = store.cursor().execute("SELECT count(*) FROM reaction_events").fetchall()[0][0]
        if existing and not force:
            raise ReactionsError(
                f"{store.path} already holds {existing:,} events; pass --force to add demo "
                "data anyway, or --db for a new file"
            )
        with _bar(100, "generating") as bar:

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
        with _bar(100, "loading") as bar:

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

    with _open_store(db_path) as store:
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

    with _open_store(db_path) as store:
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
    rate = (
        f"  ({100 * summary.current_reactions / summary.views:.2f} reactions per 100 views)"
        if summary.views
        else ""
    )
    click.echo(f"views of the bar    {summary.views:,}{rate}")
    for row in summary.by_kind.itertuples():
        click.echo(f"  {row.emoji}  {row.label:<9} {row.current:>12,}  {row.share:6.1%}")


def filter_options(func: F) -> F:
    """The dashboard's URL parameters as options, with the same names and meanings."""
    options = [
        click.option(
            "--range",
            "range_",
            default=None,
            help="today, 7d, 30d, 90d or all (ignored with --from/--to). Default: the "
            "dashboard's, 7d — a link's parameters mean the same everywhere.",
        ),
        click.option("--from", "from_", default=None, help="First day, e.g. 2026-11-01."),
        click.option("--to", default=None, help="Last day (inclusive), e.g. 2026-11-07."),
        click.option("--topic", multiple=True, help="Topic (repeat for several)."),
        click.option("--author", multiple=True, help="Author (repeat for several)."),
        click.option("--tag", multiple=True, help="Tag (repeat for several)."),
        click.option("--kind", multiple=True, help="Reaction kind id (repeat for several)."),
        click.option("--q", default=None, help="Text in the title."),
        click.option("--interval", default="day", show_default=True, help="hour, day or week."),
        click.option(
            "--tz", default="UTC", show_default=True, help="IANA timezone of days and buckets."
        ),
        click.option(
            "--flagged",
            default="exclude",
            show_default=True,
            help="exclude: leave out events integrity flagged (not dismissed); include: raw.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _query_params(**values: Any) -> dict[str, list[str]]:
    """Options -> the URL query the dashboard would have (so both parse the same way)."""
    names = {
        "range_": "range",
        "from_": "from",
        "to": "to",
        "topic": "topic",
        "author": "author",
        "tag": "tag",
        "kind": "kind",
        "q": "q",
        "interval": "interval",
        "tz": "tz",
        "flagged": "flagged",
    }
    params: dict[str, list[str]] = {}
    for option, name in names.items():
        value = values.get(option)
        if value:
            params[name] = list(value) if isinstance(value, tuple) else [str(value)]
    return params


@cli.command(epilog=EPILOG_EXAMPLES["export"])
@db_option
@click.argument("dataset", type=click.Choice(["events", "articles", "timeseries"]))
@filter_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write; '-' or omitted writes to stdout.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the manifest (JSON). Default: beside -o as FILE.manifest.json.",
)
@click.option(
    "--zip", "as_zip", is_flag=True, help="Write -o as a zip of the data and manifest.json."
)
def export(
    db_path: Path | None,
    dataset: str,
    output: Path | None,
    fmt: str,
    manifest_path: Path | None,
    as_zip: bool,
    **filters: Any,
) -> None:
    """Export a dataset under the dashboard's filters (default, as on the dashboard: the last
    7 days, in UTC; --range all for everything).

    \b
    events      raw reaction events (every add and remove) in the range
    articles    one row per article: counts, shares with 95 % intervals, previous period
    timeseries  one row per interval bucket x kind, with the previous period's value
    """
    from reactions.exports.delivery import deliver, write_manifest
    from reactions.exports.writer import stdout_binary
    from reactions.metrics.filters import strict_filters
    from reactions.metrics.queries import known_values

    to_stdout = output is None or str(output) == "-"
    if as_zip and to_stdout:
        raise click.UsageError("--zip needs -o FILE")
    with _open_store(db_path) as store:
        f = strict_filters(_query_params(**filters), known_values(store.cursor()))
        # This process owns the file alone, so a database-wide setting is ours to change:
        # large unordered exports stream their blocks as they come (writer.ORDERED_UP_TO).
        store.cursor().execute("SET preserve_insertion_order = false")
        cur = store.cursor()
        shape = "zip" if as_zip else fmt
        if to_stdout:
            result = deliver(cur, dataset, f, shape, stdout_binary())
        else:
            assert output is not None
            with _bar(100, f"exporting {dataset}") as bar:

                def on_progress(fraction: float) -> None:
                    bar.n = round(100 * fraction, 1)
                    bar.refresh()

                result = deliver(cur, dataset, f, shape, output, progress=on_progress)
        sidecar = manifest_path
        if (
            sidecar is None
            and output is not None
            and not (to_stdout or as_zip)
            and output.is_file()  # a file we wrote, not a device such as /dev/null
        ):
            sidecar = output.with_name(output.name + ".manifest.json")
        if sidecar is not None:
            write_manifest(sidecar, result.manifest)
    where = "" if to_stdout else f" written to {output}"
    click.echo(
        f"{result.rows:,} {dataset} rows ({f.describe_range()}, {f.tz}){where}"
        + (f"; manifest {sidecar}" if sidecar else ""),
        err=True,
    )


@cli.group(epilog=EPILOG_EXAMPLES["kinds"])
def kinds() -> None:
    """The reaction set: list, add, edit, reorder, disable or enable kinds (history stays)."""


def _kind_options(func: F) -> F:
    for option in reversed(
        [
            click.option("--label", default=None, help="What readers see, e.g. 'Love'."),
            click.option("--emoji", default=None, help="The kind's emoji, e.g. '❤️'."),
            click.option(
                "--sentiment", type=click.IntRange(-1, 1), default=None, help="-1, 0 or 1."
            ),
            click.option("--color", default=None, help="Chart colour, e.g. '#db2777'."),
        ]
    ):
        func = option(func)
    return func


@kinds.command("list")
@db_option
def kinds_list(db_path: Path | None) -> None:
    """Every kind in bar order, enabled or not."""
    from reactions.metrics.queries import reaction_kinds

    with _open_store(db_path) as store:
        table = reaction_kinds(store.cursor(), enabled_only=False)
    for row in table.to_dict("records"):
        state = "" if row["enabled"] else "  (disabled)"
        click.echo(
            f"{row['position']}  {row['emoji']}  {row['kind_id']:<12} {row['label']:<14} "
            f"sentiment {row['sentiment']:+d}  {row['color']}{state}".replace("+0", " 0")
        )


def _change(db_path: Path | None, action: Callable[[Store], None], done: str) -> None:
    """Open the store, make one change, say what was done."""
    with _open_store(db_path) as store:
        action(store)
    click.echo(done, err=True)


@kinds.command("add")
@db_option
@click.argument("kind_id")
@_kind_options
def kinds_add(db_path: Path | None, kind_id: str, **fields: Any) -> None:
    """Add a kind at the end of the bar (--label, --emoji and --sentiment required)."""
    from reactions.store.kinds import KindChange

    _change(db_path, lambda s: add_kind(s, kind_id, KindChange(**fields)), f"kind {kind_id} added")


@kinds.command("edit")
@db_option
@click.argument("kind_id")
@_kind_options
def kinds_edit(db_path: Path | None, kind_id: str, **fields: Any) -> None:
    """Change a kind's label, emoji, sentiment or colour; its id and history stay."""
    from reactions.store.kinds import KindChange

    change = KindChange(**fields)
    _change(db_path, lambda s: edit_kind(s, kind_id, change), f"kind {kind_id} updated")


@kinds.command("move")
@db_option
@click.argument("kind_id")
@click.argument("position", type=int)
def kinds_move(db_path: Path | None, kind_id: str, position: int) -> None:
    """Put a kind at POSITION (0 = first) in the bar and on every chart."""
    done = f"kind {kind_id} moved to position {position}"
    _change(db_path, lambda s: move_kind(s, kind_id, position), done)


@kinds.command("disable")
@db_option
@click.argument("kind_id")
def kinds_disable(db_path: Path | None, kind_id: str) -> None:
    """Stop offering a kind; its past reactions stay in history and exports."""
    _change(db_path, lambda s: set_kind_enabled(s, kind_id, False), f"kind {kind_id} disabled")


@kinds.command("enable")
@db_option
@click.argument("kind_id")
def kinds_enable(db_path: Path | None, kind_id: str) -> None:
    """Offer a disabled kind again."""
    _change(db_path, lambda s: set_kind_enabled(s, kind_id, True), f"kind {kind_id} enabled")


@cli.group(epilog=EPILOG_EXAMPLES["integrity"])
def integrity() -> None:
    """Bot-like bursts: scan the log for them, and decide on what was flagged."""


@integrity.command("scan")
@db_option
def integrity_scan(db_path: Path | None) -> None:
    """Look for toggle storms, hyperactive readers and bursts from one network."""
    from reactions.jobs.integrity_scans import scan

    with _open_store(db_path) as store:
        flags = scan(store)
    for row in flags.to_dict("records"):
        click.echo(f"{row['flag_id']}  {row['severity']:<6}  {row['reason']}")
    click.echo(
        f"{len(flags)} flags, {int(flags['events'].sum()) if len(flags) else 0} events", err=True
    )


@integrity.command("log")
@db_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write; omitted writes to stdout.",
)
def integrity_log(db_path: Path | None, output: Path | None) -> None:
    """The exclusion log as CSV: every flag and every decision on it (who, when, why)."""
    from reactions.exports.writer import export_frame, stdout_binary
    from reactions.metrics.integrity import exclusion_log

    with _open_store(db_path) as store:
        log = exclusion_log(store.cursor())
        if output is None:
            rows = export_frame(store.cursor(), log, stdout_binary())
        else:
            with output.open("wb") as handle:
                rows = export_frame(store.cursor(), log, handle)
    click.echo(f"{rows:,} rows in the exclusion log", err=True)


@integrity.command("decide")
@db_option
@click.argument("flag_id")
@click.argument("decision", type=click.Choice(["confirm", "dismiss"]))
@click.option("--why", required=True, help="The reason, kept in the exclusion log.")
def integrity_decide(db_path: Path | None, flag_id: str, decision: str, why: str) -> None:
    """Confirm a flag (its events stay out of cleaned figures) or dismiss it (they count)."""
    from reactions.store.integrity_flags import decide

    who = f"cli:{os.environ.get('USER', 'unknown')}"
    _change(db_path, lambda s: decide(s, flag_id, decision, who, why), f"{flag_id}: {decision}ed")


@cli.group(epilog=EPILOG_EXAMPLES["token"])
def token() -> None:
    """API tokens for GET /api/v1/export/… (Authorization: Bearer <token>)."""


@token.command("create")
@db_option
@click.option("--name", required=True, help="Who or what uses it, e.g. 'newsroom BI'.")
def token_create(db_path: Path | None, name: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    with _open_store(db_path) as store:
        created = create_token(store, name)
    click.echo(created.token)
    click.echo(
        f"token {created.token_id} created; store it now, it cannot be shown again", err=True
    )


@token.command("list")
@db_option
def token_list(db_path: Path | None) -> None:
    """List tokens (id, name, created, revoked); never the tokens themselves."""
    from reactions.web.tokens import list_tokens

    with _open_store(db_path) as store:
        tokens = list_tokens(store.cursor())
    if tokens.empty:
        click.echo("no tokens yet; create one with `reactions token create --name …`")
    for row in tokens.to_dict("records"):
        revoked = row["revoked_at"]
        status = "" if pd.isna(revoked) else f"  revoked {revoked:%Y-%m-%d %H:%M} UTC"
        click.echo(
            f"{row['token_id']}  {row['name']:<30}  "
            f"created {row['created_at']:%Y-%m-%d %H:%M} UTC{status}"
        )


@token.command("revoke")
@db_option
@click.argument("token_id")
def token_revoke(db_path: Path | None, token_id: str) -> None:
    """Revoke a token by its id (from `reactions token list`); it answers 403 from then on."""
    with _open_store(db_path) as store:
        revoke_token(store, token_id)
    click.echo(f"token {token_id} revoked", err=True)


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
    with _open_store(db_path) as store:
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
    settings = _settings(db_path)
    app = Path(__file__).resolve().parents[2] / "app.py"
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command group, turning every expected failure into one line."""
    try:
        cli.main(args=argv, prog_name="reactions", standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        raise SystemExit(exc.exit_code) from None
    except (ReactionsError, ConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None

"""What every command shares: the `reactions` group, --db, opening the store, progress bars,
and `main`, which turns every failure a user can cause into one line (`error: …`) on stderr
and a non-zero exit; no tracebacks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from reactions import __version__
from reactions.config import ConfigError, Settings
from reactions.errors import ReactionsError
from reactions.store.opening import open_store as open_reactions_store
from reactions.store.store import Store

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
    """--db FILE, and --database-url URL (PostgreSQL: --db is then this command's replica)."""
    func = click.option(
        "--database-url",
        default=None,
        expose_value=False,
        callback=_use_database_url,
        help="PostgreSQL shared by several servers, e.g. postgresql://reactions@db/reactions; "
        "--db is then this command's own replica. Default: $REACTIONS_DATABASE_URL.",
    )(func)
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Database file (with --database-url: the local replica). Default: $REACTIONS_DB "
        "or data/reactions.duckdb.",
    )(func)


def _use_database_url(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Settings read the URL from the environment, so the command — and `serve`'s server,
    its child — all see it."""
    if value:
        os.environ["REACTIONS_DATABASE_URL"] = value


def output_option(help_text: str) -> Callable[[F], F]:
    """-o/--output FILE for a command that writes a file (or stdout without it)."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help_text,
    )


def settings_for(db_path: Path | None) -> Settings:
    return Settings.load(db_path)


@contextmanager
def open_store(db_path: Path | None) -> Iterator[Store]:
    store = open_reactions_store(settings_for(db_path), background_sync=False)
    try:
        yield store
    finally:
        store.close()


def progress_bar(total: float, desc: str, unit: str = "%") -> tqdm[Any]:
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

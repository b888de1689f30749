"""Commands for analysts: export (the dashboard's filters as options) and export API tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from reactions.cli.common import (
    EPILOG_EXAMPLES,
    F,
    cli,
    db_option,
    open_store,
    output_option,
    progress_bar,
)
from reactions.web.tokens import create_token, revoke_token


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


# DuckDB keeps every block a query reads in its cache, up to its memory limit (half the
# machine): a raw export reads the whole log once, so its memory grew with the log — 536 MiB
# at 10M reactions, 2.2 GB at 100M. Capped here it stays flat at any size: at 100M, 1.2 GB
# and 65 s instead of 57 s to a file (512 MB: 0.7 GB but 53 % slower to /dev/null).
EVENTS_EXPORT_MEMORY = "1GB"


@cli.command(epilog=EPILOG_EXAMPLES["export"])
@db_option
@click.argument("dataset", type=click.Choice(["events", "articles", "timeseries"]))
@filter_options
@output_option("File to write; '-' or omitted writes to stdout.")
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
    with open_store(db_path) as store:
        f = strict_filters(_query_params(**filters), known_values(store.cursor()))
        # This process owns the file alone, so database-wide settings are ours to change:
        # large unordered exports stream their blocks as they come (writer.ORDERED_UP_TO),
        # and the raw log's blocks are not all kept in DuckDB's cache (see the constant).
        store.cursor().execute("SET preserve_insertion_order = false")
        if dataset == "events":
            store.cursor().execute(f"SET memory_limit = '{EVENTS_EXPORT_MEMORY}'")
        cur = store.cursor()
        shape = "zip" if as_zip else fmt
        if to_stdout:
            result = deliver(cur, dataset, f, shape, stdout_binary())
        else:
            assert output is not None
            with progress_bar(100, f"exporting {dataset}") as bar:

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


@cli.group(epilog=EPILOG_EXAMPLES["token"])
def token() -> None:
    """API tokens for GET /api/v1/export/… (Authorization: Bearer <token>)."""


@token.command("create")
@db_option
@click.option("--name", required=True, help="Who or what uses it, e.g. 'newsroom BI'.")
def token_create(db_path: Path | None, name: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    with open_store(db_path) as store:
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

    with open_store(db_path) as store:
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
    with open_store(db_path) as store:
        revoke_token(store, token_id)
    click.echo(f"token {token_id} revoked", err=True)

"""Commands for admins: the reaction set (kinds) and integrity (scan, log, decide)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reactions.cli.common import (
    EPILOG_EXAMPLES,
    F,
    cli,
    db_option,
    open_store,
    output_option,
)
from reactions.store.kinds import add_kind, edit_kind, move_kind, set_kind_enabled
from reactions.store.store import Store


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

    with open_store(db_path) as store:
        table = reaction_kinds(store.cursor(), enabled_only=False)
    for row in table.to_dict("records"):
        state = "" if row["enabled"] else "  (disabled)"
        click.echo(
            f"{row['position']}  {row['emoji']}  {row['kind_id']:<12} {row['label']:<14} "
            f"sentiment {row['sentiment']:+d}  {row['color']}{state}".replace("+0", " 0")
        )


def _change(db_path: Path | None, action: Callable[[Store], None], done: str) -> None:
    """Open the store, make one change, say what was done."""
    with open_store(db_path) as store:
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

    with open_store(db_path) as store:
        flags = scan(store)
    for row in flags.to_dict("records"):
        click.echo(f"{row['flag_id']}  {row['severity']:<6}  {row['reason']}")
    click.echo(
        f"{len(flags)} flags, {int(flags['events'].sum()) if len(flags) else 0} events", err=True
    )


@integrity.command("log")
@db_option
@output_option("File to write; omitted writes to stdout.")
def integrity_log(db_path: Path | None, output: Path | None) -> None:
    """The exclusion log as CSV: every flag and every decision on it (who, when, why)."""
    from reactions.exports.writer import export_frame, stdout_binary
    from reactions.metrics.integrity_reports import exclusion_log

    with open_store(db_path) as store:
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

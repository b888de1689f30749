"""The reaction set is data: what a kind may look like. Ids are permanent (the event log
refers to them), so a kind is renamed by its label and retired by disabling it — its past
events keep counting in history and exports."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reactions.errors import InvalidInput, UnknownKind
from reactions.store.store import Store

KIND_ID = re.compile(r"[a-z][a-z0-9_-]{0,23}")
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_COLOR = "#94a3b8"


@dataclass(frozen=True)
class KindChange:
    """Fields to set on a kind; None leaves a field as it is."""

    label: str | None = None
    emoji: str | None = None
    sentiment: int | None = None
    color: str | None = None


def check_id(kind_id: str) -> str:
    if not KIND_ID.fullmatch(kind_id):
        raise InvalidInput(
            f"kind id {kind_id[:40]!r} must be 1–24 lower-case letters, digits, '-' or '_', "
            "starting with a letter"
        )
    return kind_id


def check_change(change: KindChange) -> KindChange:
    if change.label is not None:
        label = " ".join(change.label.split())
        if not label or len(label) > 30 or any(ord(c) < 32 for c in label):
            raise InvalidInput("a label is 1–30 printable characters, e.g. 'Love'")
        change = KindChange(label, change.emoji, change.sentiment, change.color)
    if change.emoji is not None:
        emoji = change.emoji.strip()
        if not emoji or len(emoji) > 8 or any(ord(c) < 32 or c.isalnum() for c in emoji):
            raise InvalidInput("an emoji is 1–8 symbols (no letters or digits), e.g. '😮'")
        change = KindChange(change.label, emoji, change.sentiment, change.color)
    if change.sentiment is not None and change.sentiment not in (-1, 0, 1):
        raise InvalidInput("sentiment is -1 (negative), 0 (neutral) or 1 (positive)")
    if change.color is not None and not COLOR.fullmatch(change.color):
        raise InvalidInput(f"colour {change.color[:20]!r} must look like #db2777")
    return change


def set_kind_enabled(store: Store, kind: str, enabled: bool) -> None:
    """Enable or disable a kind. A disabled kind keeps its past events; new taps of it
    are refused."""
    with store.writing() as cur:
        found = cur.execute(
            "UPDATE reaction_kinds SET enabled = ? WHERE kind_id = ? RETURNING kind_id",
            [enabled, kind],
        ).fetchall()
        if not found:
            raise UnknownKind(f"unknown reaction kind {kind[:40]!r}")


def add_kind(store: Store, kind_id: str, change: KindChange) -> None:
    """A new kind at the end of the bar. Label, emoji and sentiment are required."""
    check_id(kind_id)
    change = check_change(change)
    if change.label is None or change.emoji is None or change.sentiment is None:
        raise InvalidInput("a new kind needs a label, an emoji and a sentiment")
    with store.writing() as cur:
        if cur.execute("SELECT 1 FROM reaction_kinds WHERE kind_id = ?", [kind_id]).fetchall():
            raise InvalidInput(f"kind {kind_id!r} exists; edit it, or enable it again")
        cur.execute(
            "INSERT INTO reaction_kinds (kind_id, label, emoji, sentiment, position, enabled,"
            " color) SELECT ?, ?, ?, ?, coalesce(max(position), -1) + 1, TRUE, ? "
            "FROM reaction_kinds",
            [
                kind_id,
                change.label,
                change.emoji,
                change.sentiment,
                change.color or DEFAULT_COLOR,
            ],
        )


def edit_kind(store: Store, kind_id: str, change: KindChange) -> None:
    """Relabel, re-emoji, re-score or recolour a kind; its id and history stay."""
    change = check_change(change)
    with store.writing() as cur:
        found = cur.execute(
            "UPDATE reaction_kinds SET label = coalesce(?, label), emoji = coalesce(?, emoji), "
            "sentiment = coalesce(?, sentiment), color = coalesce(?, color) "
            "WHERE kind_id = ? RETURNING kind_id",
            [change.label, change.emoji, change.sentiment, change.color, kind_id],
        ).fetchall()
        if not found:
            raise UnknownKind(f"unknown reaction kind {kind_id[:40]!r}")


def move_kind(store: Store, kind_id: str, position: int) -> None:
    """Put a kind at `position` (0 = first) in the bar and on every chart."""
    with store.writing() as cur:
        order = [
            r[0]
            for r in cur.execute("SELECT kind_id FROM reaction_kinds ORDER BY position").fetchall()
        ]
        if kind_id not in order:
            raise UnknownKind(f"unknown reaction kind {kind_id[:40]!r}")
        if not 0 <= position < len(order):
            raise InvalidInput(f"position must be 0–{len(order) - 1}")
        order.remove(kind_id)
        order.insert(position, kind_id)
        cur.executemany(
            "UPDATE reaction_kinds SET position = ? WHERE kind_id = ?",
            [(i, k) for i, k in enumerate(order)],
        )

"""The reaction set is data: what a kind may look like. Ids are permanent (the event log
refers to them), so a kind is renamed by its label and retired by disabling it — its past
events keep counting in history and exports."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reactions.errors import InvalidInput

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

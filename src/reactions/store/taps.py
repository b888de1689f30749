"""What a reader's tap is and what it means: a tap adds the kind, undoes it if it is already
the reader's, or switches to it (a remove and an add). Applying taps is tap_writer.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reactions.config import MAX_ID_LENGTH
from reactions.errors import InvalidInput

EVENT_SOURCES = ("widget", "api", "synthetic", "import")
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "article_id",
    "reader_hash",
    "kind_id",
    "action",
    "source",
    "network_hash",
)


def validate_id(value: object, what: str) -> str:
    """Ids are non-empty text of at most MAX_ID_LENGTH characters with no control characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{what} is empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{what} is {len(value)} characters long; the limit is {MAX_ID_LENGTH}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput(f"{what} contains control characters")
    return value


@dataclass(frozen=True)
class Tap:
    """A reader tapping one reaction under one article."""

    article_id: str
    reader_id: str  # the raw client id or fingerprint; only its salted hash is stored
    kind: str
    source: str = "api"
    network: str | None = None  # raw network key (e.g. IP prefix); stored hashed
    at: datetime | None = None  # naive UTC; now when omitted
    # Shared per-minute budgets, (key, limit), checked where every server counts them (the
    # PostgreSQL store); the embedded store's API checks its own in process.
    limits: tuple[tuple[str, int], ...] = ()

    def check_shape(self) -> None:
        validate_id(self.article_id, "article id")
        validate_id(self.reader_id, "reader id")
        if not isinstance(self.kind, str):
            raise InvalidInput(f"kind must be a string, not {type(self.kind).__name__}")
        if self.source not in EVENT_SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(EVENT_SOURCES)}")


@dataclass(frozen=True)
class TapOutcome:
    article_id: str
    reader_hash: str
    before: tuple[str, ...]  # the reader's kinds on this article before the tap
    after: tuple[str, ...]  # … and after it
    event_ids: tuple[int, ...] = ()
    # The article's current count per enabled kind (in display order) right after this tap,
    # from the writer's mirror: what the reaction bar shows, without reading the database.
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def change(self) -> str:
        """'added', 'undone' or 'switched', as a reader would say it."""
        if not self.before or set(self.before) < set(self.after):
            return "added"
        if set(self.after) < set(self.before):
            return "undone"
        return "switched"


def changes_for(before: Sequence[str], kind: str, *, multiple: bool) -> list[tuple[str, str]]:
    """The (kind, action) events one tap produces, given the reader's current kinds."""
    if kind in before:  # the same kind again: undo it
        return [(kind, "remove")]
    if multiple:
        return [(kind, "add")]
    # a switch is the old kind's remove and the new kind's add, in one transaction
    return [*((old, "remove") for old in before), (kind, "add")]

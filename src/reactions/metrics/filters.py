"""The dashboard's filters: one value, parsed from and written back to the URL query, so any
view is a link that reproduces the same numbers. No Streamlit here.

Date ranges are whole days in the editor's timezone; the database holds UTC, so a range
becomes the UTC instants of local midnights. A reaction counts in a range when it was added
in the range and still stands (not undone, not switched away).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reactions.clock import today_in
from reactions.errors import InvalidInput

PRESETS: dict[str, int | None] = {"today": 1, "7d": 7, "30d": 30, "90d": 90, "all": None}
PRESET_LABELS = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "all": "All time",
    "custom": "Custom",
}
INTERVALS = ("hour", "day", "week")
DEFAULT_PRESET = "7d"
MAX_LIST = 50  # values per multi-select parameter
MAX_TEXT = 200


@dataclass(frozen=True)
class Known:
    """What the database holds, so unknown values in a link can be named, not silently kept."""

    topics: frozenset[str]
    authors: frozenset[str]
    tags: frozenset[str]
    kinds: frozenset[str]


@dataclass(frozen=True)
class Filters:
    preset: str = DEFAULT_PRESET  # a PRESETS key, or "custom"
    start: date | None = None  # first local day (inclusive); None with "all"
    end: date | None = None  # last local day (inclusive)
    topics: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    search: str = ""
    interval: str = "day"
    tz: str = "UTC"
    # Leave out events that integrity flagged and no editor dismissed (integrity.py).
    exclude_flagged: bool = True

    # --- time -------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) as naive UTC instants: local midnight of `start` and of the day after
        `end`."""
        return (
            _utc_midnight(self.start, self.zone) if self.start else None,
            _utc_midnight(self.end + timedelta(days=1), self.zone) if self.end else None,
        )

    def previous(self) -> Filters | None:
        """The period of equal length just before this one (None for all time)."""
        if self.start is None or self.end is None:
            return None
        days = (self.end - self.start).days + 1
        return replace(
            self,
            preset="custom",
            start=self.start - timedelta(days=days),
            end=self.start - timedelta(days=1),
        )

    def range_and_kinds(self) -> Filters:
        """Only the date range and kinds: the view of one article, or of a whole topic,
        where filters that pick articles (topic, author, tag, title) do not apply."""
        return replace(self, topics=(), authors=(), tags=(), search="")

    def describe_range(self) -> str:
        """ "Nov 10 – Nov 16, 2026", "Nov 20, 2026" or "all time"."""
        if self.start is None or self.end is None:
            return "all time"
        if self.start == self.end:
            return f"{self.start:%b %d, %Y}"
        return f"{self.start:%b %d} – {self.end:%b %d, %Y}"

    # --- URL --------------------------------------------------------------------------

    def to_query(self) -> dict[str, list[str]]:
        """Query parameters that reproduce this view (defaults left out)."""
        query: dict[str, list[str]] = {}
        if self.preset == "custom" and self.start and self.end:
            query["from"], query["to"] = [self.start.isoformat()], [self.end.isoformat()]
        elif self.preset != DEFAULT_PRESET:
            query["range"] = [self.preset]
        for key, values in (
            ("topic", self.topics),
            ("author", self.authors),
            ("tag", self.tags),
            ("kind", self.kinds),
        ):
            if values:
                query[key] = list(values)
        if self.search:
            query["q"] = [self.search]
        if self.interval != "day":
            query["interval"] = [self.interval]
        if not self.exclude_flagged:
            query["flagged"] = ["include"]
        query["tz"] = [self.tz]
        return query


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def valid_zone(name: str | None) -> str | None:
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@dataclass
class Parsed:
    filters: Filters
    problems: list[str] = field(default_factory=list)  # one sentence per rejected value


def parse_query(
    params: Mapping[str, Sequence[str]],
    known: Known,
    *,
    browser_tz: str | None = None,
) -> Parsed:
    """Filters from URL parameters. A bad value is dropped and named in `problems`; the rest
    of the view still works."""
    read = _QueryReader(params)
    tz = read.zone(browser_tz)
    preset, start, end = read.date_range(today_in(tz))
    return Parsed(
        Filters(
            preset=preset,
            start=start,
            end=end,
            topics=read.chosen("topic", known.topics, "topic"),
            authors=read.chosen("author", known.authors, "author"),
            tags=read.chosen("tag", known.tags, "tag"),
            kinds=read.chosen("kind", known.kinds, "reaction kind"),
            search=" ".join((read.first("q") or "").split()),
            interval=read.one_of("interval", INTERVALS, "day", "use hour, day or week"),
            tz=tz,
            exclude_flagged=read.one_of(
                "flagged", ("exclude", "include"), "exclude", "use exclude or include"
            )
            == "exclude",
        ),
        read.problems,
    )


def preset_dates(preset: str, today: date) -> tuple[date | None, date | None]:
    """A preset's first and last local day ending today; (None, None) for all time."""
    days = PRESETS[preset]
    return (None, None) if days is None else (today - timedelta(days=days - 1), today)


class _QueryReader:
    """Reads one link's parameters, keeping a sentence for each value it had to drop."""

    def __init__(self, params: Mapping[str, Sequence[str]]) -> None:
        self.params = params
        self.problems: list[str] = []

    def first(self, key: str) -> str | None:
        values = self.params.get(key) or []
        return values[0][:MAX_TEXT] if values else None

    def zone(self, browser_tz: str | None) -> str:
        tz = valid_zone(self.first("tz"))
        if self.first("tz") and tz is None:
            self.problems.append(
                f"Unknown timezone {self.first('tz')!r}; showing {browser_tz or 'UTC'}."
            )
        return tz or valid_zone(browser_tz) or "UTC"

    def date_range(self, today: date) -> tuple[str, date | None, date | None]:
        """(preset, first day, last day): from= and to= make a custom range; else range=."""
        raw_from, raw_to = self.first("from"), self.first("to")
        if raw_from or raw_to:
            start, end = _date(raw_from, "from", self.problems), _date(raw_to, "to", self.problems)
            showing = f"showing {PRESET_LABELS[DEFAULT_PRESET].lower()}."
            if start and end and start > end:
                self.problems.append(f"The range starts ({start}) after it ends ({end}); {showing}")
            elif start and end:
                return "custom", start, end
            elif raw_from and raw_to:
                pass  # a date that did not parse is named already
            else:
                self.problems.append(f"A custom range needs both from= and to=; {showing}")
            return DEFAULT_PRESET, *preset_dates(DEFAULT_PRESET, today)
        preset = self.one_of(
            "range", tuple(PRESETS), DEFAULT_PRESET, f"use one of {', '.join(PRESETS)}"
        )
        return preset, *preset_dates(preset, today)

    def one_of(self, key: str, allowed: Sequence[str], default: str, advice: str) -> str:
        value = self.first(key)
        if value is None or value == "":
            return default
        if value not in allowed:
            shown = f"{key}={value!r}" if key == "flagged" else f"{key} {value!r}"
            self.problems.append(f"Unknown {shown}; {advice}.")
            return default
        return value

    def chosen(self, key: str, allowed: frozenset[str], what: str) -> tuple[str, ...]:
        values = list(dict.fromkeys(v[:MAX_TEXT] for v in self.params.get(key) or []))[:MAX_LIST]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            names = ", ".join(repr(u) for u in unknown[:3])
            self.problems.append(f"Unknown {what} {names}: ignored.")
        return tuple(v for v in values if v in allowed)


def strict_filters(params: Mapping[str, Sequence[str]], known: Known) -> Filters:
    """Filters for an export: where the dashboard drops a bad value and carries on, an export
    refuses it (InvalidInput naming it), so no file is made from a view nobody asked for."""
    parsed = parse_query(params, known)
    if parsed.problems:
        reasons = [_CONSEQUENCE.sub("", p) for p in parsed.problems]
        raise InvalidInput("; ".join(reasons))
    return parsed.filters


# What the dashboard does about a bad value ("; showing …", ": ignored"): not so for exports.
_CONSEQUENCE = re.compile(r"(; showing [^.]*|: ignored)\.$")


def _date(raw: str | None, name: str, problems: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not a date like 2026-11-01.")
        return None


# The URL query parameters that are filters (pages may add their own beside them).
URL_PARAMS = (
    "range",
    "from",
    "to",
    "topic",
    "author",
    "tag",
    "kind",
    "q",
    "interval",
    "tz",
    "flagged",
)

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
    problems: list[str] = []

    def first(key: str) -> str | None:
        values = params.get(key) or []
        return values[0][:MAX_TEXT] if values else None

    tz = valid_zone(first("tz"))
    if first("tz") and tz is None:
        problems.append(f"Unknown timezone {first('tz')!r}; showing {browser_tz or 'UTC'}.")
    tz = tz or valid_zone(browser_tz) or "UTC"
    today = today_in(tz)

    preset, start, end = DEFAULT_PRESET, None, None
    raw_from, raw_to = first("from"), first("to")
    if raw_from or raw_to:
        start, end = _date(raw_from, "from", problems), _date(raw_to, "to", problems)
        if start and end and start > end:
            problems.append(
                f"The range starts ({start}) after it ends ({end}); "
                f"showing {PRESET_LABELS[DEFAULT_PRESET].lower()}."
            )
            start = end = None
        if start and end:
            preset = "custom"
        elif start or end:
            if not (raw_from and raw_to):
                problems.append(
                    "A custom range needs both from= and to=; "
                    f"showing {PRESET_LABELS[DEFAULT_PRESET].lower()}."
                )
            start = end = None
    else:
        raw_range = first("range")
        if raw_range and raw_range not in PRESETS:
            problems.append(f"Unknown range {raw_range!r}; use one of {', '.join(PRESETS)}.")
        elif raw_range:
            preset = raw_range
    if preset != "custom":
        days = PRESETS[preset]
        start, end = (None, None) if days is None else (today - timedelta(days=days - 1), today)

    interval = first("interval") or "day"
    if interval not in INTERVALS:
        problems.append(f"Unknown interval {interval!r}; use hour, day or week.")
        interval = "day"

    def chosen(key: str, allowed: frozenset[str], what: str) -> tuple[str, ...]:
        values = list(dict.fromkeys(v[:MAX_TEXT] for v in params.get(key) or []))[:MAX_LIST]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            problems.append(f"Unknown {what} {', '.join(repr(u) for u in unknown[:3])}: ignored.")
        return tuple(v for v in values if v in allowed)

    search = " ".join((first("q") or "").split())
    flagged = first("flagged") or "exclude"
    if flagged not in ("exclude", "include"):
        problems.append(f"Unknown flagged={flagged!r}; use exclude or include.")
        flagged = "exclude"
    return Parsed(
        Filters(
            preset=preset,
            start=start,
            end=end,
            topics=chosen("topic", known.topics, "topic"),
            authors=chosen("author", known.authors, "author"),
            tags=chosen("tag", known.tags, "tag"),
            kinds=chosen("kind", known.kinds, "reaction kind"),
            search=search,
            interval=interval,
            tz=tz,
            exclude_flagged=flagged == "exclude",
        ),
        problems,
    )


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


# --- SQL ---------------------------------------------------------------------------------


EXCLUDE_FLAGGED = "{event} NOT IN (SELECT event_id FROM excluded_events)"

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


@dataclass(frozen=True)
class Predicate:
    """A WHERE clause over `current_reactions` (alias c) with its bound values."""

    sql: str
    params: list[object]


def reaction_predicate(
    f: Filters,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    use_range: bool = True,
    alias: str = "c",
    time_column: str = "added_at",
) -> Predicate:
    """Rows in the filter: of current_reactions (alias c, by when each was added) by default,
    or of the event log (alias="e", time_column="occurred_at"). `start`/`end` override the
    filter's own range (the previous period's query uses its own bounds). `alias` and
    `time_column` are the callers' constants, never input."""
    clauses: list[str] = []
    params: list[object] = []
    if use_range:
        lo, hi = (start, end) if (start or end) else f.utc_bounds()
        within = range_predicate(f"{alias}.{time_column}", lo, hi)
        if within.params:
            clauses.append(within.sql)
            params.extend(within.params)
    if f.kinds:
        clauses.append(f"{alias}.kind_id IN ({', '.join('?' * len(f.kinds))})")
        params.extend(f.kinds)
    if f.exclude_flagged:  # a standing reaction is its add event: flagged or not
        clauses.append(EXCLUDE_FLAGGED.format(event=f"{alias}.event_id"))
    article = article_predicate(f)
    if article.sql != "TRUE":
        clauses.append(
            f"{alias}.article_id IN (SELECT article_id FROM articles a WHERE {article.sql})"
        )
        params.extend(article.params)
    return Predicate(" AND ".join(clauses) or "TRUE", params)


def range_predicate(column: str, start: datetime | None, end: datetime | None) -> Predicate:
    """`column` in [start, end), either bound open when None; `column` is the caller's
    constant."""
    clauses: list[str] = []
    params: list[object] = []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(end)
    return Predicate(" AND ".join(clauses) or "TRUE", params)


def view_predicate(
    f: Filters,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    alias: str = "v",
    time_column: str = "bucket",
) -> Predicate:
    """Views in the filter — the denominator of its rates: its range and the articles it
    picks, over `view_counts` (alias v, by quarter hour) by default. Kinds and integrity
    flags do not apply: any view could have become any reaction, and views are not flagged."""
    return reaction_predicate(
        replace(f, kinds=(), exclude_flagged=False),
        start=start,
        end=end,
        alias=alias,
        time_column=time_column,
    )


def article_predicate(f: Filters) -> Predicate:
    """Articles (alias a) matching topic, author, tag and title search."""
    clauses: list[str] = []
    params: list[object] = []
    for column, values in (("a.topic", f.topics), ("a.author", f.authors)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if f.tags:
        clauses.append("list_has_any(a.tags, ?::VARCHAR[])")
        params.append(list(f.tags))
    if f.search:
        clauses.append("contains(lower(a.title), lower(?))")
        params.append(f.search)
    return Predicate(" AND ".join(clauses) or "TRUE", params)

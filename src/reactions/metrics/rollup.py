"""Standing reactions under a filter, counted from the quarter-hour rollup (`reaction_counts`,
db.py) rather than row by row: the source every count on the dashboard and in the exports
reads. No Streamlit.

`standing_counts` is a subquery of (article_id, kind_id, bucket, reactions) rows whose sums
are exactly what `current_reactions` holds under the filter, so every figure stays
recomputable from the raw events (the tests do):

- whole quarter hours come from the rollup: a dashboard range runs from local midnight to
  local midnight, which always falls on a quarter hour, so that is nearly always all of it;
- a bound inside a quarter hour (the mood alerts' "last hour") takes the rows of that partial
  quarter from `current_reactions`;
- excluded (flagged, not dismissed) reactions are left out by the rollup's `excluded` column,
  and in a partial quarter by the same clause as everywhere (store.derived.is_kept).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from reactions.metrics.filters import Filters
from reactions.metrics.predicates import Predicate, range_predicate, reaction_predicate
from reactions.store.sql import quarter_hour

QUARTER = timedelta(minutes=15)
Bounds = tuple[datetime | None, datetime | None]


def standing_counts(f: Filters, bounds: Bounds | None = None) -> Predicate:
    """SELECT of (article_id, kind_id, bucket, reactions) rows summing to the standing
    reactions in the filter: its articles and kinds, added within `bounds` ([start, end) in
    naive UTC, None for open; the filter's own range when not given), flagged events left out
    when the filter says so. `bucket` is when they were added: the start of the quarter hour
    (UTC) for the rollup's rows, the instant itself for a partial quarter's."""
    lo, hi = f.utc_bounds() if bounds is None else bounds
    whole_lo = _ceil_quarter(lo) if lo is not None else None
    whole_hi = quarter_hour(hi) if hi is not None else None
    parts: list[Predicate] = []
    if whole_lo is None or whole_hi is None or whole_lo < whole_hi:
        # Kinds and articles as the filter says; flags by the rollup's own column.
        cells = reaction_predicate(replace(f, exclude_flagged=False), use_range=False, alias="r")
        parts.append(
            _select(
                "SELECT r.article_id, r.kind_id, r.bucket, r.reactions FROM reaction_counts r",
                cells,
                _KEPT if f.exclude_flagged else _EVERY,
                range_predicate("r.bucket", whole_lo, whole_hi),
            )
        )
        partial = [(lo, whole_lo), (whole_hi, hi)]
    else:  # both bounds inside one quarter hour
        partial = [(lo, hi)]
    rows = reaction_predicate(f, use_range=False)
    for start, end in partial:
        if start is not None and end is not None and start < end:
            parts.append(_select(_ROWS, rows, range_predicate("c.added_at", start, end)))
    return Predicate(" UNION ALL ".join(p.sql for p in parts), [v for p in parts for v in p.params])


_KEPT = Predicate("NOT r.excluded", [])
_EVERY = Predicate("TRUE", [])
# A row's own time as its bucket: exact for any split a caller makes inside the quarter hour.
_ROWS = (
    "SELECT c.article_id, c.kind_id, c.added_at AS bucket, 1 AS reactions FROM current_reactions c"
)


def _ceil_quarter(at: datetime) -> datetime:
    start = quarter_hour(at)
    return start if start == at else start + QUARTER


def _select(head: str, *where: Predicate) -> Predicate:
    return Predicate(
        f"{head} WHERE {' AND '.join(w.sql for w in where)}", [v for w in where for v in w.params]
    )

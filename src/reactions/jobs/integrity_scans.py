"""When integrity scans run, and over what.

- `scan`: the whole log (`reactions integrity scan`, the Integrity page's button, `reactions
  demo`). It measures what is normal for each rule (the bars) and replaces every flag.
- `scan_recent`: only the events since the last scan, with their context, held to the bars
  the last full scan stored. New hot events become new flags, or grow an undecided flag of
  the same rule and subject that they continue.
- `ScheduledScans`: the server runs `scan_recent` every `REACTIONS_SCAN_EVERY_SECONDS`
  (default 300), so a live burst is flagged — and left out of cleaned figures — within
  minutes, with nobody present. The first scheduled scan of a database never scanned is a
  full one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import duckdb
import pandas as pd

from reactions.metrics.integrity import (
    CONTEXT_MINUTES,
    RULE_BY_NAME,
    Rule,
    detect_all,
    detect_recent,
    flag_row,
    group_flags,
)
from reactions.store.integrity_flags import add_flags, replace_flags, scanned_through
from reactions.store.sql import scalar
from reactions.store.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanReport:
    scope: str  # "all" (the whole log), "recent" or "nothing new"
    events_read: int  # events new since the last scan (all of them for a full scan)
    flags: int  # flags made or grown
    events_flagged: int  # events newly flagged
    seconds: float


def scan(store: Store) -> pd.DataFrame:
    """Detect over the whole log and store the result (replacing the last scan's flags;
    editors' decisions stay, attached to the stable flag ids). Returns the flags."""
    cur = store.cursor()
    through = _newest_event(cur)
    found = detect_all(cur)
    replace_flags(store, found.flags, found.flagged, found.baselines, through=through)
    return found.flags


def scan_recent(store: Store) -> ScanReport:
    """Scan what happened since the last scan (a full scan if there never was one)."""
    started = time.perf_counter()
    cur = store.cursor()
    through = scanned_through(cur)
    if through is None or not scalar(cur, "SELECT count(*) FROM integrity_baselines"):
        flags = scan(store)
        events = int(scalar(cur, "SELECT count(*) FROM reaction_events"))
        marked = int(scalar(cur, "SELECT count(*) FROM flagged_events"))
        return ScanReport("all", events, len(flags), marked, time.perf_counter() - started)
    newest = _newest_event(cur)
    fresh, since = cur.execute(
        "SELECT count(*), min(occurred_at) FROM reaction_events WHERE event_id > ?", [through]
    ).fetchall()[0]
    if not fresh:
        return ScanReport("nothing new", 0, 0, 0, time.perf_counter() - started)
    taken = pd.Index(
        cur.execute(
            "SELECT event_id FROM flagged_events JOIN reaction_events USING (event_id) "
            "WHERE occurred_at >= ?",
            [since - timedelta(minutes=CONTEXT_MINUTES)],
        )
        .df()["event_id"]
        .astype("int64")
    )
    hot = detect_recent(cur, since, taken)
    flags, flagged = _grow_or_add(cur, hot, taken)
    add_flags(store, flags, flagged, through=newest)
    return ScanReport("recent", int(fresh), len(flags), len(flagged), time.perf_counter() - started)


def _grow_or_add(
    cur: duckdb.DuckDBPyConnection, hot: dict[Rule, pd.DataFrame], taken: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hot recent events → (flags to write, newly flagged events). A group of hot events
    that continues an undecided flag of the same rule and subject — its last event within
    the rule's window — grows that flag (same id, its row recomputed over all its events);
    otherwise it is a new flag. A decided flag is never grown: the editor decided on what
    they saw, so a burst that goes on gets a flag of its own."""
    flags, flagged = group_flags(hot, taken)
    if flags.empty:
        return flags, flagged
    rows: list[pd.DataFrame] = []
    for flag in flags.to_dict("records"):
        rule = RULE_BY_NAME[str(flag["rule"])]
        mine = flagged["flag_id"] == flag["flag_id"]
        grown = _continued_flag(cur, rule, flag)
        if grown is None:
            rows.append(pd.DataFrame([flag]))
            continue
        flagged.loc[mine, "flag_id"] = grown
        new_events = hot[rule][hot[rule]["event_id"].isin(flagged.loc[mine, "event_id"])]
        old_events = _flag_events(cur, grown, new_events)
        everything = pd.concat([old_events, new_events], ignore_index=True)
        key = tuple(everything[k].iloc[-1] for k in rule.keys)
        rows.append(flag_row(rule, grown, key if len(key) > 1 else key[0], everything))
    return pd.concat(rows, ignore_index=True), flagged


def _continued_flag(
    cur: duckdb.DuckDBPyConnection, rule: Rule, flag: dict[Hashable, Any]
) -> str | None:
    """The undecided flag of the same rule and subject whose last event is within the
    rule's window before this one's first, if any."""
    window = timedelta(minutes=rule.window_minutes)
    found = cur.execute(
        """
        SELECT flag_id FROM integrity_flags
        WHERE rule = ? AND article_id IS NOT DISTINCT FROM ? AND subject = ? AND last_at >= ?
          AND flag_id NOT IN (SELECT flag_id FROM integrity_decisions)
        ORDER BY last_at DESC LIMIT 1
        """,
        [rule.name, flag["article_id"], flag["subject"], flag["first_at"] - window],
    ).fetchall()
    return str(found[0][0]) if found else None


def _flag_events(cur: duckdb.DuckDBPyConnection, flag_id: str, like: pd.DataFrame) -> pd.DataFrame:
    """A flag's stored events in the columns of `like` (hot events): their densities were
    not kept, so a grown flag's peak, and severity, comes from its new events."""
    stored = cur.execute(
        """
        SELECT e.event_id, e.article_id, e.reader_hash, e.network_hash, e.kind_id, e.action,
               e.occurred_at
        FROM flagged_events f JOIN reaction_events e USING (event_id) WHERE f.flag_id = ?
        """,
        [flag_id],
    ).df()
    stored["density"] = float("nan")
    for column in like.columns.difference(stored.columns):
        stored[column] = like[column].iloc[0]  # the bar (threshold, median) is the rule's
    return stored[list(like.columns)]


def _newest_event(cur: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(cur, "SELECT coalesce(max(event_id), 0) FROM reaction_events"))


class ScheduledScans:
    """A daemon thread in the server: `scan_recent` every `every` seconds. A failed scan is
    logged and tried again next time; it never stops the server."""

    def __init__(self, store: Callable[[], Store], every: float) -> None:
        self._store = store
        self._every = every
        self._stop = threading.Event()
        self.last: ScanReport | None = None
        self._thread = threading.Thread(target=self._run, name="integrity-scans", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                store = self._store()
                with store.only_one("integrity-scan") as mine:
                    if not mine:  # another server scans this turn
                        continue
                    store.sync_now()  # a replica scans what every server has taken
                    self.last = scan_recent(store)
            except Exception:  # the next run tries again; the server keeps serving
                log.exception("scheduled integrity scan failed")
            else:
                if self.last.flags:
                    log.warning(
                        "integrity: %s new events read, %s flags made or grown (%s events)",
                        self.last.events_read,
                        self.last.flags,
                        self.last.events_flagged,
                    )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

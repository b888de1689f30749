"""Taps and views written to PostgreSQL: a batch (group_commit decides what goes into one) is
one call of `apply_taps` or `apply_views` in one transaction, so a tap is acknowledged only
once PostgreSQL has committed it. Each writer thread has its own connection; a lost one is
`StoreUnavailable` for that batch and is made anew for the next, so servers resume by
themselves when PostgreSQL is back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from reactions.clock import utc_now
from reactions.errors import (
    RateLimited,
    ReactionsError,
    StoreUnavailable,
    UnknownArticle,
    UnknownKind,
)
from reactions.store.bar_views import View, ViewOutcome
from reactions.store.postgres.connection import connect_pg, unavailable
from reactions.store.taps import Tap, TapOutcome

DEADLOCK_RETRIES = 2
T = TypeVar("T", Tap, View)
R = TypeVar("R", TapOutcome, ViewOutcome)


class PgWriter:
    """One writer thread's connection and its two batch calls."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._con: psycopg.Connection | None = None

    def _call(
        self,
        function: str,
        items: list[dict[str, Any]],
        decide: Callable[[list[Any]], None],
        *args: object,
    ) -> None:
        """`function` on `items` in one transaction; `decide` reads the answers before the
        commit (raising rolls it back). A deadlock (the functions take their locks in one
        order, so none is expected) is retried."""
        try:
            if self._con is None or self._con.closed:
                self._con = connect_pg(self.url, migrate=False)
            for attempt in range(DEADLOCK_RETRIES + 1):
                try:
                    with self._con.transaction():
                        row = self._con.execute(
                            f"SELECT {function}(%s::jsonb{', %s' * len(args)})",
                            [json.dumps(items), *args],
                        ).fetchone()
                        assert row is not None
                        decide(row[0])
                    return
                except psycopg.errors.DeadlockDetected:
                    if attempt == DEADLOCK_RETRIES:
                        raise
        except psycopg.OperationalError as exc:
            self.close()
            raise unavailable(exc) from None
        except StoreUnavailable:
            self.close()
            raise

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def taps(
        self,
        taps: Sequence[Tap],
        *,
        multiple: bool,
        all_or_nothing: bool = False,
        hash_reader: Callable[[str], str],
        kinds: Callable[[], list[str]],
    ) -> list[TapOutcome | ReactionsError]:
        """Each tap's outcome, or its error, in order. `kinds` gives the enabled kinds in
        display order (the bar shows every one, with zeros)."""

        def item(tap: Tap) -> dict[str, Any]:
            tap.check_shape()
            return {**_common(tap, hash_reader), "k": tap.kind}

        def outcome(
            tap: Tap, sent: dict[str, Any], answer: dict[str, Any]
        ) -> TapOutcome | ReactionsError:
            refused = _refusal(answer, "reactions", tap.article_id, tap.kind)
            if refused is not None:
                return refused
            return TapOutcome(
                tap.article_id,
                str(sent["r"]),
                tuple(answer["before"]),
                tuple(answer["after"]),
                tuple(int(i) for i in answer["ids"]),
                _shown(answer["counts"], kinds()),
            )

        return self._batch("apply_taps", taps, item, outcome, all_or_nothing, multiple)

    def views(
        self,
        views: Sequence[View],
        *,
        hash_reader: Callable[[str], str],
        kinds: Callable[[], list[str]],
        all_or_nothing: bool = False,
    ) -> list[ViewOutcome | ReactionsError]:
        """Each view's outcome with the bar it shows (counts, the reader's kinds), or its
        error, in order."""

        def item(view: View) -> dict[str, Any]:
            view.check_shape()
            return _common(view, hash_reader)

        def outcome(
            view: View, sent: dict[str, Any], answer: dict[str, Any]
        ) -> ViewOutcome | ReactionsError:
            refused = _refusal(answer, "views", view.article_id, "")
            return refused or ViewOutcome(
                view.article_id,
                bool(answer["counted"]),
                _shown(answer["counts"], kinds()),
                tuple(answer["mine"]),
            )

        return self._batch("apply_views", views, item, outcome, all_or_nothing)

    def _batch(
        self,
        function: str,
        requests: Sequence[T],
        item: Callable[[T], dict[str, Any]],
        outcome: Callable[[T, dict[str, Any], dict[str, Any]], R | ReactionsError],
        all_or_nothing: bool,
        *args: object,
    ) -> list[R | ReactionsError]:
        """Malformed requests refused here, the rest sent in one call, answers in order.
        With `all_or_nothing`, the first refusal is raised and nothing is committed."""
        results: list[R | ReactionsError | None] = []
        sent: list[tuple[int, T, dict[str, Any]]] = []
        for request in requests:
            try:
                sent.append((len(results), request, item(request)))
                results.append(None)
            except ReactionsError as exc:
                if all_or_nothing:
                    raise
                results.append(exc)

        def decide(answers: list[Any]) -> None:
            for (index, request, body), answer in zip(sent, answers, strict=True):
                results[index] = outcome(request, body, answer)
                refused = results[index]
                if all_or_nothing and isinstance(refused, ReactionsError):
                    raise refused  # inside the transaction: rolled back

        if sent:
            self._call(function, [s[2] for s in sent], decide, *args)
        return [r for r in results if r is not None]


def _common(request: Tap | View, hash_reader: Callable[[str], str]) -> dict[str, Any]:
    """What a tap and a view both send: article, reader and network hashed, time, budget."""
    return {
        "a": request.article_id,
        "r": hash_reader(request.reader_id),
        "s": request.source,
        "n": hash_reader(f"net:{request.network}") if request.network else None,
        "t": (request.at or utc_now()).isoformat(),
        "lim": [list(pair) for pair in request.limits],
    }


def _refusal(
    answer: dict[str, Any], what: str, article_id: str, kind: str
) -> ReactionsError | None:
    if "limited" in answer:
        wait = int(answer["limited"])
        return RateLimited(f"too many {what}; try again in {wait} s", wait)
    if answer.get("error") == "article":
        return UnknownArticle(f"no article with id {article_id[:80]!r}")
    if answer.get("error") == "kind":
        return UnknownKind(f"unknown reaction kind {kind[:40]!r}")
    return None


def _shown(counts: dict[str, Any], kinds: list[str]) -> dict[str, int]:
    """Every enabled kind's count, in display order (the bar shows zeros too)."""
    return {kind: int(counts.get(kind, 0)) for kind in kinds}

"""Shares with their uncertainty, lift against a norm, change against a previous period.
Pure functions on numbers and arrays; no database, no Streamlit."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

Z_95 = 1.959964  # two-sided 95 %
# Below this many reactions a share is flagged "few reactions": its interval is wide enough
# that the point estimate alone would mislead.
FEW_REACTIONS = 30
# Below this many views a rate is flagged "few views" and ranks after every rate with enough:
# 2 reactions from 3 views has a 95 % lower bound of 21 %, above any real story's rate, yet
# says little about the story.
FEW_VIEWS = 100

FloatArray = npt.NDArray[np.float64]


def wilson_interval(
    successes: npt.ArrayLike, totals: npt.ArrayLike, z: float = Z_95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for binomial shares, elementwise. A total of 0 gives (0, 1):
    with no reactions, nothing is known."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, 0.0)
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def conservative_share(successes: npt.ArrayLike, totals: npt.ArrayLike) -> FloatArray:
    """The lower Wilson bound: what rankings by share use, so 3 of 3 does not beat 2,400
    of 3,000."""
    return wilson_interval(successes, totals)[0]


def per_100_views(reactions: float, views: float) -> float | None:
    """The reaction rate as shown everywhere: reactions per 100 views of the bar; None
    without views."""
    return 100 * reactions / views if views else None


def per_100_views_of(reactions: pd.Series, views: pd.Series) -> pd.Series:
    """`per_100_views` for columns, rounded to six places (the files' precision); NaN where
    there were no views."""
    return (reactions / views.where(views > 0) * 100).round(6)


def rate_interval(
    reactions: npt.ArrayLike, views: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Reactions per 100 views and its 95 % Wilson interval, elementwise; NaN without views.
    Reactions beyond views (an integration that posts reactions but no views) count, for
    the interval, as every view reacting."""
    r = np.asarray(reactions, dtype=float)
    n = np.asarray(views, dtype=float)
    low, high = wilson_interval(np.minimum(r, n), n)
    has = n > 0
    rate = np.where(has, 100 * r / np.maximum(n, 1), np.nan)
    return rate, np.where(has, low * 100, np.nan), np.where(has, high * 100, np.nan)


def conservative_rate(reactions: npt.ArrayLike, views: npt.ArrayLike) -> FloatArray:
    """What rankings by rate sort on: the lower Wilson bound of reactions per view, minus 1
    below FEW_VIEWS views — so such articles rank after every article with enough views (and
    among themselves by their bound), and 2 reactions from 3 views does not top 300 from
    6,000. Reactions beyond views (an integration that posts reactions but no views) count
    as every view reacting; no views at all rank last."""
    n = np.asarray(views, dtype=float)
    low = conservative_share(np.minimum(np.asarray(reactions, dtype=float), n), n)
    return np.where(n >= FEW_VIEWS, low, low - 1)


def change(current: float, previous: float) -> float | None:
    """Relative change against the previous period; None when there is nothing to compare."""
    if previous == 0:
        return None
    return (current - previous) / previous


def lift(article_share: float, norm_share: float) -> float | None:
    """How many times the norm: 2.4 reads "2.4× the topic norm"."""
    if not norm_share or math.isnan(norm_share):
        return None
    return article_share / norm_share

"""KPI tiles: a page's headline figures — label, value, change against the previous period and
what the figure means — drawn as one block of HTML in Markdown.

Why not `st.metric`: its code is a chunk the browser loads only when the first metric arrives,
and React reveals it in the same pass as the plotly chunk the charts below pull in a moment
later (4.7 MB to fetch and compile on a first visit). Measured in Chromium on a page with
seven figures and two charts (bench/browser_pages.py, bare twins): a first visit showed
`st.metric` figures after 2.4–2.9 s, together with the charts; the same figures as Markdown —
whose code is in the page from the start — after 1.1–1.2 s; a return visit 0.63–0.81 s →
0.42–0.53 s."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

# Class names the tests and the browser bench read the figures by.
TILE, LABEL, VALUE, CHANGE = "reactions-kpi", "kpi-label", "kpi-value", "kpi-change"

# Text colours on white, each above WCAG AA's 4.5:1 (axe-core checks the Overview).
UP, DOWN, FLAT = "#15803d", "#b91c1c", "#4b5563"
_ARROWS = {UP: "▲", DOWN: "▼", FLAT: "▶"}
# A "?" in a ring, as st.metric's help icon (the font has no ⓘ).
_HINT = (
    "display:inline-block;width:1.1em;height:1.1em;line-height:1.05em;text-align:center;"
    "border:1px solid currentColor;border-radius:50%;font-size:0.75rem;cursor:help"
)


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    change: str | None = None  # "+5.0%", "-0.12": format.delta's text
    help: str | None = None  # what the figure means, on hover and for screen readers


def kpi_row(kpis: Sequence[Kpi]) -> None:
    """The tiles, as many per line as fit (at least 11 rem each)."""
    st.markdown(kpi_html(kpis), unsafe_allow_html=True)


def kpi_html(kpis: Sequence[Kpi]) -> str:
    # One line: Markdown would end an HTML block at a blank line and read indented lines as code.
    grid = "display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:1rem"
    return f'<div style="{grid};margin-bottom:0.5rem">{"".join(map(_tile, kpis))}</div>'


def _tile(kpi: Kpi) -> str:
    label = html.escape(kpi.label)
    hint = ""
    if kpi.help:
        text = html.escape(kpi.help)
        hint = f' <span role="img" aria-label="{text}" title="{text}" style="{_HINT}">?</span>'
    parts = [
        f'<div class="{LABEL}" style="font-size:0.875rem">{label}{hint}</div>',
        f'<div class="{VALUE}" style="font-size:2.25rem;line-height:1.25">'
        f"{html.escape(kpi.value)}</div>",
    ]
    if kpi.change:
        colour = _colour(kpi.change)
        parts.append(
            f'<div class="{CHANGE}" style="font-size:0.875rem;color:{colour}">'
            f'<span aria-hidden="true">{_ARROWS[colour]}</span> {html.escape(kpi.change)}</div>'
        )
    return f'<div class="{TILE}" role="group" aria-label="{label}">{"".join(parts)}</div>'


def _colour(change: str) -> str:
    number = float(change.rstrip("%").replace("−", "-"))
    return UP if number > 0 else DOWN if number < 0 else FLAT

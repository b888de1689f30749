"""What an editor's browser waits for: Debian's Chromium (Playwright) against a real
`streamlit run`, from navigation to the first KPI value on screen, to every chart drawn and
no skeleton left. Cold is a fresh browser profile (nothing cached); warm is the same page
opened again in that profile. The peer, measured in the same run on the same machine, is a
bare Streamlit page with three metrics and one chart (bench/bare/app.py)."""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, sync_playwright

from tools.chromium import CHROMIUM, CHROMIUM_ARGS
from tools.live_server import live_server

BARE_APP = Path(__file__).parent / "bare" / "app.py"
METRIC = '[data-testid="stMetricValue"]'
CONTAINER = '[data-testid="stPlotlyChart"]'
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg:first-of-type'
SKELETON = '[data-testid="stSkeleton"]'


@dataclass(frozen=True)
class Timing:
    first_kpi: float  # seconds from navigation to the first KPI value on screen
    charts: float  # … to every chart drawn (the page's expected count) and no skeleton


@dataclass(frozen=True)
class PageTimes:
    cold: list[Timing]
    warm: list[Timing]

    def median(self, which: str, field: str) -> float:
        timings: list[Timing] = getattr(self, which)
        return float(statistics.median(getattr(t, field) for t in timings))


def _time(page: Page, url: str, charts: int) -> Timing:
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.locator(METRIC).first.wait_for(timeout=120_000)
    first_kpi = time.perf_counter() - start
    # every chart element Streamlit placed has its plot drawn, at least `charts` of them,
    # and no skeleton is left
    page.wait_for_function(
        "([container, chart, skeleton, n]) => {"
        " const drawn = document.querySelectorAll(chart).length;"
        " return drawn >= n && drawn >= document.querySelectorAll(container).length"
        " && document.querySelectorAll(skeleton).length === 0; }",
        arg=[CONTAINER, CHART, SKELETON, charts],
        timeout=120_000,
        polling=50,
    )
    return Timing(first_kpi, time.perf_counter() - start)


def measure(url: str, charts: int, runs: int = 3) -> PageTimes:
    """`runs` cold loads (each a fresh profile), each followed by one warm load."""
    cold, warm = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                cold.append(_time(page, url, charts))
                warm.append(_time(page, url, charts))
                context.close()
        finally:
            browser.close()
    return PageTimes(cold, warm)


def browser_times(db: Path, article: str, runs: int = 3) -> dict[str, PageTimes]:
    """The bare page, then the dashboard pages with KPIs, against servers started for this;
    `article` is the one the article page shows."""
    pages = {  # name -> (path and query, charts at least)
        "overview, last 7 days": ("/?range=7d", 1),
        "overview, all time": ("/?range=all", 1),
        "article detail, all time": (f"/article?id={quote(article)}&range=all", 1),
    }
    times: dict[str, PageTimes] = {}
    with live_server(None, app=BARE_APP) as base:
        times["bare Streamlit page (3 metrics, 1 chart)"] = measure(f"{base}/", 1, runs)
    with live_server(db) as base:
        for name, (path, charts) in pages.items():
            times[name] = measure(f"{base}{path}", charts, runs)
    return times


if __name__ == "__main__":
    from bench.pages import busiest_article

    database = Path(sys.argv[1])
    for name, measured in browser_times(database, busiest_article(database)).items():
        print(
            f"{name:45} cold: KPI {measured.median('cold', 'first_kpi'):.2f} s, charts "
            f"{measured.median('cold', 'charts'):.2f} s | warm: KPI "
            f"{measured.median('warm', 'first_kpi'):.2f} s, charts "
            f"{measured.median('warm', 'charts'):.2f} s"
        )

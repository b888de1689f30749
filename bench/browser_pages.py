"""What an editor's browser waits for: Debian's Chromium (Playwright) against a real
`streamlit run`, from navigation to the first figure on screen, to every chart drawn with no
skeleton left. Cold is a fresh browser profile (nothing cached); warm is the same page opened
again in that profile. Each page's peer, measured in the same run on the same machine, is its
bare twin (bench/bare/twin.py: Streamlit alone drawing the same elements at the same address);
a bare page with three metrics and one chart (bench/bare/app.py) is measured for scale. A page
and its twin are measured back to back in every round, so a slow moment falls on both.

The times are taken in the page (`performance.now()` from navigation start, in the animation
frame that paints the change), not by Playwright polling from outside: a poll waits for the
page's main thread, which is often busy parsing plotly for half a second right after the
figures were painted — the editor already sees them then.

After the load, each page is watched through one scheduled refresh (`REFRESH_SECONDS`):
a refresh must not blank a figure or show a skeleton — the old figures stay until the new
ones replace them."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from reactions.ui import kpis
from reactions.ui.data import REFRESH_SECONDS
from tools.chromium import CHROMIUM, CHROMIUM_ARGS
from tools.live_server import live_server

BARE_APP = Path(__file__).parent / "bare" / "app.py"
BARE = "bare Streamlit page (3 metrics, 1 chart)"
TWIN_APP = Path(__file__).parent / "bare" / "twin.py"
TWIN = "bare twin of "  # + a page's name: Streamlit alone drawing that page's elements

# What a page's bare twin (bench/bare/twin.py) draws: each element type Streamlit gave the
# product page, counted in the sidebar's widgets and in the main area, and the navigation.
RECIPE = """
([types, kpi]) => {
  const count = (root) => types.map((type) => {
    const n = root ? root.querySelectorAll(`[data-testid="${type}"]`).length : 0;
    return n ? `${type}:${n}` : '';
  }).filter(Boolean).join(',');
  const kpis = document.querySelectorAll(kpi).length;
  return {
    nav: document.querySelectorAll('[data-testid="stSidebarNavLink"]').length,
    side: count(document.querySelector('[data-testid="stSidebarUserContent"]')),
    main: [count(document.querySelector('[data-testid="stMain"]')), kpis ? `kpi:${kpis}` : '']
      .filter(Boolean).join(','),
  };
}
"""
TWIN_TYPES = (
    "stHeading", "stCaptionContainer", "stMetric", "stSelectbox", "stMultiSelect",
    "stTextInput", "stRadio", "stCheckbox", "stButton", "stPlotlyChart", "stDataFrame",
    "stDownloadButton",
)  # fmt: skip
METRIC = '[data-testid="stMetricValue"]'  # the bare page's figures (st.metric)
KPI = f".{kpis.VALUE}"  # the product's figures (reactions.ui.kpis)

# Installed in every document before Streamlit's own scripts. It records, in the frame that
# paints it, when the first figure shows (`first`) and when all `charts` plots are drawn
# with no skeleton left and the script run has ended (`done`: Streamlit marks its root
# `data-test-script-state`; a table can still arrive after the charts); after that, whether a figure or chart went missing or a
# skeleton showed (`flashes`: what and when).
WATCH = """
(() => {
  const CONTAINER = '[data-testid="stPlotlyChart"]';
  const DRAWN = CONTAINER + ' .js-plotly-plot .main-svg:first-of-type';
  const SKELETON = '[data-testid="stSkeleton"]';
  const ENDED = '[data-testid="stApp"][data-test-script-state="notRunning"]';
  const t = window.__timings = {first: null, done: null, flashes: []};
  let want = null;  // {first: selector, charts: n}, set by the bench after navigation
  let shown = {figures: 0, charts: 0};
  const inFrame = (record) => requestAnimationFrame(() => record(performance.now()));
  const check = () => {
    if (!want) return;
    const figures = document.querySelectorAll(want.first).length;
    const drawn = document.querySelectorAll(DRAWN).length;
    const containers = document.querySelectorAll(CONTAINER).length;
    const skeletons = document.querySelectorAll(SKELETON).length;
    // Elements can still arrive while the script runs: the page is done when it has ended.
    const ended = document.querySelector(ENDED) !== null;
    if (t.first === null && figures > 0) { t.first = -1; inFrame((now) => t.first = now); }
    const complete = figures > 0 && drawn >= want.charts && drawn >= containers
      && skeletons === 0 && ended;
    if (t.done === null && complete) {
      t.done = -1;
      inFrame((now) => { t.done = now; shown = {figures, charts: drawn}; });
    } else if (t.done > 0) {
      if (skeletons > 0) t.flashes.push(['skeleton', performance.now()]);
      if (figures < shown.figures) t.flashes.push(['figure missing', performance.now()]);
      if (drawn < shown.charts) t.flashes.push(['chart missing', performance.now()]);
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-test-script-state'],
  });
  window.__watch = (first, charts) => { want = {first, charts}; check(); };
})();
"""


@dataclass(frozen=True)
class Timing:
    first: float  # seconds from navigation to the first figure painted
    charts: float  # … to every chart drawn (the page's count) and no skeleton


@dataclass(frozen=True)
class Surface:
    """A page as the bench opens it: where, what its first figure is, and how many charts it
    has at least (it is done when every chart Streamlit placed is drawn and the run has
    ended: how many depends on the data — without views, no rate charts)."""

    path: str
    first: str = METRIC
    charts: int = 1


@dataclass
class PageTimes:
    cold: list[Timing]
    warm: list[Timing]
    flashes: list[str]  # what a scheduled refresh blanked, if anything

    def median(self, which: str, field: str) -> float:
        timings: list[Timing] = getattr(self, which)
        return float(statistics.median(getattr(t, field) for t in timings))

    def ratio(self, peer: PageTimes, which: str, field: str) -> float:
        """This page's time over its peer's: the median of each round's ratio. A page and its
        peer are measured one after the other in every round, so a slow moment of the machine
        (its speed drifts by a third within minutes) falls on both sides of one ratio."""
        mine: list[Timing] = getattr(self, which)
        theirs: list[Timing] = getattr(peer, which)
        return float(
            statistics.median(
                getattr(m, field) / getattr(t, field) for m, t in zip(mine, theirs, strict=True)
            )
        )


def _load(page: Page, url: str, surface: Surface) -> Timing:
    page.goto(url, wait_until="commit")
    page.evaluate(
        "([first, charts]) => window.__watch(first, charts)", [surface.first, surface.charts]
    )
    try:
        page.wait_for_function("window.__timings.done > 0", timeout=60_000, polling=100)
    except PlaywrightTimeout:
        seen = page.evaluate(
            "[window.__timings, document.querySelectorAll('[data-testid=\"stSkeleton\"]').length,"
            " document.querySelectorAll('.main-svg').length]"
        )
        raise RuntimeError(f"{url} did not finish drawing in 60 s: {seen}") from None
    first, done = page.evaluate("[window.__timings.first, window.__timings.done]")
    return Timing(first / 1000, done / 1000)


def _refresh_flashes(page: Page) -> list[str]:
    """Watch the loaded page through one scheduled refresh (and a second more)."""
    page.wait_for_timeout((REFRESH_SECONDS + 1.5) * 1000)
    seen = page.evaluate("window.__timings.flashes")
    return sorted({what for what, _ in seen})


@contextmanager
def _chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def _fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser profile (nothing cached), with the timing script."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WATCH)
    try:
        yield context.new_page()
    finally:
        context.close()


def _measure_once(
    browser: Browser, url: str, surface: Surface, times: PageTimes, watch: bool
) -> None:
    with _fresh_page(browser) as page:
        times.cold.append(_load(page, url, surface))
        times.warm.append(_load(page, url, surface))
        if watch:
            times.flashes.extend(_refresh_flashes(page))


def measure(urls: dict[str, tuple[str, Surface]], runs: int = 5) -> dict[str, PageTimes]:
    """`runs` rounds; in each, every page once cold (a fresh profile) and once warm, in turn.
    The first round also watches each page through a scheduled refresh."""
    times = {name: PageTimes([], [], []) for name in urls}
    with _chromium() as browser:
        for round_ in range(runs):
            for name, (url, surface) in urls.items():
                watch = round_ == 0 and name != BARE and not name.startswith(TWIN)
                _measure_once(browser, url, surface, times[name], watch)
    return times


def surfaces(article: str) -> dict[str, Surface]:
    """The pages an editor opens and the reader page, each with its first figure."""
    quoted = quote(article)
    return {
        "overview, last 7 days": Surface("/?range=7d", first=KPI),
        "overview, all time": Surface("/?range=all", first=KPI),
        "article detail, all time": Surface(f"/article?id={quoted}&range=all", first=KPI),
        "topics, last 30 days": Surface(
            "/topics?range=30d", first='[data-testid="stPlotlyChart"] .main-svg'
        ),
        "reader page": Surface(
            f"/?article={quoted}", first='[data-testid="stButton"] button', charts=0
        ),
    }


def recipes(urls: dict[str, tuple[str, Surface]]) -> dict[str, str]:
    """Each page's twin query string (bench/bare/twin.py), read off the page once loaded."""
    found = {}
    with _chromium() as browser:
        for name, (url, surface) in urls.items():
            with _fresh_page(browser) as page:
                _load(page, url, surface)
                found[name] = urlencode(page.evaluate(RECIPE, [list(TWIN_TYPES), KPI]))
    return found


def browser_times(db: Path, article: str, runs: int = 5) -> dict[str, PageTimes]:
    """The bare page, the product's pages (`article` is the one the article and reader
    pages show) and each page's bare twin, each server started for this."""
    with ExitStack() as servers:
        bare = servers.enter_context(live_server(None, app=BARE_APP))
        twin = servers.enter_context(live_server(None, app=TWIN_APP))
        product = servers.enter_context(live_server(db))
        pages = {name: (f"{product}{s.path}", s) for name, s in surfaces(article).items()}
        urls = {BARE: (f"{bare}/", Surface("/"))}
        for name, query in recipes(pages).items():
            surface = pages[name][1]
            urls[name] = pages[name]
            at = urlsplit(surface.path).path.strip("/")  # the twin at the same address
            twin_query = f"{query}&{urlencode({'at': at})}" if at else query
            urls[TWIN + name] = (f"{twin}/{at}?{twin_query}", surface)
        return measure(urls, runs)


if __name__ == "__main__":
    from bench.pages import busiest_article

    database = Path(sys.argv[1])
    for name, measured in browser_times(database, busiest_article(database)).items():
        print(
            f"{name:45} cold: first {measured.median('cold', 'first'):.2f} s, charts "
            f"{measured.median('cold', 'charts'):.2f} s | warm: first "
            f"{measured.median('warm', 'first'):.2f} s, charts "
            f"{measured.median('warm', 'charts'):.2f} s | refresh: "
            f"{', '.join(measured.flashes) or 'no flash'}"
        )

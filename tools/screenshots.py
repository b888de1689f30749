"""Screenshots of the running app for the README, in real Chromium.

    python -m tools.screenshots http://localhost:8501 docs/

Uses Debian's /usr/bin/chromium (nothing is downloaded) with the flags this machine needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tools.chromium import CHROMIUM, CHROMIUM_ARGS

PAGES = {
    "overview": "/?range=30d",  # the default page is served only at /
    "article": "/article?range=all&id=putin-invites-modi-to-russia-2023-12-28",
    "topics": "/topics?range=30d",
}


def wait_for_app(page: Page) -> None:
    """Streamlit renders over a websocket: wait for real content (a chart or a metric), then
    for the run to settle."""
    page.wait_for_selector(".js-plotly-plot, [data-testid='stMetricValue']", timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    page.wait_for_timeout(2_500)


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for name, path in PAGES.items():
            page.goto(base.rstrip("/") + path)
            wait_for_app(page)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8501",
        Path(sys.argv[2] if len(sys.argv) > 2 else "docs"),
    )

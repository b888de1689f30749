"""axe-core (the copy bundled in axe-playwright-python, nothing downloaded) in Debian's
Chromium on everything readers touch — the reader page, the iframe embed, a news site's
page carrying widget.js — and on the editors' Overview. Readers' surfaces: no serious or
critical violation at all. The Overview: none in our markup; Streamlit's own sidebar
navigation (a <ul> of <div>s: axe's list/listitem rules) is the framework's, and excluded by
name here so that anything new of ours still fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.test_browser import (  # noqa: F401 (the module's fixtures, shared)
    SEED,
    browser,
    news_site,
    server,
    story_on_another_site,
)

SERIOUS = ("serious", "critical")
STREAMLIT_NAVIGATION = '[data-testid="stSidebarNavItems"]'


def serious_violations(page: Page, context: dict[str, Any] | None = None) -> list[str]:
    found = Axe().run(page, context=context).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['html'][:120] for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def opened(chromium: Browser, url: str, ready: str) -> Page:
    page = chromium.new_context(user_agent="Accessibility check").new_page()
    page.goto(url)
    expect(page.get_by_text(ready).first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1_000)  # the fragments and charts after the first paint
    return page


def test_the_reader_page_and_the_embed_have_no_serious_violations(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    for url in (f"{server}/?article={SEED}", f"{server}/?article={SEED}&embed=true"):
        page = opened(browser, url, "What's Your Reaction?")
        assert serious_violations(page) == [], url
        page.context.close()


def test_a_news_page_carrying_the_widget_has_no_serious_violations(
    server: str,  # noqa: F811
    news_site: tuple[str, Path],  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = opened(browser, story_on_another_site(server, news_site), "What's Your Reaction?")
    expect(page.locator('#bar button[data-kind="love"]')).to_be_visible()
    assert serious_violations(page) == []
    page.context.close()


def test_the_overview_has_no_serious_violations_of_our_own(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = opened(browser, f"{server}/?range=all", "Top articles")
    ours = serious_violations(page, {"exclude": [[STREAMLIT_NAVIGATION]]})
    assert ours == []
    everything = serious_violations(page)  # the framework's, named: fails if it changes
    assert all(v.startswith(("list (serious)", "listitem (serious)")) for v in everything)
    page.context.close()

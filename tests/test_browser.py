"""End to end in a real browser: Debian's Chromium driven by Playwright against a real
`streamlit run app.py` on 127.0.0.1. With CI set, a missing browser fails the run instead of
skipping it. Screenshots land in screenshots/ (git-ignored) for people to look at."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import copy_with_token
from tools.chromium import CHROMIUM, CHROMIUM_ARGS
from tools.live_server import free_port, live_server, wait_for

ROOT = Path(__file__).parents[1]
SEED = "putin-invites-modi-to-russia-2023-12-28"
SHOTS = ROOT / "screenshots"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    pytest.skip("no Chromium on this machine (CI installs it)", allow_module_level=True)

from playwright.sync_api import Browser, Page, Response, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def news_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Another origin: a plain static server for the page that embeds widget.js."""
    root = tmp_path_factory.mktemp("news-site")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", process)
        yield f"http://127.0.0.1:{port}", root
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(
    demo_db: Path, tmp_path_factory: pytest.TempPathFactory, news_site: tuple[str, Path]
) -> Iterator[str]:
    db = tmp_path_factory.mktemp("browser") / "browser.duckdb"
    TOKEN[:] = [copy_with_token(demo_db, db, "browser test")]  # this server's (one per module)
    with live_server(db, {"REACTIONS_ALLOWED_ORIGINS": news_site[0]}) as base:
        yield base


TOKEN: list[str] = []  # an export token for reading the server's numbers back


def seed_views(server: str) -> int:
    """The seed article's views of all time, as the export API reports them."""
    request = urllib.request.Request(
        f"{server}/api/v1/export/articles.csv?range=all&flagged=include",
        headers={"Authorization": f"Bearer {TOKEN[0]}", "User-Agent": "export-check"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        table = pd.read_csv(io.BytesIO(response.read()))
    views = table.loc[table["article_id"] == SEED, "views"]
    return int(views.iloc[0])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser: Browser) -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, user_agent="Reactions browser test"
    )
    return context.new_page()


def reaction_button(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.locator("button", has_text=label).first


def test_reader_taps_sees_count_and_highlight_and_keeps_them_after_reload(
    server: str, page: Page
) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/?article={SEED}")
    expect(page.get_by_text("What's Your Reaction?")).to_be_visible(timeout=30_000)
    # no developer chrome for readers (.streamlit/config.toml: client.toolbarMode)
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    expect(page.get_by_test_id("stMainMenu")).to_have_count(0)
    love = reaction_button(page, "Love")
    before = love.inner_text()
    count = int(before.split("·")[1].strip().replace(",", ""))
    page.screenshot(path=str(SHOTS / "reader-before.png"), full_page=True)

    love.click()
    expect(reaction_button(page, "Love")).to_contain_text(f"Love · {count + 1:,}", timeout=15_000)
    expect(reaction_button(page, "Love")).to_have_attribute("kind", "primary")
    page.screenshot(path=str(SHOTS / "reader-after-tap.png"), full_page=True)

    page.reload()
    expect(page.get_by_text("What's Your Reaction?")).to_be_visible(timeout=30_000)
    expect(reaction_button(page, "Love")).to_contain_text(f"Love · {count + 1:,}")
    expect(reaction_button(page, "Love")).to_have_attribute("kind", "primary")


def test_opening_the_reader_page_counts_one_view_of_the_bar(server: str, browser: Browser) -> None:
    before = seed_views(server)
    context = browser.new_context(user_agent="Reader page view test")
    reader = context.new_page()
    reader.goto(f"{server}/?article={SEED}")
    expect(reader.get_by_text("What's Your Reaction?")).to_be_visible(timeout=30_000)
    reaction_button(reader, "Wow").click()  # a rerun of the same page: the same view
    expect(reaction_button(reader, "Wow")).to_have_attribute("kind", "primary", timeout=15_000)
    assert seed_views(server) == before + 1
    reader.reload()  # the same reader the same day: still one view
    expect(reader.get_by_text("What's Your Reaction?")).to_be_visible(timeout=30_000)
    assert seed_views(server) == before + 1
    context.close()


def test_the_json_api_answers_on_the_same_port(server: str) -> None:
    request = urllib.request.Request(
        f"{server}/api/v1/articles/{SEED}/reactions", headers={"User-Agent": "api-check"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
    assert response.status == 200 and '"total"' in body and '"your_reaction":null' in body


def story_on_another_site(
    server: str, news_site: tuple[str, Path], heading: str | None = None
) -> str:
    """The URL of a news site's story page that embeds the bar with widget.js (asking for
    its title as a heading of level `heading`, if given)."""
    site, root = news_site
    level = f' data-reactions-heading="{heading}"' if heading else ""
    name = f"story-h{heading}.html" if heading else "story.html"
    (root / name).write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Story</title>"
        "<main><article><h1>A story</h1>"
        "<p>Body text.</p></article></main>"
        f'<div id="bar" data-reactions-article="{SEED}"{level}></div>'
        f'<script src="{server}/widget.js"></script>',
        encoding="utf-8",
    )
    return f"{site}/{name}"


def test_widget_on_another_site_renders_taps_and_remembers_the_reader(
    server: str, news_site: tuple[str, Path], page: Page
) -> None:
    story = story_on_another_site(server, news_site)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"{request.url}: {request.failure}"))
    page.goto(story)
    sad = page.locator('#bar button[data-kind="sad"]')
    expect(sad).to_be_visible(timeout=20_000)
    # the title is no heading of its own: the host page's outline stays as the host made it
    expect(page.locator("#bar p").first).to_have_text("What's Your Reaction?")
    expect(page.locator("#bar :is(h1, h2, h3, h4, h5, h6)")).to_have_count(0)
    assert problems == []  # no script error, no refused cross-origin request
    count = int(sad.inner_text().split("·")[1].strip().replace(",", ""))
    sad.click()
    expect(sad).to_have_attribute("aria-pressed", "true", timeout=10_000)
    expect(sad).to_contain_text(f"Sad · {count + 1:,}")
    expect(page.locator('#bar [role="status"]')).to_contain_text("yours: Sad")  # announced
    page.screenshot(path=str(SHOTS / "widget-after-tap.png"), full_page=True)
    page.reload()  # the client id in localStorage keeps the reader's reaction
    expect(page.locator('#bar button[data-kind="sad"]')).to_have_attribute(
        "aria-pressed", "true", timeout=20_000
    )
    page.locator('#bar button[data-kind="sad"]').click()  # tap again: undo
    expect(page.locator('#bar button[data-kind="sad"]')).to_have_attribute(
        "aria-pressed", "false", timeout=10_000
    )
    expect(page.locator('#bar button[data-kind="sad"]')).to_contain_text(f"Sad · {count:,}")


def test_the_host_page_may_ask_for_the_widgets_title_as_a_heading(
    server: str, news_site: tuple[str, Path], page: Page
) -> None:
    page.goto(story_on_another_site(server, news_site, heading="2"))
    expect(page.locator("#bar h2")).to_have_text("What's Your Reaction?", timeout=20_000)
    expect(page.get_by_role("group", name="What's Your Reaction?")).to_be_visible()


def counted_view(response: Response) -> bool:
    """The widget's POST of a view (not its CORS preflight, whose body never arrives)."""
    return response.url.endswith("/api/v1/views") and response.request.method == "POST"


def test_the_widget_counts_a_view_once_per_reader_and_day(
    server: str, news_site: tuple[str, Path], browser: Browser
) -> None:
    """…and that view is the page's one request to the origin (beside widget.js, which
    caches): no CORS preflight, no second GET for the counts."""
    story = story_on_another_site(server, news_site)
    context = browser.new_context(user_agent="Widget view test")
    page = context.new_page()
    to_origin: list[str] = []
    page.on(
        "request",
        lambda r: (
            to_origin.append(f"{r.method} {r.url.removeprefix(server)}")
            if r.url.startswith(server) and not r.url.endswith("/widget.js")
            else None
        ),
    )
    before = seed_views(server)
    with page.expect_response(counted_view) as first:
        page.goto(story)
    view = first.value.json()
    assert view["counted"] is True and view["article_id"] == SEED
    sad = page.locator('#bar button[data-kind="sad"]')
    expect(sad).to_contain_text(f"Sad · {view['counts']['sad']:,}", timeout=10_000)
    assert to_origin == ["POST /api/v1/views"]
    with page.expect_response(counted_view) as again:
        page.reload()  # the same client id (localStorage), the same day
    assert again.value.json()["counted"] is False
    expect(sad).to_be_visible(timeout=10_000)
    assert to_origin == ["POST /api/v1/views"] * 2
    assert seed_views(server) == before + 1
    context.close()


def test_without_login_a_visitor_from_another_machine_gets_only_the_reader_surfaces(
    server: str, browser: Browser
) -> None:
    """The server trusts X-Forwarded-For from loopback (uvicorn's proxy headers), which is how
    a reverse proxy on the same host reports its client: a browser that says it comes from
    203.0.113.7 is a remote visitor, and one that does not is this machine."""
    SHOTS.mkdir(exist_ok=True)
    remote = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.7"})
    page = remote.new_page()
    for path in ("/", "/export", "/topics", f"/article?id={SEED}"):
        page.goto(f"{server}{path}")
        expect(page.get_by_text("served on this machine only")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Top articles")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "remote-visitor.png"), full_page=True)
    page.goto(f"{server}/?article={SEED}")  # the reader page stays public
    expect(page.get_by_text("What's Your Reaction?")).to_be_visible(timeout=30_000)
    remote.close()

    local = browser.new_context()
    home = local.new_page()
    home.goto(f"{server}/")
    expect(home.get_by_text("Top articles")).to_be_visible(timeout=30_000)
    local.close()

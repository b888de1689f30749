"""Login end to end: a real `streamlit run app.py` with [auth] configured against
oidc-provider-mock started here on 127.0.0.1, driven by Debian's Chromium. Like the other
browser tests, a missing Chromium fails the run under CI instead of skipping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.chromium import CHROMIUM, CHROMIUM_ARGS
from tools.live_server import free_port, live_server, wait_for

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    pytest.skip("no Chromium on this machine (CI installs it)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright

ANALYST = {"sub": "ana", "email": "ana@data.news.example", "email_verified": True}
OUTSIDER = {"sub": "otto", "email": "otto@elsewhere.example", "email_verified": True}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--user-claims",
            json.dumps(ANALYST),
            "--user-claims",
            json.dumps(OUTSIDER),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/.well-known/openid-configuration", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def app_with_login(
    provider: str, demo_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("login")
    db = home / "login.duckdb"
    shutil.copy(demo_db, db)
    port = free_port()
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(
        f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-cookie-secret-for-the-login-test"
client_id = "reactions-test"
client_secret = "reactions-test-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[reactions]
analysts = ["@data.news.example"]
"""
    )
    with live_server(db, cwd=home, port=port) as base:
        yield base


def test_an_analyst_logs_in_with_oidc_sees_the_newsroom_and_logs_out(app_with_login: str) -> None:
    shots = Path(__file__).parents[1] / "screenshots"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        page.goto(f"{app_with_login}/export")
        expect(page.get_by_text("log in to open the dashboard")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Top articles")).to_have_count(0)

        page.goto(f"{app_with_login}/")  # away from the "Page not found" notice
        page.get_by_role("button", name="Log in").click(timeout=30_000)
        page.get_by_role("button", name="ana", exact=True).click()  # the provider's form
        expect(page.get_by_text("Top articles")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Signed in as ana@data.news.example")).to_be_visible()
        page.screenshot(path=str(shots / "logged-in-analyst.png"), full_page=True)
        page.goto(f"{app_with_login}/export")
        expect(page.get_by_role("heading", name="Export")).to_be_visible(timeout=30_000)

        page.get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="End session").click()  # the provider's logout page
        expect(page.get_by_text("log in to open the dashboard")).to_be_visible(timeout=30_000)
        browser.close()


def test_an_account_without_a_role_logs_in_and_is_told_so(app_with_login: str) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        page.goto(f"{app_with_login}/")
        page.get_by_role("button", name="Log in").click(timeout=30_000)
        page.get_by_role("button", name="otto", exact=True).click()
        expect(page.get_by_text("has no newsroom role here")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Top articles")).to_have_count(0)
        browser.close()

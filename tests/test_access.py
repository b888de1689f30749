"""Who sees what. Roles from settings and the user (pure), then the real app through AppTest
with login configured (`at.user` for each role): a page a role may not see is not registered,
so switching to it fails the way a direct URL does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from reactions.config import Settings
from reactions.web.auth import Role, is_loopback, roles_for

ENTRY = str(Path(__file__).parents[1] / "src" / "reactions" / "ui" / "entry.py")
ALL = frozenset(Role)
SECRETS = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "a-test-cookie-secret"
client_id = "reactions"
client_secret = "not-a-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"

[reactions]
roles_claim = "roles"
editors = ["Ed@News.example"]
analysts = ["@data.news.example"]
admins = ["boss@news.example"]
"""


def settings(**values: object) -> Settings:
    return Settings(db_path=Path("x.duckdb"), **values)  # type: ignore[arg-type]


def test_without_login_the_newsroom_is_for_this_machine_only() -> None:
    plain = settings()
    assert roles_for(plain, user=None, local=True) == ALL
    assert roles_for(plain, user=None, local=False) == {Role.READER}
    assert is_loopback(None) and is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("192.0.2.7") and not is_loopback("2001:db8::1")
    assert not is_loopback("localhost.evil.example")


def test_with_login_roles_come_from_the_claim_and_the_lists() -> None:
    s = settings(
        auth_configured=True,
        roles_claim="groups",
        editors=("ed@news.example",),
        analysts=("@data.news.example",),
        admins=("boss@news.example",),
    )

    def roles(**user: object) -> frozenset[Role]:
        return roles_for(s, user={"is_logged_in": True, **user}, local=True)

    assert roles_for(s, user=None, local=True) == {Role.READER}  # loopback is no login
    assert roles_for(s, user={"is_logged_in": False, "email": "boss@news.example"}, local=True) == {
        Role.READER
    }
    assert roles(email="ed@news.example") == {Role.READER, Role.EDITOR}
    assert roles(email="ana@data.news.example") == {Role.READER, Role.EDITOR, Role.ANALYST}
    assert roles(email="boss@news.example") == ALL
    assert roles(email="ana@evil-data.news.example.com") == {Role.READER}
    assert roles(email="ed@news.example", email_verified=False) == {Role.READER}
    assert roles(email="x@y.example", groups=["analyst", "superuser"]) == {
        Role.READER,
        Role.EDITOR,
        Role.ANALYST,
    }
    assert roles(email="x@y.example", groups="editor admin") == ALL
    assert roles(email="x@y.example", groups=42) == {Role.READER}


@pytest.fixture
def with_login(tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(SECRETS)
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "access.duckdb"  # the reader page writes (a view of its bar)
    shutil.copy(demo_db, copy)
    monkeypatch.setenv("REACTIONS_DB", str(copy))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def app_for(user: dict[str, object]) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def opens(at: AppTest, page: str) -> bool:
    try:
        at.switch_page(page)
    except ValueError as exc:
        assert "Could not find a navigation page" in str(exc)
        return False
    at.run()
    assert not at.exception, at.exception
    return True


@pytest.mark.usefixtures("with_login")
def test_a_visitor_who_is_not_logged_in_gets_the_welcome_page_and_a_login_button() -> None:
    at = app_for({"is_logged_in": False})
    assert [t.value for t in at.title] == ["Reactions"]
    assert [b.label for b in at.button] == ["Log in"]
    for page in ("views/overview.py", "views/article.py", "views/topics.py", "views/export.py"):
        assert not opens(at, page), page


@pytest.mark.usefixtures("with_login")
def test_an_editor_sees_the_dashboard_but_not_the_exports() -> None:
    at = app_for({"is_logged_in": True, "email": "ed@news.example"})
    assert at.title[0].value == "Overview"
    assert "Log out" in [b.label for b in at.button]
    assert opens(at, "views/topics.py")
    assert not opens(at, "views/export.py")


@pytest.mark.usefixtures("with_login")
@pytest.mark.parametrize(
    "user",
    [
        {"is_logged_in": True, "email": "ana@data.news.example"},
        {"is_logged_in": True, "email": "x@elsewhere.example", "roles": ["analyst"]},
        {"is_logged_in": True, "email": "boss@news.example"},
    ],
)
def test_analysts_and_admins_open_the_export_page(user: dict[str, object]) -> None:
    at = app_for(user)
    assert opens(at, "views/export.py")
    assert at.title[0].value == "Export"


@pytest.mark.usefixtures("with_login")
def test_a_logged_in_account_without_a_role_is_told_so() -> None:
    at = app_for({"is_logged_in": True, "email": "reader@gmail.example"})
    assert at.title[0].value == "Reactions"
    assert "has no newsroom role" in at.warning[0].value
    assert not opens(at, "views/overview.py")


@pytest.mark.usefixtures("with_login")
def test_the_reader_page_stays_public() -> None:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.query_params["article"] = "putin-invites-modi-to-russia-2023-12-28"
    at.run()
    assert not at.exception
    assert "What's Your Reaction?" in [h.value for h in at.subheader]

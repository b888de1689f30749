"""The reader page under AppTest: the article as readers see it, then one tap to react, again
to undo, another to switch; the reaction survives a reload; embed mode; unknown articles."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from reactions.store.store import Store

ENTRY = str(Path(__file__).parents[1] / "src" / "reactions" / "ui" / "entry.py")
SEED = "putin-invites-modi-to-russia-2023-12-28"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "reader.duckdb"
    shutil.copy(demo_db, copy)
    monkeypatch.setenv("REACTIONS_DB", str(copy))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield copy
    st.cache_resource.clear()


def open_reader(context: dict[str, object] | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    if context:
        at.context = context
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def bar(at: AppTest) -> dict[str, tuple[str, str]]:
    """kind -> (button label, button type) of the reaction bar."""
    return {
        b.key.removeprefix("react_"): (b.label, b.proto.type)
        for b in at.button
        if b.key and b.key.startswith("react_")
    }


def counts_in_db(db: Path) -> dict[str, int]:
    """Each enabled kind's standing reactions on the seed article, read from the table."""
    store = Store.open(db)
    try:
        rows = (
            store.cursor()
            .execute(
                "SELECT k.kind_id, count(c.kind_id) FROM reaction_kinds k "
                "LEFT JOIN current_reactions c ON c.kind_id = k.kind_id AND c.article_id = ? "
                "WHERE k.enabled GROUP BY k.kind_id",
                [SEED],
            )
            .fetchall()
        )
        return {kind: int(n) for kind, n in rows}
    finally:
        store.close()


def test_the_article_reads_like_the_seed_page(db: Path) -> None:
    at = open_reader(article=SEED)
    assert at.title[0].value.startswith("Putin extends invitation to Modi for Russia visit")
    body = " ".join(m.value for m in at.markdown)
    assert "Putin's decision to personally meet Jaishankar" in body
    for section in (
        "**New Delhi:**",
        "### Key Points",
        "### Putin's Remarks",
        "### India's Balancing Act",
        "### The Road Ahead",
    ):
        assert section in body
    assert at.subheader[0].value == "What's Your Reaction?"
    assert "Dec 28, 2023 - 09:12" in at.caption[0].value  # no browser zone: UTC
    in_delhi = open_reader({"timezone": "Asia/Kolkata"}, article=SEED)
    assert in_delhi.caption[0].value.startswith(
        "Dec 28, 2023 - 14:42 · Updated Dec 28, 2023 - 14:53"
    )


def test_tap_shows_the_count_and_highlight_again_undoes_another_switches(db: Path) -> None:
    before = counts_in_db(db)
    at = open_reader(article=SEED)
    shown = bar(at)
    assert list(shown) == ["like", "dislike", "love", "funny", "angry", "sad", "wow"]
    total = sum(before.values())
    assert shown["sad"][0] == f"😢 Sad · {before['sad']:,} · {before['sad'] / total:.0%}"
    assert all(kind_type == "secondary" for _, kind_type in shown.values())

    at.button(key="react_love").click().run()
    assert bar(at)["love"] == (
        f"❤️ Love · {before['love'] + 1:,} · {(before['love'] + 1) / (total + 1):.0%}",
        "primary",
    )
    assert counts_in_db(db)["love"] == before["love"] + 1

    at.button(key="react_love").click().run()  # again: undo
    assert bar(at)["love"][1] == "secondary"
    assert counts_in_db(db) == before

    at.button(key="react_love").click().run()
    at.button(key="react_angry").click().run()  # another: switch
    after = bar(at)
    assert after["angry"][1] == "primary" and after["love"][1] == "secondary"
    assert counts_in_db(db) == {**before, "angry": before["angry"] + 1}


def test_a_reload_still_shows_the_readers_reaction(db: Path) -> None:
    at = open_reader(article=SEED)
    at.button(key="react_wow").click().run()
    reloaded = open_reader(article=SEED)  # a new session: same browser, same day
    assert bar(reloaded)["wow"][1] == "primary"


def test_embed_mode_shows_only_the_bar(db: Path) -> None:
    at = open_reader({"is_embedded": True}, article=SEED)
    assert len(at.title) == 0 and len(at.toggle) == 0
    assert at.subheader[0].value == "What's Your Reaction?"
    assert len(bar(at)) == 7


def test_the_host_may_offer_the_article_in_the_embed(db: Path) -> None:
    at = open_reader({"is_embedded": True}, article=SEED, article_toggle="true")
    assert len(at.title) == 0
    at.toggle(key="show_article").set_value(True).run()
    assert at.title[0].value.startswith("Putin extends invitation")


@pytest.mark.parametrize(
    ("article", "message"),
    [
        ("no-such-story", "couldn't find this article"),
        ("", "No article was named"),
        ("<script>alert(1)</script>", "couldn't find this article"),
    ],
)
def test_unknown_or_missing_article_is_a_clear_message(
    db: Path, article: str, message: str
) -> None:
    at = open_reader(article=article)
    assert message in at.error[0].value
    assert len(bar(at)) == 0

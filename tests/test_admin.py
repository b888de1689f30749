"""The admin surfaces: the reaction set (store, CLI, page) and export tokens (page). Kind ids
are permanent, so history survives every change."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from reactions.errors import InvalidInput, UnknownKind
from reactions.exports.writer import export_dataset
from reactions.metrics.filters import Filters
from reactions.metrics.queries import reaction_kinds
from reactions.store.kinds import KindChange, add_kind, edit_kind, move_kind, set_kind_enabled
from reactions.store.store import Store
from reactions.web.reaction_bar import reaction_bar
from tests.conftest import run_cli
from tests.test_dashboard import open_page


def order(store: Store) -> list[str]:
    return reaction_kinds(store.cursor(), enabled_only=False)["kind_id"].tolist()


def test_kinds_are_added_relabelled_reordered_and_retired_with_history_intact(store: Store) -> None:
    store.record_reaction("budget-vote", "r1", "funny")
    add_kind(store, "shocked", KindChange("Shocked", "😱", -1, "#111827"))
    assert order(store)[-1] == "shocked"
    assert store.record_reaction("budget-vote", "r2", "shocked").after == ("shocked",)

    move_kind(store, "shocked", 0)
    assert order(store)[0] == "shocked"
    assert next(iter(reaction_bar(store, "budget-vote")["counts"])) == "shocked"  # bar follows

    edit_kind(store, "funny", KindChange(label="Haha"))
    set_kind_enabled(store, "funny", False)
    with pytest.raises(UnknownKind):
        store.record_reaction("budget-vote", "r3", "funny")
    assert "funny" not in reaction_bar(store, "budget-vote")["counts"]
    events = io.BytesIO()
    export_dataset(store.cursor(), "events", Filters(preset="all"), events)
    kinds = pd.read_csv(io.BytesIO(events.getvalue()))["kind"].tolist()
    assert kinds == ["funny", "shocked"]  # the retired kind's past stays in the record


@pytest.mark.parametrize(
    ("kind_id", "change", "message"),
    [
        ("Shocked!", KindChange("x", "😱", 0), "kind id 'Shocked!' must be"),
        ("like", KindChange("Like", "👍", 1), "kind 'like' exists"),
        ("new", KindChange("", "😱", 0), "a label is 1–30"),
        ("new", KindChange("New", "abc", 0), "an emoji is 1–8 symbols"),
        ("new", KindChange("New", "😱", 5), "sentiment is -1"),
        ("new", KindChange("New", "😱", 0, "red"), "colour 'red' must look like"),
        ("new", KindChange("New", None, 0), "a new kind needs"),
    ],
)
def test_a_bad_kind_is_refused_with_its_reason(
    store: Store, kind_id: str, change: KindChange, message: str
) -> None:
    before = reaction_kinds(store.cursor(), enabled_only=False)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        add_kind(store, kind_id, change)
    pd.testing.assert_frame_equal(reaction_kinds(store.cursor(), enabled_only=False), before)


def test_the_cli_manages_the_reaction_set(tmp_path: Path, demo_db: Path) -> None:
    db = tmp_path / "kinds.duckdb"
    shutil.copy(demo_db, db)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("kinds", *args, db=db)

    assert (
        run("add", "shocked", "--label", "Shocked", "--emoji", "😱", "--sentiment", "-1").returncode
        == 0
    )
    assert run("move", "shocked", "0").returncode == 0
    assert run("edit", "love", "--label", "Adore").returncode == 0
    assert run("disable", "funny").returncode == 0
    listed = run("list").stdout.splitlines()
    assert listed[0].split()[2] == "shocked"
    assert any("Adore" in line for line in listed)
    assert any(line.split()[2] == "funny" and line.endswith("(disabled)") for line in listed)
    bad = run("move", "nope", "0")
    assert bad.returncode == 1 and bad.stderr.strip() == "error: unknown reaction kind 'nope'"


def test_the_admin_page_adds_and_moves_kinds_and_makes_and_revokes_tokens(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "admin.duckdb"
    shutil.copy(demo_db, db)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(db, monkeypatch, {}, "views/admin.py")
    assert at.title[0].value == "Admin"

    at.text_input(key="add_id").set_value("shocked")
    at.text_input(key="add_label").set_value("Shocked")
    at.text_input(key="add_emoji").set_value("😱")
    at.selectbox(key="add_sentiment").set_value(-1)
    at.button[[b.label for b in at.button].index("Add kind")].click().run()
    assert not at.exception
    assert "Added shocked." in [s.value for s in at.success]

    at.selectbox(key="move_kind").set_value("shocked")
    at.number_input(key="move_to").set_value(0)
    at.button[[b.label for b in at.button].index("Move")].click().run()
    assert "Moved shocked." in [s.value for s in at.success]

    at.text_input(key="add_id").set_value("Bad Id")
    at.button[[b.label for b in at.button].index("Add kind")].click().run()
    assert any("must be 1–24 lower-case" in e.value for e in at.error)

    at.text_input(key="token_name").set_value("newsroom BI")
    at.button[[b.label for b in at.button].index("Create token")].click().run()
    token = at.code[0].value
    assert token.startswith("rx_")
    token_id = token.split("_")[1]
    at.selectbox(key="token_revoke_id").set_value(token_id)
    at.button[[b.label for b in at.button].index("Revoke")].click().run()
    assert f"Revoked {token_id}." in [s.value for s in at.success]
    st.cache_resource.clear()

    store = Store.open(db)
    try:
        assert order(store)[0] == "shocked"
        revoked = store.cursor().execute("SELECT revoked_at FROM api_tokens").fetchall()
        assert len(revoked) == 1 and revoked[0][0] is not None
    finally:
        store.close()

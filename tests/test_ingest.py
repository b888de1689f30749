"""Article import: CSV, JSON, RSS and Atom; per-record rejection reasons; untrusted HTML
reduced to text; a malformed file changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reactions.errors import ImportFileError
from reactions.store.article_import import import_articles
from reactions.store.store import Store
from tests.conftest import DATA


def articles(store: Store) -> dict[str, dict[str, Any]]:
    frame = store.cursor().execute("SELECT * FROM articles").df()
    return {
        str(row["article_id"]): {str(k): v for k, v in row.items()}
        for row in frame.to_dict("records")
    }


def test_csv_import_adds_good_rows_and_names_the_bad_one(store: Store) -> None:
    report = import_articles(store, DATA / "articles.csv")
    assert (report.added, report.updated) == (3, 0)
    assert [(r.row, r.reason) for r in report.rejected] == [(3, "published_at is missing")]
    stored = articles(store)
    bike = stored["council-approves-bike-lanes"]
    assert bike["body"] == "The council voted 7-2.\n\nWork starts in spring."  # <script> gone
    assert list(bike["tags"]) == ["City hall", "Transport"]
    assert str(bike["published_at"]) == "2026-11-02 09:30:00"
    # An id that is not a slug is derived from it; an offset time is stored in UTC.
    assert str(stored["hyperlink-x"]["published_at"]) == "2026-11-03 07:00:00"


def test_reimport_updates_instead_of_duplicating(store: Store, tmp_path: Path) -> None:
    import_articles(store, DATA / "articles.csv")
    changed = tmp_path / "changed.csv"
    changed.write_text(
        (DATA / "articles.csv")
        .read_text()
        .replace("Council approves new bike lanes", "Council approves bike lanes 7 to 2")
    )
    report = import_articles(store, changed)
    assert (report.added, report.updated) == (0, 3)
    assert (
        articles(store)["council-approves-bike-lanes"]["title"]
        == "Council approves bike lanes 7 to 2"
    )


def test_json_import_accepts_a_wrapped_list_and_rejects_per_record(store: Store) -> None:
    report = import_articles(store, DATA / "articles.json")
    assert (report.added, report.updated) == (2, 0)
    assert [(r.row, r.reason) for r in report.rejected] == [
        (2, "title is empty"),
        (3, "expected an object, got str"),
    ]
    stored = articles(store)
    assert stored["rates-held"]["body"] == "Rates stay at 4.25%.\n\nAnalysts expected it."
    assert "news-example-icy-moon" in stored  # id derived from the url


def test_rss_import_strips_active_content(store: Store) -> None:
    report = import_articles(store, DATA / "feed.rss")
    assert (report.added, len(report.rejected)) == (2, 0)
    flood = articles(store)["news-example-world-flood-defences"]  # id derived from the guid
    assert flood["body"] == "Rivers peaked overnight.\n\nNo homes were flooded."
    for dangerous in ("iframe", "srcdoc", "script", "http-equiv", "evil.example"):
        assert dangerous not in flood["body"]
    assert flood["topic"] == "World" and list(flood["tags"]) == ["Climate", "World"]
    assert str(flood["published_at"]) == "2026-11-02 06:45:00"


def test_atom_import(store: Store) -> None:
    report = import_articles(store, DATA / "feed.atom")
    assert report.added == 1
    comet = articles(store)["comet-visible-2026"]
    assert comet["author"] == "Tom Okafor" and comet["topic"] == "Science"
    assert str(comet["updated_at"]) == "2026-11-07 10:00:00"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("malformed.csv", "malformed CSV"),
        ("malformed.json", "malformed JSON at line 3"),
        ("not-a-feed.xml", "not an RSS/Atom feed"),
    ],
)
def test_malformed_file_changes_nothing(store: Store, name: str, message: str) -> None:
    before = articles(store)
    with pytest.raises(ImportFileError, match=message):
        import_articles(store, DATA / name)
    assert articles(store).keys() == before.keys()


def test_csv_without_required_columns_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("headline,date\nHello,2026-01-01\n")
    with pytest.raises(ImportFileError, match="lacks published_at, title"):
        import_articles(store, path)

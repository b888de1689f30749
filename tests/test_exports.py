"""Exports: what the analyst downloads equals what the dashboard shows and what the raw events
say, under several filters; the CSV is safe to open in a spreadsheet and pinned byte for byte;
the manifest proves what was exported; bad filters make no file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from reactions.exports import copy_out
from reactions.exports.writer import export_dataset
from reactions.metrics import article_lists, overview, time_series
from reactions.metrics.filters import Filters, strict_filters
from reactions.metrics.queries import known_values
from reactions.store.articles import upsert_articles
from reactions.store.bar_views import View
from reactions.store.store import Store
from reactions.store.taps import Tap
from reactions.web.tokens import create_token
from tests import independent
from tests.conftest import TEST_NOW, app_client, copy_with_token, make_articles, run_cli
from tests.test_dashboard import VIEWS

GOLDEN = Path(__file__).parent / "data" / "golden"
NOW = TEST_NOW


def filters_for(store: Store, view: independent.View) -> Filters:
    query = {k: v if isinstance(v, list) else [v] for k, v in view.query().items()}
    return strict_filters(query, known_values(store.cursor()))


def exported(store: Store, dataset: str, f: Filters) -> pd.DataFrame:
    buffer = io.BytesIO()
    export_dataset(store.cursor(), dataset, f, buffer)
    return pd.read_csv(io.BytesIO(buffer.getvalue()), keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> Store:
    return Store.open(demo_db)


@pytest.fixture(scope="module")
def raw(demo_db: Path) -> independent.RawData:
    return independent.load(demo_db)


@pytest.mark.parametrize("name", list(VIEWS))
def test_articles_and_timeseries_exports_equal_the_dashboard_and_the_raw_events(
    name: str, demo: Store, raw: independent.RawData
) -> None:
    view = VIEWS[name]
    f = filters_for(demo, view)
    articles = exported(demo, "articles", f)
    series = exported(demo, "timeseries", f)
    now, before = overview.kpis(demo.cursor(), f)
    truth = view.select(independent.standing(raw))

    # the KPIs the overview shows, from the files
    assert int(articles["reactions"].sum()) == now.reactions == len(truth)
    assert int((articles["reactions"] > 0).sum()) == now.articles == truth["article_id"].nunique()
    # every article in scope is a row, those nobody reacted to with zeros and no shares
    scope = independent.in_scope(raw, view, independent.standing(raw))
    assert sorted(articles["article_id"].astype(str)) == scope
    unreacted = articles[articles["reactions"] == 0]
    assert unreacted["net_sentiment"].isna().all()
    assert unreacted[[c for c in articles.columns if c.endswith("_share")]].isna().all().all()
    assert int(series["reactions"].sum()) == now.reactions

    # every article row equals the top table and the raw events
    kinds = [
        k
        for k in ["like", "dislike", "love", "funny", "angry", "sad", "wow"]
        if not view.kinds or k in view.kinds
    ]
    top = article_lists.top_articles(demo.cursor(), f, kinds).set_index("article_id")
    per_kind = truth.groupby(["article_id", "kind_id"]).size()
    for row in articles.to_dict("records"):
        article = str(row["article_id"])
        for kind in kinds:
            count = row[kind]
            assert count == top.loc[article, kind] == per_kind.get((article, kind), 0)
            if row["reactions"]:
                share = row[f"{kind}_share"]
                assert share == pytest.approx(count / row["reactions"], abs=5e-7)
                assert row[f"{kind}_share_low"] <= share <= row[f"{kind}_share_high"]

    # the mix chart's non-empty cells, and zeros everywhere else
    mix = time_series.mix_over_time(demo.cursor(), f)
    shown = {(b.strftime("%Y-%m-%dT%H:%M:%S"), k): n for b, k, n in mix.itertuples(index=False)}
    cells = {
        (b, k): n
        for b, k, n in zip(series["bucket_start"], series["kind"], series["reactions"], strict=True)
    }
    assert {c: n for c, n in cells.items() if n} == shown
    assert len(cells) == len(series)  # one row per bucket and kind

    # the comparison: the previous period's total, from both files
    if before is not None and view.interval != "week":
        assert int(articles["previous_reactions"].sum()) <= before.reactions
        assert int(series["previous_reactions"].sum()) == before.reactions
    if before is None:
        assert articles["previous_reactions"].isna().all()

    # views and rates: the raw view log under the same filter, and the dashboard's KPIs
    seen = view.select_views(raw.views)
    per_article_views = seen.groupby("article_id").size()
    for row in articles.to_dict("records"):
        n = int(per_article_views.get(str(row["article_id"]), 0))
        assert row["views"] == n
        if n:
            assert row["reaction_rate"] == pytest.approx(100 * row["reactions"] / n, abs=5e-7)
            assert row["reaction_rate_low"] <= row["reaction_rate"] <= row["reaction_rate_high"]
        else:
            assert pd.isna(row["reaction_rate"])
    buckets = series.drop_duplicates("bucket_start")
    assert int(buckets["views"].sum()) == now.views
    assert now.views == len(seen)  # all time too: its buckets start at the first with data
    local = seen["added_at"].dt.tz_localize("UTC").dt.tz_convert(view.tz).dt.tz_localize(None)
    step = {"hour": "h", "day": "D"}.get(view.interval)
    if step:
        expected = local.dt.floor(step).dt.strftime("%Y-%m-%dT%H:%M:%S").value_counts()
        got = buckets.set_index("bucket_start")["views"]
        assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()


@pytest.mark.parametrize("name", list(VIEWS))
def test_raw_events_export_holds_exactly_the_events_in_the_filter(
    name: str, demo: Store, raw: independent.RawData
) -> None:
    view = VIEWS[name]
    events = exported(demo, "events", filters_for(demo, view))
    log = raw.events.rename(columns={"occurred_at": "added_at"}).merge(
        raw.articles[["article_id", "title", "topic", "author", "tags"]], on="article_id"
    )
    truth = view.select(log)
    assert sorted(events["event_id"]) == sorted(truth["event_id"])
    assert (events["occurred_at_utc"].str.endswith("Z")).all()
    assert set(events["timezone"]) <= {view.tz}


def test_spreadsheet_formulas_in_titles_and_tags_are_neutralized_numbers_stay_numbers(
    store: Store, tmp_path: Path
) -> None:
    hostile = make_articles("formula-1")
    hostile["title"] = ['=HYPERLINK("http://evil.example","click")']
    hostile["author"] = ["@admin"]
    hostile["tags"] = [["+cmd", "-2+3", "safe"]]
    upsert_articles(store, hostile)
    store.record_taps([Tap("formula-1", f"r{i}", "like", at=NOW) for i in range(3)])
    f = Filters(preset="all")
    buffer = io.BytesIO()
    export_dataset(store.cursor(), "articles", f, buffer)
    text = buffer.getvalue().decode("utf-8")
    assert (
        "\r\n" in text
        and "'=HYPERLINK" in text
        and "'@admin" in text
        and "'+cmd; -2+3; safe" in text
    )
    frame = pd.read_csv(io.StringIO(text))
    assert frame.loc[0, "reactions"] == 3 and frame["reactions"].dtype.kind == "i"
    assert frame.loc[0, "like_share"] == 1.0
    parquet = tmp_path / "a.parquet"
    export_dataset(store.cursor(), "articles", f, parquet, fmt="parquet")
    assert str(pd.read_parquet(parquet).loc[0, "title"]).startswith("=HYPERLINK")  # untouched


def test_raw_events_csv_quotes_as_duckdbs_own_writer_and_guards_formulas(
    store: Store, tmp_path: Path
) -> None:
    """The events CSV is written as finished lines (datasets.events_csv_query). Read back by
    Python's csv module it holds each article's exact text, formula-guarded; DuckDB's own CSV
    writer, given the same cells, writes the same bytes."""
    hostile = make_articles("quotes", "formula", "plain")
    # each field needing quotes holds one reason only: a quote, CR, LF, comma, or nothing
    hostile["title"] = ['She said "no" then left', "=1+2", "Über 😮 news\nsecond line"]
    hostile["author"] = ["", "-Minus", "Ana, Ruiz"]
    hostile["tags"] = [["carriage\rreturn"], ["@x", "a,b"], ['"q"', "\ttabbed"]]
    upsert_articles(store, hostile)
    store.record_taps(
        [
            Tap(article, f"r{n}", kind, at=datetime(2026, 11, 20, 10, n))
            for n, (article, kind) in enumerate(
                [("quotes", "like"), ("formula", "angry"), ("plain", "wow"), ("quotes", "like")]
            )
        ]
    )
    buffer = io.BytesIO()
    export_dataset(store.cursor(), "events", Filters(preset="all"), buffer)
    ours = buffer.getvalue()

    def guard(text: str) -> str:
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    log = store.con.execute(
        "SELECT e.event_id, e.occurred_at, a.article_id, a.title, a.topic, a.author, a.tags, "
        "e.kind_id, e.action, e.source, e.reader_hash "
        "FROM reaction_events e JOIN articles a USING (article_id) ORDER BY e.event_id"
    ).fetchall()
    cells = [
        [
            str(event_id),
            at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "UTC",
            *(guard(text) for text in (article, title, topic, author, "; ".join(tags))),
            kind,
            action,
            source,
            guard(reader),
        ]
        for event_id, at, article, title, topic, author, tags, kind, action, source, reader in log
    ]
    assert len(cells) == 4  # the undo is an event too
    parsed = list(csv.reader(io.StringIO(ours.decode("utf-8"), newline="")))
    assert parsed[1:] == cells
    assert b',World,"",' in ours  # empty text is quoted, as DuckDB does

    expected = pd.DataFrame(cells, columns=parsed[0])
    check = duckdb.connect()
    check.register("expected", expected)
    path = tmp_path / "duckdb.csv"
    check.execute(f"COPY expected TO '{path}' (FORMAT csv, HEADER true, NEW_LINE '\r\n')")
    assert ours == path.read_bytes()


@pytest.mark.parametrize(
    "tz", ["Europe/Berlin", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kathmandu"]
)
def test_raw_events_local_times_agree_with_zoneinfo_across_daylight_saving_changes(
    store: Store, tz: str
) -> None:
    """The local time comes from a per-quarter-hour offset table (datasets.zone_offsets_sql);
    Python's zoneinfo, applied event by event, must say the same for times through a day of
    each 2026 change in these zones (Lord Howe's is half an hour, St John's is -03:30)."""
    days = ["2026-03-08", "2026-03-29", "2026-04-04", "2026-10-03", "2026-10-25", "2026-11-01"]
    moments = [
        datetime.fromisoformat(day) + pd.Timedelta(minutes=37 * i, seconds=i, microseconds=i)
        for day in days
        for i in range(40)
    ]
    store.record_taps([Tap("budget-vote", f"r{i}", "like", at=at) for i, at in enumerate(moments)])
    f = strict_filters({"range": ["all"], "tz": [tz]}, known_values(store.cursor()))
    events = exported(store, "events", f)
    zone = ZoneInfo(tz)
    expected = [
        at.replace(tzinfo=UTC).astimezone(zone).isoformat(timespec="seconds") for at in moments
    ]
    assert events.sort_values("event_id")["occurred_at_local"].tolist() == expected
    offsets = {text[-6:] for text in expected}
    assert len(offsets) == (1 if tz == "Asia/Kathmandu" else 2)  # the days do cross a change


@pytest.fixture
def fixed(tmp_path: Path) -> Store:
    """A tiny newsroom with a fixed pepper and fixed times, so exports are the same bytes on
    every run and every machine."""
    path = tmp_path / "golden.duckdb"
    setup = Store.open(path)
    setup.con.execute("UPDATE meta SET value = 'golden-pepper' WHERE key = 'reader_pepper'")
    setup.close()
    store = Store.open(path)
    articles = make_articles("budget-vote", "cup-final")
    articles.loc[1, "topic"] = "Sport"
    articles["author"] = ["Ana Ruiz", "Ben Okoro"]
    articles["tags"] = [["Budget", "Parliament"], ["Football"]]
    upsert_articles(store, articles)
    taps = [
        Tap("budget-vote", "r1", "angry", at=datetime(2026, 11, 2, 9, 15)),
        Tap("budget-vote", "r2", "angry", at=datetime(2026, 11, 2, 23, 40)),
        Tap("budget-vote", "r3", "like", at=datetime(2026, 11, 3, 7, 5)),
        Tap("budget-vote", "r1", "sad", at=datetime(2026, 11, 4, 12, 0)),  # a switch
        Tap("cup-final", "r2", "love", at=datetime(2026, 11, 5, 20, 30)),
        Tap("cup-final", "r4", "love", at=datetime(2026, 10, 29, 18, 0)),  # previous period
        Tap("cup-final", "r5", "wow", at=datetime(2026, 11, 6, 21, 0)),
        Tap("cup-final", "r5", "wow", at=datetime(2026, 11, 6, 21, 5)),  # an undo
    ]
    store.record_taps(taps)
    # Views of the bars: readers who reacted and some who did not, one a day apart.
    store.record_views(
        [
            *(
                View("budget-vote", f"r{i}", at=datetime(2026, 11, 2, 9, 10 + i))
                for i in range(1, 8)
            ),
            View("budget-vote", "r1", at=datetime(2026, 11, 3, 6, 0)),  # another day: counts
            *(View("cup-final", f"r{i}", at=datetime(2026, 11, 5, 20, i)) for i in range(2, 6)),
            View("cup-final", "r4", at=datetime(2026, 10, 29, 17, 59)),  # previous period
        ]
    )
    return store


@pytest.mark.parametrize(
    ("dataset", "query"),
    [
        ("events", {"from": ["2026-11-01"], "to": ["2026-11-07"], "tz": ["Europe/Berlin"]}),
        ("articles", {"from": ["2026-11-01"], "to": ["2026-11-07"], "tz": ["Europe/Berlin"]}),
        ("timeseries", {"from": ["2026-11-01"], "to": ["2026-11-07"], "tz": ["Asia/Kolkata"]}),
        ("articles", {"range": ["all"], "topic": ["Sport"], "tz": ["UTC"]}),
    ],
)
def test_golden_files_pin_the_exact_bytes(
    fixed: Store, dataset: str, query: dict[str, list[str]]
) -> None:
    f = strict_filters(query, known_values(fixed.cursor()))
    buffer = io.BytesIO()
    export_dataset(fixed.cursor(), dataset, f, buffer)
    golden = GOLDEN / f"{dataset}-{'-'.join(v[0] for v in query.values()).replace('/', '_')}.csv"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(buffer.getvalue())
    assert buffer.getvalue() == golden.read_bytes(), (
        f"{golden.name} differs (UPDATE_GOLDEN=1 to accept)"
    )


def test_cli_writes_the_file_and_a_manifest_that_proves_it(fixed: Store, tmp_path: Path) -> None:
    db = Path(fixed.path)
    fixed.close()
    out = tmp_path / "politics.csv"
    done = run_cli(
        "export",
        "articles",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-07",
        "--topic",
        "World",
        "--tz",
        "Europe/Berlin",
        "-o",
        str(out),
        db=db,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "politics.csv.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["rows"] == len(pd.read_csv(out)) == 1
    assert manifest["filters"]["topics"] == ["World"] and manifest["timezone"] == "Europe/Berlin"
    assert manifest["comparison"] == {
        "from": "2026-10-25",
        "to": "2026-10-31",
        "timezone": "Europe/Berlin",
    }
    assert [c["name"] for c in manifest["columns"]] == list(pd.read_csv(out).columns)
    meaning = {c["name"]: c["meaning"] for c in manifest["columns"]}
    assert "reactions per 100 views" in meaning["reaction_rate"]
    assert "reaction bar was shown" in meaning["views"]

    bundle = tmp_path / "week.zip"
    done = run_cli("export", "timeseries", "--range", "all", "--zip", "-o", str(bundle), db=db)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        inside = json.loads(archive.read("manifest.json"))
        data = [n for n in names if n != "manifest.json"]
        assert len(data) == 1 and data[0].startswith("reactions-timeseries-all-time")
        assert inside["rows"] == len(pd.read_csv(io.BytesIO(archive.read(data[0]))))


def test_an_export_that_cannot_be_written_says_why_in_one_line_and_leaves_nothing(
    fixed: Store, tmp_path: Path
) -> None:
    db = Path(fixed.path)
    fixed.close()
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file, not a folder")
    done = run_cli("export", "events", "-o", str(not_a_folder / "events.csv"), db=db)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: cannot write {not_a_folder / 'events.csv'}: File exists ({not_a_folder})"
    )
    assert not_a_folder.read_text() == "a file, not a folder"

    # a full disk: the device is written (not replaced), and no manifest lands beside it
    done = run_cli("export", "events", "-o", "/dev/full", db=db)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: cannot write /dev/full: No space left on device"
    )
    assert Path("/dev/full").is_char_device() and not Path("/dev/full.manifest.json").exists()


def test_a_reader_that_stops_early_gets_one_line_and_no_traceback(tmp_path: Path) -> None:
    """`reactions export events | head`: more than a pipe's worth, and the reader leaves."""
    store = Store.open(tmp_path / "many.duckdb")
    upsert_articles(store, make_articles("budget-vote"))
    store.record_taps(
        [Tap("budget-vote", f"r{i}", "like", at=datetime(2026, 11, 2, 9, 0)) for i in range(3000)]
    )
    store.close()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reactions",
            "export",
            "events",
            "--range",
            "all",
            "--db",
            str(tmp_path / "many.duckdb"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.read(10) == b"event_id,o"
    child.stdout.close()
    errors = child.stderr.read().decode()
    assert child.wait(timeout=60) != 0
    assert errors.strip().splitlines() == ["error: cannot write <stdout>: Broken pipe"]


def test_the_temporary_file_route_writes_the_same_bytes_as_the_pipe(
    fixed: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where /dev/fd is missing (Windows), COPY goes to a temporary file and then the same
    relay: the same bytes and hash as through the pipe."""
    f = Filters(preset="all")
    through_pipe = export_dataset(fixed.cursor(), "events", f, tmp_path / "pipe.csv")
    monkeypatch.setattr(copy_out, "PIPES_BY_PATH", False)
    through_file = export_dataset(fixed.cursor(), "events", f, tmp_path / "file.csv")
    assert (tmp_path / "pipe.csv").read_bytes() == (tmp_path / "file.csv").read_bytes()
    assert through_pipe.sha256 == through_file.sha256
    assert through_file.sha256 == hashlib.sha256((tmp_path / "file.csv").read_bytes()).hexdigest()
    assert through_file.rows == 9  # 8 taps, one a switch (a remove and an add)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "articles", "--topic", "Nope"], "error: Unknown topic 'Nope'"),
        (
            ["export", "events", "--from", "2026-11-07", "--to", "2026-11-01"],
            "error: The range starts (2026-11-07) after it ends (2026-11-01)",
        ),
        (["export", "timeseries", "--interval", "minute"], "error: Unknown interval 'minute'"),
        (["export", "events", "--tz", "Mars/Olympus"], "error: Unknown timezone 'Mars/Olympus'"),
        (["export", "sales"], "error: Invalid value for '{events|articles|timeseries}'"),
    ],
)
def test_bad_export_filters_get_one_line_and_no_file(
    demo_db: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    out = tmp_path / "out.csv"
    done = run_cli(*args, "-o", str(out), db=db)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr
    assert not out.exists() and not (tmp_path / "out.csv.manifest.json").exists()


def test_file_names_say_what_is_inside(demo: Store) -> None:
    from reactions.exports.writer import file_name

    f = filters_for(demo, VIEWS["one week in Kolkata, two topics"])
    assert (
        file_name("articles", f, "csv")
        == "reactions-articles-politics-world-2026-11-10_2026-11-16.csv"
    )
    assert file_name("timeseries", Filters(preset="all", interval="hour"), "parquet") == (
        "reactions-timeseries-all-time-hour.parquet"
    )


def test_pandas_reads_the_export_api_of_a_running_server_with_a_token(
    demo_db: Path, tmp_path: Path
) -> None:
    from tools.live_server import live_server

    db = tmp_path / "served.duckdb"
    shutil.copy(demo_db, db)
    store = Store.open(db)
    token = create_token(store, "pandas").token
    f = strict_filters({"range": ["all"], "kind": ["angry"]}, known_values(store.cursor()))
    buffer = io.BytesIO()
    export_dataset(store.cursor(), "timeseries", f, buffer)
    store.close()
    with live_server(db) as base:
        frame = pd.read_csv(
            f"{base}/api/v1/export/timeseries.csv?range=all&kind=angry",
            storage_options={"Authorization": f"Bearer {token}"},
        )
    pd.testing.assert_frame_equal(frame, pd.read_csv(io.BytesIO(buffer.getvalue())))
    assert set(frame["kind"]) == {"angry"} and frame["reactions"].sum() > 0


def test_export_page_shows_columns_and_the_same_export_from_the_cli_and_the_api(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    from reactions.exports.datasets import articles_columns
    from tests.test_dashboard import open_page

    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(
        demo_db,
        monkeypatch,
        {"from": "2026-11-10", "to": "2026-11-16", "topic": "Politics", "tz": "Asia/Kolkata"},
        "views/export.py",
    )
    at.radio(key="export_dataset").set_value("articles").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["column"]) == [c.name for c in articles_columns(KINDS)]
    cli, api = (block.value for block in at.code)
    assert cli.startswith("reactions export articles --from 2026-11-10 --to 2026-11-16")
    assert "--topic Politics" in cli and "--tz Asia/Kolkata" in cli
    assert "/api/v1/export/articles.csv?" in api and "topic=Politics" in api
    assert [b.proto.label for b in at.get("download_button")] == ["Download articles"]
    st.cache_resource.clear()


def test_overview_offers_the_chart_and_table_data_beside_them(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    from tests.test_dashboard import open_page

    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(demo_db, monkeypatch, {"range": "all"})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[0] == "This chart's data (CSV)" and labels[1].endswith("articles (CSV)")
    st.cache_resource.clear()


KINDS = ["like", "dislike", "love", "funny", "angry", "sad", "wow"]


def test_a_shown_table_downloads_in_the_same_safe_dialect(store: Store) -> None:
    from reactions.exports.writer import export_frame

    shown = pd.DataFrame(
        {"topic": ["=SUM(A1)", "World"], "reactions": [3, 4], "share": [0.5, 0.25]}
    )
    buffer = io.BytesIO()
    assert export_frame(store.cursor(), shown, buffer) == 2
    assert buffer.getvalue() == b"topic,reactions,share\r\n'=SUM(A1),3,0.5\r\nWorld,4,0.25\r\n"


def test_tokens_are_created_once_listed_without_secrets_and_revoked(tmp_path: Path) -> None:
    db = tmp_path / "tokens.duckdb"
    created = run_cli("token", "create", "--name", "newsroom BI", db=db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("rx_") and "cannot be shown again" in created.stderr
    listed = run_cli("token", "list", db=db)
    token_id = token.split("_")[1]
    assert token_id in listed.stdout and "newsroom BI" in listed.stdout
    assert token not in listed.stdout and token.split("_", 2)[2] not in listed.stdout
    assert run_cli("token", "revoke", token_id, db=db).returncode == 0
    assert "revoked" in run_cli("token", "list", db=db).stdout
    unknown = run_cli("token", "revoke", "nope", db=db)
    assert unknown.returncode == 1 and unknown.stderr.strip() == (
        "error: no token with id 'nope' (see `reactions token list`)"
    )
    store = Store.open(db)
    try:
        stored = store.cursor().execute("SELECT token_sha256 FROM api_tokens").fetchall()[0][0]
        assert token not in stored and len(stored) == 64  # only the hash is kept
    finally:
        store.close()


def test_articles_nobody_reacted_to_are_rows_with_zeros(tmp_path: Path) -> None:
    """An article with 5,000 views and no reaction (rate 0: the most telling row for an
    editor) and a fresh import nobody has seen are rows of the articles export, through the
    CLI; an article outside the range that nobody saw in it is not."""
    db = tmp_path / "scope.duckdb"
    store = Store.open(db)
    articles = make_articles("loved", "ignored", "fresh", "old-story")
    articles["published_at"] = [TEST_NOW - pd.Timedelta(days=d) for d in (2, 2, 0, 40)]
    upsert_articles(store, articles)
    at = TEST_NOW - pd.Timedelta(days=1)
    store.record_taps([Tap("loved", f"fan-{i}", "love", at=at) for i in range(30)])
    store.record_views([View("loved", f"fan-{i}", at=at) for i in range(200)])
    store.record_views([View("ignored", f"passer-{i}", at=at) for i in range(5_000)])
    store.close()

    done = run_cli("export", "articles", "--range", "7d", db=db)
    assert done.returncode == 0, done.stderr
    rows = {
        str(r["article_id"]): r for r in pd.read_csv(io.StringIO(done.stdout)).to_dict("records")
    }
    assert sorted(rows) == ["fresh", "ignored", "loved"]
    ignored, fresh = rows["ignored"], rows["fresh"]
    assert (ignored["reactions"], ignored["views"], ignored["reaction_rate"]) == (0, 5000, 0)
    assert (fresh["reactions"], fresh["views"]) == (0, 0)
    assert pd.isna(fresh["reaction_rate"]) and pd.isna(fresh["love_share"])
    assert rows["loved"]["reaction_rate"] == 15.0

    everything = run_cli("export", "articles", "--range", "all", db=db)
    assert len(pd.read_csv(io.StringIO(everything.stdout))) == 4  # all time: every article


@pytest.mark.parametrize(
    "query",
    [
        {"range": "all", "flagged": "include", "kind": "angry"},
        {"from": "2026-11-10", "to": "2026-11-16", "topic": "Politics", "tz": "Asia/Kolkata"},
    ],
)
def test_the_export_pages_cli_and_api_commands_make_the_same_bytes(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: dict[str, str]
) -> None:
    """The Export page's two commands, run as shown (with flags excluded or included, a
    timezone and a topic), produce byte-identical files."""
    import shlex

    import streamlit as st

    from reactions.jobs.integrity_scans import scan
    from tests.test_dashboard import open_page
    from tools.live_server import live_server

    page_db, served_db = tmp_path / "page.duckdb", tmp_path / "served.duckdb"
    shutil.copy(demo_db, served_db)
    store = Store.open(served_db)
    assert not scan(store).empty  # flags exist, so include and exclude differ
    token = create_token(store, "commands").token
    store.close()
    shutil.copy(served_db, page_db)

    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(page_db, monkeypatch, query, "views/export.py")
    at.radio(key="export_dataset").set_value("timeseries").run()
    cli, api = (block.value for block in at.code)
    st.cache_resource.clear()

    args = shlex.split(cli)
    assert args[:3] == ["reactions", "export", "timeseries"]
    assert ("--flagged" in args) == ("flagged" in query)
    out = args.index("-o")
    args[out + 1] = str(tmp_path / "from-cli.csv")
    done = run_cli(*args[1:], db=served_db)
    assert done.returncode == 0, done.stderr
    url = urllib.parse.urlsplit(shlex.split(api)[-1])
    with live_server(served_db) as base:
        response = urllib.request.urlopen(
            urllib.request.Request(
                f"{base}{url.path}?{url.query}", headers={"Authorization": f"Bearer {token}"}
            )
        )
        from_api = response.read()
    assert from_api == (tmp_path / "from-cli.csv").read_bytes()
    assert from_api.count(b"\r\n") > 2


def test_the_cli_and_the_api_share_one_default_range(demo_db: Path, tmp_path: Path) -> None:
    """No options, no parameters: both give the dashboard's default view (last 7 days), the
    same bytes, and the manifest and the CLI's summary name the range."""
    from tools.live_server import live_server

    db = tmp_path / "defaults.duckdb"
    token = copy_with_token(demo_db, db, "defaults")
    done = run_cli("export", "articles", "-o", str(tmp_path / "cli.csv"), db=db)
    assert done.returncode == 0, done.stderr
    assert "(Nov 14 – Nov 20, 2026, UTC)" in done.stderr
    manifest = json.loads((tmp_path / "cli.csv.manifest.json").read_text())
    assert manifest["filters"]["range"] == "Nov 14 – Nov 20, 2026"
    with live_server(db) as base:
        request = urllib.request.Request(
            f"{base}/api/v1/export/articles.csv", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request) as response:
            assert "2026-11-14_2026-11-20" in response.headers["content-disposition"]
            assert response.read() == (tmp_path / "cli.csv").read_bytes()


def test_the_export_pages_raw_events_link_streams_the_file_and_is_signed(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw events are not a download button (which holds the file in the server's
    memory) but a signed link to the export route: the same bytes as the CLI, streamed from a
    temporary file; a changed query or an expired link is refused and makes no file."""
    import streamlit as st

    from reactions import clock
    from tests.test_dashboard import open_page

    db = tmp_path / "link.duckdb"
    shutil.copy(demo_db, db)
    query = {"range": "all", "tz": "Europe/Berlin", "kind": "angry"}
    options = [a for key, value in query.items() for a in (f"--{key}", value)]
    done = run_cli("export", "events", *options, "-o", str(tmp_path / "cli.csv"), db=db)
    assert done.returncode == 0, done.stderr
    expected = (tmp_path / "cli.csv").read_bytes()

    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(db, monkeypatch, query, "views/export.py")
    assert at.radio(key="export_dataset").value == "events"
    assert not at.get("download_button")  # nothing built in memory
    url = at.get("link_button")[0].proto.url
    assert url.startswith("/api/v1/export/events.csv?") and "ticket=" in url
    with app_client(db) as client:
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.content == expected
        assert "attachment" in response.headers["content-disposition"]
        tampered = client.get(url.replace("kind=angry", "kind=love"))
        assert tampered.status_code == 403
        assert tampered.json() == {"error": "this download link is not valid"}
        monkeypatch.setenv(clock.ENV, (TEST_NOW + pd.Timedelta(minutes=16)).isoformat())
        expired = client.get(url)
        assert expired.status_code == 403 and "expired" in expired.json()["error"]

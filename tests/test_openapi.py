"""`GET /api/v1/openapi.json` is the integrators' contract: schemathesis (its CLI, as an
integrator would run it) fuzzes a real `streamlit run app.py` from the description the server
serves — no 5xx, every status, header, content type and body as described, valid requests
accepted and invalid ones refused — and the database stays consistent with its event log."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from reactions.store.derived import derived_state_mismatches, reaction_count_mismatches
from reactions.store.store import Store
from tests.conftest import copy_with_token
from tools.live_server import live_server

GENEROUS = {
    "REACTIONS_TAPS_PER_IP_MINUTE": "1000000",
    "REACTIONS_TAPS_PER_READER_MINUTE": "1000000",
    "REACTIONS_SCAN_EVERY_SECONDS": "0",
}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"


def schemathesis(base: str, token: str, *options: str) -> subprocess.CompletedProcess[str]:
    """The schemathesis CLI against `base`'s own description, with an export token and a
    browser's User-Agent (automated agents may not react)."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{base}/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "50",
            # one worker: CPython 3.11 can fail compiling in several threads at once
            # ("AST constructor recursion depth mismatch", inside schemathesis)
            "--workers",
            "1",
            "--seed",
            "7",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            f"User-Agent: {BROWSER}",
            "--no-color",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def logged(db: Path) -> tuple[int, int]:
    """(reaction events, view events) in the log."""
    store = Store.open(db)
    try:
        cur = store.cursor()
        events = cur.execute("SELECT count(*) FROM reaction_events").fetchall()[0][0]
        views = cur.execute("SELECT count(*) FROM view_events").fetchall()[0][0]
    finally:
        store.close()
    return int(events), int(views)


def written_by_answers(har: Path) -> tuple[int, int]:
    """(reaction events, view events) the accepted requests in schemathesis's log of the run
    say they wrote: a tap 1 (added, undone) or 2 (switched: the old one's removal, the new
    one), a view 1 when counted. Refused requests say they wrote nothing."""
    events = views = 0
    for entry in json.loads(har.read_text())["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        if request["method"] != "POST" or response["status"] != 200:
            continue
        answer = json.loads(response["content"]["text"])
        if request["url"].endswith("/api/v1/reactions"):
            events += 2 if answer["change"] == "switched" else 1
        elif request["url"].endswith("/api/v1/views"):
            views += 1 if answer["counted"] else 0
    return events, views


def test_the_server_keeps_to_its_openapi_description_under_schemathesis(
    demo_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "contract.duckdb"
    token = copy_with_token(demo_db, db, "schemathesis")
    before = logged(db)
    reports = tmp_path / "reports"
    with live_server(db, GENEROUS) as base:
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json") as answer:
            described = json.loads(answer.read())
        run = schemathesis(base, token, "--report", "har", "--report-dir", str(reports))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert set(described["paths"]) >= {
        "/api/v1/reactions",
        "/api/v1/views",
        "/api/v1/articles/{article_id}/reactions",
        "/widget.js",
        "/api/v1/export/{name}",
    }
    # Exactly what the accepted requests said they wrote, and nothing for the refused ones.
    (har,) = reports.glob("*.json")
    wrote = written_by_answers(har)
    after = logged(db)
    assert wrote[0] > 0 and wrote[1] > 0  # the run did react and view, not only fail
    assert (after[0] - before[0], after[1] - before[1]) == wrote
    store = Store.open(db)
    try:  # and the derived state is what the log implies
        assert derived_state_mismatches(store.cursor()) == 0
        assert reaction_count_mismatches(store.cursor()) == 0
    finally:
        store.close()

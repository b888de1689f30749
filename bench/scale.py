"""`make bench-scale`: one machine at newsroom scale (issue 20). Separate from `make bench`: it
builds (a) 100M reactions without views and (b) 10M reactions with their views (~440M), and
for each reports the build (time, file size, bytes per event, memory peak), every dashboard
page (server-side cold render, and in Chromium), the raw export, `reactions rebuild --check`,
an integrity scan, and taps and views per second through the API — beside the same API rates
on the 1M demo measured in the same run (the write path must not slow as the log grows).

Builds, scans, checks and exports run as the CLI would, in child processes, so each one's
memory peak is its own. Files go to BENCH_DIR (default: a new temporary directory); each
database is deleted once measured. Needs ~60 GB of free disk (the 100M export alone is ~26 GB).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import api, browser_pages, pages
from bench.children import cli, run_measured
from bench.run import Row, browser_rows, build, export_in_child, fmt_s, machine, print_table

SCALE_HEADER = Row("what", "size", "result", "target", "", "vs 1M demo")


@dataclass(frozen=True)
class Scale:
    label: str
    events: int
    articles: int
    days: int
    views: bool
    page_target: float  # seconds, server-side median


SCALES = (
    # A year of a large newsroom's reactions, as the DESIGN.md 100M target imagines it.
    Scale("100M reactions, no views", 100_000_000, 20_000, 365, False, 1.5),
    # A quarter of reactions with every view of the bar that goes with them.
    Scale("10M reactions + their views", 10_000_000, 2_000, 90, True, 0.3),
)


def build_in_child(db: Path, events: int, articles: int, days: int, views: bool) -> Row:
    """Generate + load in a child process (the integrity scan is measured on its own)."""
    measured = run_measured(
        [
            *(sys.executable, "-m", "bench.scale", "build", str(db)),
            *(str(events), str(articles), str(days), "views" if views else "no-views"),
        ],
        what=f"building {db.name}",
    )
    seconds, written = measured.output.split()
    size = sum(Path(f"{db}{s}").stat().st_size for s in ("", ".wal") if Path(f"{db}{s}").exists())
    total = events + int(written)
    views_part = f" + {int(written) / 1e6:,.0f}M views" if views else ", no views"
    return Row(
        "build: generate + load",
        f"{events / 1e6:,.0f}M reactions{views_part}",
        f"{fmt_s(float(seconds))}; {size / 2**30:.1f} GiB, {size / total:.1f} bytes per event "
        f"(reactions and views); peak {measured.peak_mib:,.0f} MiB",
    )


STEPS = ("build", "scan", "check", "pages", "browser", "export", "api")


def measure_scale(scale: Scale, db: Path, workdir: Path, demo: Path, steps: list[str]) -> list[Row]:
    """The scale's rows, step by step. A step that fails is a row saying so, and the others
    still run: one failure an hour into the run must not lose the hour's figures."""
    runners: dict[str, Callable[[], list[Row]]] = {
        "build": lambda: [Row("build: generate + load", scale.label, _build_result(scale, db))],
        "scan": lambda: [_cli_row(scale, db, "integrity scan (CLI)", "integrity", "scan")],
        "check": lambda: [
            _cli_row(scale, db, "reactions rebuild --check (CLI)", "rebuild", "--check")
        ],
        "pages": lambda: _page_rows(scale, db),
        "browser": lambda: browser_rows(
            browser_pages.browser_times(db, pages.busiest_article(db), runs=3), scale.label
        ),
        "export": lambda: [_export_row(scale, db, workdir)],
        "api": lambda: _api_rows(scale, db, demo, workdir),
    }
    rows: list[Row] = []
    for step in STEPS:
        if step in steps or (step == "build" and not db.exists()):
            try:
                rows.extend(runners[step]())
            except Exception as exc:  # reported as the step's row
                rows.append(Row(f"{step}: failed", scale.label, str(exc)[:200]))
                print(f"  {step} failed: {exc}", flush=True)
    return rows


def _build_result(scale: Scale, db: Path) -> str:
    print(f"{scale.label}: building", flush=True)
    built = build_in_child(db, scale.events, scale.articles, scale.days, scale.views)
    print(f"  {built.size}: {built.result}", flush=True)
    return f"{built.size}: {built.result}"


def _cli_row(scale: Scale, db: Path, what: str, *args: str) -> Row:
    measured = run_measured(cli(*args, "--db", str(db)), what=what)
    row = Row(what, scale.label, f"{fmt_s(measured.seconds)}, peak {measured.peak_mib:,.0f} MiB")
    print(f"  {row.what}: {row.result}", flush=True)
    return row


def _page_rows(scale: Scale, db: Path) -> list[Row]:
    article = pages.busiest_article(db)
    target = f"≤ {fmt_s(scale.page_target)}"
    rows = []
    for name, page, query in pages.DASHBOARD_PAGES:
        times = pages.page_times(db, page, query, {"id": article} if page else None, runs=3)
        median = statistics.median(times)
        rows.append(Row(f"page: {name} (cold, server-side)", scale.label, fmt_s(median), target))
        print(f"  page {name}: {fmt_s(median)}", flush=True)
    pages.release()
    return rows


def _export_row(scale: Scale, db: Path, workdir: Path) -> Row:
    out = workdir / "events.csv"
    try:
        seconds, peak = export_in_child(db, out)
        size = out.stat().st_size
    finally:
        for leftover in (out, Path(f"{out}.manifest.json")):
            leftover.unlink(missing_ok=True)
    row = Row(
        "raw export to CSV (CLI)",
        scale.label,
        f"{fmt_s(seconds)}, {size / 1e9:.1f} GB; peak {peak:,.0f} MiB",
        "memory flat",
    )
    print(f"  export: {row.result}", flush=True)
    return row


def _api_rows(scale: Scale, db: Path, demo: Path, workdir: Path) -> list[Row]:
    """The database's API rates beside the 1M demo's, the two servers taking turns."""
    rates, baseline = api.api_throughput([db, demo], workdir)
    return api_rows(rates, baseline, scale.label)


def api_rows(rates: api.ApiRates, baseline: api.ApiRates, size: str) -> list[Row]:
    """Each workload's steady rate against the 1M demo's (the two servers took turns), and
    how long each took to get there after starting."""
    rows = []
    for name, rate in rates.per_second.items():
        peer = baseline.per_second[name]
        rows.append(
            Row(
                f"API, 8 clients × 1,000: {name}",
                size,
                f"{rate:,.0f} /s (1M demo: {peer:,.0f} /s); steady after "
                f"{rates.warm_seconds[name]:.0f} s (1M: {baseline.warm_seconds[name]:.0f} s)",
                "within 10 % of the 1M demo",
                "",
                f"{rate / peer - 1:+.0%}",
            )
        )
        print(f"  API {name}: {rows[-1].result}", flush=True)
    rows.append(
        Row(
            "API after a start: the writer's known-readers filter loaded, from the first tap",
            size,
            f"{rates.filter_seconds:.1f} s (1M demo: {baseline.filter_seconds:.1f} s); "
            "taps meanwhile look their readers up",
        )
    )
    print(f"  {rows[-1].what}: {rows[-1].result}", flush=True)
    return rows


def main() -> None:
    """Environment: BENCH_DIR for files; BENCH_SCALES (e.g. "100M" or "10M", default both)
    and BENCH_SCALE_STEPS (default all of STEPS) to run part of it; BENCH_SCALE_KEEP=1 keeps
    the databases, and a kept one is measured again without rebuilding unless "build" is a
    step (to resume a run that stopped)."""
    workdir = Path(os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="reactions-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    steps = os.environ.get("BENCH_SCALE_STEPS", ",".join(STEPS)).split(",")
    sizes = os.environ.get("BENCH_SCALES", "100M,10M").split(",")
    keep = os.environ.get("BENCH_SCALE_KEEP") == "1"
    print(f"machine: {machine()}", flush=True)
    pages.quiet()
    rows: list[Row] = []

    # The API's peer: the 1M demo, measured beside each large database in the same runs.
    demo = workdir / "scale-1m.duckdb"
    if "api" in steps and not demo.exists():
        build(demo, 1_000_000, 500, views=True)

    if "build" in steps:  # DESIGN.md's build target: 10M reactions, no views, ≤ 30 s
        ten = workdir / "scale-10m-no-views.duckdb"
        built = build_in_child(ten, 10_000_000, 2_000, 90, views=False)
        rows.append(Row(built.what, built.size, built.result, "≤ 30 s"))
        print(f"  {built.size}: {built.result}", flush=True)
        ten.unlink()

    for scale in SCALES:
        if scale.label.split()[0] not in sizes:
            continue
        db = workdir / f"scale-{scale.events // 1_000_000}m.duckdb"
        rows.extend(measure_scale(scale, db, workdir, demo, steps))
        if not keep:
            for leftover in (db, Path(f"{db}.wal")):
                leftover.unlink(missing_ok=True)
    if not keep:
        demo.unlink(missing_ok=True)

    print()
    print_table(rows, SCALE_HEADER)


def build_command(db: str, events: str, articles: str, days: str, views: str) -> None:
    """The child's side of `build_in_child`: prints seconds and views written."""
    seconds, written = build(
        Path(db),
        int(events),
        int(articles),
        views=views == "views",
        days=int(days),
        scan_after=False,
    )
    print(f"{seconds:.3f} {written}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        build_command(*sys.argv[2:7])
    else:
        main()

"""Run a command with the wall clock moved ahead: `python -m tools.wall_clock_ahead 365d pytest …`.

The suite pins the product's clock (reactions.clock, REACTIONS_NOW in tests/conftest.py); this
proves nothing else reads the calendar. Every process the command starts — Python, DuckDB,
the CLI, `streamlit run`, Chromium — sees the moved date, because libfaketime is preloaded and
LD_PRELOAD is inherited.

Only the real-time clock moves. Debian's faketime (libfaketime 0.9.10) also fakes the
monotonic clock, and with it a Python `Condition.wait(0.05)` never returns and, with
FAKETIME_DONT_FAKE_MONOTONIC, `time.sleep` fails with EINVAL (both seen here). The
libfaketime wheel on PyPI carries a newer build where the monotonic clock can be left alone.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime

from libfaketime import get_reload_information

MOVED_FROM = "WALL_CLOCK_MOVED_FROM"
MOVED_BY_DAYS = "WALL_CLOCK_MOVED_BY_DAYS"


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not re.fullmatch(r"\d+d", argv[0]):
        sys.exit("usage: python -m tools.wall_clock_ahead DAYSd COMMAND [ARG...]")
    _, preload = get_reload_information()
    env = {
        **os.environ,
        **preload,
        "FAKETIME": f"+{argv[0]}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "DONT_FAKE_MONOTONIC": "1",
        # tests/test_clock.py checks from here that the move took effect in every process
        MOVED_FROM: datetime.now(UTC).isoformat(),
        MOVED_BY_DAYS: argv[0].removesuffix("d"),
    }
    os.execvpe(argv[1], argv[1:], env)


if __name__ == "__main__":
    main(sys.argv[1:])

"""A command in a child process, timed, with its memory peak: what a user running it feels.

The peak is the child's own VmHWM, polled from /proc: getrusage(RUSAGE_CHILDREN) would count
the pages a child inherits from forking the (by then large) bench process."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    output: str  # its stdout


def run_measured(args: list[str], *, what: str) -> Measured:
    """Run `args`; fail with its last words if it fails. Its output goes to files, not pipes:
    a child that writes more than a pipe holds (a scan's flags at 100M) would wait forever
    for a reader that only reads once it has ended."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        seconds, peak_kib, code = _watch(subprocess.Popen(args, stdout=out, stderr=err))
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if code:
        tail = (errors or output).strip().splitlines()[-3:]
        raise RuntimeError(f"{what} failed (exit {code}): {' / '.join(tail)}")
    return Measured(seconds, peak_kib / 1024, output)


def _watch(child: subprocess.Popen[bytes]) -> tuple[float, int, int]:
    """Wait for `child`, polling its peak: (seconds, peak KiB, exit code)."""
    start = time.perf_counter()
    peak_kib = 0
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return time.perf_counter() - start, peak_kib, child.returncode


def cli(*args: str) -> list[str]:
    """The `reactions` command line, in this interpreter."""
    return [sys.executable, "-m", "reactions", *args]

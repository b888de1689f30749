"""A real `streamlit run app.py` on 127.0.0.1 in a child process, for the browser tests, the
API load and kill tests and `make bench`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll `url` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.3)


def start_server(
    db: Path | None,
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path = ROOT,
    port: int | None = None,
    app: Path = ROOT / "app.py",
    log: Path | None = None,
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `app` (the product, or another Streamlit script) with `db` (on `port`, or a free
    one) in `cwd`, where it reads .streamlit/; returns its base URL once it is healthy. The
    server's stderr goes to `log` if given."""
    port = port or free_port()
    log_file = log.open("wb") if log else None
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=cwd,
        env={**os.environ, **({"REACTIONS_DB": str(db)} if db else {}), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log_file or subprocess.DEVNULL,
    )
    if log_file:
        log_file.close()  # the child has its own copy
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/_stcore/health", process)
    except BaseException:
        process.kill()
        process.wait(timeout=20)
        raise
    return base, process


@contextmanager
def live_server(
    db: Path | None,
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path = ROOT,
    port: int | None = None,
    app: Path = ROOT / "app.py",
    log: Path | None = None,
) -> Iterator[str]:
    """`start_server`, stopped (SIGTERM) on exit."""
    base, process = start_server(db, env, cwd=cwd, port=port, app=app, log=log)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)

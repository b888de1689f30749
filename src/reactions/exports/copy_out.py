"""COPY a query into a file or a stream, with the SHA-256 of the bytes and DuckDB's progress.

DuckDB writes into a pipe (`/dev/fd/N`); a thread here reads the pipe to its end, hashes each
block and writes it on. So memory stays flat at any size, the hash is of exactly the bytes
written, and a stream (stdout, a download buffer) needs no temporary file. It is as fast as
COPY to the file with a thread hashing it as it grew; DuckDB holds somewhat more memory while
writing a pipe than a file (not growing with the file).

The file is one we create (never a truncated old one): ext4 forces a file that was truncated
and rewritten to disk when it is closed, which holds the close for the whole write-back.

Without /dev/fd (Windows) the query goes to a temporary file first, then the same relay.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import duckdb

from reactions.errors import ExportWriteError

ProgressFn = Callable[[float], None]
BLOCK = 1 << 20
PIPES_BY_PATH = Path("/dev/fd").is_dir()


def copy_query(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[object],
    target: Path | BinaryIO,
    options: str,
    progress: ProgressFn | None = None,
) -> tuple[int, str]:
    """COPY `sql` with `options` (e.g. "FORMAT csv, HEADER true") into `target`. Returns the
    row count and the SHA-256 of the bytes written. A failed write raises ExportWriteError
    and leaves no file behind."""
    if not isinstance(target, Path):
        try:
            return _copy_into(cur, sql, params, target, options, progress)
        except OSError as error:
            name = getattr(target, "name", "the output")
            raise ExportWriteError(f"cannot write {name}: {_reason(error, name)}") from None
    # A file is replaced by a new one; a device or pipe given as -o (/dev/stdout) is written.
    ours = not target.exists() or target.is_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if ours:
            target.unlink(missing_ok=True)
        with target.open("xb" if ours else "wb") as sink:
            return _copy_into(cur, sql, params, sink, options, progress)
    except BaseException as error:
        if ours:
            with contextlib.suppress(OSError):  # e.g. the folder could not be made
                target.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ExportWriteError(f"cannot write {target}: {_reason(error, target)}") from None
        raise


def _reason(error: OSError, target: object) -> str:
    """ "No space left on device"; with the path when it is another one (a parent folder)."""
    reason = error.strerror or str(error)
    other = error.filename is not None and str(error.filename) != str(target)
    return f"{reason} ({error.filename})" if other else reason


def _copy_into(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[object],
    sink: BinaryIO,
    options: str,
    progress: ProgressFn | None,
) -> tuple[int, str]:
    if not PIPES_BY_PATH:
        with tempfile.TemporaryDirectory(prefix="reactions-export-") as tmp:
            path = Path(tmp) / "export"
            rows = _run(cur, _copy_statement(sql, str(path), options), params, progress)
            relay = _Relay(os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0)), sink)
            relay.run()
        return rows, relay.hexdigest()
    read_end, write_end = os.pipe()
    _widen(read_end)
    relay = _Relay(read_end, sink)
    relay.start()
    try:
        rows = _run(cur, _copy_statement(sql, f"/dev/fd/{write_end}", options), params, progress)
    finally:
        # DuckDB has closed its end of the pipe: close ours, and the relay reads to the end.
        os.close(write_end)
        relay.join()
        # a full disk or a closed stdout says more than DuckDB's "broken pipe" that follows it
        relay.raise_error()
    return rows, relay.hexdigest()


class _Relay(threading.Thread):
    """Reads `source` to its end, hashing each block and writing it to `sink`. It closes
    `source` when it stops, also after a failed write: DuckDB's next write into the pipe then
    fails at once (broken pipe) instead of waiting for a reader forever."""

    def __init__(self, source: int, sink: BinaryIO) -> None:
        super().__init__(daemon=True)
        self.source = source
        self.sink = sink
        self.digest = hashlib.sha256()
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            while block := os.read(self.source, BLOCK):
                _write_all(self.sink, block)
                self.digest.update(block)
            self.sink.flush()
        except OSError as error:
            self.error = error
        finally:
            os.close(self.source)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def hexdigest(self) -> str:
        self.raise_error()
        return self.digest.hexdigest()


def _write_all(sink: BinaryIO, block: bytes) -> None:
    """Write all of `block`. A stream whose reader left mid-write (stdout into `head`) can take
    part of a block and report the count, not an error; the next write then fails (EPIPE)."""
    view = memoryview(block)
    while view:
        written = sink.write(view)
        if not written:  # a stream that takes nothing would loop forever
            raise OSError(errno.EPIPE, os.strerror(errno.EPIPE))
        view = view[written:]


def _widen(pipe: int) -> None:
    """A 1 MiB pipe instead of 64 KiB: fewer hand-overs (Linux; elsewhere the default)."""
    if sys.platform == "linux":
        import fcntl

        with contextlib.suppress(OSError):  # over the system's limit: the default works too
            fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, BLOCK)


def _copy_statement(sql: str, destination: str, options: str) -> str:
    # COPY takes its target as a literal, not a parameter: quoted as a SQL string
    return f"COPY ({sql}) TO '{destination.replace(chr(39), chr(39) * 2)}' ({options})"


def _run(
    cur: duckdb.DuckDBPyConnection,
    statement: str,
    params: list[object],
    progress: ProgressFn | None,
) -> int:
    if progress is None:
        rows = cur.execute(statement, params).fetchall()
    else:
        rows = _run_with_progress(cur, statement, params, progress)
    return int(rows[0][0]) if rows else 0


def _run_with_progress(
    cur: duckdb.DuckDBPyConnection, statement: str, params: list[object], progress: ProgressFn
) -> list[tuple[object, ...]]:
    """DuckDB's own query progress, polled from a helper thread while the statement runs."""
    cur.execute("SET enable_progress_bar = true")
    cur.execute("SET enable_progress_bar_print = false")
    cur.execute("SET progress_bar_time = 0")
    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(0.1):
            value = cur.query_progress()
            if value >= 0:
                progress(min(value / 100.0, 1.0))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        rows = cur.execute(statement, params).fetchall()
    finally:
        finished.set()
        watcher.join()
    progress(1.0)
    return rows

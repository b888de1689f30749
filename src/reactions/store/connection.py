"""Opening the database. Rule 2 of the design lives here: one process owns the DuckDB file.
`connect()` turns DuckDB's lock error into `DatabaseLocked` with one line naming the holder
and what to do instead, and applies the schema's missing migrations (schema.py)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from reactions.errors import DatabaseError, DatabaseLocked
from reactions.store.schema import apply_migrations
from reactions.store.sql import first_line

# Nothing may be downloaded at run time: a query touching an unknown extension must fail at
# once rather than stall on the network.
_DUCKDB_CONFIG: dict[str, str | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    # DuckDB's default is 80 % of the machine's memory, for itself alone. Beside it, the
    # process has its own: the generator's frames, a server's caches and readers in memory.
    # A 100M-reaction build peaked at 23.8 GB of 24 GiB that way, a whisker from being killed.
    # With half, DuckDB spills its sorts and joins to `<file>.tmp` instead.
    "memory_limit": "50%",
    # DuckDB checkpoints the WAL into the file every 16 MB by default, and a checkpoint costs
    # more as the file grows: at 100M reactions taps through the API ran 8–22 % slower than
    # on the 1M demo, and 4–11 % with 256 MB (measured side by side, bench/api.py). The price:
    # after a crash, up to 256 MB of log to replay on open (1.2 s for 250 MB of 2M events in
    # small commits, measured), and that much kept in memory until the next checkpoint (a
    # clean close checkpoints).
    "checkpoint_threshold": "256MB",
}

_LOCK_PATTERN = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


def connect(path: str | Path, *, migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    `":memory:"` gives a private in-memory database, used by tests that need no file.
    """
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, config=dict(_DUCKDB_CONFIG))
    except duckdb.IOException as exc:
        raise _friendly_open_error(target, exc) from None
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open {target}: {first_line(exc)}") from None
    if migrate:
        apply_migrations(con)
    return con


def _friendly_open_error(path: str, exc: duckdb.Error) -> Exception:
    match = _LOCK_PATTERN.search(str(exc))
    if not match:
        return DatabaseError(f"cannot open {path}: {first_line(exc)}")
    pid = match["pid"]
    return DatabaseLocked(
        f"{path} is in use by process {pid} ({_describe_process(pid, match['exe'])}); DuckDB lets "
        "one process open a database file, so stop that process (e.g. the running app) or "
        "pass --db with another file"
    )


def _describe_process(pid: str, executable: str) -> str:
    """The holder's command line when /proc shows it, else the executable DuckDB reported."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return executable
    words = [w for w in raw.decode(errors="replace").split("\0") if w]
    command = " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words[:4]))
    return command or executable

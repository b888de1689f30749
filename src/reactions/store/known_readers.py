"""Which readers may have reactions, without asking the database per tap.

Most taps come from readers reacting for the first time; knowing that they have no rows in
`current_reactions` spares the writer a lookup (a statement a batch). The answer must never be
"no" for a reader who has rows — that reader's earlier reaction would be ignored and counted
twice — so keys are computed identically in Python and SQL and the test suite compares them
over a whole database. A wrong "yes" only costs the lookup.
"""

from __future__ import annotations

import duckdb
import numpy as np

# Reader hashes are 12 base64url characters (store.identity_text); their first 10 make a
# 60-bit key that Python and SQL compute alike, for `KnownReaders`.
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {ch: i for i, ch in enumerate(_ALPHABET)}
_KEY_CHARS = 10
READER_KEY_SQL = " + ".join(
    f"(greatest(instr('{_ALPHABET}', substr(reader_hash, {i + 1}, 1)) - 1, 0)::UBIGINT << {6 * i})"
    for i in range(_KEY_CHARS)
)


def reader_key(reader_hash: str) -> int:
    """The same number READER_KEY_SQL gives (a character outside the alphabet counts 0)."""
    key = 0
    for i, ch in enumerate(reader_hash[:_KEY_CHARS]):
        key |= _VALUE.get(ch, 0) << (6 * i)
    return key


class KnownReaders:
    """Every reader who may have rows in `current_reactions`: the keys of those there when
    loaded (a sorted array, 8 bytes a reader) and
    of every reader who tapped since. A reader in neither has no reactions anywhere, so a
    first-time reader's tap needs no lookup. False positives only cost that lookup."""

    MERGE_AT = 100_000  # newcomers kept in a set until merged into the array

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self._keys = np.asarray(
            cur.execute(
                f"SELECT {READER_KEY_SQL} AS k FROM "
                "(SELECT DISTINCT reader_hash FROM current_reactions) ORDER BY k"
            ).fetchnumpy()["k"],
            dtype=np.uint64,
        )
        self._new: set[int] = set()

    def __contains__(self, reader_hash: str) -> bool:
        key = reader_key(reader_hash)
        if key in self._new:
            return True
        i = int(np.searchsorted(self._keys, np.uint64(key)))
        return i < len(self._keys) and int(self._keys[i]) == key

    def add(self, reader_hash: str) -> None:
        self._new.add(reader_key(reader_hash))
        if len(self._new) >= self.MERGE_AT:
            self._keys = np.union1d(self._keys, np.fromiter(self._new, np.uint64))
            self._new = set()

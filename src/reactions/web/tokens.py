"""API tokens for exports: created by `reactions token create`, stored hashed, listable and
revocable. A token reads as `rx_<id>_<secret>`; the id finds the row, and the SHA-256 of the
whole token is compared in constant time. The plain token is shown once and never stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import Enum

import duckdb
import pandas as pd

from reactions.clock import utc_now
from reactions.errors import InvalidInput
from reactions.store.store import Store

_TOKEN = re.compile(r"rx_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
MAX_NAME = 80


class TokenCheck(Enum):
    VALID = "valid"
    MISSING = "missing"  # no Authorization: Bearer header
    UNKNOWN = "unknown"  # malformed, or no such token, or the secret does not match
    REVOKED = "revoked"


@dataclass(frozen=True)
class NewToken:
    token_id: str
    token: str  # shown once
    sha256: str


def new_token() -> NewToken:
    token_id = secrets.token_hex(6)
    token = f"rx_{token_id}_{secrets.token_urlsafe(32)}"
    return NewToken(token_id, token, _digest(token))


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a token needs a --name saying who or what uses it")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput("the token name contains control characters")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the token name is {len(name)} characters; the limit is {MAX_NAME}")
    return name


def create_token(store: Store, name: str) -> NewToken:
    """A new export token; the plain token is in the result and nowhere else."""
    token = new_token()
    with store.writing() as cur:
        cur.execute(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?, NULL)",
            [token.token_id, check_name(name), token.sha256, utc_now()],
        )
    return token


def revoke_token(store: Store, token_id: str) -> None:
    """Revoke a token: kept, listed as revoked, never accepted again."""
    with store.writing() as cur:
        found = cur.execute(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE token_id = ? "
            "RETURNING token_id",
            [utc_now(), token_id],
        ).fetchall()
        if not found:
            raise InvalidInput(f"no token with id {token_id[:40]!r} (see `reactions token list`)")


def check_bearer(cur: duckdb.DuckDBPyConnection, authorization: str | None) -> TokenCheck:
    if not authorization:
        return TokenCheck.MISSING
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    match = _TOKEN.fullmatch(token)
    if scheme.lower() != "bearer" or match is None:
        return TokenCheck.UNKNOWN
    rows = cur.execute(
        "SELECT token_sha256, revoked_at FROM api_tokens WHERE token_id = ?", [match.group(1)]
    ).fetchall()
    if not rows or not hmac.compare_digest(rows[0][0], _digest(token)):
        return TokenCheck.UNKNOWN
    return TokenCheck.REVOKED if rows[0][1] is not None else TokenCheck.VALID


def list_tokens(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """token_id, name, created_at, revoked_at (UTC): never the token or its hash."""
    return cur.execute(
        "SELECT token_id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at"
    ).df()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

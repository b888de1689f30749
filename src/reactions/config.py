"""Settings for every surface (CLI, server, tests), read from the environment and
`.streamlit/secrets.toml` (table `[reactions]`). Environment variables win.

No Streamlit import here: the CLI reads the same file with tomllib, so a setting means the
same thing whether the server or a command uses it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DB_PATH = Path("data") / "reactions.duckdb"
SECRETS_PATH = Path(".streamlit") / "secrets.toml"

# Longest accepted article id / reader id. Ids travel in URLs and JSON bodies; a cap keeps a
# hostile client from storing megabytes per event.
MAX_ID_LENGTH = 128


class ConfigError(ValueError):
    """A setting has a value the product cannot run with."""


@dataclass(frozen=True)
class Settings:
    db_path: Path
    # False: one current reaction per reader per article (tap another kind to switch).
    # True: a reader may hold several kinds at once on the same article.
    multiple_reactions: bool = False
    # Sites allowed to call the reactions API from their pages (widget.js), e.g.
    # "https://news.example". Empty: only pages served by this app.
    allowed_origins: tuple[str, ...] = ()
    # Taps per minute through the API, per reader and per network address.
    taps_per_reader_minute: int = 30
    taps_per_ip_minute: int = 600

    @classmethod
    def load(cls, db_path: str | Path | None = None) -> Settings:
        file_values = _read_secrets_table()
        raw_db = db_path or os.environ.get("REACTIONS_DB") or file_values.get("db_path")
        multiple = os.environ.get("REACTIONS_MULTIPLE_REACTIONS")
        if multiple is None:
            multiple_value = bool(file_values.get("multiple_reactions", False))
        else:
            multiple_value = _parse_bool("REACTIONS_MULTIPLE_REACTIONS", multiple)
        origins = os.environ.get("REACTIONS_ALLOWED_ORIGINS")
        origin_list = (
            origins.split(",")
            if origins is not None
            else list(file_values.get("allowed_origins", []))
        )
        return cls(
            db_path=Path(raw_db) if raw_db else DEFAULT_DB_PATH,
            multiple_reactions=multiple_value,
            allowed_origins=tuple(o.strip().rstrip("/") for o in origin_list if o.strip()),
            taps_per_reader_minute=_positive_int(
                "REACTIONS_TAPS_PER_READER_MINUTE", file_values.get("taps_per_reader_minute", 30)
            ),
            taps_per_ip_minute=_positive_int(
                "REACTIONS_TAPS_PER_IP_MINUTE", file_values.get("taps_per_ip_minute", 600)
            ),
        )


def _positive_int(name: str, default: object) -> int:
    raw = os.environ.get(name, default)
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, not {value}")
    return value


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _read_secrets_table() -> dict[str, Any]:
    if not SECRETS_PATH.is_file():
        return {}
    try:
        with SECRETS_PATH.open("rb") as handle:
            table = tomllib.load(handle).get("reactions", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{SECRETS_PATH} is not valid TOML: {exc}") from exc
    if not isinstance(table, dict):
        raise ConfigError(f"[reactions] in {SECRETS_PATH} must be a table")
    return table

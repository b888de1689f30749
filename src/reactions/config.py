"""Settings for every surface (CLI, server, tests), read from the environment and
`.streamlit/secrets.toml` (table `[reactions]`). Environment variables win.

No Streamlit import here: the CLI reads the same file with tomllib, so a setting means the
same thing whether the server or a command uses it.
"""

from __future__ import annotations

import ipaddress
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

    # Login (st.login, OIDC) is on when secrets.toml has an [auth] section. Roles then come
    # from the user's `roles_claim` (values reader/editor/analyst/admin) and/or these lists
    # of emails and "@domain"s. Without [auth], the newsroom pages answer loopback only.
    auth_configured: bool = False
    roles_claim: str | None = None
    editors: tuple[str, ...] = ()
    analysts: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    # The mood alert on the Overview: an article whose share of `alert_kind` over the last
    # `alert_window_hours` (with at least `alert_min_reactions`) rises beyond its interval.
    alert_kind: str = "angry"
    alert_window_hours: int = 1
    alert_min_reactions: int = 20
    # The server scans recent events for bot-like bursts this often (0: never on its own).
    scan_every_seconds: int = 300
    # PostgreSQL as the system of record shared by several servers (db_path is then this
    # process's replica); None: the DuckDB file alone, as on one laptop.
    database_url: str | None = None
    # Proxies (load balancers) whose X-Forwarded-For names the client; nobody else's is read.
    trusted_proxies: tuple[str, ...] = ()
    # How long a CDN or proxy cache may reuse an article's public counts (the API's GET
    # without a reader), and how much longer it may hand one more reader the old ones while it
    # fetches new ones (0: never; a tap then shows to everyone within the max-age).
    counts_max_age: int = 5
    counts_stale_while_revalidate: int = 5

    @classmethod
    def load(cls, db_path: str | Path | None = None) -> Settings:
        document = _read_secrets()
        file_values = _read_secrets_table(document)
        claim = file_values.get("roles_claim")
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
            alert_kind=str(
                os.environ.get("REACTIONS_ALERT_KIND", file_values.get("alert_kind", "angry"))
            ),
            alert_window_hours=_positive_int(
                "REACTIONS_ALERT_WINDOW_HOURS", file_values.get("alert_window_hours", 1)
            ),
            alert_min_reactions=_positive_int(
                "REACTIONS_ALERT_MIN_REACTIONS", file_values.get("alert_min_reactions", 20)
            ),
            scan_every_seconds=_positive_int(
                "REACTIONS_SCAN_EVERY_SECONDS",
                file_values.get("scan_every_seconds", 300),
                minimum=0,
            ),
            database_url=os.environ.get("REACTIONS_DATABASE_URL")
            or file_values.get("database_url")
            or None,
            trusted_proxies=_networks(
                os.environ.get("REACTIONS_TRUSTED_PROXIES", file_values.get("trusted_proxies", ""))
            ),
            counts_max_age=_positive_int(
                "REACTIONS_COUNTS_MAX_AGE", file_values.get("counts_max_age", 5), minimum=0
            ),
            counts_stale_while_revalidate=_positive_int(
                "REACTIONS_COUNTS_STALE_WHILE_REVALIDATE",
                file_values.get("counts_stale_while_revalidate", 5),
                minimum=0,
            ),
            auth_configured=isinstance(document.get("auth"), dict),
            roles_claim=str(claim) if claim else None,
            editors=_names(file_values, "editors"),
            analysts=_names(file_values, "analysts"),
            admins=_names(file_values, "admins"),
        )


def _positive_int(name: str, default: object, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, default)
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _networks(value: object) -> tuple[str, ...]:
    """Addresses or networks ("10.0.0.0/8, 127.0.0.1"), checked, as text."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    networks = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"REACTIONS_TRUSTED_PROXIES holds {item[:40]!r}, not an address or network"
            ) from None
    return tuple(networks)


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _read_secrets() -> dict[str, Any]:
    if not SECRETS_PATH.is_file():
        return {}
    try:
        with SECRETS_PATH.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{SECRETS_PATH} is not valid TOML: {exc}") from exc


def _read_secrets_table(document: dict[str, Any]) -> dict[str, Any]:
    table = document.get("reactions", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[reactions] in {SECRETS_PATH} must be a table")
    return table


def _names(file_values: dict[str, Any], key: str) -> tuple[str, ...]:
    """A list of emails or @domains from [reactions]; lower-cased, since emails compare so."""
    value = file_values.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} in [reactions] must be a list of emails or @domains")
    return tuple(v.strip().lower() for v in value if v.strip())

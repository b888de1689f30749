"""Article import from CSV, JSON and RSS/Atom files.

Each format is parsed into plain dicts, then every record goes through one validation path
(`_clean_record`). Good records are upserted by article id; bad ones are reported with their
reason. A file that cannot be parsed as a whole raises ImportFileError and writes nothing.

Imported text is untrusted: HTML is reduced to text with an allowlist sanitizer (nh3 with no
tags allowed) before it is stored, so nothing a feed ships can run in the reader page.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nh3
import pandas as pd

from reactions.config import MAX_ID_LENGTH
from reactions.errors import ImportFileError
from reactions.store.articles import ARTICLE_COLUMNS, UpsertReport, upsert_articles
from reactions.store.store import Store

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TITLE = 300
MAX_DEK = 1_000
MAX_BODY = 200_000
MAX_TAGS = 20
MAX_TAG = 60
ARTICLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FORMATS = ("csv", "json", "rss")


@dataclass(frozen=True)
class Rejected:
    row: int  # 1-based record number in the file (CSV: data row, header excluded)
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.added} added, {self.updated} updated, {len(self.rejected)} rejected"


class RecordError(ValueError):
    """One record is unusable; the message says why."""


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    if suffix in {".xml", ".rss", ".atom"}:
        return "rss"
    stripped = head.lstrip()
    if stripped.startswith((b"[", b"{")):
        return "json"
    if stripped.startswith(b"<"):
        return "rss"
    raise ImportFileError(
        f"cannot tell the format of {path.name}; name it .csv, .json or .xml (RSS/Atom)"
    )


def read_records(path: Path, fmt: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Parse the file into raw records; raises ImportFileError if the file as a whole is bad."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ImportFileError(f"{path.name} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    data = path.read_bytes()
    fmt = fmt or detect_format(path, data[:64])
    if fmt not in FORMATS:
        raise ImportFileError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    parse = {"csv": _parse_csv, "json": _parse_json, "rss": _parse_feed}[fmt]
    return fmt, parse(data)


def import_articles(store: Store, path: Path, fmt: str | None = None) -> ImportReport:
    _, records = read_records(path, fmt)
    report = ImportReport()
    clean: dict[str, dict[str, Any]] = {}
    for number, record in enumerate(records, start=1):
        try:
            row = _clean_record(record)
        except RecordError as exc:
            report.rejected.append(Rejected(number, str(exc)))
            continue
        clean[row["article_id"]] = row  # a later record with the same id wins
    if clean:
        frame = pd.DataFrame(list(clean.values()), columns=list(ARTICLE_COLUMNS))
        for column in ("published_at", "updated_at"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        result: UpsertReport = upsert_articles(store, frame)
        report.added, report.updated = result.added, result.updated
    return report


# --- parsers -------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"the file is not UTF-8 (byte {exc.start})") from None


def _parse_csv(data: bytes) -> list[dict[str, Any]]:
    text = _decode(data)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames
        if not header:
            raise ImportFileError("the CSV file is empty")
        missing = {"title", "published_at"} - {h.strip() for h in header}
        if missing:
            raise ImportFileError(
                f"the CSV header lacks {', '.join(sorted(missing))} "
                f"(columns: {', '.join(ARTICLE_COLUMNS[:-1])})"
            )
        rows = []
        for row in reader:
            if None in row:  # more cells than header columns
                raise ImportFileError(f"CSV line {reader.line_num} has more cells than the header")
            rows.append({(k or "").strip(): v for k, v in row.items()})
        return rows
    except csv.Error as exc:
        raise ImportFileError(f"malformed CSV: {exc}") from None


def _parse_json(data: bytes) -> list[dict[str, Any]]:
    try:
        doc = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(doc, dict) and isinstance(doc.get("articles"), list):
        doc = doc["articles"]
    if not isinstance(doc, list):
        raise ImportFileError('JSON must be a list of articles or {"articles": [...]}')
    return [r if isinstance(r, dict) else {"_not_an_object": type(r).__name__} for r in doc]


def _parse_feed(data: bytes) -> list[dict[str, Any]]:
    import feedparser  # imported here: only feeds need it, and it is slow to import

    # Parse bytes, never a URL: a feed must not make the importer fetch anything.
    feed = feedparser.parse(data)
    if not feed.entries:
        reason = getattr(feed, "bozo_exception", None)
        detail = f": {reason}" if reason else ""
        raise ImportFileError(f"not an RSS/Atom feed with entries{detail}")
    records = []
    for entry in feed.entries:
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else entry.get("summary", "")
        # dict access, not .get(): feedparser maps a missing `updated_parsed` to
        # `published_parsed` with a deprecation warning, and we want only what the feed says.
        published = dict.get(entry, "published_parsed")
        updated = dict.get(entry, "updated_parsed")
        records.append(
            {
                "article_id": entry.get("id") or entry.get("link") or "",
                "title": entry.get("title", ""),
                "dek": entry.get("summary", "") if content else "",
                "body": body,
                "url": entry.get("link"),
                "topic": _first_term(entry.get("tags")) or feed.feed.get("title", ""),
                "tags": [t.get("term", "") for t in entry.get("tags") or []],
                "author": entry.get("author", ""),
                "published_at": _struct_time(published or updated),
                "updated_at": _struct_time(updated),
            }
        )
    return records


def _first_term(tags: Iterable[dict[str, str]] | None) -> str:
    for tag in tags or []:
        if tag.get("term"):
            return tag["term"]
    return ""


def _struct_time(value: Any) -> str | None:
    if not value:
        return None
    year, month, day, hour, minute, second = value[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat()


# --- one record ----------------------------------------------------------------------


def _clean_record(record: dict[str, Any]) -> dict[str, Any]:
    if "_not_an_object" in record:
        raise RecordError(f"expected an object, got {record['_not_an_object']}")
    title = _text(record.get("title"), "title", MAX_TITLE)
    if not title:
        raise RecordError("title is empty")
    url = _optional_url(record.get("url"))
    article_id = _article_id(record.get("article_id"), url, title)
    published = _timestamp(record.get("published_at"), "published_at")
    if published is None:
        raise RecordError("published_at is missing")
    updated = _timestamp(record.get("updated_at"), "updated_at")
    if updated is not None and updated < published:
        raise RecordError("updated_at is before published_at")
    return {
        "article_id": article_id,
        "title": title,
        "dek": _text(record.get("dek"), "dek", MAX_DEK),
        "body": _text(record.get("body"), "body", MAX_BODY, keep_paragraphs=True),
        "url": url,
        "topic": _text(record.get("topic"), "topic", 80) or "Uncategorized",
        "tags": _tags(record.get("tags")),
        "author": _text(record.get("author"), "author", 200),
        "dateline": _text(record.get("dateline"), "dateline", 100),
        "published_at": published,
        "updated_at": updated if updated != published else None,
        "origin": "import",
    }


_BLOCK_TAGS = re.compile(r"(?i)<\s*(/p|br\s*/?|/div|/h[1-6]|/li|/blockquote)\s*>")
_LIST_ITEM = re.compile(r"(?i)<\s*li[^>]*>")


def _text(value: Any, name: str, limit: int, *, keep_paragraphs: bool = False) -> str:
    """Plain text from untrusted input: HTML tags removed, entities decoded, control
    characters dropped, length capped."""
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise RecordError(f"{name} must be text, not {type(value).__name__}")
    text = str(value)
    if "<" in text:
        if keep_paragraphs:
            text = _LIST_ITEM.sub("\n- ", _BLOCK_TAGS.sub("\n\n", text))
        text = html.unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}))
    elif "&" in text:
        text = html.unescape(text)
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    if keep_paragraphs:
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
    else:
        text = " ".join(text.split())
    if len(text) > limit:
        raise RecordError(f"{name} is {len(text):,} characters; the limit is {limit:,}")
    return text


def _article_id(value: Any, url: str | None, title: str) -> str:
    raw = str(value).strip() if value not in (None, "") else ""
    if raw and ARTICLE_ID.match(raw) and len(raw) <= MAX_ID_LENGTH:
        return raw
    source = raw or url or title
    slug = re.sub(r"[^A-Za-z0-9]+", "-", source.split("://", 1)[-1]).strip("-").lower()
    slug = slug[:MAX_ID_LENGTH].rstrip("-")
    if not slug:
        raise RecordError("article_id is empty and cannot be derived from url or title")
    return slug


def _optional_url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    url = str(value).strip()
    if not re.match(r"^https?://[^\s<>\"']+$", url) or len(url) > 2_000:
        raise RecordError(f"url must be an http(s) address, not {url[:60]!r}")
    return url


def _timestamp(value: Any, name: str) -> datetime | None:
    """ISO 8601 (a zone offset is honoured; none means UTC) to naive UTC."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{name} {str(value)[:40]!r} is not an ISO 8601 date/time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if not 1990 <= parsed.year <= 2100:
        raise RecordError(f"{name} year {parsed.year} is out of range")
    return parsed


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        parts = re.split(r"[;|,]", value)
    elif isinstance(value, list):
        parts = value
    else:
        raise RecordError(
            f"tags must be a list or a ;-separated string, not {type(value).__name__}"
        )
    tags = [_text(t, "tag", MAX_TAG) for t in parts]
    tags = sorted({t for t in tags if t})
    if len(tags) > MAX_TAGS:
        raise RecordError(f"{len(tags)} tags; the limit is {MAX_TAGS}")
    return tags

"""Handing a dataset over, the one way every surface does it — the CLI, the export API and the
UI's download buttons: the data file (CSV or Parquet), a zip of it with manifest.json, or the
manifest alone, to a path or a stream, with the file name that says what is inside."""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import duckdb

from reactions.errors import ExportWriteError, InvalidInput
from reactions.exports.copy_out import ProgressFn
from reactions.exports.dialect import FORMATS, MEDIA_TYPES, SHAPES
from reactions.exports.writer import export_dataset, file_name
from reactions.metrics.filters import Filters


@dataclass(frozen=True)
class Delivered:
    rows: int
    sha256: str  # of the data file's bytes
    manifest: dict[str, Any]
    name: str  # the file name to offer
    media_type: str


def deliver(
    cur: duckdb.DuckDBPyConnection,
    dataset: str,
    f: Filters,
    shape: str,
    target: Path | BinaryIO,
    *,
    progress: ProgressFn | None = None,
) -> Delivered:
    """Write `dataset` under `f` as `shape` (csv, parquet, zip, manifest.json) to `target`.
    A zip and a lone manifest need the data first (to bundle it, or to count and hash it):
    it goes to a temporary file beside a path target, or in the system's temporary folder."""
    if shape not in SHAPES:
        raise InvalidInput(f"unknown format {shape[:20]!r}; use one of {', '.join(SHAPES)}")
    fmt = shape if shape in FORMATS else "csv"
    name = file_name(dataset, f, "zip" if shape == "zip" else fmt)
    if shape in FORMATS:
        result = export_dataset(cur, dataset, f, target, fmt=fmt, progress=progress)
        return Delivered(result.rows, result.sha256, result.manifest, name, MEDIA_TYPES[shape])
    near = target.parent if isinstance(target, Path) and target.parent.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="reactions-export-", dir=near) as folder:
        data = Path(folder) / file_name(dataset, f, fmt)
        result = export_dataset(cur, dataset, f, data, fmt=fmt, progress=progress)
        try:
            if shape == "zip":
                _bundle(data, result.manifest, target)
            else:
                _write(target, manifest_text(result.manifest).encode("utf-8"))
                name = file_name(dataset, f, fmt) + ".manifest.json"
        except OSError as error:
            where = getattr(target, "name", "the output")
            raise ExportWriteError(f"cannot write {where}: {error.strerror or error}") from None
    return Delivered(result.rows, result.sha256, result.manifest, name, MEDIA_TYPES[shape])


def manifest_text(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


def write_manifest(path: Path, content: dict[str, Any]) -> None:
    """The manifest beside a data file (the CLI's FILE.manifest.json)."""
    path.write_text(manifest_text(content), encoding="utf-8")


def _bundle(data: Path, content: dict[str, Any], target: Path | BinaryIO) -> None:
    """A zip of the data file and manifest.json, for handing over as one file."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(data, arcname=data.name)
        bundle.writestr("manifest.json", manifest_text(content))


def _write(target: Path | BinaryIO, content: bytes) -> None:
    if isinstance(target, Path):
        target.write_bytes(content)
    else:
        target.write(content)

"""The files' formats, in one place: the CSV dialect (RFC 4180, UTF-8, a header row, CRLF
line ends; text a spreadsheet would run as a formula gets a leading apostrophe), Parquet, the
COPY options that write them, and each download shape's media type."""

from __future__ import annotations

FORMATS = ("csv", "parquet")
CSV_DIALECT = "RFC 4180: UTF-8, header row, CRLF line ends, fields quoted when needed"
FORMULA_RULE = (
    "text cells starting with =, +, -, @, tab or carriage return get a leading ' so "
    "spreadsheets show them as text (CSV only)"
)
SHAPES = (*FORMATS, "zip", "manifest.json")  # what a download can be
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "zip": "application/zip",
    "manifest.json": "application/json",
}
COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true, NEW_LINE '\r\n'",
    "parquet": "FORMAT parquet, COMPRESSION zstd",
}
# Lines the query already made CSV (datasets.events_csv_query): written as they are.
CSV_LINES = "FORMAT csv, HEADER true, QUOTE '', NEW_LINE '\r\n'"
CSV_FIELD_BREAKERS = '[",\\r\\n]'  # regex: a field holding any of these is quoted


def csv_field(expression: str) -> str:
    """RFC 4180 as DuckDB's writer does it: quoted when empty or holding a comma, quote or
    line break, inner quotes doubled."""
    return (
        f"CASE WHEN {expression} = '' OR regexp_matches({expression}, '{CSV_FIELD_BREAKERS}') "
        f"THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' ELSE {expression} END"
    )


def safe_text_sql(expression: str) -> str:
    """The CSV formula rule in SQL: text starting with = + - @, tab or CR gets a leading '."""
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN chr(39) || {expression} ELSE {expression} END"
    )

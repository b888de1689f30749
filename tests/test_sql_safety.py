"""Every value in SQL is a bound parameter: a scan of the source for SQL built from strings.

Each expression interpolated into SQL text (f-strings, `+`, `%`, `.format`) must be on the
list below — by its module, the function it is in and the expression — with the reason it
cannot carry a user's value. The place is part of the key: a name checked in one function
(`sql`, `where`, `table`) is not thereby allowed anywhere else. A new interpolation fails
this test until someone checks it and adds it here; an entry whose place no longer holds it
fails too."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "reactions"
SQL_WORDS = (
    "SELECT ",
    "INSERT ",
    "DELETE ",
    "UPDATE ",
    " FROM ",
    " WHERE ",
    "COPY (",
    "CREATE ",
    " IN (",
)
Place = tuple[str, str, str]  # module path under reactions/, enclosing function, expression

ALLOWED: dict[Place, str] = {
    ("demo/bar_views.py", "<module>", "LOOKED_BEFORE_SECONDS * 1000000"): "numeric constants",
    (
        "exports/copy_out.py",
        "_copy_statement",
        "destination.replace(chr(39), chr(39) * 2)",
    ): "COPY's target cannot be a parameter: our pipe's /dev/fd path or a temporary file's, quotes doubled",
    (
        "exports/copy_out.py",
        "_copy_statement",
        "options",
    ): "dialect.COPY_OPTIONS[fmt] (fmt checked against FORMATS) or dialect.CSV_LINES",
    (
        "exports/copy_out.py",
        "_copy_statement",
        "sql",
    ): "a predicate or query built from our SQL with placeholders only",
    ("exports/datasets.py", "articles_frame", "AMONG_IDS"): "a constant expression",
    (
        "exports/dialect.py",
        "safe_text_sql",
        "expression",
    ): "a constant column expression of our own",
    (
        "exports/events.py",
        "_events_select",
        "'ORDER BY e.event_id' if ordered else ''",
    ): "a constant clause",
    (
        "exports/events.py",
        "_events_select",
        "article",
    ): "constant expressions of EVENT_ARTICLE_TEXT_SQL, made safe and quoted",
    ("exports/events.py", "_events_select", "in_zone"): "a constant join clause, or nothing",
    (
        "exports/events.py",
        "_events_select",
        "select",
    ): "the constant expressions of the events' columns, joined",
    (
        "exports/events.py",
        "_events_select",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "exports/events.py",
        "_events_select",
        "zone",
    ): "the zone offsets' SQL of a validated timezone, or nothing",
    ("exports/events.py", "zone_offsets_sql", "first"): "QUARTER_HOUR_SQL of a placeholder",
    (
        "exports/events.py",
        "zone_offsets_sql",
        "offset",
    ): "a constant expression and a validated IANA timezone",
    (
        "exports/writer.py",
        "_events_fit_in_order",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "exports/writer.py",
        "_select",
        "', '.join(names)",
    ): "the dataset's column names, from its constant column list",
    (
        "exports/writer.py",
        "_select",
        "sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/alerts.py",
        "mood_alerts",
        "before.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/alerts.py",
        "mood_alerts",
        "recent.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_detail.py",
        "article_breakdown",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_detail.py",
        "article_timeline",
        "sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_detail.py",
        "article_transitions",
        "clean",
    ): "the excluded-events clause over a constant column",
    (
        "metrics/article_detail.py",
        "article_view_timeline",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_detail.py",
        "article_views",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_lists.py",
        "_per_article",
        "', '.join(['s.article_id', *per_kind])",
    ): "k0, k1… by index; the kind ids are bound",
    (
        "metrics/article_lists.py",
        "_per_article",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_lists.py",
        "counts_by_article",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_lists.py",
        "scope_sql",
        "article.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_lists.py",
        "scope_sql",
        "published.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    ("metrics/article_lists.py", "top_articles", "', ' if kinds else ''"): "a constant separator",
    (
        "metrics/article_lists.py",
        "top_articles",
        "counts.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    ("metrics/article_lists.py", "top_articles", "per_kind"): "coalesce(counts.k0, 0)… by index",
    (
        "metrics/article_lists.py",
        "top_articles",
        "scope.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/article_lists.py",
        "top_articles",
        "views.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    ("metrics/integrity.py", "_densities_sql", "everything"): "a constant window count, or 0",
    ("metrics/integrity.py", "_densities_sql", "keyed"): "constant bar key columns",
    (
        "metrics/integrity.py",
        "_densities_sql",
        "not_null",
    ): "IS NOT NULL over the rule's constant key columns",
    ("metrics/integrity.py", "_densities_sql", "partition"): "the rule's constant key columns",
    (
        "metrics/integrity.py",
        "_densities_sql",
        "recent",
    ): "a constant clause with one placeholder, or nothing",
    (
        "metrics/integrity.py",
        "_densities_sql",
        "rule.actions",
    ): "a constant list of actions of the rule",
    (
        "metrics/integrity.py",
        "_densities_sql",
        "source",
    ): "one of our table names (or a join of them) chosen in code",
    ("metrics/integrity.py", "_densities_sql", "window"): "the rule's constant window in minutes",
    ("metrics/integrity.py", "_densities_sql", "keys"): "the rule's constant key columns",
    ("metrics/integrity.py", "_densities_sql", "rule.floor"): "an int constant of the rule",
    (
        "metrics/integrity.py",
        "_histogram_sql",
        "_densities_sql(rule, since=False)",
    ): "the densities' SQL of a constant rule",
    ("metrics/integrity.py", "_hot_sql", "_SAME_BAR"): "a constant expression",
    (
        "metrics/integrity.py",
        "_hot_sql",
        "_densities_sql(rule, since=False, candidates=True)",
    ): "the densities' SQL of a constant rule",
    (
        "metrics/integrity.py",
        "_hot_sql",
        "_hot(rule, 'b.threshold')",
    ): "constant comparisons of our columns",
    ("metrics/integrity.py", "_recent_sql", "_SAME_BAR"): "a constant expression",
    (
        "metrics/integrity.py",
        "_recent_sql",
        "_densities_sql(rule, since=True)",
    ): "the same, with one placeholder",
    (
        "metrics/integrity.py",
        "_recent_sql",
        "_hot(rule, 'd.threshold')",
    ): "constant comparisons of our columns",
    ("metrics/integrity.py", "_recent_sql", "rule.floor"): "an int constant of the rule",
    ("metrics/overview.py", "_by_period", "is_current"): "a constant comparison with a placeholder",
    ("metrics/overview.py", "_by_period", "table"): "one of our table names, passed by our code",
    ("metrics/overview.py", "_by_period", "value"): "a constant aggregate its callers pass",
    (
        "metrics/overview.py",
        "_by_period",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/overview.py",
        "_every_reader",
        "is_excluded('reader_no')",
    ): "the excluded-events clause over a constant column",
    (
        "metrics/overview.py",
        "_every_reader",
        "is_kept('event_id')",
    ): "the excluded-events clause over a constant column",
    ("metrics/overview.py", "kpis", "is_current"): "a constant comparison with a placeholder",
    (
        "metrics/overview.py",
        "kpis",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/predicates.py",
        "article_predicate",
        "', '.join('?' * len(values))",
    ): "placeholders for a list whose values are bound",
    (
        "metrics/predicates.py",
        "article_predicate",
        "column",
    ): "a column name from the function's own tuple",
    (
        "metrics/predicates.py",
        "reaction_predicate",
        "', '.join('?' * len(f.kinds))",
    ): "placeholders for a list whose values are bound",
    (
        "metrics/predicates.py",
        "reaction_predicate",
        "alias",
    ): "a table alias our callers pass ('c', 'e', 'r' or 'v')",
    (
        "metrics/predicates.py",
        "reaction_predicate",
        "article.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    ("metrics/queries.py", "database_summary", "SIGNED"): "a constant expression",
    ("metrics/queries.py", "reaction_kinds", "where"): "a constant clause or nothing",
    (
        "metrics/rollup.py",
        "_select",
        "' AND '.join((w.sql for w in where))",
    ): "predicates of placeholders only",
    ("metrics/rollup.py", "_select", "head"): "a constant SELECT … FROM of our tables",
    (
        "metrics/time_series.py",
        "mix_over_time",
        "local_bucket(f, 's.bucket')",
    ): "interval from INTERVALS, zone from zoneinfo, our column",
    (
        "metrics/time_series.py",
        "mix_over_time",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/time_series.py",
        "views_over_time",
        "local_bucket(f, 'v.bucket')",
    ): "interval from INTERVALS, zone from zoneinfo, our column",
    (
        "metrics/time_series.py",
        "views_over_time",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/topics.py",
        "topic_counts",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/topics.py",
        "topic_trend",
        "local_bucket(f, 's.bucket')",
    ): "interval from INTERVALS, zone from zoneinfo, our column",
    (
        "metrics/topics.py",
        "topic_trend",
        "source.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "metrics/topics.py",
        "topic_views",
        "where.sql",
    ): "a predicate or query built from our SQL with placeholders only",
    (
        "store/articles.py",
        "upsert_articles",
        "columns",
    ): "column names checked against our table's or an Arrow table we built",
    (
        "store/bulk.py",
        "append_views",
        "columns",
    ): "column names checked against our table's or an Arrow table we built",
    (
        "store/bulk.py",
        "append_views",
        "select_sql",
    ): "the demo generator's constant query (its values are bound)",
    ("store/derived.py", "_recreate", "rows"): "our SELECT of a derived table's rows",
    ("store/derived.py", "_recreate", "table"): "one of our table names, passed by our code",
    (
        "store/derived.py",
        "_rows_on_one_side",
        "derived",
    ): "its callers' constant queries of a derived table",
    ("store/derived.py", "_rows_on_one_side", "truth"): "its callers' constant recount queries",
    ("store/derived.py", "recompute_readers", "READER_NO"): "a constant expression",
    (
        "store/derived.py",
        "recompute_readers",
        "reaction_counts_of(rewritten)",
    ): "our SELECT over a constant clause",
    (
        "store/derived.py",
        "recompute_readers",
        "reaction_counts_of(rewritten, -1)",
    ): "our SELECT over a constant clause",
    (
        "store/derived.py",
        "recompute_readers",
        "rewritten",
    ): "our SELECT over a constant clause",
    (
        "store/derived.py",
        "compact_rollup",
        "', '.join(cell)",
    ): "column names from the constant ROLLUPS",
    ("store/derived.py", "compact_rollup", "table"): "one of our table names, passed by our code",
    ("store/derived.py", "compact_rollup", "value"): "a constant aggregate its callers pass",
    ("store/derived.py", "derived_state_mismatches", "READER_NO"): "a constant expression",
    (
        "store/derived.py",
        "reaction_counts_of",
        "EXCLUDED_EVENT",
    ): "the excluded-events clause over a constant column",
    ("store/derived.py", "reaction_counts_of", "bucket"): "QUARTER_HOUR_SQL of a constant column",
    ("store/derived.py", "reaction_counts_of", "sign"): "asserted to be 1 or -1",
    ("store/derived.py", "reaction_counts_of", "where"): "a constant clause of its callers",
    ("store/derived.py", "view_counts_of", "bucket"): "QUARTER_HOUR_SQL of a constant column",
    (
        "store/derived.py",
        "view_counts_of",
        "source",
    ): "one of our table names (or a join of them) chosen in code",
    (
        "store/integrity_flags.py",
        "add_flags",
        "reaction_counts_of(newly)",
    ): "our SELECT over a constant clause",
    (
        "store/integrity_flags.py",
        "add_flags",
        "reaction_counts_of(newly, -1)",
    ): "our SELECT over a constant clause",
    ("store/known_readers.py", "KnownReaders.__init__", "READER_KEY_SQL"): "a constant expression",
    (
        "store/sql.py",
        "insert_arrow",
        "columns",
    ): "column names checked against our table's or an Arrow table we built",
    ("store/sql.py", "insert_arrow", "table"): "one of our table names, passed by our code",
    (
        "store/tap_writer.py",
        "settle",
        "', '.join('?' * len(chunk))",
    ): "placeholders for a list whose values are bound",
    (
        "store/writer_state.py",
        "RollupGrowth.due",
        "table",
    ): "one of our table names, passed by our code",
    (
        "store/writer_state.py",
        "TapMemory.recall",
        "', '.join('?' * len(lookup))",
    ): "placeholders for a list whose values are bound",
    (
        "store/derived.py",
        "recompute_readers",
        "readers_sql",
    ): "its callers' constant SELECT of readers (values bound)",
    (
        "store/derived.py",
        "advance_readers",
        "new_events",
    ): "its caller's temporary table, a constant name",
    ("store/derived.py", "advance_readers", "rewritten"): "our SELECT over a constant clause",
    (
        "store/derived.py",
        "advance_readers",
        "reaction_counts_of(rewritten)",
    ): "our SELECT over a constant clause",
    (
        "store/derived.py",
        "advance_readers",
        "reaction_counts_of(rewritten, -1)",
    ): "the same, negated",
    ("store/derived.py", "advance_readers", "READER_NO"): "a constant expression",
    ("store/postgres/functions.py", "<module>", "_DECLARE"): "a constant declaration block",
    ("store/postgres/functions.py", "<module>", "_LIMITS"): "a constant PL/pgSQL block",
    (
        "store/postgres/functions.py",
        "<module>",
        "_LOCKS.format(items='taps')",
    ): "a constant PL/pgSQL block over the function's own argument",
    ("store/postgres/functions.py", "<module>", "_LOCKS.format(items='views')"): "the same",
    ("store/postgres/functions.py", "<module>", "_ARTICLE_COUNTS"): "a constant subquery",
    ("store/postgres/functions.py", "<module>", "_READER_KINDS"): "a constant subquery",
    (
        "store/postgres/replica.py",
        "_copy_table",
        "', '.join('?' * len(LOCAL_META))",
    ): "placeholders for a list whose values are bound",
    (
        "store/postgres/replica.py",
        "_copy_table",
        "', '.join(columns)",
    ): "the replica table's own column names, from DuckDB's catalog",
    ("store/postgres/replica.py", "_copy_table", "names"): "the same column names, joined",
    (
        "store/postgres/replica.py",
        "_copy_table",
        "table",
    ): "one of VERSIONED_TABLES, our table names",
    (
        "store/postgres/replica.py",
        "_fetched",
        "', '.join(columns)",
    ): "a constant column tuple of the log",
    ("store/postgres/replica.py", "_fetched", "table"): "one of our two log tables, chosen in code",
    ("store/postgres/replica.py", "_keep_new", "key"): "the log's constant id column",
    ("store/postgres/replica.py", "_keep_new", "names"): "a constant column tuple of the log",
    (
        "store/postgres/replica.py",
        "_keep_new",
        "pulled",
    ): "read_csv of a bound path with constant column types",
    (
        "store/postgres/replica.py",
        "_keep_new",
        "table",
    ): "one of our two log tables, chosen in code",
    (
        "store/postgres/replica.py",
        "_pull_views",
        "view_counts_of('_pulled_new')",
    ): "a constant query over our temporary table",
    ("store/postgres/schema.py", "_001_core", "table"): "one of VERSIONED_TABLES, our table names",
    (
        "store/postgres/writer.py",
        "PgWriter._call",
        "', %s' * len(args)",
    ): "placeholders for bound arguments",
    (
        "store/postgres/writer.py",
        "PgWriter._call",
        "function",
    ): "apply_taps or apply_views, chosen in code",
    (
        "store/postgres/writes.py",
        "PgRecord.upsert_articles",
        "', '.join(['%s'] * len(columns))",
    ): "placeholders for bound values",
    (
        "store/postgres/writes.py",
        "PgRecord.upsert_articles",
        "names",
    ): "article column names, checked against ARTICLE_COLUMNS by the caller",
    (
        "store/postgres/writes.py",
        "PgRecord.upsert_articles",
        "updates",
    ): "the same column names, as assignments",
    (
        "store/postgres/writes.py",
        "_copy_query",
        "names",
    ): "column names of a frame we built, or nothing",
    (
        "store/postgres/writes.py",
        "_copy_query",
        "quoted",
    ): "COPY's target cannot be a parameter: our temporary file, quotes doubled",
    ("store/postgres/writes.py", "_copy_query", "select_sql"): "our constant SELECT (values bound)",
    ("store/postgres/writes.py", "_copy_query", "table"): "one of our table names, chosen in code",
}


def interpolations(root: Path) -> set[Place]:
    """Every expression interpolated into text that reads as SQL, in every module under
    `root`, with the function (Class.method) it is in."""
    found: set[Place] = set()
    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root).as_posix()

        def visit(node: ast.AST, scope: list[str], module: str = module) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    visit(child, [*scope, child.name])
                    continue
                for expression in _pasted(child):
                    found.add((module, ".".join(scope) or "<module>", ast.unparse(expression)))
                visit(child, scope)

        visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


def _pasted(node: ast.AST) -> list[ast.expr]:
    """The expressions `node` pastes into SQL text, if it is an f-string, `+`, `%` or
    `.format` whose constant text reads as SQL."""

    def is_sql(text: object) -> bool:
        return isinstance(text, str) and any(word in text for word in SQL_WORDS)

    if isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        return (
            [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
            if is_sql(text)
            else []
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return [
            other
            for side, other in ((node.left, node.right), (node.right, node.left))
            if isinstance(side, ast.Constant) and is_sql(side.value)
        ]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and is_sql(node.func.value.value)
    ):
        return [*node.args, *(k.value for k in node.keywords)]
    return []


def test_sql_is_never_built_from_values_only_from_checked_parts() -> None:
    found = interpolations(SRC)
    assert sorted(found - set(ALLOWED)) == [], "interpolated into SQL without a reason here"
    assert sorted(set(ALLOWED) - found) == [], "reasons for places that no longer exist"
    assert len(found) > 50  # the scan does see the SQL in the source


def test_the_scan_catches_a_pasted_value_and_a_checked_name_in_a_new_place(
    tmp_path: Path,
) -> None:
    """The real scan over a module with a pasted value, and with `sql` — a name checked and
    allowed in several functions above — used in a function nobody checked."""
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "dashboard.py").write_text(
        "def titled(cur, title):\n"
        "    cur.execute(f\"SELECT * FROM articles WHERE title = '{title}'\")\n"
        "\n"
        "def search(cur, sql):\n"
        '    return cur.execute(f"SELECT * FROM articles WHERE {sql}")\n'
    )
    found = interpolations(tmp_path)
    assert found == {
        ("metrics/dashboard.py", "titled", "title"),
        ("metrics/dashboard.py", "search", "sql"),
    }
    assert not found & set(ALLOWED)

"""Every value in SQL is a bound parameter: a scan of the source for SQL built from strings.

Each expression interpolated into SQL text (f-strings, `+`, `%`, `.format`) must be on the
list below, with the reason it cannot carry a user's value. A new interpolation fails this
test until someone checks it and adds it here."""

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

ALLOWED = {
    # placeholders: "?, ?, ?" for a list whose values are bound
    "', '.join('?' * len(chunk))": "placeholders",
    "', '.join('?' * len(f.kinds))": "placeholders",
    "', '.join('?' * len(lookup))": "placeholders",
    "', '.join('?' * len(values))": "placeholders",
    # predicates built by filters.py from placeholders, returned with their bound values
    "article.sql": "filters.article_predicate: placeholders only",
    "where.sql": "filters.reaction_predicate: placeholders only",
    "where": "the same, in queries.py",
    "sql": "a predicate or query built above from the same parts",
    "is_current": "a constant comparison with a placeholder",
    # identifiers and expressions from the code's own constants
    "', '.join(names)": "dataset column names from datasets.COLUMNS",
    "columns": "column names checked against ARTICLE_COLUMNS / an Arrow table we built",
    "table": "one of our table names, passed by our code",
    "column": "a column name from filters' own tuple",
    "alias": "a table alias our callers pass ('c' or 'e')",
    "options": "export.COPY_OPTIONS[fmt] (fmt checked against FORMATS) or export.CSV_LINES",
    "READER_KEY_SQL": "a constant expression",
    "SIGNED": "a constant expression",
    "'ORDER BY e.event_id' if ordered else ''": "a constant clause",
    "expression": "safe_text_sql / _csv_field of a constant column expression",
    "article": "datasets: constant expressions of EVENT_ARTICLE_TEXT_SQL, made safe and quoted",
    "select": "datasets: the constant expressions of _event_fields, joined",
    "offset": "datasets.zone_offsets_sql: a constant expression and a validated timezone",
    "first": "datasets.zone_offsets_sql: db.QUARTER_HOUR_SQL of a placeholder",
    "zone": "datasets._events_select: zone_offsets_sql of a validated timezone, or nothing",
    "in_zone": "datasets._events_select: a constant join clause, or nothing",
    # integrity rules: constants in integrity.RULES
    "rule.actions": "a constant list of actions",
    "rule.floor": "an int constant of the rule",
    "SPREAD * MAD_SCALE": "numeric constants",
    "not_null": "IS NOT NULL over the rule's constant columns",
    "clean": "filters.EXCLUDE_FLAGGED, a constant clause",
    # validated values that SQL cannot take as parameters
    "destination.replace(chr(39), chr(39) * 2)": "COPY's target cannot be a parameter: "
    "our pipe's /dev/fd path or a temporary file's, quotes doubled",
    # views
    "source": "db.view_counts_of: one of our table names ('view_events', 'incoming_views')",
    "bucket": "db.QUARTER_HOUR_SQL of the constant column viewed_at",
    "view_counts_of('view_events')": "a constant query over our own table",
    "local_bucket(f, 'v.bucket')": "interval from INTERVALS, zone from zoneinfo, our column",
    "select_sql": "Store.append_views: synth_views' constant query (values are bound)",
    "LOOKED_BEFORE_SECONDS * 1000000": "numeric constants",
    # the reaction rollup and reader numbers
    "READER_NO": "db.READER_NO, a constant window expression",
    "reaction_counts_of()": "db.reaction_counts_of: a constant query over current_reactions",
    "reaction_counts_of(rewritten)": "the same, over a constant clause",
    "reaction_counts_of(rewritten, -1)": "the same, negated",
    "rewritten": "a constant clause naming a temporary table of ours",
    "sign": "asserted to be 1 or -1",
    "EXCLUDED_EVENT": "db.EXCLUDED_EVENT, a constant clause",
    "truth": "queries._rows_on_one_side: its callers' constant recount queries",
    "derived": "queries._rows_on_one_side: its callers' constant queries of a derived table",
    "head": "rollup._select: a constant SELECT … FROM of our tables",
    "' AND '.join((w.sql for w in where))": "rollup._select: predicates of placeholders only",
    "source.sql": "rollup.standing_counts: our SELECTs with placeholders only",
    "recent.sql": "the same",
    "before.sql": "the same",
    "value": "overview._by_period: a constant aggregate its callers pass; db.ROLLUPS' column",
    "', '.join(cell)": "column names from the constant db.ROLLUPS",
    "local_bucket(f, 's.bucket')": "interval from INTERVALS, zone from zoneinfo, our column",
    "AMONG_IDS": "datasets.AMONG_IDS, a constant clause with one placeholder",
    "', '.join(['s.article_id', *per_kind])": "article_lists._per_article: k0, k1… by index, "
    "kind ids bound",
    "counts.sql": "article_lists._per_article: our SELECT with placeholders only",
    "views.sql": "filters.view_predicate: placeholders only",
    "excluded": "a constant subquery of our view excluded_events",
    # articles in scope (article_lists.top_articles, scope_sql)
    "published.sql": "filters.range_predicate over a constant column: placeholders only",
    "scope.sql": "article_lists.scope_sql: our SELECT with placeholders only",
    "per_kind": "article_lists.top_articles: coalesce(counts.k0, 0) … by index",
    "', ' if kinds else ''": "a constant separator",
    # integrity: densities of recent events and stored bars
    "partition": "integrity._densities_sql: the rule's constant key columns",
    "window": "integrity._densities_sql: the rule's constant window in minutes",
    "recent": "integrity._densities_sql: a constant clause with one placeholder, or nothing",
    "keyed": "integrity._densities_sql: constant bar key columns",
    "everything": "integrity._densities_sql: a constant window count, or 0",
    "_SAME_BAR": "integrity._SAME_BAR, a constant join condition",
    "_densities_sql(rule, since=False)": "integrity._densities_sql of a constant rule",
    "_densities_sql(rule, since=True)": "the same, with one placeholder",
    "_hot(rule, 'b.threshold')": "integrity._hot: constant comparisons of our columns",
    "_hot(rule, 'd.threshold')": "the same",
    "reaction_counts_of(newly)": "db.reaction_counts_of over a constant clause",
    "reaction_counts_of(newly, -1)": "the same, negated",
}


def interpolations() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def note(expression: ast.expr, path: Path) -> None:
        found.setdefault(ast.unparse(expression), set()).add(path.name)

    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value
                    for v in node.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                )
                if any(word in text for word in SQL_WORDS):
                    for value in node.values:
                        if isinstance(value, ast.FormattedValue):
                            note(value.value, path)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
                for side, other in ((node.left, node.right), (node.right, node.left)):
                    if (
                        isinstance(side, ast.Constant)
                        and isinstance(side.value, str)
                        and any(word in side.value for word in SQL_WORDS)
                    ):
                        note(other, path)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
                and isinstance(node.func.value, ast.Constant)
                and isinstance(node.func.value.value, str)
                and any(word in node.func.value.value for word in SQL_WORDS)
            ):
                for argument in [*node.args, *(k.value for k in node.keywords)]:
                    note(argument, path)
    return found


def test_sql_is_never_built_from_values_only_from_checked_parts() -> None:
    found = interpolations()
    unexplained = {expr: sorted(files) for expr, files in found.items() if expr not in ALLOWED}
    assert unexplained == {}, "interpolated into SQL without a reason on the list"
    assert len(found) > 20  # the scan does see the SQL in the source
    assert sorted(set(ALLOWED) - set(found)) == []  # no stale reasons on the list


def test_the_scan_catches_a_value_pasted_into_sql(tmp_path: Path) -> None:
    tree = ast.parse("cur.execute(f\"SELECT * FROM articles WHERE title = '{title}'\")")
    pasted = [
        ast.unparse(v.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for v in node.values
        if isinstance(v, ast.FormattedValue)
    ]
    assert pasted == ["title"] and "title" not in ALLOWED

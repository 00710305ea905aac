"""SQL in: ``CREATE VIEW``, ``CREATE TABLE ... AS``, ``INSERT ... SELECT`` and ``MERGE`` as table- and
column-level lineage, read with sqlglot (the ``sql`` extra: ``pip install 'lineage[sql]'``).

Each table a statement reads or writes becomes a ``dataset`` node (id: its qualified name in lower
case, :func:`lineage.importers.dataset_id`, the same id a dbt model on that table gets), and each
table read -> table written a ``derives`` edge. Column lineage (:func:`statement_lineage`) is plain
data: the output table and column, the input ``table.column`` list, and how it was made.

A statement sqlglot cannot read is listed with its file and line, never dropped in silence; so are
statements that carry no lineage (a plain ``CREATE TABLE``, a ``GRANT``). ``SELECT *`` is resolved to
columns with a schema (:func:`read_schema`); without one, the table-level lineage is still found.

Examples
--------
>>> found = statement_lineage("INSERT INTO mart.totals (area, total) SELECT area, SUM(amount) "
...                           "FROM staging.payments GROUP BY area")
>>> found.target, found.sources
('mart.totals', ['staging.payments'])
>>> [c.as_dict() for c in found.columns][1]
{'table': 'mart.totals', 'column': 'total', 'transformation': 'aggregation', 'inputs': ['staging.payments.amount']}
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LineageError, Problem, ValidationError
from ..importers import ColumnLineage, Imported, dataset_id

STATEMENT_KINDS = "CREATE VIEW, CREATE TABLE ... AS, INSERT ... SELECT or MERGE"


def _sqlglot() -> Any:
    try:
        import sqlglot
    except ImportError:  # an optional extra: say how to get it
        raise LineageError("reading SQL needs sqlglot: pip install 'lineage[sql]' (make setup installs it)") from None
    # sqlglot logs what it cannot read; lineage lists those statements itself, with file and line.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    return sqlglot


@dataclass
class StatementLineage:
    """What one statement says: the table it writes, the tables it reads, its column lineage, and
    notes for people (``SELECT *`` without a schema, say)."""

    target: str
    sources: list[str]
    columns: list[ColumnLineage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class NoLineage(Exception):
    """A statement that parsed but carries no lineage (its kind, for the note)."""


def _table_name(table: Any) -> str:
    """A table's qualified name as written (catalog.schema.table), without alias or quotes."""
    return ".".join(part.name for part in table.parts)


def _split(text: str, dialect: str | None) -> list[tuple[int, str]]:
    """The statements of a file with the line each starts on, split at semicolons outside strings
    and comments (by sqlglot's tokenizer)."""
    sqlglot = _sqlglot()
    tokens = sqlglot.tokenize(text, read=dialect)
    statements, start = [], None
    for token in tokens:
        if token.token_type == sqlglot.tokens.TokenType.SEMICOLON:
            if start is not None:
                statements.append((start.line, text[start.start:token.start]))
            start = None
        elif start is None:
            start = token
    if start is not None:
        statements.append((start.line, text[start.start:]))
    return statements


def _transformation(expression: Any) -> str:
    from sqlglot import exp

    inner = expression.this if isinstance(expression, exp.Alias) else expression
    if isinstance(inner, exp.Column):
        return "identity"
    if inner.find(exp.AggFunc):
        return "aggregation"
    return "transformation"


def _query_columns(query: Any, target: str, names: Sequence[str] | None, schema: Mapping[str, Any] | None,
                   dialect: str | None) -> tuple[list[ColumnLineage], list[str]]:
    """Column lineage of a SELECT writing ``target``; ``names`` are the target's column names when the
    statement lists them (``INSERT INTO t (a, b)``), else the SELECT's own."""
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    notes: list[str] = []
    schema = _with_inferred(query, schema)
    try:
        qualified = qualify(query.copy(), schema=schema or None, dialect=dialect, validate_qualify_columns=False,
                            identify=False)
    except Exception as error:  # sqlglot's optimiser raises many kinds; the table-level lineage stands
        return [], [f"its columns could not be traced ({str(error).splitlines()[0][:200]})"]
    selects = qualified.selects if isinstance(qualified, exp.Query) else []
    if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
           for s in selects):
        return [], ["it selects * from a table whose columns are not known: give a schema file (--schema) "
                    "to trace its columns"]
    scope = build_scope(qualified)
    columns = []
    for position, projection in enumerate(selects):
        output = projection.alias_or_name
        written = names[position] if names and position < len(names) else output
        try:
            # The query is qualified once (above); each column is traced through its scope.
            node = lineage(output, qualified, schema or None, dialect=dialect, scope=scope)
        except Exception as error:
            notes.append(f"column {written} could not be traced ({str(error).splitlines()[0][:200]})")
            continue
        inputs = sorted({(_table_name(leaf.source), leaf.name.rsplit(".", 1)[-1]) for leaf in node.walk()
                         if not leaf.downstream and isinstance(leaf.source, exp.Table)})
        if any(column == "*" for _, column in inputs):  # a * inside (a CTE, a subquery) not resolved
            unknown = sorted({table for table, column in inputs if column == "*"})
            notes.append(f"column {written} comes through a * from {', '.join(unknown)}, whose columns are not "
                         "known: give a schema file (--schema) to trace it")
            inputs = [pair for pair in inputs if pair[1] != "*"]
        columns.append(ColumnLineage(target, written, inputs, _transformation(projection)))
    return columns, notes


def _with_inferred(query: Any, schema: Any) -> Any:
    """``schema`` (as nested as sqlglot takes it) plus the columns the query names of tables it does
    not know: a column qualified by a table's alias, or unqualified where only one table is read.
    Without them sqlglot cannot tell a column from an alias, and traces nothing."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    from sqlglot.schema import Schema

    if isinstance(schema, Schema):  # built once for many queries (a dbt project's catalog): complete already
        return schema
    known = _flat(schema or {})
    depth = max((len(k) for k in known), default=2)
    found: dict[tuple[str, ...], dict[str, str]] = {}
    for scope in traverse_scope(query.copy()):
        tables = {alias: source for alias, source in scope.sources.items() if isinstance(source, exp.Table)}
        for column in scope.columns:
            source = tables.get(column.table) if column.table else (
                next(iter(tables.values())) if len(tables) == 1 and len(scope.sources) == 1 else None)
            if source is None or column.name == "*":
                continue
            key = tuple(part.name for part in source.parts)
            if not any(k[-len(key):] == key for k in known):
                found.setdefault(key, {})[column.name] = "unknown"
    if not found:
        return dict(schema or {})
    merged = {**{k: dict(v) for k, v in known.items()},
              **{(("",) * (depth - len(k)) + k)[-depth:] if len(k) < depth else k[-depth:]: v for k, v in found.items()}}
    nested: dict[str, Any] = {}
    for key, columns in merged.items():
        target = nested
        for part in key[:-1]:
            target = target.setdefault(part, {})
        target[key[-1]] = columns
    return nested


def _flat(schema: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], dict[str, str]]:
    """A nested schema as {(schema, table): {column: type}}: a mapping whose values are text is a table."""
    flat: dict[tuple[str, ...], dict[str, str]] = {}
    for name, value in schema.items():
        if isinstance(value, Mapping) and value and all(isinstance(v, str) for v in value.values()):
            flat[prefix + (name,)] = dict(value)
        elif isinstance(value, Mapping):
            flat.update(_flat(value, prefix + (name,)))
    return flat


def _merge_columns(statement: Any, target: str, aliases: Mapping[str, str]) -> list[ColumnLineage]:
    """Column lineage of a MERGE's ``UPDATE SET`` and ``INSERT ... VALUES`` branches."""
    from sqlglot import exp

    def inputs(expression: Any) -> list[tuple[str, str]]:
        return sorted({(aliases.get(c.table, c.table), c.name) for c in expression.find_all(exp.Column)
                       if aliases.get(c.table, c.table) != target})

    found: dict[str, ColumnLineage] = {}
    for when in (statement.args.get("whens") or exp.Whens()).expressions:
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            for assignment in then.expressions:
                found.setdefault(assignment.this.name, ColumnLineage(
                    target, assignment.this.name, inputs(assignment.expression), _transformation(assignment.expression)))
        elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Tuple) and isinstance(then.expression, exp.Tuple):
            for column, value in zip(then.this.expressions, then.expression.expressions):
                found.setdefault(column.name, ColumnLineage(target, column.name, inputs(value), _transformation(value)))
    return [c for c in found.values() if c.inputs]


def statement_lineage(sql: str, *, dialect: str | None = None,
                      schema: Mapping[str, Any] | None = None) -> StatementLineage:
    """The lineage of one SQL statement (a pure function: no graph, no files).

    Raises
    ------
    sqlglot.errors.ParseError
        When sqlglot cannot read the statement.
    NoLineage
        When it reads but is not one of :data:`STATEMENT_KINDS` (or has no SELECT to trace).
    """
    sqlglot = _sqlglot()
    from sqlglot import exp

    statement = sqlglot.parse_one(sql, read=dialect)
    if isinstance(statement, exp.Command):  # sqlglot's fallback for syntax it does not know
        raise sqlglot.errors.ParseError(f"sqlglot does not know this {statement.name.upper() or 'statement'} syntax")
    if isinstance(statement, exp.Merge):
        target_table = statement.this
        target = _table_name(target_table)
        using = statement.args.get("using")
        aliases = {target_table.alias_or_name: target}
        sources = []
        if isinstance(using, exp.Table):
            aliases[using.alias_or_name] = _table_name(using)
            sources = [_table_name(using)]
        elif using is not None:
            sources = sorted({_table_name(t) for t in using.find_all(exp.Table)})
            aliases.update({using.alias_or_name: sources[0]} if len(sources) == 1 else {})
        return StatementLineage(target, sources, _merge_columns(statement, target, aliases))
    names = None
    if isinstance(statement, exp.Create) and statement.args.get("kind") in ("VIEW", "TABLE"):
        query = statement.expression
    elif isinstance(statement, exp.Insert):
        query = statement.expression
    else:
        raise NoLineage(statement.key.upper())
    if not isinstance(query, exp.Query):
        raise NoLineage(f"{statement.key.upper()} without a SELECT")
    into = statement.this
    if isinstance(into, exp.Schema):
        names = [column.name for column in into.expressions]
        into = into.this
    return _select_lineage(query, _table_name(into), names, schema, dialect)


def _select_lineage(query: Any, target: str, names: Sequence[str] | None, schema: Mapping[str, Any] | None,
                    dialect: str | None) -> StatementLineage:
    from sqlglot import exp

    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    sources = sorted({_table_name(t) for t in query.find_all(exp.Table) if t.name not in ctes or t.db})
    columns, notes = _query_columns(query, target, names, schema, dialect)
    return StatementLineage(target, [s for s in sources if s != target], columns, notes)


def query_lineage(sql: str, target: str, *, dialect: str | None = None, schema: Any = None) -> StatementLineage:
    """The lineage of a SELECT whose result is the table ``target`` (a dbt model's compiled SQL).
    ``schema``: tables' columns as a mapping, or a ``sqlglot.schema.MappingSchema`` built once for
    many queries.

    Raises
    ------
    sqlglot.errors.ParseError
        When sqlglot cannot read it, or it is not a query.
    """
    sqlglot = _sqlglot()
    from sqlglot import exp

    query = sqlglot.parse_one(sql, read=dialect)
    if not isinstance(query, exp.Query):
        raise sqlglot.errors.ParseError("expected a SELECT")
    return _select_lineage(query, target, None, schema, dialect)


def read_schema(path: str | Path) -> dict[str, Any]:
    """A schema file: JSON of tables and their columns, ``{"staging.orders": {"id": "int", ...}}``
    or nested ``{"staging": {"orders": {"id": "int"}}}``, as sqlglot takes it."""
    source = str(path)
    try:
        document = json.loads(Path(path).read_text("utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ValidationError(Problem(f"{source}: line {error.lineno}, column {error.colno}",
                                      f"is not valid JSON ({error.msg}); expected tables and their columns, "
                                      "like {\"staging.orders\": {\"id\": \"int\"}}")) from None
    if not isinstance(document, dict):
        raise ValidationError(Problem(source, "expected a JSON object of tables and their columns"))
    nested: dict[str, Any] = {}
    for table, columns in document.items():
        if not isinstance(columns, dict):
            raise ValidationError(Problem(source, "expected the columns as an object of name and type", table))
        parts = table.split(".")
        target = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = columns
    return nested


def read_sql(files: Sequence[tuple[str, str]], *, dialect: str | None = None,
             schema: Mapping[str, Any] | None = None) -> Imported:
    """Read SQL files, given as (name, text) pairs, into datasets and the edges between them.

    Every statement sqlglot cannot read, and every one with no lineage, is in the notes with its
    file and line.
    """
    sqlglot = _sqlglot()
    name = ", ".join(Path(f).name for f, _ in files)[:200]
    imported = Imported("sql", name)
    skipped: list[str] = []
    for filename, text in files:
        try:
            statements = _split(text, dialect)
        except sqlglot.errors.TokenError as error:
            imported.notes.append(f"{filename}: could not be read as SQL at all ({str(error)[:200]}); nothing "
                                  "was taken from it")
            continue
        for line, sql in statements:
            where = f"{filename}: line {line}"
            try:
                found = statement_lineage(sql, dialect=dialect, schema=schema)
            except sqlglot.errors.ParseError as error:
                first = str(error).splitlines()[0][:200]
                imported.notes.append(f"{where}: this statement could not be read, so its lineage is missing "
                                      f"({first})")
                continue
            except NoLineage as kind:
                skipped.append(f"{line} ({kind})")
                continue
            for note in found.notes:
                imported.notes.append(f"{where}: {note}")
            for table in [found.target, *found.sources]:
                imported.node({"id": dataset_id(table), "kind": "dataset", "name": table}, where)
            for table in found.sources:
                imported.edge({"source": dataset_id(table), "target": dataset_id(found.target), "kind": "derives"},
                              where)
            imported.columns += found.columns
        if skipped:
            imported.notes.append(f"{filename}: {len(skipped)} statement{'s' if len(skipped) != 1 else ''} with "
                                  f"no lineage to take (expected {STATEMENT_KINDS}), at line "
                                  f"{', '.join(skipped[:20])}{' ...' if len(skipped) > 20 else ''}")
            skipped = []
    return imported


def read_sql_files(paths: Sequence[str | Path], *, dialect: str | None = None,
                   schema_path: str | Path | None = None) -> Imported:
    """:func:`read_sql` of files on disk (``lineage import-sql``)."""
    schema = read_schema(schema_path) if schema_path else None
    files = []
    for path in paths:
        try:
            files.append((str(path), Path(path).read_text("utf-8-sig")))
        except UnicodeDecodeError as error:
            raise ValidationError(Problem(str(path), f"is not UTF-8 text (byte {error.start})")) from None
    return read_sql(files, dialect=dialect, schema=schema)

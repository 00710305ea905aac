"""CSV: ``nodes.csv`` and ``edges.csv``, the way owners keep lineage in spreadsheets.

``nodes.csv`` has the columns id, kind, name, then any attributes; ``edges.csv`` has source,
target, kind, then any attributes. Nested attributes use dotted columns: ``quality.timeliness``
holds the score, ``quality.timeliness.rag``/``.note``/``.as_of`` the rest of an assessment.
An empty cell means "not given". Cells are converted by the type the schema gives the attribute
(whole numbers, numbers, true/false, lists separated by ``;``); record ``issues`` in their short form,
``[completeness] Household size missing: 40; [uniqueness] Duplicate applications: 12``; cells of attributes the schema
does not name are kept as text, unless they read as a JSON number, true/false, list or object.

On export, text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) is prefixed with ``'``; import removes that prefix again.
"""
from __future__ import annotations

import csv
import json
import math
from io import StringIO
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from .. import model
from ..errors import Problem, ValidationError
from ..store import GraphData
from ..validate import Batch, validate_records
from ..words import issues_short, parse_issues

LIST_SEPARATOR = ";"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_ASSESSMENT_SCORE = "score"


class _CellError(ValueError):
    pass


def _guarded(text: str) -> bool:
    """Whether export guards this text with a leading ': it starts like a formula, or with a guard."""
    return text.startswith(_FORMULA_STARTS) or (text.startswith("'") and _guarded(text[1:]))


def _unescape(text: str) -> str:
    """Undo the export's formula guard."""
    return text[1:] if text.startswith("'") and _guarded(text[1:]) else text


def _convert(text: str, kind: str, column: str) -> Any:
    """The value of one cell for an attribute of a node or edge kind."""
    top = column.split(".")[0]
    if top == "quality":
        parts = column.split(".")
        if len(parts) == 2 or parts[2] == _ASSESSMENT_SCORE:
            return _number(text, "a number from 0 to 1")
        return text
    if column == "issues":  # the short form: "[completeness] Household size missing: 40; ..."
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                pass
            else:
                if isinstance(value, list):
                    return value
        return parse_issues(text)
    kind_type = model.attribute_type(kind, column)
    if kind_type == "integer":
        try:
            return int(text)
        except ValueError:
            raise _CellError(f"expected a whole number, got {text!r}") from None
    if kind_type == "number":
        return _number(text, "a number")
    if kind_type == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _CellError(f"expected true or false, got {text!r}")
    if kind_type == "array":
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                pass
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
    if kind_type == "object":  # written as JSON text (an origin)
        try:
            return json.loads(text)
        except ValueError:
            raise _CellError(f"expected a JSON object, got {text[:60]!r}") from None
    if kind_type is None:
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, (int, float, bool, list, dict)) else text
    return text


def _number(text: str, expected: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise _CellError(f"expected {expected}, got {text!r}") from None
    if not math.isfinite(value):
        raise _CellError(f"expected {expected}, got {text!r} (not a finite number)")
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _set_nested(record: dict[str, Any], column: str, value: Any) -> None:
    """Put a dotted column's value in its nested place.

    ``quality.timeliness`` then ``quality.timeliness.rag`` make ``{"score": ..., "rag": ...}``.
    """
    *parents, leaf = column.split(".")
    target = record
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {} if child is None else {_ASSESSMENT_SCORE: child}
            target[part] = child
        target = child
    if isinstance(target.get(leaf), dict):
        target[leaf][_ASSESSMENT_SCORE] = value
    else:
        target[leaf] = value


def _read_table(text: str, source: str, core: tuple[str, ...]) -> Batch:
    return read_table(text, source, core)


def read_table(text: str, source: str, core: tuple[str, ...], *, required: tuple[str, ...] | None = None,
               kind_of: Callable[[dict[str, str]], str | None] | None = None,
               blanks: list[set[str]] | None = None) -> Batch:
    """One CSV table's records (blank cells left out), each located by its line.

    ``required`` are the columns the header must have (default ``core``); ``kind_of`` gives the
    kind of a row whose kind cell is missing or blank, from its core cells (a merge with what is
    stored); ``blanks``, if given, receives the blank columns of each record, in order.
    """
    required = core if required is None else required
    reader = csv.reader(StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(Problem(f"{source}: line 1", f"is empty; expected a header row: {', '.join(core)}, "
                                                           "then attribute columns")) from None
    except csv.Error as error:
        raise ValidationError(Problem(f"{source}: line 1", f"is not valid CSV ({error})")) from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise ValidationError(Problem(f"{source}: line 1", f"missing column{'s' if len(missing) > 1 else ''} "
                                      f"{', '.join(missing)}; expected {', '.join(core)}, then attribute columns"))
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ValidationError(Problem(f"{source}: line 1", f"column {duplicates[0]} appears twice"))
    kind_column = header.index("kind") if "kind" in header else len(header)
    records, problems = [], []
    try:
        for row in reader:
            where = f"{source}: line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                problems.append(Problem(where, f"has {len(row)} cells; the header has {len(header)} columns"))
                continue
            kind = row[kind_column].strip() if kind_column < len(row) else ""
            if not kind and kind_of is not None:
                kind = kind_of({c: v.strip() for c, v in zip(header, row) if c in core}) or ""
            record: dict[str, Any] = {}
            if blanks is not None:
                blanks.append({c for c, v in zip(header, row + [""] * (len(header) - len(row))) if v.strip() == ""})
            for column, cell in zip(header, row):
                if cell == "":
                    continue
                try:
                    if column in core:
                        value = _unescape(cell.strip())
                    elif _unescape(cell) != cell and model.attribute_type(kind, column) != "array":
                        value = _unescape(cell)  # the export's formula guard marks text: no conversion
                    else:
                        value = _convert(_unescape(cell), kind, column)
                except _CellError as error:
                    problems.append(Problem(where, str(error), column))
                    continue
                _set_nested(record, column, value)
            records.append((where, record))
    except csv.Error as error:
        problems.append(Problem(f"{source}: line {reader.line_num}", f"is not valid CSV ({error})"))
    if problems:
        raise ValidationError(problems)
    return Batch.located(records)


def _text(path: str | Path) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(Problem(str(path), f"is not UTF-8 text (byte {error.start})")) from None


def located_csv(nodes_path: str | Path | None, edges_path: str | Path | None) -> tuple[list[Batch], list[Batch]]:
    """Read ``nodes.csv`` and ``edges.csv`` (either may be None) into batches of records."""
    nodes = [_read_table(_text(nodes_path), str(nodes_path), model.NODE_CORE_FIELDS)] if nodes_path else []
    edges = [_read_table(_text(edges_path), str(edges_path), model.EDGE_CORE_FIELDS)] if edges_path else []
    return nodes, edges


def read_csv(nodes_path: str | Path | None, edges_path: str | Path | None = None, *,
             existing_kinds: Callable[[set[str]], dict[str, str]] | None = None) -> GraphData:
    """Read and validate ``nodes.csv`` and (optionally) ``edges.csv``."""
    return validate_records(*located_csv(nodes_path, edges_path), existing_kinds=existing_kinds)


# -- writing -----------------------------------------------------------------------------------


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        column = prefix + key
        if isinstance(value, dict) and (prefix or key == "quality"):
            if _ASSESSMENT_SCORE in value and prefix.startswith("quality."):
                flat[column] = value[_ASSESSMENT_SCORE]
                flat.update(_flatten({k: v for k, v in value.items() if k != _ASSESSMENT_SCORE}, column + "."))
            else:
                flat.update(_flatten(value, column + "."))
        else:
            flat[column] = value
    return flat


_LIST_ATTRIBUTES = model.attributes_of_type("array")


def _cell(value: Any, column: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if column == "issues" and isinstance(value, list) and all(
            isinstance(i, dict) and not any(";" in str(v) or ":" in str(i.get("note", "")) for v in i.values())
            for i in value) and parse_issues(issues_short(value)) == value:
        text = issues_short(value)
    elif column in _LIST_ATTRIBUTES and column != "issues" and all(isinstance(i, str) and LIST_SEPARATOR not in i for i in value):
        text = LIST_SEPARATOR.join(value)
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return "'" + text if _guarded(text) else text


class _Writer:
    """A ``csv.writer`` whose rows end in ``\n`` and whose cells holding a carriage return are
    quoted (the standard writer quotes only the characters of its line ending, so a lone CR
    went out bare and split the row in every reader)."""

    def __init__(self, out: IO[str]):
        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        cells = list(row)
        carriage_return = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (self._quoted if carriage_return else self._plain).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: IO[str]) -> _Writer:
    r"""The one CSV writer of every export: rows end in ``\n``; a cell with a line break of any
    kind (CR included) is quoted, so the row stays whole.

    >>> from io import StringIO
    >>> out = StringIO()
    >>> csv_writer(out).writerow(["a\rb", 1, "c"])
    >>> out.getvalue()
    '"a\rb","1","c"\n'
    """
    return _Writer(out)


def write_csv_table(records: Iterable[dict[str, Any]], out: IO[str], core: tuple[str, ...]) -> None:
    """Write records as one CSV table: the core columns, then every attribute column sorted."""
    managed = {"created", "updated", "version"}
    rows = [_flatten({k: v for k, v in record.items() if k not in managed}) for record in records]
    extra = sorted({column for row in rows for column in row} - set(core))
    writer = csv_writer(out)
    writer.writerow([*core, *extra])
    for row in rows:
        writer.writerow([_cell(row[c], c) if c in row else "" for c in (*core, *extra)])


def write_csv(nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]], folder: str | Path) -> list[Path]:
    """Write ``nodes.csv`` and ``edges.csv`` into ``folder`` (created if needed); return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "nodes.csv", folder / "edges.csv"]
    for path, records, core in ((paths[0], nodes, model.NODE_CORE_FIELDS), (paths[1], edges, model.EDGE_CORE_FIELDS)):
        with path.open("w", encoding="utf-8", newline="") as out:
            write_csv_table(records, out, core)
    return paths

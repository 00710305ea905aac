"""The native JSON format (``lineage-graph/1``), as in ``sample_graphs/*.json``.

Writing sorts nodes by id and edges by (source, target), and each record's keys as
id/kind/name (source/target/kind) first then alphabetically, so that export -> load -> export
gives the same bytes.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from .. import model
from ..errors import Problem, ValidationError
from ..store import GraphData
from ..validate import Batch, validate_records


def located_native(text: str | bytes, source: str) -> tuple[Batch, Batch]:
    """Parse a native document into batches of node and edge records (not yet validated as a graph).

    The file-level ``organisation`` is given to every node that has none.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        document = json.loads(text)
    except UnicodeDecodeError as error:
        raise ValidationError(Problem(source, f"is not UTF-8 text (byte {error.start})")) from None
    except json.JSONDecodeError as error:
        raise ValidationError(Problem(f"{source}: line {error.lineno}, column {error.colno}",
                                      f"is not valid JSON ({error.msg})")) from None
    except RecursionError:
        raise ValidationError(Problem(source, "is nested too deeply to be a lineage file")) from None
    if not isinstance(document, dict):
        raise ValidationError(Problem(source, "expected a JSON object with format, nodes and edges"))
    problems = []
    if document.get("format") != model.FORMAT:
        problems.append(Problem(source, f"expected \"{model.FORMAT}\", got {json.dumps(document.get('format'))}",
                                "format"))
    for part in ("nodes", "edges"):
        if not isinstance(document.get(part), list):
            problems.append(Problem(source, "expected a list", part))
    organisation = document.get("organisation")
    if organisation is not None and not isinstance(organisation, str):
        problems.append(Problem(source, "expected text", "organisation"))
    if problems:
        raise ValidationError(problems)

    if organisation:
        for record in document["nodes"]:
            if type(record) is dict:
                record.setdefault("organisation", organisation)

    def batch(part: str, label: str) -> Batch:
        records = document[part]

        def locate(index: int) -> str:
            name = records[index].get(label) if isinstance(records[index], dict) else None
            return f"{source}: {part}[{index}]" + (f" ({label} '{name}')" if isinstance(name, str) else "")

        return Batch(records, locate)

    return batch("nodes", "id"), batch("edges", "source")


def parse_native(text: str | bytes, source: str, *,
                 existing_kinds: Callable[[set[str]], dict[str, str]] | None = None) -> GraphData:
    """Parse and validate a native document. ``source`` names it in messages (usually the file name)."""
    nodes, edges = located_native(text, source)
    return validate_records([nodes], [edges], existing_kinds=existing_kinds)


def read_native(path: str | Path, **options: Any) -> GraphData:
    """Read and validate a native file (see :func:`parse_native`)."""
    return parse_native(Path(path).read_bytes(), str(path), **options)


def _ordered(record: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: record[k] for k in first if k in record},
            **{k: record[k] for k in sorted(record) if k not in first}}


def write_native(nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]], out: IO[str], *,
                 organisation: str | None = None) -> None:
    """Write records as a native document, one record per line, in a stable order.

    Fields the store manages (created, updated, version) are left out: history lives in the
    audit log, not in the file.
    """
    managed = {"created", "updated", "version"}
    out.write('{"format": "%s",\n' % model.FORMAT)
    if organisation is not None:
        out.write(' "organisation": %s,\n' % json.dumps(organisation, ensure_ascii=False))
    for part, records, first, key in (
            ("nodes", nodes, model.NODE_CORE_FIELDS, lambda r: r["id"]),
            ("edges", edges, model.EDGE_CORE_FIELDS, lambda r: (r["source"], r["target"]))):
        out.write(f' "{part}": [')
        for index, record in enumerate(sorted(records, key=key)):
            clean = _ordered({k: v for k, v in record.items() if k not in managed}, first)
            out.write(("\n  " if index == 0 else ",\n  ") + json.dumps(clean, ensure_ascii=False))
        out.write("\n ]" + (",\n" if part == "nodes" else "\n"))
    out.write("}\n")

"""Reading and writing lineage files: native JSON and CSV in and out, OpenLineage events in
(:mod:`lineage.io.openlineage`), dbt artefacts, SQL and ATRS records in (:mod:`lineage.io.dbt`,
:mod:`lineage.io.sql`, :mod:`lineage.io.atrs`, through :mod:`lineage.importers`), GraphML, DOT and
W3C PROV-JSON out.

Readers return batches of records that can name each record's location;
:func:`lineage.validate.validate_records` checks them as one graph, so several files load
all-or-nothing.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from ..bulk import gc_paused
from ..store import GraphData, Store
from ..validate import Batch, validate_records
from .csv import located_csv, read_csv, write_csv
from .dot import write_dot
from .graphml import write_graphml
from .native import located_native, parse_native, read_native, write_native
from .prov import write_prov_json

__all__ = [
    "EXPORT_FORMATS",
    "export",
    "located_csv",
    "located_native",
    "parse_native",
    "read_csv",
    "read_files",
    "read_native",
    "write_csv",
    "write_dot",
    "write_graphml",
    "write_native",
    "write_prov_json",
]

Writer = Callable[[Iterable[dict[str, Any]], Iterable[dict[str, Any]], IO[str]], None]
WRITERS: dict[str, Writer] = {
    "json": write_native,
    "graphml": write_graphml,
    "dot": write_dot,
    "prov-json": write_prov_json,
}
"""Formats written as one file: the native JSON, GraphML (Gephi, yEd), DOT (Graphviz), PROV-JSON."""
EXPORT_FORMATS = ("json", "csv", "graphml", "dot", "prov-json")


def read_files(paths: list[str | Path], store: Store | None = None) -> GraphData:
    """Read and validate native JSON files as one graph (references may cross files)."""
    nodes: list[Batch] = []
    edges: list[Batch] = []
    with gc_paused():
        for path in paths:
            file_nodes, file_edges = located_native(Path(path).read_bytes(), str(path))
            nodes.append(file_nodes)
            edges.append(file_edges)
        return validate_records(nodes, edges, existing_kinds=store.kinds_of if store else None)


def export(store: Store, format: str, path: str | Path) -> list[Path]:
    """Write the whole store to ``path``: ``csv`` makes a folder of two files (nodes.csv,
    edges.csv); every other format of :data:`EXPORT_FORMATS` one file (``-`` for standard output).
    Returns the paths written."""
    if format == "csv":
        return write_csv(store.nodes(), store.edges(), path)
    if format not in WRITERS:
        raise ValueError(f"unknown export format '{format}'; expected one of: {', '.join(EXPORT_FORMATS)}")
    if str(path) == "-":
        WRITERS[format](store.nodes(), store.edges(), sys.stdout)
        return []
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        WRITERS[format](store.nodes(), store.edges(), out)
    return [Path(path)]

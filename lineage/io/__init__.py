"""Reading and writing lineage files: native JSON and CSV.

Readers return batches of records that can name each record's location;
:func:`lineage.validate.validate_records` checks them as one graph, so several files load
all-or-nothing.
"""
from __future__ import annotations

from pathlib import Path

from ..bulk import gc_paused
from ..store import GraphData, Store
from ..validate import Batch, validate_records
from .csv import located_csv, read_csv, write_csv
from .native import located_native, parse_native, read_native, write_native

__all__ = ["located_csv", "located_native", "parse_native", "read_csv", "read_native", "write_csv",
           "write_native", "read_files", "export"]

EXPORT_FORMATS = ("json", "csv")


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
    """Write the whole store to ``path`` as ``json`` (a file) or ``csv`` (a folder of two files)."""
    if format == "json":
        with Path(path).open("w", encoding="utf-8") as out:
            write_native(store.nodes(), store.edges(), out)
        return [Path(path)]
    if format == "csv":
        return write_csv(store.nodes(), store.edges(), path)
    raise ValueError(f"unknown export format '{format}'; expected one of: {', '.join(EXPORT_FORMATS)}")

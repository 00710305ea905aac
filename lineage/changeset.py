"""Bulk changes from a file: what it would add, change and remove (a dry run), then all of it or nothing.

A changeset is a native JSON document (``lineage-graph/1``) or one CSV table (``nodes.csv`` or
``edges.csv`` columns, told apart by their header). Its nodes and edges are added, or replace
the stored ones with the same id (or ends). A JSON document may also remove things::

    {"format": "lineage-graph/1", "nodes": [...], "edges": [...],
     "remove": {"nodes": ["old-dataset"], "edges": [{"source": "a", "target": "b"}]}}

Removing a node removes its edges too; the preview counts them.

Examples
--------
>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> changes = parse_changeset(b'{"format": "lineage-graph/1", "edges": [], '
...     b'"nodes": [{"id": "register", "kind": "dataset", "name": "Register"}]}', "upload.json", store)
>>> preview(store, changes).counts()
{'nodes_added': 1, 'nodes_changed': 0, 'nodes_removed': 0, 'edges_added': 0, 'edges_changed': 0, 'edges_removed': 0}
>>> apply_changeset(store, changes, actor="jo", summary="upload.json") > 0
True
"""
from __future__ import annotations

import csv
import json
from io import StringIO
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import model
from .io import located_native
from .io.csv import read_table
from .describe import attribute_changes
from .errors import ConflictError, NotFoundError, Problem, ValidationError
from .store import GraphData, Store, edge_ref, native_record
from .validate import Batch, validate_records

MAX_LISTED = 500
"""Entries of each list a preview keeps; counts are always exact."""


@dataclass
class Changeset:
    """A parsed and validated bulk change."""

    source: str
    data: GraphData
    remove_nodes: list[str] = field(default_factory=list)
    remove_edges: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What an importer wants people to know before applying (a statement it could not read ...)."""


@dataclass
class Preview:
    """What applying a changeset would do: ids and, for changes, the attribute differences."""

    nodes_added: list[dict[str, Any]] = field(default_factory=list)
    nodes_changed: list[dict[str, Any]] = field(default_factory=list)
    nodes_removed: list[dict[str, Any]] = field(default_factory=list)
    edges_added: list[dict[str, Any]] = field(default_factory=list)
    edges_changed: list[dict[str, Any]] = field(default_factory=list)
    edges_removed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    version: int = 0

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in
                ("nodes_added", "nodes_changed", "nodes_removed", "edges_added", "edges_changed", "edges_removed")}

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())

    def as_dict(self) -> dict[str, Any]:
        lists = {name: getattr(self, name)[:MAX_LISTED] for name in self.counts()}
        return {"version": self.version, "counts": self.counts(), "unchanged": self.unchanged, **lists}


def _removals(document: Any, source: str) -> tuple[list[str], list[tuple[str, str]]]:
    remove = document.get("remove") if isinstance(document, dict) else None
    if remove is None:
        return [], []
    where = f"{source}: remove"
    if not isinstance(remove, dict):
        raise ValidationError(Problem(where, "expected an object with nodes and/or edges"))
    nodes, edges, problems = [], [], []
    for index, node_id in enumerate(remove.get("nodes") or []):
        if isinstance(node_id, str):
            nodes.append(node_id)
        else:
            problems.append(Problem(f"{where}.nodes[{index}]", "expected a node id"))
    for index, edge in enumerate(remove.get("edges") or []):
        if isinstance(edge, dict) and isinstance(edge.get("source"), str) and isinstance(edge.get("target"), str):
            edges.append((edge["source"], edge["target"]))
        else:
            problems.append(Problem(f"{where}.edges[{index}]", "expected {\"source\": ID, \"target\": ID}"))
    if problems:
        raise ValidationError(problems)
    return nodes, edges


def parse_changeset(content: bytes, filename: str, store: Store, *, clear_blanks: bool = False) -> Changeset:
    """Read an uploaded ``.json`` or ``.csv`` file as a changeset, validated against ``store``.

    A CSV row for something that exists already changes only the columns the file has, and a
    blank cell changes nothing unless ``clear_blanks`` (then it removes that value): see
    :func:`merged_csv`. A JSON record replaces the stored one whole.

    Raises
    ------
    ValidationError
        Naming the file, the record and the field of every problem found (nothing is written).
    """
    name = Path(filename).name or "upload"
    suffix = Path(name).suffix.lower()
    from . import importers  # dbt, SQL and ATRS files go to their importers (which use this module)

    imported = importers.read_upload(content, name)
    if imported is not None:
        return importers.changeset(store, imported, name)
    if suffix == ".json":
        nodes, edges = located_native(content, name)
        data = validate_records([nodes], [edges], existing_kinds=store.kinds_of)
        remove_nodes, remove_edges = _removals(json.loads(content), name)
    elif suffix == ".csv":
        data = validate_records(*merged_csv(content, name, store, clear_blanks=clear_blanks),
                                existing_kinds=store.kinds_of)
        remove_nodes, remove_edges = [], []
    else:
        raise ValidationError(Problem(name, "expected a " + ", ".join(
            f"{ending} ({what})" for ending, what in importers.UPLOAD_KINDS.items()) + " file"))
    _check_removals(store, data, remove_nodes, remove_edges, name)
    importers.tag_upload(store, data, name)
    return Changeset(name, data, remove_nodes, remove_edges)


def _check_removals(store: Store, data: GraphData, nodes: list[str], edges: list[tuple[str, str]],
                    source: str) -> None:
    problems = []
    kept = {record["id"] for record in data.nodes}
    for index, node_id in enumerate(nodes):
        if node_id in kept:
            problems.append(Problem(f"{source}: remove.nodes[{index}]", f"'{node_id}' is both kept and removed"))
        elif not store.kinds_of([node_id]):
            problems.append(Problem(f"{source}: remove.nodes[{index}]", f"there is no node '{node_id}' to remove"))
    gone = set(nodes)
    for index, edge in enumerate(data.edges):
        for end in ("source", "target"):
            if edge[end] in gone:
                problems.append(Problem(f"{source}: edges[{index}]", f"joins '{edge[end]}', which is removed", end))
    for index, (source_id, target_id) in enumerate(edges):
        try:
            store.edge(source_id, target_id)
        except NotFoundError:
            problems.append(Problem(f"{source}: remove.edges[{index}]",
                                    f"there is no edge {edge_ref(source_id, target_id)} to remove"))
    if problems:
        raise ValidationError(problems)


def preview(store: Store, changes: Changeset) -> Preview:
    """What :func:`apply_changeset` would do now, without doing it."""
    result = Preview(version=store.version)
    stored_nodes = {r["id"]: r for r in store.nodes(ids=[n["id"] for n in changes.data.nodes])}
    for record in changes.data.nodes:
        before = stored_nodes.get(record["id"])
        summary = {"id": record["id"], "kind": record["kind"], "name": record.get("name")}
        if before is None:
            result.nodes_added.append(summary)
        elif native_record(before) != record:
            result.nodes_changed.append({**summary, "differences": attribute_changes(native_record(before), record)})
        else:
            result.unchanged += 1
    for record in changes.data.edges:
        ref = edge_ref(record["source"], record["target"])
        try:
            before = native_record(store.edge(record["source"], record["target"]))
        except NotFoundError:
            result.edges_added.append({"ref": ref, "kind": record["kind"]})
            continue
        if before != record:
            result.edges_changed.append({"ref": ref, "kind": record["kind"],
                                         "differences": attribute_changes(before, record)})
        else:
            result.unchanged += 1
    removed_edges = set()
    for node_id in changes.remove_nodes:
        node = store.node(node_id)
        result.nodes_removed.append({"id": node_id, "kind": node["kind"], "name": node["name"]})
        for edge in store.edges(touching=node_id):
            removed_edges.add((edge["source"], edge["target"], edge["kind"]))
    for source, target in changes.remove_edges:
        removed_edges.add((source, target, store.edge(source, target)["kind"]))
    result.edges_removed = [{"ref": edge_ref(s, t), "kind": k} for s, t, k in sorted(removed_edges)]
    return result


def apply_changeset(store: Store, changes: Changeset, *, actor: str, summary: str,
                    expected_version: int | None = None) -> int:
    """Apply a changeset as one change (all of it or nothing); the change's id.

    ``expected_version`` is the graph version the preview was made at: if anything has been
    written since, nothing is applied (a ``ConflictError``), so what is applied is what was shown.
    """
    with store.change(actor, summary) as change:
        if expected_version is not None and store.version != expected_version:
            raise ConflictError(f"the graph has changed since the preview (version {expected_version}, now "
                                f"{store.version}); look at the preview again", expected=expected_version,
                                actual=store.version)
        for source, target in changes.remove_edges:
            change.delete_edge(source, target)
        for node_id in changes.remove_nodes:
            change.delete_node(node_id)
        change.load(changes.data)
        return change.id


def policy_targets(store: Store, changes: Changeset) -> list[tuple[str, Any]]:
    """What a changeset touches, as :func:`lineage.policy.decide` takes it for ``bulk_change``:
    stored records where they exist (ownership is judged before the change), else the new ones."""
    ids = [n["id"] for n in changes.data.nodes] + changes.remove_nodes
    ids += [end for e in changes.data.edges for end in (e["source"], e["target"])]
    ids += [end for pair in changes.remove_edges for end in pair]
    stored = {r["id"]: r for r in store.nodes(ids=ids)}
    new = {r["id"]: r for r in changes.data.nodes}
    targets: list[tuple[str, Any]] = [("node", stored.get(r["id"], r)) for r in changes.data.nodes]
    targets += [("node", stored[i]) for i in changes.remove_nodes]
    for source, target in [(e["source"], e["target"]) for e in changes.data.edges] + changes.remove_edges:
        targets.append(("edge", (stored.get(source) or new[source], stored.get(target) or new[target])))
    return targets


# -- CSV rows merge with what is stored -----------------------------------------------------------


def _text(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(Problem(name, f"is not UTF-8 text (byte {error.start}): save it as "
                                            "“CSV UTF-8” and upload it again")) from None


def _merge_quality(stored: Any, given: dict[str, Any]) -> dict[str, Any]:
    quality = dict(stored or {})
    for dimension, value in given.items():
        before = quality.get(dimension)
        if isinstance(value, dict):  # some of score, rag, note, as_of
            base = dict(before) if isinstance(before, dict) else ({"score": before} if before is not None else {})
            quality[dimension] = {**base, **value}
        elif isinstance(before, dict):  # a score alone keeps the note, rating and date
            quality[dimension] = {**before, "score": value}
        else:
            quality[dimension] = value
    return quality


def _clear(record: dict[str, Any], column: str) -> None:
    parts = column.split(".")
    if parts[0] != "quality" or len(parts) == 1:
        record.pop(column, None)
        return
    quality = dict(record.get("quality") or {})
    if len(parts) == 2:
        quality.pop(parts[1], None)
    elif isinstance(quality.get(parts[1]), dict):
        assessment = {k: v for k, v in quality[parts[1]].items() if k != parts[2]}
        if assessment:
            quality[parts[1]] = assessment
        else:
            quality.pop(parts[1])
    if quality:
        record["quality"] = quality
    else:
        record.pop("quality", None)


def merge_record(stored: dict[str, Any] | None, row: dict[str, Any], blank: set[str], core: tuple[str, ...],
                 *, clear_blanks: bool = False) -> dict[str, Any]:
    """A CSV row applied to the stored record: only the columns given change; a blank cell
    changes nothing, or with ``clear_blanks`` removes that value. A new record is the row.

    >>> stored = {"id": "reg", "kind": "dataset", "name": "Register", "refresh": "daily",
    ...           "quality": {"timeliness": {"score": 0.7, "note": "late"}}}
    >>> merge_record(stored, {"id": "reg", "quality": {"timeliness": 0.8}}, {"refresh"}, ("id", "kind", "name"))
    {'id': 'reg', 'kind': 'dataset', 'name': 'Register', 'refresh': 'daily', 'quality': {'timeliness': {'score': 0.8, 'note': 'late'}}}
    >>> merge_record(stored, {"id": "reg"}, {"refresh"}, ("id", "kind", "name"), clear_blanks=True)["refresh"]
    Traceback (most recent call last):
    ...
    KeyError: 'refresh'
    """
    if stored is None:
        return row
    merged = dict(native_record(stored))
    for key, value in row.items():
        merged[key] = _merge_quality(merged.get("quality"), value) if key == "quality" and isinstance(value, dict) \
            else value
    if clear_blanks:
        for column in sorted(blank - set(core)):
            _clear(merged, column)
    return merged


def merged_csv(content: bytes, name: str, store: Store, *, clear_blanks: bool = False) -> tuple[list[Batch], list[Batch]]:
    """A CSV table of nodes (an ``id`` column) or edges (``source`` and ``target``), each row
    merged with the stored record it names (:func:`merge_record`); new ones need every core column.
    Messages name the file as uploaded and the line, never a path on the server."""
    text = _text(content, name)
    try:
        header = [c.strip().lstrip("\ufeff") for c in next(csv.reader([text.split("\n", 1)[0]]), [])]
    except csv.Error:
        header = []
    is_edges = "source" in header and "target" in header
    core = model.EDGE_CORE_FIELDS if is_edges else model.NODE_CORE_FIELDS
    required = ("source", "target") if is_edges else ("id",)
    stored_nodes: dict[str, dict[str, Any]] = {}
    stored_edges: dict[tuple[str, str], dict[str, Any]] = {}

    def kind_of(cells: dict[str, str]) -> str | None:
        found = stored_edges.get((cells.get("source", ""), cells.get("target", ""))) if is_edges \
            else stored_nodes.get(cells.get("id", ""))
        return found["kind"] if found else None

    # Read the keys first, to look the stored records up in one go.
    try:
        keys = [dict(zip(header, row)) for row in list(csv.reader(StringIO(text, newline="")))[1:]
                if any(c.strip() for c in row)]
    except csv.Error:
        keys = []  # read_table says what is wrong
    if is_edges:
        for row in keys:
            try:
                stored_edges[(row.get("source", "").strip(), row.get("target", "").strip())] = \
                    store.edge(row.get("source", "").strip(), row.get("target", "").strip())
            except NotFoundError:
                pass
    else:
        stored_nodes = {r["id"]: r for r in store.nodes(ids=[row.get("id", "").strip() for row in keys])}
    blanks: list[set[str]] = []
    batch = read_table(text, name, core, required=required, kind_of=kind_of, blanks=blanks)
    merged = []
    for index, (record, blank) in enumerate(zip(batch.records, blanks)):
        stored = stored_edges.get((record.get("source"), record.get("target"))) if is_edges \
            else stored_nodes.get(record.get("id"))
        merged.append((batch.locate(index), merge_record(stored, record, blank, core, clear_blanks=clear_blanks)))
    located = Batch.located(merged)
    return ([], [located]) if is_edges else ([located], [])

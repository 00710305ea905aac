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

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import io
from .describe import attribute_changes
from .errors import ConflictError, NotFoundError, Problem, ValidationError
from .store import GraphData, Store, edge_ref, native_record
from .validate import validate_records

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


def parse_changeset(content: bytes, filename: str, store: Store) -> Changeset:
    """Read an uploaded ``.json`` or ``.csv`` file as a changeset, validated against ``store``.

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
        nodes, edges = io.located_native(content, name)
        data = validate_records([nodes], [edges], existing_kinds=store.kinds_of)
        remove_nodes, remove_edges = _removals(json.loads(content), name)
    elif suffix == ".csv":
        header = content.split(b"\n", 1)[0].decode("utf-8-sig", "replace").lower().replace(" ", "").split(",")
        is_edges = "source" in header and "target" in header
        # The CSV reader reads files: the upload is written to a temporary one, named as uploaded.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            located = io.located_csv(None, path) if is_edges else io.located_csv(path, None)
            data = validate_records(*located, existing_kinds=store.kinds_of)
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

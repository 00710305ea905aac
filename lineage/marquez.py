"""The graph as Marquez's read API shows it, so that tools that read Marquez can read lineage.

Marquez (the OpenLineage reference server) knows jobs and datasets in namespaces. Here a
``dataset`` node is a Marquez ``DATASET`` and a ``process`` or ``ai_tool`` node a ``JOB``, named by
the OpenLineage key kept on it (``openlineage.namespace``, ``openlineage.name``); a node drawn by
hand, with no such key, is in the namespace :data:`OWN_NAMESPACE` under its id. People, teams,
systems and decisions are not Marquez's and never appear (so no person is named, whoever asks).

* :func:`namespaces`: ``{"namespaces": [{"name", "createdAt", "updatedAt", "ownerName", "description"}]}``
* :func:`lineage_graph`: ``{"graph": [{"id", "type", "data", "inEdges", "outEdges"}]}`` around a node
  given as ``dataset:NAMESPACE:NAME`` or ``job:NAMESPACE:NAME`` (a dataset's other names, from
  ``symlinks`` or a rename, find it too), ``depth`` steps both ways; edges are
  ``{"origin", "destination"}`` node ids.
* :func:`column_lineage`: ``{"graph": [{"id", "type": "DATASET_FIELD", "data", "inEdges", "outEdges"}]}``,
  the fields of datasets (:mod:`lineage.fields`) and their field links, around a dataset, a job (the
  fields of what it reads and writes) or one field, given as ``datasetField:NAMESPACE:NAME:FIELD``:
  ``depth`` links upstream, and downstream too when asked. A field's ``data`` is ``{"type",
  "namespace", "dataset", "datasetVersion", "field", "fieldType", "transformationDescription",
  "transformationType", "inputFields": [{"namespace", "dataset", "datasetVersion", "field",
  "transformationDescription", "transformationType"}]}``; its id ``datasetField:NAMESPACE:NAME:FIELD``.
  Edges go the way data flows (``origin`` the input field), in and out alike, as in :func:`lineage_graph`.
* :func:`search`: ``{"totalCount", "results": [{"type", "name", "updatedAt", "namespace", "nodeId"}]}``,
  names holding the query (any case; ``%`` and ``_`` as in SQL ``LIKE``).

>>> from lineage.store import Store
>>> from lineage.graph import LineageGraph
>>> store = Store(":memory:", create=True)
>>> with store.change("t", "t") as change:
...     change.add_node({"id": "reg", "kind": "dataset", "name": "Register"})
...     change.add_node({"id": "model", "kind": "ai_tool", "name": "Model"})
...     change.add_edge({"source": "reg", "target": "model", "kind": "feeds"})
>>> g = LineageGraph.from_store(store)
>>> graph = lineage_graph(g, store, resolve(g, store, "dataset:lineage:reg"), depth=1)["graph"]
>>> [(n["id"], n["type"], n["outEdges"]) for n in graph]  # doctest: +NORMALIZE_WHITESPACE
[('dataset:lineage:reg', 'DATASET', [{'origin': 'dataset:lineage:reg', 'destination': 'job:lineage:model'}]),
 ('job:lineage:model', 'JOB', [])]
"""
from __future__ import annotations

import json
from typing import Any

from . import fields
from .errors import LineageError, NotFoundError
from .graph import LineageGraph, traverse
from .io import openlineage_names
from .io.openlineage import META

OWN_NAMESPACE = "lineage"
"""The Marquez namespace of nodes drawn by hand (with no OpenLineage key)."""
TYPES = {"dataset": "DATASET", "process": "JOB", "ai_tool": "JOB"}
"""Node kind -> Marquez node type; other kinds are not shown."""
MAX_DEPTH = 20
"""Marquez's default depth, and the deepest asked for here."""
MAX_NODES = 5000
"""Most nodes in one graph: a hub's neighbourhood is cut (nearest first)."""
MAX_RESULTS = 1000


def key_of(record: dict[str, Any]) -> tuple[str, str]:
    """A node's (namespace, name) as Marquez names it."""
    meta = record.get(META)
    if isinstance(meta, dict) and meta.get("namespace") is not None:
        return meta["namespace"], meta["name"]
    return OWN_NAMESPACE, record["id"]


def marquez_id(record: dict[str, Any]) -> str:
    """``dataset:NAMESPACE:NAME`` or ``job:NAMESPACE:NAME``."""
    namespace, name = key_of(record)
    return f"{TYPES[record['kind']].lower()}:{namespace}:{name}"


def resolve(g: LineageGraph, store: Any, text: str) -> str:
    """The node a Marquez node id names (a namespace may hold colons: every split is tried).

    Raises
    ------
    LineageError
        When ``text`` is not ``dataset:...`` or ``job:...``.
    NotFoundError
        When no job or dataset has that name.
    """
    entity, _, rest = (text or "").partition(":")
    if entity not in ("dataset", "job") or ":" not in rest:
        raise LineageError(f"nodeId must be dataset:NAMESPACE:NAME or job:NAMESPACE:NAME; got {text[:100]!r}")
    splits = [i for i, char in enumerate(rest) if char == ":"]
    for at in splits:
        namespace, name = rest[:at], rest[at + 1:]
        if namespace == OWN_NAMESPACE and name in g and TYPES.get(g.kind(name), "").lower() == entity:
            return name
        found = openlineage_names.node_named(store, entity, namespace, name)
        if found and found in g:
            return found
    raise NotFoundError(f"there is no {entity} '{rest[:200]}'")


def _dataset(record: dict[str, Any]) -> dict[str, Any]:
    namespace, name = key_of(record)
    return {"id": {"namespace": namespace, "name": name}, "type": "DB_TABLE", "name": name, "physicalName": name,
            "createdAt": record.get("created"), "updatedAt": record.get("updated"), "namespace": namespace,
            "sourceName": namespace,
            # The schema facet as it came, or else the field model's fields (a CSV, a form, SQL).
            "fields": [{"name": f.get("name"), "type": f.get("type"), "tags": [], "description": f.get("description")}
                       for f in record.get("schema") or fields.fields_of(record) if isinstance(f, dict)],
            "tags": list(record.get("tags") or ()), "lastModifiedAt": None,
            "lastLifecycleState": "DROP" if record.get("dropped") else None,
            "description": record.get("description"), "facets": {}, "deleted": bool(record.get("dropped"))}


def _job(record: dict[str, Any], inputs: list[dict], outputs: list[dict], parent: str | None) -> dict[str, Any]:
    namespace, name = key_of(record)
    return {"id": {"namespace": namespace, "name": name}, "type": "BATCH", "name": name,
            "simpleName": name.rsplit(".", 1)[-1] if parent else name, "parentJobName": parent,
            "createdAt": record.get("created"), "updatedAt": record.get("updated"), "namespace": namespace,
            "inputs": inputs, "outputs": outputs, "location": None, "description": record.get("description"),
            "latestRun": None, "facets": {}}


def lineage_graph(g: LineageGraph, store: Any, node: str, *, depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The jobs and datasets within ``depth`` steps of ``node`` (a node id: :func:`resolve` finds it
    from a Marquez node id), either way, in Marquez's graph shape (see the module)."""
    if not (isinstance(depth, int) and 0 <= depth <= MAX_DEPTH):
        raise LineageError(f"depth must be a whole number from 0 to {MAX_DEPTH}; got {depth!r}")
    if g.kind(node) not in TYPES:
        raise LineageError(f"'{node}' is a {g.kind(node)}: Marquez shows jobs and datasets only")
    reach = traverse(g, node, direction="both", depth=depth, kinds=list(TYPES))
    ids = [node, *reach.ids(MAX_NODES - 1)]
    records = g.records(ids)
    names = {i: marquez_id(records[i]) for i in ids}
    flow = [(g.ids[s], g.ids[t]) for s, t, _ in g.edges_among([g.position(i) for i in ids])]
    parents = _parents(g, store, [i for i in ids if records[i]["kind"] != "dataset"])
    into: dict[str, list[dict]] = {i: [] for i in ids}
    out: dict[str, list[dict]] = {i: [] for i in ids}
    for source, target in flow:
        edge = {"origin": names[source], "destination": names[target]}
        out[source].append(edge)
        into[target].append(edge)
    graph = []
    for i in sorted(ids, key=lambda i: names[i]):
        record = records[i]
        if record["kind"] == "dataset":
            data = _dataset(record)
        else:
            data = _job(record, [dict(zip(("namespace", "name"), key_of(records[s]))) for s, t in flow
                                 if t == i and records[s]["kind"] == "dataset"],
                        [dict(zip(("namespace", "name"), key_of(records[t]))) for s, t in flow
                         if s == i and records[t]["kind"] == "dataset"], parents.get(i))
        graph.append({"id": names[i], "type": TYPES[record["kind"]], "data": data,
                      "inEdges": into[i], "outEdges": out[i]})
    return {"graph": graph}


def _parents(g: LineageGraph, store: Any, jobs: list[str]) -> dict[str, str]:
    """The name of the job each of ``jobs`` is part of (an Airflow DAG, a Spark application): a
    ``part_of`` edge, which carries no data, so the graph's traversals do not hold it."""
    rows = store.conn.execute(
        "SELECT s.id, t.id FROM edges e JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target "
        "WHERE e.kind = 'part_of' AND s.id IN (SELECT value FROM json_each(?))", (json.dumps(jobs),))
    pairs = dict(rows.fetchall())
    records = g.records([p for p in pairs.values() if p in g])
    return {job: key_of(records[parent])[1] for job, parent in pairs.items() if parent in records}


def resolve_column(g: LineageGraph, store: Any, text: str) -> tuple[str, str | None]:
    """The node, and the field (None for a whole dataset or job), a column-lineage node id names:
    ``datasetField:NAMESPACE:NAME:FIELD`` as well as what :func:`resolve` reads.

    Raises
    ------
    LineageError
        When ``text`` is none of those.
    NotFoundError
        When there is no such dataset, job or field.
    """
    entity, _, rest = (text or "").partition(":")
    if entity != "datasetField":
        return resolve(g, store, text), None
    splits = [i for i, char in enumerate(rest) if char == ":"][1:]
    if not splits:
        raise LineageError(f"nodeId must be datasetField:NAMESPACE:NAME:FIELD; got {text[:100]!r}")
    for at in reversed(splits):  # a field's name holds a colon less often than a namespace does
        try:
            node = resolve(g, store, "dataset:" + rest[:at])
        except NotFoundError:
            continue
        if rest[at + 1:] in {f["name"] for f in fields.fields_of(g.records([node])[node])}:
            return node, rest[at + 1:]
    raise NotFoundError(f"there is no field '{rest[:200]}'")


def _transformation(link: dict[str, Any]) -> dict[str, Any]:
    """A field link's transformation as Marquez names it (OpenLineage 1-0-1's words)."""
    kind = "MASKED" if link.get("masking") else link.get("subtype") or link.get("type")
    return {"transformationDescription": link.get("description"), "transformationType": kind}


def column_lineage(g: LineageGraph, store: Any, node: str, *, field: str | None = None, depth: int = MAX_DEPTH,
                   downstream: bool = False) -> dict[str, Any]:
    """Marquez's column-lineage graph (see the module) around ``node`` (a node id, or with ``field``
    one of its fields: :func:`resolve_column` finds them from a Marquez node id).

    Only datasets' fields appear: a field link from a system's or a job's field is left out.
    """
    if not (isinstance(depth, int) and 0 <= depth <= MAX_DEPTH):
        raise LineageError(f"depth must be a whole number from 0 to {MAX_DEPTH}; got {depth!r}")
    if g.kind(node) not in TYPES:
        raise LineageError(f"'{node}' is a {g.kind(node)}: Marquez shows jobs and datasets only")
    records: dict[str, dict[str, Any]] = {}

    def record(i: str) -> dict[str, Any]:
        if i not in records:
            records.update(g.records([i]))
        return records[i]

    def inputs(ref: tuple[str, str]) -> list[dict[str, Any]]:
        """The dataset fields ``ref`` comes from: its own links, and those every field of its node has."""
        own = next((f.get("from") or [] for f in fields.fields_of(record(ref[0])) if f["name"] == ref[1]), [])
        return [link for link in [*own, *(record(ref[0]).get("all_fields_from") or ())]
                if link["node"] in g and g.kind(link["node"]) == "dataset"]

    readers: dict[str, list[str]] = {}

    def outputs(ref: tuple[str, str]) -> list[tuple[str, str]]:
        """The dataset fields that name ``ref`` as an input: a link names a node at most two steps up."""
        if ref[0] not in readers:
            readers[ref[0]] = traverse(g, ref[0], depth=2, kinds=["dataset"]).ids()
        return [(i, f["name"]) for i in readers[ref[0]] for f in fields.fields_of(record(i))
                if any((link["node"], link["field"]) == ref for link in inputs((i, f["name"])))]

    if g.kind(node) == "dataset":
        start = [(node, field)] if field is not None else [(node, f["name"]) for f in fields.fields_of(record(node))]
    else:  # a job: the fields of what it reads and writes
        near = traverse(g, node, direction="both", depth=1, kinds=["dataset"]).ids()
        start = [(i, f["name"]) for i in near for f in fields.fields_of(record(i))]
    seen = dict.fromkeys(start[:MAX_NODES])
    frontier = list(seen)
    for _ in range(depth):
        step = [(link["node"], link["field"]) for ref in frontier for link in inputs(ref)]
        if downstream:
            step += [out for ref in frontier for out in outputs(ref)]
        frontier = [ref for ref in dict.fromkeys(step) if ref not in seen][:MAX_NODES - len(seen)]
        seen.update(dict.fromkeys(frontier))
        if not frontier:
            break

    def field_id(ref: tuple[str, str]) -> str:
        return "datasetField:{}:{}:{}".format(*key_of(record(ref[0])), ref[1])

    into: dict[tuple[str, str], list[dict]] = {ref: [] for ref in seen}
    out: dict[tuple[str, str], list[dict]] = {ref: [] for ref in seen}
    graph = []
    for ref in seen:
        links = inputs(ref)
        for source in dict.fromkeys((link["node"], link["field"]) for link in links):
            if source in seen:
                edge = {"origin": field_id(source), "destination": field_id(ref)}
                into[ref].append(edge)
                out[source].append(edge)
        namespace, name = key_of(record(ref[0]))
        item = next((f for f in fields.fields_of(record(ref[0])) if f["name"] == ref[1]), {})
        graph.append({"id": field_id(ref), "type": "DATASET_FIELD", "data": {
            "type": "DATASET_FIELD", "namespace": namespace, "dataset": name, "datasetVersion": None,
            "field": ref[1], "fieldType": item.get("type") or "UNKNOWN",
            **(_transformation(links[0]) if len(links) == 1 else
               {"transformationDescription": None, "transformationType": None}),
            "inputFields": [{"namespace": key_of(record(link["node"]))[0], "dataset": key_of(record(link["node"]))[1],
                             "datasetVersion": None, "field": link["field"], **_transformation(link)}
                            for link in links]}, "inEdges": into[ref], "outEdges": out[ref]})
    graph.sort(key=lambda n: n["id"])
    return {"graph": graph}


def namespaces(store: Any) -> dict[str, Any]:
    """Every namespace a job or dataset is in, by name, with when its first node was added and its
    last changed."""
    rows = store.conn.execute(
        "SELECT coalesce(json_extract(attrs, '$.openlineage.namespace'), ?) AS namespace, min(created), max(updated) "
        "FROM nodes WHERE kind IN ('dataset', 'process', 'ai_tool') GROUP BY 1 ORDER BY 1", (OWN_NAMESPACE,))
    return {"namespaces": [{"name": name, "createdAt": created, "updatedAt": updated, "ownerName": None,
                            "description": None, "isHidden": False} for name, created, updated in rows]}


def search(g: LineageGraph, store: Any, q: str, *, filter: str | None = None, sort: str = "name",
           limit: int = 100) -> dict[str, Any]:
    """Jobs and datasets whose name (or a dataset's other name) holds ``q`` (see the module)."""
    if not q or len(q) > 200:
        raise LineageError("q must be from 1 to 200 characters")
    if filter not in (None, "", "dataset", "job"):
        raise LineageError(f"filter must be dataset or job; got {filter[:50]!r}")
    if sort not in ("name", "updated_at"):
        raise LineageError(f"sort must be name or updated_at; got {sort[:50]!r}")
    if not 1 <= limit <= MAX_RESULTS:
        raise LineageError(f"limit must be from 1 to {MAX_RESULTS}; got {limit}")
    kinds = {"dataset": ("dataset",), "job": ("process", "ai_tool")}.get(filter or "", tuple(TYPES))
    pattern = f"%{q}%"
    rows = store.conn.execute(
        "SELECT id FROM nodes WHERE kind IN (SELECT value FROM json_each(?)) AND (name LIKE ? "
        "OR json_extract(attrs, '$.openlineage.name') LIKE ? OR id LIKE ?) "
        "UNION SELECT node FROM openlineage_aliases WHERE name LIKE ?",
        (json.dumps(kinds), pattern, pattern, pattern, pattern))
    ids = [i for (i,) in rows if i in g and g.kind(i) in kinds]
    records = g.records(ids)
    results = [{"type": TYPES[records[i]["kind"]], "name": key_of(records[i])[1], "updatedAt": records[i].get("updated"),
                "namespace": key_of(records[i])[0], "nodeId": marquez_id(records[i])} for i in ids]
    results.sort(key=(lambda r: (r["name"], r["nodeId"])) if sort == "name"
                 else (lambda r: (r["updatedAt"] or "", r["nodeId"])), reverse=sort == "updated_at")
    return {"totalCount": len(results), "results": results[:limit]}


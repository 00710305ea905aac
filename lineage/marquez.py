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
            "fields": [{"name": f.get("name"), "type": f.get("type"), "tags": [], "description": f.get("description")}
                       for f in record.get("schema") or () if isinstance(f, dict)],
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


def column_lineage(g: LineageGraph, store: Any, node: str, *, depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Marquez's column-lineage graph around ``node``: the table-level graph of :func:`lineage_graph`
    with each dataset's ``columnLineage`` empty, until field-level lineage is in the model (issue 18,
    the field model) to fill it."""
    graph = lineage_graph(g, store, node, depth=depth)
    for item in graph["graph"]:
        if item["type"] == "DATASET":
            item["data"]["columnLineage"] = []
    return graph


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


"""Fields: the columns of systems, datasets, processes and AI tools, and where each one goes.

A housing officer fills in fields, not datasets. This module holds the shapes of fields and of
field-level lineage, how to attach them to node records, and the questions asked of them.

Data shapes (all plain JSON in the native record, validated by ``lineage/schema.json``)
----------------------------------------------------------------------------------------
A node of kind system, dataset, process or AI tool may carry ``fields``, a list of field objects,
each name once::

    {"name": "household_size", "type": "integer", "description": "People in the household",
     "quality": {"completeness": {"score": 0.92, "note": "674 of 8,421 records leave it blank"}},
     "from": [{"node": "housing-cms", "field": "household_size",
               "type": "DIRECT", "subtype": "IDENTITY", "masking": false}]}

``from`` lists the field's inputs (field links): the field ``field`` of node ``node``, with
OpenLineage's transformation ``type`` (DIRECT: the value is derived from the input; INDIRECT: the
input decides which rows or how, without its value flowing) and ``subtype`` (IDENTITY,
TRANSFORMATION, AGGREGATION, FILTER, JOIN, GROUP_BY, SORT, WINDOW, CONDITIONAL), a
``description`` and ``masking`` (the value is hashed or redacted on the way). Field links live on
the node that owns the output field, so storing, versioning, audit, undo and every export come
with the node. A node's ``all_fields_from`` lists input fields that every one of its fields
depends on (OpenLineage 1-2-0's dataset-wide lineage: a filter or a join key).

An ``enters`` edge (person -> system or dataset) may name the fields the person fills in:
``"fields": ["household_size", {"field": "income", "missing": 120}]``, where ``missing`` counts
the person's records that leave that field blank.

The rule of flow
----------------
A field's value reaches another node's field when a field link says so. A node that declares no
field links from the field's node (a job, a decision, a dataset or model that lists none) is
reached by the field, which passes through it unchanged to the nodes after it: so OpenLineage's
``input -> job -> output`` links, which name the input dataset, resolve across the job. A
dataset-wide link (``all_fields_from``) makes the whole node depend on the field. A field link
names a node at most two data-flow steps upstream (directly, or through one process or AI tool);
:func:`check_links` reports links that do not. Past those two steps a field's way is plain reach,
followed on arrays without reading records.

Queries take the graph first and read records lazily, through an index built per graph on
first use (:func:`field_index`), so a million nodes with twenty fields each cost only what a
query touches.

Examples
--------
>>> from lineage.graph import LineageGraph
>>> reg = attach_fields({"id": "reg", "kind": "dataset", "name": "Register"},
...                     [field("household_size", type="integer", completeness=0.92), field("email")])
>>> model = link_field({"id": "model", "kind": "ai_tool", "name": "Model"}, "household size",
...                    [field_source("reg", "household_size", subtype="IDENTITY")])
>>> g = LineageGraph.from_records(
...     [reg, model, {"id": "homes", "kind": "decision", "name": "Who gets a home"}],
...     [{"source": "reg", "target": "model", "kind": "feeds"},
...      {"source": "model", "target": "homes", "kind": "informs"}])
>>> reach = field_downstream(g, "reg", "household_size")
>>> reach.fields, reach.decisions
([('model', 'household size')], ['homes'])
>>> field_downstream(g, "reg", "email").decisions
[]
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field as dataclass_field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import model
from .errors import LineageError, NotFoundError, Problem

if TYPE_CHECKING:
    from .graph import LineageGraph

FIELD_KINDS: tuple[str, ...] = ("system", "dataset", "process", "ai_tool")
"""Node kinds that may have fields."""
TRANSFORMATION_TYPES: tuple[str, ...] = ("DIRECT", "INDIRECT")
"""OpenLineage's transformation types: the input's value flows (DIRECT), or it only decides which
rows or how (INDIRECT)."""
TRANSFORMATION_SUBTYPES: tuple[str, ...] = (
    "IDENTITY", "TRANSFORMATION", "AGGREGATION", "FILTER", "JOIN", "GROUP_BY", "SORT", "WINDOW", "CONDITIONAL")
"""OpenLineage's transformation subtypes."""
FAR_KEPT = 64
"""Plain reaches a field index keeps (see :meth:`FieldIndex.far`)."""
ROUTES_LISTED = 100
"""Decisions a field's reach gives a route to (the nearest): a hub's field reaches twenty thousand."""
REST_DEPTH, REST_STEPS, REST_INPUTS = 6, 2_000, 100
"""How far :func:`decision_fields` walks back: steps from the decision's inputs, steps per input, inputs."""
MAX_STATES = 200_000
"""Most (node, field) steps one query explores; a query that would go further says so
(``truncated``) rather than running on."""

FieldRef = tuple[str, str]
"""A field named by (node id, field name)."""


# ---------------------------------------------------------------------------------------------
# Building records


def field(name: str, *, type: str | None = None, description: str | None = None,  # noqa: A002 (the shape's name)
          completeness: float | None = None, completeness_note: str | None = None,
          sources: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """One field object.

    Parameters
    ----------
    name : str
        The field's name, unique within its node.
    type, description : str, optional
        Its data type as the source system names it, and what it means.
    completeness : float, optional
        The share of records that fill it in (0..1), stored as ``quality.completeness``.
    completeness_note : str, optional
        How the completeness was found ("674 of 8,421 records leave it blank").
    sources : iterable of dict
        Field links (:func:`field_source`) this field comes from.

    >>> field("income", type="decimal", completeness=0.9)
    {'name': 'income', 'type': 'decimal', 'quality': {'completeness': 0.9}}
    """
    record: dict[str, Any] = {"name": name}
    if type is not None:
        record["type"] = type
    if description is not None:
        record["description"] = description
    if completeness is not None:
        record["quality"] = {"completeness": completeness if completeness_note is None
                             else {"score": completeness, "note": completeness_note}}
    if sources:
        record["from"] = [dict(source) for source in sources]
    return record


def field_source(node: str, field_name: str, *, type: str | None = None,  # noqa: A002 (the shape's name)
                 subtype: str | None = None, description: str | None = None,
                 masking: bool | None = None) -> dict[str, Any]:
    """One field link: the input field (``node``, ``field_name``) an output field comes from.

    >>> field_source("reg", "dob", type="DIRECT", subtype="TRANSFORMATION", masking=True)
    {'node': 'reg', 'field': 'dob', 'type': 'DIRECT', 'subtype': 'TRANSFORMATION', 'masking': True}
    """
    record: dict[str, Any] = {"node": node, "field": field_name}
    for key, value in (("type", type), ("subtype", subtype), ("description", description), ("masking", masking)):
        if value is not None:
            record[key] = value
    return record


def _merged_sources(old: list[dict[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged = [dict(source) for source in old]
    for source in new:
        if dict(source) not in merged:
            merged.append(dict(source))
    return merged


def attach_fields(record: Mapping[str, Any], fields: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a node record with ``fields`` merged into its own, by name.

    A field already there keeps its place; what the new one gives replaces its attributes, and
    field links are added to its ``from`` (a link given twice is kept once). New fields go last.

    >>> r = attach_fields({"id": "r", "kind": "dataset", "name": "R", "fields": [field("a", type="int")]},
    ...                   [field("a", description="Age"), field("b")])
    >>> r["fields"]
    [{'name': 'a', 'type': 'int', 'description': 'Age'}, {'name': 'b'}]
    """
    out = dict(record)
    merged = [dict(item) for item in record.get("fields") or ()]
    at = {item["name"]: i for i, item in enumerate(merged)}
    for item in fields:
        item = dict(item)
        if item["name"] in at:
            current = merged[at[item["name"]]]
            sources = _merged_sources(current.get("from") or [], item.pop("from", ()))
            current.update(item)
            if sources:
                current["from"] = sources
        else:
            at[item["name"]] = len(merged)
            merged.append(item)
    out["fields"] = merged
    return out


def link_field(record: Mapping[str, Any], output_field: str, sources: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a node record whose field ``output_field`` also comes from ``sources``
    (:func:`field_source`); the field is added when the node does not have it yet.

    >>> link_field({"id": "m", "kind": "ai_tool", "name": "M"}, "x", [field_source("r", "a")])["fields"]
    [{'name': 'x', 'from': [{'node': 'r', 'field': 'a'}]}]
    """
    return attach_fields(record, [{"name": output_field, "from": [dict(s) for s in sources]}])


def link_all_fields(record: Mapping[str, Any], sources: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a node record whose every field also depends on ``sources`` (``all_fields_from``)."""
    out = dict(record)
    out["all_fields_from"] = _merged_sources(record.get("all_fields_from") or [], sources)
    return out


def fields_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A node record's fields (an empty list for a node without them)."""
    return list(record.get("fields") or ())


def entered_fields(edge: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    """The fields an ``enters`` edge names: (field name, records leaving it blank or None).

    >>> entered_fields({"kind": "enters", "fields": ["a", {"field": "b", "missing": 4}]})
    [('a', None), ('b', 4)]
    """
    return [(item, None) if isinstance(item, str) else (item["field"], item.get("missing"))
            for item in edge.get("fields") or ()]


def completeness(item: Mapping[str, Any]) -> float | None:
    """A field's completeness score (0..1), or None when not known."""
    return model.quality_score((item.get("quality") or {}).get("completeness"))


# ---------------------------------------------------------------------------------------------
# Validation beyond one record


def validate_fields(record: Mapping[str, Any], where: str) -> list[Problem]:
    """Problems with a node record's fields and field links (its own, not the nodes they name).

    The same rules every load and edit applies (``lineage.model.validate_node``); for importers
    that build records and want to say where a problem came from.
    """
    return [p for p in model.validate_node(dict(record), where)
            if p.field and (p.field.startswith("fields") or p.field.startswith("all_fields_from"))]


def link_problems(records: Mapping[str, Mapping[str, Any]], where: Callable[[str], str],
                  kind_of: Callable[[str], str | None]) -> list[Problem]:
    """Field links that name a node that does not exist, a node of a kind without fields, or a
    field the named node (when among ``records``) does not have.

    Parameters
    ----------
    records : mapping of id to node record
        The records being checked (a file's, say).
    where : callable
        How to name a record in a message, from its id ("council.json: nodes[3]").
    kind_of : callable
        The kind of a node id, looked up in ``records`` and beyond (a store); None when unknown.
    """
    problems = []
    for node_id, record in records.items():
        for path, source in sources_of(record):
            kind = kind_of(source["node"])
            if kind is None:
                problems.append(Problem(where(node_id), f"names node '{source['node']}', which does not exist",
                                        f"{path}.node"))
            elif kind not in FIELD_KINDS:
                problems.append(Problem(where(node_id), f"names node '{source['node']}', a {kind}; fields belong "
                                        f"to {', '.join(FIELD_KINDS)}", f"{path}.node"))
            elif source["node"] in records and source["field"] not in {
                    f["name"] for f in fields_of(records[source["node"]])}:
                problems.append(Problem(where(node_id), f"names field '{source['field']}' of '{source['node']}', "
                                        "which that node does not list", f"{path}.field"))
    return problems


def sources_of(record: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every field link of a node record, with its path in the record ("fields[2].from[0]")."""
    for i, item in enumerate(record.get("fields") or ()):
        for j, source in enumerate(item.get("from") or ()):
            yield f"fields[{i}].from[{j}]", source
    for j, source in enumerate(record.get("all_fields_from") or ()):
        yield f"all_fields_from[{j}]", source


_PLAIN_ATTRIBUTES = {"name": "name", "type": "type", "description": "description", "quality": "quality",
                     "from": "where it comes from", "node": "the source", "field": "the source field",
                     "subtype": "how it is changed", "masking": "masking"}


def plain_problem(problem: Problem, record: Mapping[str, Any] | None = None) -> str:
    """A field problem in words for a page: "Field 4 (household_size), name: ..." rather than a path.

    >>> plain_problem(Problem("form", "expected text, got 3", "fields[3].name"),
    ...               {"fields": [{}, {}, {}, {"name": 3}]})
    'Field 4, name: expected text, got 3'
    """
    path = problem.field or ""
    if not path.startswith("fields["):
        return str(problem.message) if not path else f"{path}: {problem.message}"
    index = int(path[len("fields["):path.index("]")])
    named = ((record or {}).get("fields") or [{}] * (index + 1))
    name = named[index].get("name") if index < len(named) and isinstance(named[index], dict) else None
    label = f"Field {index + 1}" + (f" ({name})" if isinstance(name, str) else "")
    rest = [part for part in path[path.index("]") + 1:].replace("[", ".").replace("]", "").split(".") if part]
    words = [_PLAIN_ATTRIBUTES.get(part, part) for part in rest if not part.isdigit()]
    return f"{label}{', ' + ' '.join(words) if words else ''}: {problem.message}"


# ---------------------------------------------------------------------------------------------
# The index, built lazily per graph


@dataclass
class NodeFields:
    """What the traversals need of one node: its fields, and its links grouped by input node."""

    names: tuple[str, ...] = ()
    records: dict[str, dict[str, Any]] = dataclass_field(default_factory=dict)
    links_from: dict[str, list[tuple[str, str]]] = dataclass_field(default_factory=dict)
    """input node id -> [(this node's field, the input field)]."""
    all_from: dict[str, set[str]] = dataclass_field(default_factory=dict)
    """input node id -> input fields every field of this node depends on."""

    @property
    def has_fields(self) -> bool:
        return bool(self.names)


_EMPTY = NodeFields()


def _node_fields(record: Mapping[str, Any]) -> NodeFields:
    items = fields_of(record)
    if not items and not record.get("all_fields_from"):
        return _EMPTY
    info = NodeFields(tuple(item["name"] for item in items), {item["name"]: item for item in items})
    for item in items:
        for source in item.get("from") or ():
            info.links_from.setdefault(source["node"], []).append((item["name"], source["field"]))
    for source in record.get("all_fields_from") or ():
        info.all_from.setdefault(source["node"], set()).add(source["field"])
    return info


class FieldIndex:
    """The fields of a graph's nodes, read from its records the first time a query needs them.

    One per graph (:func:`field_index`); thread-safe; costs what the queries touch.
    """

    def __init__(self, g: LineageGraph):
        self._graph = weakref.ref(g)
        self._info: dict[int, NodeFields] = {}
        self._far: OrderedDict[tuple[int, ...], _Far] = OrderedDict()
        self._lock = threading.Lock()
        self._can_hold = {model.NODE_KINDS.index(kind) for kind in FIELD_KINDS}

    def prefetch(self, positions: Iterable[int]) -> None:
        """Read the records of the nodes among ``positions`` not read yet, in one batch."""
        g = self._graph()
        wanted = [p for p in set(positions) if p not in self._info and int(g.kind_codes[p]) in self._can_hold]
        if not wanted:
            return
        records = g.records([g.ids[p] for p in wanted])
        with self._lock:
            for p in wanted:
                self._info[p] = _node_fields(records[g.ids[p]])

    def far(self, roots: list[int]) -> _Far:
        """Plain reach from ``roots`` (positions, in order), made once and kept (the last few)."""
        key = tuple(roots)
        with self._lock:
            found = self._far.get(key)
            if found is not None:
                self._far.move_to_end(key)
                return found
        g = self._graph()
        nodes, before, root_of = _far(g, np.array(roots, dtype=np.int64))
        kinds = g.kind_codes[nodes]
        found = _Far(nodes, [g.ids[i] for i in nodes.tolist()], root_of.tolist(),
                     np.flatnonzero(kinds == model.NODE_KINDS.index("decision")).tolist(),
                     np.flatnonzero(kinds == model.NODE_KINDS.index("ai_tool")).tolist(),
                     dict(zip(nodes.tolist(), before.tolist())))
        with self._lock:
            self._far[key] = found
            if len(self._far) > FAR_KEPT:
                self._far.popitem(last=False)
        return found

    def at(self, position: int) -> NodeFields:
        """The fields of the node at ``position``."""
        info = self._info.get(position)
        if info is not None:
            return info
        if int(self._graph().kind_codes[position]) not in self._can_hold:
            return _EMPTY
        self.prefetch([position])
        return self._info.get(position, _EMPTY)


_INDEXES: weakref.WeakKeyDictionary[Any, FieldIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def field_index(g: LineageGraph) -> FieldIndex:
    """The graph's field index, made on first use and kept while the graph lives."""
    with _INDEXES_LOCK:
        index = _INDEXES.get(g)
        if index is None:
            index = _INDEXES[g] = FieldIndex(g)
        return index


# ---------------------------------------------------------------------------------------------
# Queries


class FieldNotFoundError(NotFoundError):
    """A field a node does not have."""


def _check_field(g: LineageGraph, node: str, name: str) -> int:
    position = g.position(node)
    info = field_index(g).at(position)
    if name not in info.records:
        listed = ", ".join(info.names[:10]) or "none"
        raise FieldNotFoundError(f"'{node}' has no field '{name}' (its fields: {listed})")
    return position


@dataclass
class FieldReach:
    """Where a field goes (or comes from): the fields and nodes reached, nearest first.

    ``fields`` are (node id, field) pairs reached through field links; ``nodes`` the nodes the
    field reaches whole (models, processes and decisions that list no fields of their own);
    ``decisions`` the decisions among those; ``models`` each AI tool reached with the fields it
    takes the value through (its own input fields, or the field as it arrived), those whose own
    input fields take it first;
    ``routes`` one route from the start to each of the nearest :data:`ROUTES_LISTED` decisions, as
    (node id, field or None) steps;
    ``truncated`` says the query stopped at :data:`MAX_STATES`.
    """

    start: FieldRef
    fields: list[FieldRef]
    nodes: list[str]
    decisions: list[str]
    models: dict[str, list[str]]
    routes: dict[str, list[tuple[str, str | None]]]
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"start": {"node": self.start[0], "field": self.start[1]},
                "fields": [{"node": n, "field": f} for n, f in self.fields],
                "nodes": self.nodes, "decisions": self.decisions,
                "models": [{"node": n, "fields": f} for n, f in self.models.items()],
                "routes": {d: [{"node": n, "field": f} for n, f in route] for d, route in self.routes.items()},
                "truncated": self.truncated}


_State = tuple[int, "str | None", int]
"""(node position, field name or None for the whole node, the position the field belongs to)."""


def _forward(g: LineageGraph, index: FieldIndex,
             starts: list[_State]) -> tuple[dict[_State, _State | None], list[_State], bool]:
    """Breadth-first over (node, field) states downstream: each state's predecessor, and the states
    where a field passing through nodes has gone two steps from its own node.

    Field links are looked for only within those two steps (the rule of flow); further on, the
    field's way is plain reach (:func:`_far`), with no records read: that keeps a hub dataset's
    field, with twenty thousand decisions downstream, quick.
    """
    parent: dict[_State, _State | None] = {state: None for state in starts}
    beyond: list[_State] = []
    queue = deque((state, 0) for state in starts)
    ids, out = g.ids, g.out
    while queue:
        if len(parent) > MAX_STATES:
            return parent, beyond, True
        frontier = list(queue)
        queue.clear()
        index.prefetch(t for (p, _, _), _ in frontier for t in out.neighbours(p).tolist())
        for state, hops in frontier:
            position, name, owner = state
            for target in out.neighbours(position).tolist():
                info = index.at(target)
                links = info.links_from.get(ids[owner])
                wide = info.all_from.get(ids[owner])
                if links is not None or wide is not None:
                    nexts = [((target, o, target), 0) for o, i in links or () if name is None or i == name]
                    if wide is not None and (name is None or name in wide):
                        nexts.append(((target, None, target), 0))
                else:  # no links from the field's node: it reaches this node and passes on as it was
                    nexts = [((target, name, owner), hops + 1)]
                for nxt, nxt_hops in nexts:
                    if nxt not in parent:
                        parent[nxt] = state
                        if nxt_hops >= 2:
                            beyond.append(nxt)
                        else:
                            queue.append((nxt, nxt_hops))
    return parent, beyond, False


def _far(g: LineageGraph, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain reach from ``roots`` (positions), on arrays: the nodes in breadth-first order (roots
    left out), each one's predecessor, and the index in ``roots`` of the root it was reached from."""
    n = len(g)
    parent = np.full(n, -2, dtype=np.int64)
    root_of = np.full(n, -1, dtype=np.int64)
    parent[roots] = -1
    root_of[roots] = np.arange(roots.size)
    frontier, levels = roots, []
    while frontier.size:
        positions, counts = g.out.gather(frontier)
        targets, sources = g.out.indices[positions], np.repeat(frontier, counts)
        fresh = parent[targets] == -2
        targets, sources = targets[fresh], sources[fresh]
        targets, first = np.unique(targets, return_index=True)
        sources = sources[first]
        parent[targets], root_of[targets] = sources, root_of[sources]
        levels.append(targets)
        frontier = targets
    nodes = np.concatenate(levels) if levels else np.zeros(0, dtype=np.int64)
    return nodes, parent[nodes], root_of[nodes]


@dataclass
class _Far:
    """Plain reach from some nodes (:func:`_far`), kept by the field index: every field of a node
    whose way goes on through the same nodes shares it."""

    nodes: np.ndarray
    ids: list[str]
    root_of: list[int]
    decisions: list[int]
    tools: list[int]
    before: dict[int, int]


def _route(g: LineageGraph, parent: Mapping[_State, _State | None], state: _State) -> list[tuple[str, str | None]]:
    steps: list[tuple[str, str | None]] = []
    while state is not None:
        position, name, owner = state
        step = (g.ids[position], name if owner == position else None)
        if not steps or steps[-1] != step:
            steps.append(step)
        state = parent[state]
    return steps[::-1]


def _reach(g: LineageGraph, start: FieldRef, parent: dict[_State, _State | None], beyond: list[_State],
           truncated: bool, starts: Sequence[_State]) -> FieldReach:
    decision, ai_tool = model.NODE_KINDS.index("decision"), model.NODE_KINDS.index("ai_tool")
    fields: list[FieldRef] = []
    nodes: list[str] = []
    model_fields: dict[str, dict[str, list[str]]] = {}
    routes: dict[str, list[tuple[str, str | None]]] = {}
    seen_decisions: dict[str, None] = {}
    seen_nodes: set[int] = set()
    begun = set(starts)

    def reached(position: int, name: str | None, own: bool, route: Callable[[], list]) -> None:
        node_id = g.ids[position]
        kind = int(g.kind_codes[position])
        if kind == ai_tool:
            # A model's own input fields when the field reaches them; else the field as it arrived.
            found = model_fields.setdefault(node_id, {"own": [], "passed": []})["own" if own else "passed"]
            if (name or "all its fields") not in found:
                found.append(name or "all its fields")
        if kind == decision and node_id not in seen_decisions:
            seen_decisions[node_id] = None
            if len(routes) < ROUTES_LISTED:
                routes[node_id] = route()

    for state in parent:  # insertion order is breadth-first order
        position, name, owner = state
        if owner == position and name is not None:
            if state not in begun:
                fields.append((g.ids[position], name))
        elif position not in seen_nodes and state not in begun:
            seen_nodes.add(position)
            nodes.append(g.ids[position])
        reached(position, name, owner == position, lambda s=state: _route(g, parent, s))
    if beyond and not truncated:
        far = field_index(g).far([state[0] for state in beyond])

        def far_route(at: int) -> list[tuple[str, str | None]]:
            path, position = [], int(far.nodes[at])
            while position != beyond[far.root_of[at]][0]:
                path.append((g.ids[position], None))
                position = far.before[position]
            return _route(g, parent, beyond[far.root_of[at]]) + path[::-1]

        if seen_nodes:
            fresh = np.flatnonzero(~np.isin(far.nodes, np.fromiter(seen_nodes, dtype=np.int64)))
            nodes += [far.ids[i] for i in fresh.tolist()]
        else:
            nodes += far.ids
        for at in far.decisions:
            if far.ids[at] not in seen_decisions:
                reached(int(far.nodes[at]), None, False, lambda a=at: far_route(a))
        for at in far.tools:
            reached(int(far.nodes[at]), beyond[far.root_of[at]][1], False, lambda: [])
    # Models that take the field through their own input fields first: they are known to use it.
    ordered = sorted(model_fields, key=lambda node_id: not model_fields[node_id]["own"])
    models = {node_id: model_fields[node_id]["own"] or model_fields[node_id]["passed"] for node_id in ordered}
    return FieldReach(start, fields, nodes, list(seen_decisions), models, routes, truncated)


def field_downstream(g: LineageGraph, node: str, name: str) -> FieldReach:
    """Where a field goes: the fields made from it, the models and processes that take it, and
    the decisions it reaches, nearest first.

    Raises :class:`~lineage.errors.NotFoundError` for an unknown node, :class:`FieldNotFoundError`
    for a field the node does not have.
    """
    position = _check_field(g, node, name)
    starts = [(position, name, position)]
    parent, beyond, truncated = _forward(g, field_index(g), starts)
    return _reach(g, (node, name), parent, beyond, truncated, starts)


def field_upstream(g: LineageGraph, node: str, name: str) -> FieldReach:
    """Where a field comes from: the fields it is made from, through every field link, nearest
    first (``decisions`` and ``routes`` are empty; ``nodes`` lists the nodes those fields belong to).
    """
    _check_field(g, node, name)
    index = field_index(g)
    seen: dict[FieldRef, None] = {(node, name): None}
    queue = deque([(node, name)])
    truncated = False
    while queue:
        if len(seen) > MAX_STATES:
            truncated = True
            break
        current, current_name = queue.popleft()
        info = index.at(g.position(current)) if current in g else _EMPTY
        item = info.records.get(current_name, {})
        sources = [(s["node"], s["field"]) for s in item.get("from") or ()]
        sources += [(n, f) for n, names in info.all_from.items() for f in sorted(names)]
        for ref in sources:
            if ref not in seen:
                seen[ref] = None
                queue.append(ref)
    fields = list(seen)[1:]
    nodes = list(dict.fromkeys(n for n, _ in fields))
    return FieldReach((node, name), fields, nodes, [], {}, {}, truncated)


@dataclass
class DatasetField:
    """One field of a node, with its quality and where it goes."""

    name: str
    type: str | None
    description: str | None
    completeness: float | None
    sources: list[dict[str, Any]]
    reach: FieldReach

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "description": self.description,
                "completeness": self.completeness, "from": self.sources,
                "goes_to": {"fields": [{"node": n, "field": f} for n, f in self.reach.fields],
                            "models": [{"node": n, "fields": f} for n, f in self.reach.models.items()],
                            "decisions": self.reach.decisions, "truncated": self.reach.truncated}}


def _linked_near(g: LineageGraph, position: int) -> set[str]:
    """The fields of a node that some field link within two steps of it names: the only ones whose
    way differs from the node's other fields (the rule of flow)."""
    index, node_id = field_index(g), g.ids[position]
    names: set[str] = set()
    first = g.out.neighbours(position).tolist()
    index.prefetch(first)
    for target in first:
        info = index.at(target)
        if node_id in info.links_from or node_id in info.all_from:
            names.update(i for _, i in info.links_from.get(node_id, ()))
            names.update(info.all_from.get(node_id, ()))
            continue
        second = g.out.neighbours(target).tolist()
        index.prefetch(second)
        for further in second:
            info = index.at(further)
            names.update(i for _, i in info.links_from.get(node_id, ()))
            names.update(info.all_from.get(node_id, ()))
    return names


_UNLINKED = "\x00"
"""A field name no link names (text may not hold NUL): where every unlinked field of a node goes."""


def node_fields(g: LineageGraph, node: str) -> list[DatasetField]:
    """Each field of a node, in the node's order, with where it goes (:func:`field_downstream`).

    Fields no link near the node names all go the same way, which is worked out once: a hub
    dataset's twenty fields cost little more than one.
    """
    position = g.position(node)
    info = field_index(g).at(position)
    linked = _linked_near(g, position) if info.names else set()
    shared: FieldReach | None = None
    rows = []
    for name in info.names:
        if name in linked:
            reach = field_downstream(g, node, name)
        else:
            if shared is None:
                starts = [(position, _UNLINKED, position)]
                parent, beyond, truncated = _forward(g, field_index(g), starts)
                shared = _reach(g, (node, _UNLINKED), parent, beyond, truncated, starts)
            reach = _renamed(shared, name)
        item = info.records[name]
        rows.append(DatasetField(name, item.get("type"), item.get("description"), completeness(item),
                                 list(item.get("from") or ()), reach))
    return rows


def _renamed(reach: FieldReach, name: str) -> FieldReach:
    """The shared way of a node's unlinked fields, as one field's."""
    def named(value: str | None) -> str | None:
        return name if value == _UNLINKED else value

    return FieldReach((reach.start[0], name), list(reach.fields), list(reach.nodes), list(reach.decisions),
                      {m: [named(f) or f for f in fs] for m, fs in reach.models.items()},
                      {d: [(n, named(f)) for n, f in route] for d, route in reach.routes.items()},
                      reach.truncated)


@dataclass
class RestingField:
    """A field a decision rests on: how many of the decision's inputs it reaches (``routes``),
    how near it is (``depth``: field links from the decision's inputs), its completeness."""

    node: str
    field: str
    routes: int
    depth: int
    completeness: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "field": self.field, "routes": self.routes, "depth": self.depth,
                "completeness": self.completeness}


def decision_fields(g: LineageGraph, decision: str, *, limit: int = 20) -> list[RestingField]:
    """The fields a decision rests on most: walked back from each of its inputs through field
    links, ranked by how many of its inputs each reaches, then nearest, then least complete.

    An input with fields contributes all of them; one without (a model that lists no inputs)
    contributes the fields of the nodes that feed it, and so on back, to :data:`REST_DEPTH` steps
    and :data:`REST_STEPS` steps per input, from at most :data:`REST_INPUTS` inputs: a budget
    decision with half a million nodes upstream rests most on what is near it.
    """
    position = g.position(decision)
    if model.NODE_KINDS[g.kind_codes[position]] != "decision":
        raise LineageError(f"'{decision}' is not a decision")
    index = field_index(g)
    found: dict[FieldRef, list[int]] = {}  # field -> [inputs reaching it, least depth]
    for entry in sorted(set(g.into.neighbours(position).tolist()))[:REST_INPUTS]:
        seen_fields: dict[FieldRef, int] = {}
        seen_nodes = {entry}
        queue: deque[tuple[int, str | None, int]] = deque([(entry, None, 0)])
        while queue and len(seen_fields) + len(seen_nodes) <= REST_STEPS:
            at, name, depth = queue.popleft()
            if depth > REST_DEPTH:
                continue
            info = index.at(at)
            if name is None and info.has_fields:
                for item in info.names:
                    queue.append((at, item, depth))
                continue
            if name is None:  # nothing known field by field: everything that feeds it counts whole
                index.prefetch(g.into.neighbours(at).tolist())
                for source in g.into.neighbours(at).tolist():
                    if source not in seen_nodes:
                        seen_nodes.add(source)
                        queue.append((source, None, depth + 1))
                continue
            ref = (g.ids[at], name)
            if ref in seen_fields:
                continue
            seen_fields[ref] = depth
            item = info.records.get(name, {})
            sources = [(s["node"], s["field"]) for s in item.get("from") or ()]
            sources += [(n, f) for n, names in info.all_from.items() for f in sorted(names)]
            for node_id, source_field in sources:
                if node_id in g:
                    queue.append((g.position(node_id), source_field, depth + 1))
        for ref, depth in seen_fields.items():
            entry_stats = found.setdefault(ref, [0, depth])
            entry_stats[0] += 1
            entry_stats[1] = min(entry_stats[1], depth)
    rows = []
    for (node_id, name), (routes, depth) in found.items():
        rows.append(RestingField(node_id, name, routes, depth,
                                 completeness(index.at(g.position(node_id)).records.get(name, {}))))
    rows.sort(key=lambda r: (-r.routes, r.depth, 2.0 if r.completeness is None else r.completeness, r.node, r.field))
    return rows[:limit]


EdgeLookup = Callable[[str, str], Mapping[str, Any]]
"""An edge's record by (source, target), like ``Store.edge``: where the fields an ``enters`` edge
names come from (the compiled graph keeps only its topology)."""


@dataclass
class EnteredField:
    """A field a person fills in that reaches decisions: where, the share of their records that
    leave it blank (``missing``, 0..1, or None when not known; ``missing_from`` says whether the
    person's own count or the field's completeness gave it), and where it goes."""

    node: str
    field: str
    missing: float | None
    missing_from: str | None
    reach: FieldReach

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "field": self.field, "missing": self.missing, "missing_from": self.missing_from,
                "decisions": self.reach.decisions,
                "models": [{"node": n, "fields": f} for n, f in self.reach.models.items()]}


def person_fields(g: LineageGraph, person: str, edge: EdgeLookup) -> list[EnteredField]:
    """The fields a person fills in that reach decisions: those the person's own records leave blank
    most often first, then those most often blank in all records, then those reaching more decisions.

    The fields come from the person's ``enters`` edges (all the fields of the system or dataset
    when an edge names none); the share missing from the edge's own count (``missing`` of
    ``records``), else from the field's completeness.
    """
    position = g.position(person)
    enters = model.EDGE_KINDS.index("enters")
    rows, (edges, _) = [], g.out.gather(np.array([position], dtype=np.int64))
    for at in edges[g.out.kinds[edges] == enters].tolist():
        target = int(g.out.indices[at])
        target_id = g.ids[target]
        record = edge(person, target_id)
        info = field_index(g).at(target)
        named = entered_fields(record) or [(name, None) for name in info.names]
        for name, missing in named:
            if name not in info.records:
                continue
            reach = field_downstream(g, target_id, name)
            if not reach.decisions:
                continue
            records = record.get("records")
            if missing is not None and records:
                share, how = min(missing / records, 1.0), "your records"
            else:
                score = completeness(info.records[name])
                share, how = (None, None) if score is None else (round(1 - score, 6), "all records")
            rows.append(EnteredField(target_id, name, share, how, reach))
    rows.sort(key=lambda r: (r.missing_from != "your records", -(r.missing or 0), -len(r.reach.decisions),
                             r.node, r.field))
    return rows


def lead_decision(g: LineageGraph, reach: FieldReach) -> str | None:
    """The decision to name when saying what a field feeds: of those the first model it feeds
    informs directly, the one affecting most people (None when it feeds no model that does), so a
    sentence follows one real line from the field to the decision."""
    if not reach.models:
        return None
    model = g.position(next(iter(reach.models)))
    informed = [g.ids[i] for i in g.out.neighbours(model).tolist() if g.ids[i] in reach.decisions]
    return max(informed, key=lambda d: (float(np.nan_to_num(g.people_affected[g.position(d)], nan=-1)), d),
               default=None)


def check_links(g: LineageGraph, node: str) -> list[Problem]:
    """Field links of a node that no data-flow path of at most two steps supports (see the module's
    rule of flow): such a link is kept, but queries downstream of its input do not see it."""
    position = g.position(node)
    info = field_index(g).at(position)
    near = set(g.into.neighbours(position).tolist())
    near |= {q for p in list(near) if model.NODE_KINDS[g.kind_codes[p]] in ("process", "ai_tool")
             for q in g.into.neighbours(p).tolist()}
    near_ids = {g.ids[p] for p in near}
    return [Problem(f"node '{node}'", f"a field link names '{source}', which does not feed this node "
                    "directly or through one process or AI tool", "fields")
            for source in sorted(set(info.links_from) | set(info.all_from)) if source not in near_ids]


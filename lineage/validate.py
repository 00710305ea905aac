"""Whole-graph validation of records read from a file, before anything is written.

Readers (``lineage.io``) hand over records with a location each ("council.json: nodes[3]" or
"nodes.csv: line 7"); :func:`validate_records` checks every record against the model, checks
references against the records themselves and, optionally, against what a store already holds,
and returns :class:`~lineage.store.GraphData` or raises one :class:`ValidationError` listing
every problem found.
"""
from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import fields, model
from .errors import Problem, ValidationError
from .store import GraphData

@dataclass
class Batch:
    """Records read from one place, and how to name record ``i`` in a message.

    Naming is deferred: a million valid records never build a million location strings.
    """

    records: list[Any]
    locate: Callable[[int], str]

    @classmethod
    def located(cls, pairs: list[tuple[str, Any]]) -> "Batch":
        """A batch from (location, record) pairs, for small inputs built by hand."""
        return cls([record for _, record in pairs], lambda i: pairs[i][0])


MAX_PROBLEMS = 200
"""Problems reported at most; a file of junk should not print a million lines."""


class _Problems(list):
    def add(self, problems: Iterable[Problem]) -> None:
        self.extend(problems)
        if len(self) >= MAX_PROBLEMS:
            raise ValidationError(self[:MAX_PROBLEMS] + [Problem("...", "stopped after this many problems")])


def validate_records(nodes: list[Batch], edges: list[Batch], *,
                     existing_kinds: Callable[[set[str]], dict[str, str]] | None = None) -> GraphData:
    """Validate batches of node and edge records as one graph.

    Parameters
    ----------
    nodes, edges : list of Batch
    existing_kinds : callable, optional
        Given ids the records refer to but do not define, returns the kind of those that exist
        already (``Store.kinds_of``); without it references must resolve within the records.
        Also used to refuse changing the kind of an existing node.

    Raises
    ------
    ValidationError
        With every problem: the record, the field and what was expected.

    Examples
    --------
    >>> data = validate_records([Batch.located([("f: nodes[0]", {"id": "a", "kind": "person", "name": "A"})])],
    ...                         [Batch.located([("f: edges[0]", {"source": "a", "target": "b", "kind": "enters"})])])
    Traceback (most recent call last):
    ...
    lineage.errors.ValidationError: f: edges[0], field 'target': no node 'b' in this file or the database
    """
    problems = _Problems()
    linking: dict[str, tuple[Batch, int]] = {}  # nodes with fields, whose field links name other nodes
    position: dict[str, int] = {}  # node id -> its place among the nodes read
    kind_codes: list[int] = []
    findings, kind_code = model.node_findings, _KIND_CODES
    for batch in nodes:
        for index, record in enumerate(batch.records):
            found = findings(record)
            if found:
                problems.add(model.located(found, batch.locate(index)))
                continue
            node_id = record["id"]
            if node_id in position:
                problems.add([Problem(batch.locate(index), f"duplicate id '{node_id}' (first defined at "
                                                           f"{_first(nodes, 'id', node_id)})", "id")])
                continue
            position[node_id] = len(kind_codes)
            kind_codes.append(kind_code[record["kind"]])
            if "fields" in record or "all_fields_from" in record:
                linking[node_id] = (batch, index)

    # Edges in one pass: their own fields, then their ends as positions (ids not read above get
    # places after the nodes, to be looked up in the store). Joins, kinds and repeats are then
    # checked on arrays: a Python set of three million pairs cost half of a million-node load.
    outside: dict[str, int] = {}
    ends = array("q")
    edge_kinds = array("b")
    checked: list[int] = []  # the number of each edge checked on arrays (those with no own problem)
    edge_problems: list[tuple[int, list[Problem]]] = []
    number = 0
    place, add_end, add_kind, edge_code, findings = position.get, ends.append, edge_kinds.append, _EDGE_CODES, \
        model.edge_findings  # locals: this loop runs three million times for a million-node estate
    for batch in edges:
        for index, record in enumerate(batch.records):
            found = findings(record)
            if found:
                edge_problems.append((number + index, model.located(found, batch.locate(index))))
                continue
            source, target = record["source"], record["target"]
            source_place, target_place = place(source), place(target)
            if source_place is None:
                source_place = outside.setdefault(source, len(kind_codes) + len(outside))
            if target_place is None:
                target_place = outside.setdefault(target, len(kind_codes) + len(outside))
            add_end(source_place)
            add_end(target_place)
            add_kind(edge_code[record["kind"]])
            checked.append(number + index)
        number += len(batch.records)
    offsets = np.cumsum([0] + [len(batch.records) for batch in edges])

    linked = {s["node"] for node_id, (batch, i) in linking.items() for _, s in fields.sources_of(batch.records[i])}
    stored = existing_kinds(set(outside) | set(position) | linked) if existing_kinds else {}
    for node_id, kind in stored.items():
        if node_id in position and kind_codes[position[node_id]] != _KIND_CODES[kind]:
            problems.add([Problem(_first(nodes, "id", node_id), f"node '{node_id}' exists already as a {kind}; "
                                                               "a node's kind cannot change", "kind")])
    all_kinds = np.array(kind_codes + [_KIND_CODES[stored[i]] if i in stored else _MISSING for i in outside],
                         dtype=np.int64)
    pairs = np.frombuffer(ends, dtype=np.int64).reshape(-1, 2)
    source_kinds, target_kinds = all_kinds[pairs[:, 0]], all_kinds[pairs[:, 1]]
    joinable = _ALLOWED[np.frombuffer(edge_kinds, dtype=np.int8), source_kinds, target_kinds]
    code = pairs[:, 0] * len(all_kinds) + pairs[:, 1]
    order = np.argsort(code, kind="stable")
    repeated = order[1:][code[order][1:] == code[order][:-1]]

    def kind_of(node_id: str) -> str | None:
        return model.NODE_KINDS[kind_codes[position[node_id]]] if node_id in position else stored.get(node_id)

    for row in sorted(set(np.flatnonzero(~joinable).tolist()) | set(repeated.tolist())):
        number = checked[row]
        batch_number = int(np.searchsorted(offsets, number, side="right")) - 1
        batch, index = edges[batch_number], number - int(offsets[batch_number])
        record = batch.records[index]
        if not joinable[number]:
            found = _edge_problems(record, kind_of, batch.locate(index))
        else:
            pair = (record["source"], record["target"])
            first = next(batch_.locate(i) for batch_ in edges for i, r in enumerate(batch_.records)
                         if type(r) is dict and (r.get("source"), r.get("target")) == pair)
            found = [Problem(batch.locate(index), f"a second edge {pair[0]} -> {pair[1]} (first at {first}); "
                                                  "two nodes are joined by one edge at most")]
        edge_problems.append((number, found))
    for _, found in sorted(edge_problems, key=lambda item: item[0]):
        problems.add(found)
    if linking:
        with_fields = {node_id: batch.records[i] for node_id, (batch, i) in linking.items()}
        problems.add(fields.link_problems(with_fields, lambda node_id: linking[node_id][0].locate(linking[node_id][1]),
                                          kind_of))
    if problems:
        raise ValidationError(problems)
    return GraphData(nodes=[r for batch in nodes for r in batch.records],
                     edges=[r for batch in edges for r in batch.records], ends=pairs, outside=list(outside))


_KIND_CODES = {kind: code for code, kind in enumerate(model.NODE_KINDS)}
_EDGE_CODES = {kind: code for code, kind in enumerate(model.EDGE_KINDS)}
_MISSING = len(model.NODE_KINDS)
"""The kind code of an edge end that names no node: no edge kind may join it."""
_ALLOWED = np.zeros((len(model.EDGE_KINDS), len(model.NODE_KINDS) + 1, len(model.NODE_KINDS) + 1), dtype=bool)
for _edge_kind, _source_kind, _target_kind in model.ALLOWED_EDGES:
    _ALLOWED[_EDGE_CODES[_edge_kind], _KIND_CODES[_source_kind], _KIND_CODES[_target_kind]] = True


def _edge_problems(record: dict[str, Any], kind_of: Callable[[str], str | None], where: str) -> list[Problem]:
    """Why an edge that passed its own checks cannot join its ends."""
    kinds = {end: kind_of(record[end]) for end in ("source", "target")}
    missing = [Problem(where, f"no node '{record[end]}' in this file or the database", end)
               for end, kind in kinds.items() if kind is None]
    return missing or [Problem(where, model.edge_rule_problem(kinds["source"], kinds["target"], record["kind"])
                               or "", "kind")]


def _first(batches: list[Batch], field: str, value: Any) -> str:
    """Where the first record with ``field`` equal to ``value`` is (for messages about a repeat)."""
    return next(batch.locate(i) for batch in batches for i, r in enumerate(batch.records)
                if type(r) is dict and r.get(field) == value)

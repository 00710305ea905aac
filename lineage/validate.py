"""Whole-graph validation of records read from a file, before anything is written.

Readers (``lineage.io``) hand over records with a location each ("council.json: nodes[3]" or
"nodes.csv: line 7"); :func:`validate_records` checks every record against the model, checks
references against the records themselves and, optionally, against what a store already holds,
and returns :class:`~lineage.store.GraphData` or raises one :class:`ValidationError` listing
every problem found.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import model
from .errors import Problem, ValidationError
from .store import GraphData

Located = tuple[str, dict[str, Any]]
"""A record and where it came from."""

MAX_PROBLEMS = 200
"""Problems reported at most; a file of junk should not print a million lines."""


class _Problems(list):
    def add(self, problems: Iterable[Problem]) -> None:
        self.extend(problems)
        if len(self) >= MAX_PROBLEMS:
            raise ValidationError(self[:MAX_PROBLEMS] + [Problem("...", "stopped after this many problems")])


def validate_records(nodes: list[Located], edges: list[Located], *,
                     existing_kinds: Callable[[set[str]], dict[str, str]] | None = None) -> GraphData:
    """Validate located node and edge records as one graph.

    Parameters
    ----------
    nodes, edges : list of (where, record)
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
    >>> data = validate_records([("f: nodes[0]", {"id": "a", "kind": "person", "name": "A"})],
    ...                         [("f: edges[0]", {"source": "a", "target": "b", "kind": "enters"})])
    Traceback (most recent call last):
    ...
    lineage.errors.ValidationError: f: edges[0], field 'target': no node 'b' in this file or the database
    """
    problems = _Problems()
    kinds: dict[str, str] = {}
    first_seen: dict[str, str] = {}
    for where, record in nodes:
        found = model.validate_node(record, where)
        problems.add(found)
        if found:
            continue
        node_id = record["id"]
        if node_id in first_seen:
            problems.add([Problem(where, f"duplicate id '{node_id}' (first defined at {first_seen[node_id]})", "id")])
            continue
        first_seen[node_id] = where
        kinds[node_id] = record["kind"]

    referenced = {r.get(end) for _, r in edges if isinstance(r, dict) for end in ("source", "target")}
    outside = {ref for ref in referenced if isinstance(ref, str) and ref not in kinds}
    stored = existing_kinds(outside | set(kinds)) if existing_kinds else {}
    for node_id, kind in kinds.items():
        if node_id in stored and stored[node_id] != kind:
            problems.add([Problem(first_seen[node_id], f"node '{node_id}' exists already as a {stored[node_id]}; "
                                                       "a node's kind cannot change", "kind")])
    known = {**{k: v for k, v in stored.items() if k in outside}, **kinds}

    pairs: dict[tuple[str, str], str] = {}
    for where, record in edges:
        found = model.validate_edge(record, where)
        problems.add(found)
        if found:
            continue
        ends = []
        for end in ("source", "target"):
            kind = known.get(record[end])
            if kind is None:
                problems.add([Problem(where, f"no node '{record[end]}' in this file or the database", end)])
            ends.append(kind)
        if None in ends:
            continue
        message = model.edge_rule_problem(ends[0], ends[1], record["kind"])
        if message:
            problems.add([Problem(where, message, "kind")])
            continue
        pair = (record["source"], record["target"])
        if pair in pairs:
            problems.add([Problem(where, f"a second edge {pair[0]} -> {pair[1]} (first at {pairs[pair]}); "
                                         "two nodes are joined by one edge at most")])
            continue
        pairs[pair] = where
    if problems:
        raise ValidationError(problems)
    return GraphData(nodes=[r for _, r in nodes], edges=[r for _, r in edges])

"""Whole-graph validation of records read from a file, before anything is written.

Readers (``lineage.io``) hand over records with a location each ("council.json: nodes[3]" or
"nodes.csv: line 7"); :func:`validate_records` checks every record against the model, checks
references against the records themselves and, optionally, against what a store already holds,
and returns :class:`~lineage.store.GraphData` or raises one :class:`ValidationError` listing
every problem found.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import model
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


class _Where:
    """A record's location, formatted when (if ever) a message needs it."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: Batch, index: int):
        self.batch, self.index = batch, index

    def __str__(self) -> str:
        return self.batch.locate(self.index)


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
    kinds: dict[str, str] = {}
    first_seen: dict[str, _Where] = {}
    for batch in nodes:
        for index, record in enumerate(batch.records):
            found = model.validate_node(record, _Where(batch, index))
            if found:
                problems.add(found)
                continue
            node_id = record["id"]
            if node_id in kinds:
                problems.add([Problem(batch.locate(index), f"duplicate id '{node_id}' (first defined at "
                                                           f"{first_seen[node_id]})", "id")])
                continue
            kinds[node_id] = record["kind"]
            first_seen[node_id] = _Where(batch, index)

    referenced = {r.get(end) for batch in edges for r in batch.records if type(r) is dict
                  for end in ("source", "target")}
    outside = {ref for ref in referenced if isinstance(ref, str) and ref not in kinds}
    stored = existing_kinds(outside | set(kinds)) if existing_kinds else {}
    for node_id, kind in stored.items():
        if node_id in kinds and kinds[node_id] != kind:
            problems.add([Problem(str(first_seen[node_id]), f"node '{node_id}' exists already as a {kind}; "
                                                            "a node's kind cannot change", "kind")])
    known = {**{k: v for k, v in stored.items() if k in outside}, **kinds}

    pairs: dict[tuple[str, str], _Where] = {}
    for batch in edges:
        for index, record in enumerate(batch.records):
            where = _Where(batch, index)
            found = model.validate_edge(record, where)
            if found:
                problems.add(found)
                continue
            source_kind, target_kind = known.get(record["source"]), known.get(record["target"])
            if source_kind is None or target_kind is None:
                problems.add([Problem(str(where), f"no node '{record[end]}' in this file or the database", end)
                              for end, kind in (("source", source_kind), ("target", target_kind)) if kind is None])
                continue
            message = model.edge_rule_problem(source_kind, target_kind, record["kind"])
            if message:
                problems.add([Problem(str(where), message, "kind")])
                continue
            pair = (record["source"], record["target"])
            if pair in pairs:
                problems.add([Problem(str(where), f"a second edge {pair[0]} -> {pair[1]} (first at {pairs[pair]}); "
                                                  "two nodes are joined by one edge at most")])
                continue
            pairs[pair] = where
    if problems:
        raise ValidationError(problems)
    return GraphData(nodes=[r for batch in nodes for r in batch.records],
                     edges=[r for batch in edges for r in batch.records])

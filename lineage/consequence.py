"""What a deletion would disconnect, shown before anyone confirms it.

Removing a node or an edge can cut decisions off from the data they rest on. The consequence
is stated as pairs that lose *every* path: the decisions that none of the datasets upstream of
the removed thing would reach any more, and those datasets. A decision that keeps another path
from the same datasets is not counted, so the figure never overstates the harm.

Examples
--------
>>> from lineage.graph import LineageGraph
>>> g = LineageGraph.from_records(
...     [{"id": i, "kind": k, "name": i.title()} for i, k in
...      [("register", "dataset"), ("model", "ai_tool"), ("allocations", "decision")]],
...     [{"source": "register", "target": "model", "kind": "feeds"},
...      {"source": "model", "target": "allocations", "kind": "informs"}])
>>> removal_consequence(g, edge=("register", "model")).sentence
'Removing this edge disconnects 1 decision from 1 dataset.'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import model
from .errors import NotFoundError
from .graph import LineageGraph

LISTED = 50
"""Decisions and datasets listed by name; the rest are counted."""
INPUT_EDGES = sorted(model.FLOW_EDGE_KINDS - {"records_outcome"})
"""Edges that carry data towards decisions. A decision's outcomes flowing back into data
(``records_outcome``) are not an input to the decisions they came from, and following them
would make every dataset on a loop look like another way in."""


@dataclass
class Consequence:
    """Decisions cut off from datasets by a removal (each list nearest first, at most ``LISTED``)."""

    what: str
    decisions: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    decision_count: int = 0
    dataset_count: int = 0
    edges_removed: int = 0

    @property
    def sentence(self) -> str:
        edges = ""
        if self.what == "node":
            edges = f" and its {self.edges_removed} edge{'s' if self.edges_removed != 1 else ''}"
        head = f"Removing this {self.what}{edges}"
        if not self.decision_count:
            return f"{head} disconnects no decision from its data."
        return (f"{head} disconnects {self.decision_count:,} decision{'s' if self.decision_count != 1 else ''} "
                f"from {self.dataset_count:,} dataset{'s' if self.dataset_count != 1 else ''}.")

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "sentence": self.sentence, "decision_count": self.decision_count,
                "dataset_count": self.dataset_count, "decisions": self.decisions, "datasets": self.datasets,
                "edges_removed": self.edges_removed}


def _of_kind(g: LineageGraph, nodes: np.ndarray, kind: str) -> np.ndarray:
    return nodes[g.kind_codes[nodes] == model.NODE_KINDS.index(kind)] if nodes.size else nodes


def removal_consequence(g: LineageGraph, *, node: str | None = None,
                        edge: tuple[str, str] | None = None) -> Consequence:
    """The decisions and datasets a removal would disconnect (give ``node`` or ``edge``).

    Parameters
    ----------
    g : LineageGraph
    node : str, optional
        The id of a node to delete (with its edges).
    edge : (str, str), optional
        The source and target ids of an edge to delete.

    Raises
    ------
    NotFoundError
        If the node, or either end of the edge, is not in the graph.
    """
    if (node is None) == (edge is None):
        raise ValueError("give a node or an edge")
    for end in ([node] if node is not None else list(edge or ())):
        if end not in g:
            raise NotFoundError(f"no node with id '{end}'")
    if node is not None:
        removed = g.position(node)
        entry = np.array([removed])
        edges_removed = int(g.out.neighbours(removed).size + g.into.neighbours(removed).size
                            + np.count_nonzero(g.member_people == removed) + np.count_nonzero(g.member_teams == removed))
    else:
        removed = -1
        entry = np.array([g.position(edge[0])])
        edges_removed = 1
    upstream = g.bfs(entry, reverse=True, edge_kinds=INPUT_EDGES).nodes
    sources = _of_kind(g, np.concatenate([upstream, entry]), "dataset")
    deleted_dataset = node is not None and g.kind(node) == "dataset"
    if node is not None:
        sources = sources[sources != removed]
    before = g.bfs(np.concatenate([sources, entry]) if deleted_dataset else sources, edge_kinds=INPUT_EDGES).nodes
    if node is not None:
        within = np.ones(len(g), dtype=bool)
        within[removed] = False
        after = g.bfs(sources, within=within, edge_kinds=INPUT_EDGES).nodes
    else:
        after = _reach_without_edge(g, sources, g.position(edge[0]), g.position(edge[1]))
    lost = np.setdiff1d(_of_kind(g, before, "decision"), after)
    cut_off = np.intersect1d(sources, g.bfs(lost, reverse=True, edge_kinds=INPUT_EDGES).nodes) if lost.size else lost
    if deleted_dataset:  # a deleted dataset is lost to every decision it reached
        lost = np.union1d(lost, _of_kind(g, g.bfs(entry, edge_kinds=INPUT_EDGES).nodes, "decision"))
        cut_off = np.union1d(cut_off, [removed]) if lost.size else cut_off
    if node is not None and g.kind(node) == "decision":
        lost = lost[lost != removed]
    what = "node" if node is not None else "edge"
    decisions = sorted(g.ids[i] for i in lost)
    datasets = sorted(g.ids[i] for i in cut_off)
    return Consequence(what, decisions[:LISTED], datasets[:LISTED], len(decisions), len(datasets), edges_removed)


def _reach_without_edge(g: LineageGraph, starts: np.ndarray, source: int, target: int) -> np.ndarray:
    """What ``starts`` reach when the edge ``source -> target`` is gone.

    First everything reachable without passing through ``target``; ``target`` is still reached
    if another of its predecessors is, and then so is everything downstream of it.
    """
    if np.isin(target, starts):  # a cycle: the target is a source itself and keeps all it reaches
        return np.union1d(g.bfs(starts, edge_kinds=INPUT_EDGES).nodes, starts)
    within = np.ones(len(g), dtype=bool)
    within[target] = False
    reached = np.union1d(g.bfs(starts, within=within, edge_kinds=INPUT_EDGES).nodes, starts)
    other_ways_in = np.setdiff1d(g.into.neighbours(target), [source])
    if np.intersect1d(other_ways_in, reached).size:
        reached = np.union1d(reached, np.union1d([target], g.bfs(np.array([target]), edge_kinds=INPUT_EDGES).nodes))
    return reached

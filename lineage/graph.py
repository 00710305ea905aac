"""The lineage graph as a compiled index, and the questions it answers.

networkx is the modelling API: files and stores become ``networkx.DiGraph`` objects with a
``kind`` on every node and edge (:func:`to_networkx`). Queries run on :class:`LineageGraph`, a
read-only index of the same graph in compressed sparse rows (numpy arrays), because a whole
organisation (a million nodes, three million edges) must load in seconds and answer in
milliseconds; a networkx graph of that size takes 12 s and 1.2 GB just to build.

Every query is a function taking the graph first. Traversals follow the data-flow edges
(every edge kind but ``member_of`` and ``part_of``) and terminate on cycles.

Examples
--------
>>> g = LineageGraph.from_records(
...     [{"id": "ali", "kind": "person", "name": "Ali"},
...      {"id": "register", "kind": "dataset", "name": "Register", "quality": {"timeliness": 0.71}},
...      {"id": "allocations", "kind": "decision", "name": "Allocations", "people_affected": 3400}],
...     [{"source": "ali", "target": "register", "kind": "enters", "records": 1240},
...      {"source": "register", "target": "allocations", "kind": "informs"}])
>>> downstream(g, "ali").ids()
['register', 'allocations']
>>> impact(g, "ali").largest_people_affected
3400
"""
from __future__ import annotations

import bisect
import contextlib
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from . import model
from .condensation import row_maxima
from .confidence import Confidence, WeakLink, local_confidence, weakest_among
from .errors import LineageError, NotFoundError

if TYPE_CHECKING:  # networkx is imported where it is used: it adds a seventh to the engine's start-up
    import networkx as nx

_KIND_CODE = {kind: code for code, kind in enumerate(model.NODE_KINDS)}
_EDGE_CODE = {kind: code for code, kind in enumerate(model.EDGE_KINDS)}
_MEMBER_OF = _EDGE_CODE["member_of"]
_STRUCTURE = np.array(sorted(_EDGE_CODE[kind] for kind in model.STRUCTURE_EDGE_KINDS), dtype=np.int8)
_ENTERS = _EDGE_CODE["enters"]
_PERSON, _TEAM, _DATASET, _AI_TOOL, _DECISION = (
    _KIND_CODE[k] for k in ("person", "team", "dataset", "ai_tool", "decision"))
_DIMENSION_CODE = {d: i for i, d in enumerate(model.QUALITY_DIMENSIONS)}

DIRECTIONS = ("downstream", "upstream", "both")
MAX_DEPTH = 1000
"""Deepest traversal a caller may ask for; deeper asks are an error, not a silent cap."""


class _CSR:
    """Adjacency in compressed sparse rows, with the edge kind and edge number of every entry."""

    __slots__ = ("indptr", "indices", "kinds", "edge")

    def __init__(self, rows: np.ndarray, cols: np.ndarray, kinds: np.ndarray, n: int):
        # Group the entries by row with scipy's counting sort (in C; there is at most one edge per
        # pair, so nothing is summed): three times faster than a stable argsort at three million.
        grouped = sp.coo_matrix((np.arange(1, rows.size + 1), (rows, cols)), shape=(n, n)).tocsr()
        order = grouped.data.astype(np.int64) - 1
        self.indptr = grouped.indptr.astype(np.int64)
        self.indices = cols[order]
        self.kinds = kinds[order]
        self.edge = order

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of every entry of ``rows`` in ``indices``, and how many entries each row has."""
        begin = self.indptr[rows]
        counts = self.indptr[rows + 1] - begin
        total = int(counts.sum())
        return np.arange(total) + np.repeat(begin - (np.cumsum(counts) - counts), counts), counts

    def neighbours(self, node: int) -> np.ndarray:
        return self.indices[self.indptr[node]:self.indptr[node + 1]]

    def matrix(self, n: int) -> sp.csr_matrix:
        # int32, not int8: a product counts the edges into a node, and int8 wraps at 128.
        data = np.ones(self.indices.size, dtype=np.int32)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(n, n))


@dataclass(frozen=True)
class Reach:
    """The nodes a traversal reached, in breadth-first order, with their distance from the start.

    Arrays index into the graph; use :meth:`ids` for node ids. The start nodes themselves are
    not included.
    """

    graph: "LineageGraph"
    nodes: np.ndarray
    distance: np.ndarray

    @property
    def count(self) -> int:
        return int(self.nodes.size)

    def ids(self, limit: int | None = None) -> list[str]:
        """Node ids ordered by distance then id; at most ``limit`` of them."""
        return [node_id for node_id, _ in self.nearest(limit)]

    def nearest(self, limit: int | None = None) -> list[tuple[str, int]]:
        """(id, distance) ordered by distance then id; at most ``limit`` of them."""
        # Positions follow id order, so (distance, position) order is (distance, id) order.
        nodes, distance = self.nodes, self.distance
        if limit is not None and limit < nodes.size and np.all(distance[1:] >= distance[:-1]):
            # Breadth-first order: sort the levels before the limit's, and pick from its level
            # only the smallest, rather than sorting a hub's half a million nodes for 200 ids.
            level = distance[limit - 1]
            start, end = np.searchsorted(distance, level), np.searchsorted(distance, level, side="right")
            wanted = limit - start
            picked = np.partition(nodes[start:end], wanted - 1)[:wanted] if wanted < end - start else nodes[start:end]
            nodes = np.concatenate([nodes[:start], picked])
            distance = np.concatenate([distance[:start], np.full(picked.size, level)])
        order = np.lexsort((nodes, distance))[:limit]
        ids = self.graph.ids
        return [(ids[i], d) for i, d in zip(nodes[order].tolist(), distance[order].tolist())]

    def counts_by_kind(self) -> dict[str, int]:
        counts = np.bincount(self.graph.kind_codes[self.nodes], minlength=len(model.NODE_KINDS))
        return {kind: int(counts[code]) for code, kind in enumerate(model.NODE_KINDS) if counts[code]}

    def of_kind(self, *kinds: str) -> "Reach":
        codes = self.graph.kind_codes[self.nodes]
        mask = codes == _KIND_CODE[kinds[0]] if len(kinds) == 1 else np.isin(codes, [_KIND_CODE[k] for k in kinds])
        return Reach(self.graph, self.nodes[mask], self.distance[mask])


class LineageGraph:
    """A read-only, compiled index of a lineage graph.

    Build it with :meth:`from_store`, :meth:`from_records` or :meth:`from_networkx`. It keeps
    the topology and the few attributes queries aggregate (decision reach, quality, record
    counts); full records come from ``record_source`` on demand.
    """

    def __init__(self, ids: Sequence[str], kind_codes: np.ndarray, sources: np.ndarray, targets: np.ndarray,
                 edge_kinds: np.ndarray, *, record_source: Callable[[list[str]], dict[str, dict]],
                 edge_records: np.ndarray, edge_issues: np.ndarray, edge_supporting: np.ndarray | None = None,
                 people_affected: np.ndarray,
                 value_gbp: np.ndarray, quality_dimension: np.ndarray, quality_score: np.ndarray,
                 quality_rag: np.ndarray, version: int = 0,
                 finder: Callable[[str, str], list[str]] | None = None):
        """Compile arrays: node ``i`` is ``ids[i]`` (``ids`` sorted); edges are index pairs with kind codes.

        ``people_affected`` and ``value_gbp`` hold a value per node (NaN where none); the
        ``quality_*`` arrays each node's weakest quality dimension (index into
        ``model.QUALITY_DIMENSIONS``, or -1), its score (NaN if none) and RAG (index into
        ``model.RAGS``, or -1). Use the ``from_*`` constructors rather than this.
        """
        self.ids = list(ids)  # sorted: a node's position is found by bisection, with no dictionary to build
        n = len(self.ids)
        self.version = version
        self.kind_codes = np.asarray(kind_codes, dtype=np.int8)
        self._record_source = record_source
        self._finder = finder
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        edge_kinds = np.asarray(edge_kinds, dtype=np.int8)
        self.edge_count = int(sources.size)

        membership = edge_kinds == _MEMBER_OF
        self.member_people, self.member_teams = sources[membership], targets[membership]
        flow = ~np.isin(edge_kinds, _STRUCTURE)  # membership, and a task's place in its job, carry no data
        self.edge_sources, self.edge_targets, self.edge_kinds = sources[flow], targets[flow], edge_kinds[flow]
        self.out = _CSR(self.edge_sources, self.edge_targets, self.edge_kinds, n)
        self.into = _CSR(self.edge_targets, self.edge_sources, self.edge_kinds, n)
        self.edge_records = np.asarray(edge_records, dtype=np.int64)[flow]
        self.edge_issues = np.asarray(edge_issues, dtype=np.int64)[flow]
        # Per data-flow edge: an informs edge whose influence is supporting (a decision's other
        # inputs are primary). Aligned with edge_sources, like the CSR rows' ``edge`` numbers.
        self.edge_supporting = (np.zeros(sources.size, dtype=bool) if edge_supporting is None
                                else np.asarray(edge_supporting, dtype=bool))[flow]
        self.people_affected = np.asarray(people_affected, dtype=np.float64)
        self.value_gbp = np.asarray(value_gbp, dtype=np.float64)
        self.quality_dimension = np.asarray(quality_dimension, dtype=np.int8)
        self.quality_score = np.asarray(quality_score, dtype=np.float64)
        self.quality_rag = np.asarray(quality_rag, dtype=np.int8)
        self._scratch = threading.local()
        self._matrix: sp.csr_matrix | None = None

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_store(cls, store: Any, *, lock: Any = None) -> "LineageGraph":
        """Compile the graph held in a :class:`~lineage.store.Store` (one consistent read).

        Records are read from ``store`` on demand, holding ``lock`` (a ``threading.Lock``, say)
        when one is given: for a graph that threads share.
        """
        topology = store.topology()
        guard = lock if lock is not None else contextlib.nullcontext()

        def records(ids: list[str]) -> dict[str, dict]:
            with guard:
                return {record["id"]: record for record in store.nodes(ids=ids)}

        def finder(field_name: str, value: str) -> list[str]:
            with guard:
                return store.ids_where(field_name, value)

        return cls(topology.ids, topology.kind_codes, topology.sources, topology.targets, topology.edge_kinds,
                   record_source=records, edge_records=topology.edge_records, edge_issues=topology.edge_issues,
                   edge_supporting=topology.edge_supporting,
                   people_affected=topology.people_affected, value_gbp=topology.value_gbp,
                   quality_dimension=topology.quality_dimension, quality_score=topology.quality_score,
                   quality_rag=topology.quality_rag, version=topology.version, finder=finder)

    @classmethod
    def from_records(cls, nodes: Iterable[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]],
                     version: int = 0) -> "LineageGraph":
        """Compile native node and edge records (they must already be valid)."""
        nodes = {node["id"]: dict(node) for node in nodes}
        edges = list(edges)
        ids = sorted(nodes)
        index = {node_id: i for i, node_id in enumerate(ids)}

        def column(name: str) -> np.ndarray:
            values = np.full(len(ids), np.nan)
            for node_id, record in nodes.items():
                if isinstance(record.get(name), (int, float)):
                    values[index[node_id]] = record[name]
            return values

        def finder(field_name: str, value: str) -> list[str]:
            if field_name == "tag":
                return [i for i in ids if value in nodes[i].get("tags", ())]
            return [i for i in ids if nodes[i].get(field_name) == value]

        weakest = [model.weakest_dimension(nodes[i].get("quality")) if nodes[i]["kind"] == "dataset" else None
                   for i in ids]
        return cls(ids, np.array([_KIND_CODE[nodes[i]["kind"]] for i in ids], dtype=np.int8),
                   np.array([index[e["source"]] for e in edges], dtype=np.int64),
                   np.array([index[e["target"]] for e in edges], dtype=np.int64),
                   np.array([_EDGE_CODE[e["kind"]] for e in edges], dtype=np.int8),
                   record_source=lambda wanted: {i: nodes[i] for i in wanted if i in nodes},
                   edge_records=np.array([e.get("records", 0) for e in edges], dtype=np.int64),
                   edge_issues=np.array([e.get("records_with_issues", 0) for e in edges], dtype=np.int64),
                   edge_supporting=np.array([e["kind"] == "informs" and e.get("influence") == "supporting"
                                             for e in edges], dtype=bool),
                   people_affected=column("people_affected"), value_gbp=column("value_gbp"),
                   quality_dimension=np.array([_DIMENSION_CODE[w[0]] if w else -1 for w in weakest], dtype=np.int8),
                   quality_score=np.array([w[1] if w and w[1] is not None else np.nan for w in weakest]),
                   quality_rag=np.array([model.RAGS.index(w[2]) if w else -1 for w in weakest], dtype=np.int8),
                   version=version, finder=finder)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, version: int = 0) -> "LineageGraph":
        """Compile a networkx graph whose nodes and edges carry ``kind`` and native attributes."""
        nodes = [{"id": node_id, **data} for node_id, data in graph.nodes(data=True)]
        edges = [{"source": s, "target": t, **data} for s, t, data in graph.edges(data=True)]
        return cls.from_records(nodes, edges, version=version)

    # -- lookups --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, node_id: object) -> bool:
        if not isinstance(node_id, str):
            return False
        at = bisect.bisect_left(self.ids, node_id)
        return at < len(self.ids) and self.ids[at] == node_id

    def position(self, node_id: str) -> int:
        """Index of a node id; raises :class:`NotFoundError` for an unknown id."""
        at = bisect.bisect_left(self.ids, node_id)
        if at == len(self.ids) or self.ids[at] != node_id:
            raise NotFoundError(f"no node with id '{node_id}'")
        return at

    def kind(self, node_id: str) -> str:
        return model.NODE_KINDS[self.kind_codes[self.position(node_id)]]

    def record(self, node_id: str) -> dict[str, Any]:
        """The full native record of a node.

        Raises :class:`NotFoundError` for an id the graph does not hold, and for one it holds but
        whose record has gone: records are read live, and a node deleted since this graph's
        topology was built is not found, as it would be a moment later.
        """
        self.position(node_id)
        return self.records([node_id])[node_id]

    def records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The full native records of nodes, by id; :class:`NotFoundError` if any has gone (see
        :meth:`record`)."""
        wanted = list(ids)
        found = self._record_source(wanted)
        if len(found) < len(set(wanted)):
            missing = sorted(set(wanted) - set(found))
            raise NotFoundError(f"no node with id '{missing[0]}' (deleted since the graph was read; "
                                "reload to see the graph as it is now)")
        return found

    def find(self, field_name: str, value: str) -> np.ndarray:
        """Indexes of nodes whose ``field_name`` (owner, organisation or tag) equals ``value``."""
        found = self._finder(field_name, value) if self._finder else []
        return np.array([self.position(i) for i in found if i in self], dtype=np.int64)

    def of_kind(self, kind: str) -> np.ndarray:
        return np.flatnonzero(self.kind_codes == _KIND_CODE[kind])

    def members(self, team_id: str) -> np.ndarray:
        """Indexes of the people who are members of a team."""
        return np.unique(self.member_people[self.member_teams == self.position(team_id)])

    def team_counts(self, people: np.ndarray) -> list[tuple[int, int]]:
        """(team index, or -1 for no team; how many of ``people`` belong to it). A person may be in several."""
        chosen = np.zeros(len(self), dtype=bool)
        chosen[people] = True
        inside = chosen[self.member_people]
        counts = np.bincount(self.member_teams[inside], minlength=len(self))
        teams = np.flatnonzero(counts)
        in_a_team = np.zeros(len(self), dtype=bool)
        in_a_team[self.member_people[inside]] = True
        teamless = int(np.count_nonzero(chosen & ~in_a_team))
        return list(zip(teams.tolist(), counts[teams].tolist())) + ([(-1, teamless)] if teamless else [])

    def edges_among(self, nodes: Sequence[int]) -> list[tuple[int, int, str]]:
        """Data-flow edges with both ends among ``nodes`` (indexes): (source, target, kind).

        >>> g = LineageGraph.from_records(
        ...     [{"id": i, "kind": "dataset", "name": i} for i in "abc"],
        ...     [{"source": "a", "target": "b", "kind": "derives"}, {"source": "b", "target": "c", "kind": "derives"}])
        >>> g.edges_among([0, 1])
        [(0, 1, 'derives')]
        """
        chosen = np.unique(np.asarray(nodes, dtype=np.int64))
        positions, counts = self.out.gather(chosen)
        sources, targets = np.repeat(chosen, counts), self.out.indices[positions]
        inside = np.isin(targets, chosen)
        kinds = [model.EDGE_KINDS[k] for k in self.out.kinds[positions][inside].tolist()]
        return list(zip(sources[inside].tolist(), targets[inside].tolist(), kinds))

    def flow_matrix(self) -> sp.csr_matrix:
        """The data-flow adjacency as a sparse matrix (built once)."""
        if self._matrix is None:
            self._matrix = self.out.matrix(len(self))
        return self._matrix

    # -- traversal ------------------------------------------------------------------------------

    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-thread scratch arrays: distance (-1 = unseen) and a slot array for de-duplication."""
        scratch = self._scratch
        if getattr(scratch, "distance", None) is None or scratch.distance.size != len(self):
            scratch.distance = np.full(len(self), -1, dtype=np.int32)
            scratch.slot = np.zeros(len(self), dtype=np.int64)
        return scratch.distance, scratch.slot

    def bfs(self, starts: np.ndarray, *, reverse: bool = False, depth: int | None = None,
            edge_kinds: Iterable[str] | None = None, within: np.ndarray | None = None,
            stop: np.ndarray | None = None) -> Reach:
        """Breadth-first reach from ``starts`` (indexes), excluding them.

        Frontier-at-a-time over the sparse rows: the cost is the edges reached, with no work
        proportional to the size of the whole graph, so a person's reach of a hundred nodes takes
        well under a millisecond and a hub's reach of a million nodes about a tenth of a second.
        ``within``, a boolean mask over nodes, confines the search to the nodes it marks; the
        search ends after the first level that reaches a node marked in ``stop``.
        """
        adjacency = self.into if reverse else self.out
        allowed = None
        if edge_kinds is not None:
            allowed = np.zeros(len(model.EDGE_KINDS), dtype=bool)
            allowed[[_EDGE_CODE[k] for k in edge_kinds]] = True
        distance, slot = self._buffers()
        frontier = np.unique(np.asarray(starts, dtype=np.int64))
        distance[frontier] = 0
        levels, level = [], 0
        try:
            while frontier.size and (depth is None or level < depth):
                positions, _ = adjacency.gather(frontier)
                if positions.size == 0:
                    break
                found = adjacency.indices[positions]
                if allowed is not None:
                    found = found[allowed[adjacency.kinds[positions]]]
                if within is not None:
                    found = found[within[found]]
                found = found[distance[found] < 0]
                if found.size == 0:
                    break
                level += 1
                distance[found] = level
                order = np.arange(found.size)
                slot[found] = order
                frontier = found[slot[found] == order]
                levels.append(frontier)
                if stop is not None and stop[frontier].any():
                    break
            reached = np.concatenate(levels) if levels else np.zeros(0, dtype=np.int64)
            return Reach(self, reached, distance[reached].copy())
        finally:
            distance[frontier] = -1
            for chunk in levels:
                distance[chunk] = -1
            distance[np.asarray(starts, dtype=np.int64)] = -1


# ---------------------------------------------------------------------------------------------
# networkx, the modelling API


def to_networkx(nodes: Iterable[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]]) -> nx.DiGraph:
    """A ``networkx.DiGraph`` of native records: node and edge attributes as in the files.

    >>> G = to_networkx([{"id": "a", "kind": "person", "name": "A"}, {"id": "t", "kind": "team", "name": "T"}],
    ...                 [{"source": "a", "target": "t", "kind": "member_of"}])
    >>> G.nodes["a"]["kind"], G.edges["a", "t"]["kind"]
    ('person', 'member_of')
    """
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from((node["id"], {k: v for k, v in node.items() if k != "id"}) for node in nodes)
    graph.add_edges_from((edge["source"], edge["target"],
                          {k: v for k, v in edge.items() if k not in ("source", "target")}) for edge in edges)
    return graph


# ---------------------------------------------------------------------------------------------
# Traversals


def _check_query(g: LineageGraph, depth: int | None, kinds: Iterable[str] | None,
                 edge_kinds: Iterable[str] | None) -> None:
    if depth is not None and not (isinstance(depth, int) and 0 <= depth <= MAX_DEPTH):
        raise LineageError(f"depth must be a whole number from 0 to {MAX_DEPTH}, got {depth!r}")
    for kind in kinds or ():
        if kind not in _KIND_CODE:
            raise LineageError(f"unknown node kind '{kind}'; expected one of: {', '.join(model.NODE_KINDS)}")
    for kind in edge_kinds or ():
        if kind not in model.FLOW_EDGE_KINDS:
            raise LineageError(f"unknown edge kind '{kind}'; expected one of: "
                               f"{', '.join(k for k in model.EDGE_KINDS if k in model.FLOW_EDGE_KINDS)}")


def traverse(g: LineageGraph, node: str | Iterable[str], *, direction: str = "downstream",
             depth: int | None = None, kinds: Iterable[str] | None = None,
             edge_kinds: Iterable[str] | None = None) -> Reach:
    """Nodes reachable from ``node`` (an id or several) along data-flow edges.

    Parameters
    ----------
    direction : "downstream", "upstream" or "both"
    depth : int, optional
        Furthest distance, in edges; None for no limit.
    kinds : node kinds to return (traversal still passes through the others).
    edge_kinds : edge kinds to follow; default every data-flow kind.

    >>> g = LineageGraph.from_records(
    ...     [{"id": i, "kind": k, "name": i} for i, k in [("s", "system"), ("d", "dataset"), ("x", "decision")]],
    ...     [{"source": "s", "target": "d", "kind": "supplies"}, {"source": "d", "target": "x", "kind": "informs"}])
    >>> traverse(g, "x", direction="upstream", depth=1).ids()
    ['d']
    """
    if direction not in DIRECTIONS:
        raise LineageError(f"direction must be one of: {', '.join(DIRECTIONS)}; got '{direction}'")
    kinds = list(kinds) if kinds is not None else None
    edge_kinds = list(edge_kinds) if edge_kinds is not None else None
    _check_query(g, depth, kinds, edge_kinds)
    starts = np.array([g.position(n) for n in ([node] if isinstance(node, str) else node)], dtype=np.int64)
    if direction == "both":
        down = g.bfs(starts, depth=depth, edge_kinds=edge_kinds)
        up = g.bfs(starts, reverse=True, depth=depth, edge_kinds=edge_kinds)
        nodes = np.concatenate([down.nodes, up.nodes])
        distance = np.concatenate([down.distance, up.distance])
        order = np.argsort(distance, kind="stable")
        nodes, distance = nodes[order], distance[order]
        _, first = np.unique(nodes, return_index=True)
        first.sort()
        reach = Reach(g, nodes[first], distance[first])
    else:
        reach = g.bfs(starts, reverse=direction == "upstream", depth=depth, edge_kinds=edge_kinds)
    return reach.of_kind(*kinds) if kinds else reach


def downstream(g: LineageGraph, node: str, **options: Any) -> Reach:
    """Nodes downstream of ``node`` (see :func:`traverse`)."""
    return traverse(g, node, direction="downstream", **options)


def upstream(g: LineageGraph, node: str, **options: Any) -> Reach:
    """Nodes upstream of ``node`` (see :func:`traverse`)."""
    return traverse(g, node, direction="upstream", **options)


def paths(g: LineageGraph, source: str | Sequence[str], targets: Iterable[str] | None = None, *,
          reverse: bool = False, cutoff: int = 12, max_paths: int = 100, per_target: int = 3,
          max_steps: int = 200_000, skip_kinds: Iterable[str] = (), reach: Reach | None = None) -> list[list[str]]:
    """Simple paths from ``source`` (an id, or several tried in turn) to target nodes, bounded.

    Only nodes that lie between the source and a target are explored, children in id order, so
    the result is stable. It stops at ``max_paths`` paths, ``per_target`` paths to any one
    target, paths of ``cutoff`` edges and ``max_steps`` expansions, or when every target has its
    paths: never exponential work.

    Parameters
    ----------
    targets : ids, default every decision downstream (upstream, with ``reverse``: every node
        with nothing further upstream but skipped kinds).
    reverse : walk against the flow (paths are still listed source first, as walked).
    skip_kinds : kinds never stepped on (provenance skips people, who are counted, not listed).
    reach : the sources' reach in the walking direction, when the caller has it already.
    """
    starts = [g.position(s) for s in ([source] if isinstance(source, str) else source)]
    adjacency = g.into if reverse else g.out
    if reach is None:
        reach = g.bfs(np.array(starts, dtype=np.int64), reverse=reverse)
    skipped = np.isin(g.kind_codes, [_KIND_CODE[k] for k in skip_kinds])
    walkable = reach.nodes[~skipped[reach.nodes]]
    useful = np.zeros(len(g), dtype=bool)
    if reverse and targets is None:
        # Upstream, every walkable node leads on to a source, and a node is a source when the
        # walk finds nothing further: no second search, and no test of every node beforehand.
        useful[walkable] = True
        goals: set[int] | None = None
    else:
        goal = (np.array([g.position(t) for t in targets], dtype=np.int64) if targets is not None
                else walkable[g.kind_codes[walkable] == _DECISION])
        if goal.size == 0:
            return []
        # Nodes the walk could take (reachable, not skipped) that lead on to a goal.
        within = np.zeros(len(g), dtype=bool)
        within[walkable] = True
        useful[g.bfs(goal, reverse=not reverse, within=within).nodes] = True
        useful[goal] = True
        goals = set(goal.tolist())
    ids = g.ids
    found: list[list[str]] = []
    per: dict[int, int] = {}
    steps = 0
    for start in starts:
        stack: list[tuple[int, list[int]]] = [(start, [start])]
        while stack and len(found) < max_paths and steps < max_steps:
            node, path = stack.pop()
            steps += 1
            onward = [c for c in adjacency.neighbours(node).tolist() if useful[c]]
            is_goal = (not onward) if goals is None else node in goals
            if is_goal and node != start and per.get(node, 0) < per_target:
                per[node] = per.get(node, 0) + 1
                found.append([ids[i] for i in path])
                if goals is not None and per[node] == per_target and \
                        sum(count == per_target for count in per.values()) == len(goals):
                    return found
            if len(path) > cutoff:
                continue
            children = [c for c in onward if c not in path]
            children.sort(key=ids.__getitem__, reverse=True)
            stack.extend((child, path + [child]) for child in children)
    return found


# ---------------------------------------------------------------------------------------------
# Impact, provenance, criticality


@dataclass
class DecisionReached:
    """A decision a contributor's records reach.

    ``ai_tools`` are the AI tools on the way that inform it directly (the records pass through
    them on a path that goes through no other decision); ``ai_tools_earlier`` those that reach it
    only through an earlier decision's recorded outcomes. Each list keeps the first
    :data:`AI_TOOLS_LISTED` by id; the counts count them all.
    """

    id: str
    name: str
    decision_type: str | None
    frequency: str | None
    people_affected: int | None
    value_gbp: float | None
    distance: int
    ai_tools: list[str]
    ai_tool_count: int
    ai_tools_earlier: list[str]
    ai_tool_earlier_count: int
    paths: list[list[str]]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


AI_TOOLS_LISTED = 20
"""AI tools named per decision reached; the rest are counted."""


@dataclass
class Impact:
    """What a person's (or a team's) records go on to do.

    Populations and budgets of different decisions overlap (the same households are counted by
    allocations and by the council budget), so they are never added up: ``largest_people_affected``
    and ``largest_value_gbp`` are the largest of any one decision reached, with that decision.
    """

    subject: str
    people: int
    records: int
    records_with_issues: int
    entered_into: list[str]
    decision_count: int
    largest_people_affected: int | None
    largest_people_decision: str | None
    largest_value_gbp: float | None
    largest_value_decision: str | None
    ai_tool_count: int
    reached_count: int
    decisions: list[DecisionReached] = field(default_factory=list)
    reach: Reach | None = field(default=None, repr=False, compare=False)  # everything downstream, for callers

    def as_dict(self) -> dict[str, Any]:
        result = {k: v for k, v in self.__dict__.items() if k not in ("decisions", "reach")}
        result["decisions"] = [d.as_dict() for d in self.decisions]
        return result


def largest(g: LineageGraph, decisions: np.ndarray, values: np.ndarray) -> tuple[float | None, str | None]:
    """The largest of ``values`` (one per decision, NaN where unknown) and its decision's id (the
    first id on a tie); (None, None) when no decision has a value."""
    known = ~np.isnan(values)
    if not known.any():
        return None, None
    top = values[known].max()
    winner = min(g.ids[d] for d in decisions[known & (values == top)].tolist())
    return float(top), winner


def _reaching_masks(g: LineageGraph, reach: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the nodes of ``reach`` (sorted positions), which of the ``chosen`` decisions each one
    leads to, as bit masks (a row per node, a bit per chosen decision): along any path, and along
    paths that pass through no other decision. Bits spread against the flow, only over the edges
    among ``reach``, until nothing changes (it must: masks only grow)."""
    words = max(1, -(-chosen.size // 64))
    positions, counts = g.into.gather(reach)
    node = np.repeat(np.arange(reach.size), counts)
    before = g.into.indices[positions]
    at = np.minimum(np.searchsorted(reach, before), reach.size - 1)
    inside = reach[at] == before
    node, before = node[inside], at[inside]
    seed = np.zeros((reach.size, words), dtype=np.uint64)
    bit = np.arange(chosen.size)
    np.bitwise_or.at(seed, (np.searchsorted(reach, chosen), bit // 64), np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64)))
    is_decision = g.kind_codes[reach] == _DECISION

    def spread(through_decisions: bool) -> np.ndarray:
        masks = seed.copy()
        changed = masks.any(axis=1)
        while changed.any():
            moving = changed[node]
            carriers, receivers = node[moving], before[moving]
            values = masks[carriers] if through_decisions else \
                np.where(is_decision[carriers, None], seed[carriers], masks[carriers])
            grown = masks.copy()
            for word in range(words):
                np.bitwise_or.at(grown[:, word], receivers, values[:, word])
            changed = (grown != masks).any(axis=1)
            masks = grown
        return masks

    return spread(True), spread(False), words


def impact(g: LineageGraph, subject: str, *, limit: int = 100, path_limit: int = 3) -> Impact:
    """The decisions a person's records feed, or a team's (its members' records together).

    Counts (decisions, AI tools) count every decision and tool reached; ``largest_*`` are the
    largest figures of any one decision reached (never sums: populations overlap). The
    ``decisions`` list details the ``limit`` decisions affecting most people, each with up to
    ``path_limit`` paths and every AI tool on the way to it (on any path, not only those listed).

    >>> g = LineageGraph.from_records(
    ...     [{"id": "ali", "kind": "person", "name": "Ali"},
    ...      {"id": "reg", "kind": "dataset", "name": "Register"},
    ...      {"id": "model", "kind": "ai_tool", "name": "Model"},
    ...      {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400, "value_gbp": 5e6}],
    ...     [{"source": "ali", "target": "reg", "kind": "enters", "records": 1240},
    ...      {"source": "reg", "target": "model", "kind": "feeds"},
    ...      {"source": "model", "target": "alloc", "kind": "informs"}])
    >>> result = impact(g, "ali")
    >>> result.decision_count, result.records, result.decisions[0].ai_tools, result.largest_people_affected
    (1, 1240, ['model'], 3400)
    """
    position = g.position(subject)
    code = g.kind_codes[position]
    if code == _TEAM:
        people = g.members(subject)
    elif code == _PERSON:
        people = np.array([position])
    else:
        raise LineageError(f"'{subject}' is a {model.NODE_KINDS[code]}; impact is for a person or a team")
    edges, _ = g.out.gather(people)
    edges = edges[g.out.kinds[edges] == _ENTERS]
    original = g.out.edge[edges]
    reach = g.bfs(people)
    decisions = reach.of_kind("decision")
    tools = reach.of_kind("ai_tool")
    most_people, most_people_decision = largest(g, decisions.nodes, g.people_affected[decisions.nodes])
    most_value, most_value_decision = largest(g, decisions.nodes, g.value_gbp[decisions.nodes])
    result = Impact(
        subject=subject, people=int(people.size),
        records=int(g.edge_records[original].sum()), records_with_issues=int(g.edge_issues[original].sum()),
        entered_into=sorted({g.ids[i] for i in g.out.indices[edges].tolist()}),
        decision_count=decisions.count,
        largest_people_affected=None if most_people is None else int(most_people),
        largest_people_decision=most_people_decision, largest_value_gbp=most_value,
        largest_value_decision=most_value_decision, ai_tool_count=tools.count, reached_count=reach.count,
        reach=reach)

    affected = np.nan_to_num(g.people_affected[decisions.nodes], nan=-1)
    chosen = decisions.nodes[np.lexsort((decisions.distance, -affected))][:limit]
    if chosen.size == 0:
        return result
    chosen_ids = [g.ids[i] for i in chosen.tolist()]
    records = g.records(chosen_ids)
    distance = dict(zip(decisions.nodes.tolist(), decisions.distance.tolist()))
    found: dict[str, list[list[str]]] = {}
    for path in paths(g, [g.ids[p] for p in people.tolist()], chosen_ids, per_target=path_limit,
                      max_paths=len(chosen_ids) * path_limit, reach=reach):
        found.setdefault(path[-1], []).append(path)
    reached = np.sort(reach.nodes)
    through_any, direct, _ = _reaching_masks(g, reached, chosen)
    tool_rows = np.flatnonzero(g.kind_codes[reached] == _AI_TOOL)  # in id order, as positions are
    for j, (node, node_id) in enumerate(zip(chosen.tolist(), chosen_ids)):
        word, bit = j // 64, np.uint64(1) << np.uint64(j % 64)
        on_any = tool_rows[(through_any[tool_rows, word] & bit) != 0]
        on_direct = tool_rows[(direct[tool_rows, word] & bit) != 0]
        earlier_only = np.setdiff1d(on_any, on_direct, assume_unique=True)
        record = records.get(node_id, {})
        result.decisions.append(DecisionReached(
            id=node_id, name=record.get("name", node_id), decision_type=record.get("decision_type"),
            frequency=record.get("frequency"), people_affected=record.get("people_affected"),
            value_gbp=record.get("value_gbp"), distance=distance[node],
            ai_tools=[g.ids[i] for i in reached[on_direct[:AI_TOOLS_LISTED]].tolist()],
            ai_tool_count=int(on_direct.size),
            ai_tools_earlier=[g.ids[i] for i in reached[earlier_only[:AI_TOOLS_LISTED]].tolist()],
            ai_tool_earlier_count=int(earlier_only.size), paths=found.get(node_id, [])))
    return result


@dataclass
class Provenance:
    """Everything upstream of a decision, and how far its data can be trusted."""

    decision: str
    upstream_count: int
    counts: dict[str, int]
    nodes: dict[str, list[str]]
    people_count: int
    teams: list[dict[str, Any]]
    confidence: Confidence
    unassessed_datasets: int
    paths: list[dict[str, Any]]
    reach: Reach | None = field(default=None, repr=False, compare=False)  # everything upstream, for callers

    @property
    def datasets(self) -> list[str]:
        return self.nodes.get("dataset", [])

    @property
    def ai_tools(self) -> list[str]:
        return self.nodes.get("ai_tool", [])

    def as_dict(self) -> dict[str, Any]:
        result = {k: v for k, v in self.__dict__.items() if k != "reach"}
        result["confidence"] = self.confidence.as_dict()
        result["datasets"] = self.datasets
        result["ai_tools"] = self.ai_tools
        return result


def provenance(g: LineageGraph, decision: str, *, limit: int = 200, path_limit: int = 20) -> Provenance:
    """What a decision rests on: upstream nodes by kind, teams, and data confidence.

    Data confidence is :mod:`lineage.confidence`'s (primary inputs decide; a supporting input
    lowers it by one band at most; earlier decisions' data is reported, not decisive). People are
    counted per team, never listed. Lists hold at most ``limit`` ids per kind (nearest first);
    ``counts`` has the full numbers. ``paths`` holds up to ``path_limit`` upstream paths, each
    with its own weakest link.
    """
    position = g.position(decision)
    if g.kind_codes[position] != _DECISION:
        raise LineageError(f"'{decision}' is a {g.kind(decision)}; provenance is for a decision")
    reach = g.bfs(np.array([position]), reverse=True)
    nodes = {kind: reach.of_kind(kind).ids(limit) for kind in model.NODE_KINDS if kind not in ("person", "team")}
    people = reach.nodes[g.kind_codes[reach.nodes] == _PERSON]
    teams = sorted(({"team": g.ids[t] if t >= 0 else None, "people": c} for t, c in g.team_counts(people)),
                   key=lambda row: (-row["people"], row["team"] or ""))
    datasets = reach.nodes[g.kind_codes[reach.nodes] == _DATASET]
    path_rows = []
    for path in paths(g, decision, reverse=True, max_paths=path_limit, per_target=1, skip_kinds=("person",),
                      reach=reach):
        flowing = list(reversed(path))
        weak = weakest_among(g, np.array([g.position(i) for i in flowing], dtype=np.int64))
        path_rows.append({"path": flowing, "weakest": weak.as_dict() if weak else None})
    return Provenance(
        decision=decision, upstream_count=reach.count, counts=reach.counts_by_kind(),
        nodes={k: v for k, v in nodes.items() if v}, people_count=int(people.size), teams=teams,
        confidence=local_confidence(g, position, reach), unassessed_datasets=int((g.quality_rag[datasets] < 0).sum()),
        paths=path_rows, reach=reach)


def single_points_of_failure(g: LineageGraph, decision: str, *, reach: Reach | None = None) -> list[str]:
    """Nodes that every path into a decision passes through, nearest first.

    A path starts where data enters the estate: a node upstream with nothing upstream of it (a
    person, or a system or dataset with no inputs). A node is a single point of failure when
    removing it leaves the decision with no path from any such origin: in graph terms it
    dominates every origin in the reversed graph rooted at the decision. An only origin counts
    (one person whose records everything rests on).

    Only the nodes of one path P from the decision to an origin can dominate every origin. They
    are found in one pass over the upstream (linear, as for the cut vertices between two nodes):
    walking P from the decision, each node's detours (the nodes it reaches without touching P,
    none visited twice) show how far along P, or to another origin, one can get; a node of P that
    nothing jumps over is on every path.

    >>> g = LineageGraph.from_records(
    ...     [{"id": i, "kind": k, "name": i} for i, k in [("p", "person"), ("q", "person"), ("s", "system"),
    ...      ("d", "dataset"), ("e", "dataset"), ("x", "decision")]],
    ...     [{"source": "p", "target": "s", "kind": "enters"}, {"source": "q", "target": "s", "kind": "enters"},
    ...      {"source": "s", "target": "d", "kind": "supplies"}, {"source": "s", "target": "e", "kind": "supplies"},
    ...      {"source": "d", "target": "x", "kind": "informs"}, {"source": "e", "target": "x", "kind": "informs"}])
    >>> single_points_of_failure(g, "x")
    ['s']
    """
    position = g.position(decision)
    if reach is None:
        reach = g.bfs(np.array([position]), reverse=True)
    if reach.count == 0:
        return []
    upstream = np.zeros(len(g), dtype=bool)
    upstream[reach.nodes] = True
    origin = np.zeros(len(g), dtype=bool)
    origin[reach.nodes[np.diff(g.into.indptr)[reach.nodes] == 0]] = True
    if not origin.any():  # upstream is all cycle: every path loops, and no node is a way in
        return []
    path = [position, *_one_path_to_an_origin(g, position, upstream, origin)]
    along = np.full(len(g), -1, dtype=np.int64)
    along[path] = np.arange(len(path))
    free = upstream & (along < 0)  # off the path and not yet explored
    furthest, failures = 0, []
    for step, node in enumerate(path[:-1]):
        detour = g.bfs(np.array([node]), reverse=True, within=free, stop=origin).nodes
        if origin[detour].any():
            break  # a way round the rest of the path, to another origin: nothing further is on every path
        free[detour] = False
        positions, _ = g.into.gather(np.concatenate([[node], detour]))
        furthest = max(furthest, int(along[g.into.indices[positions]].max()))
        if furthest == step + 1:
            failures.append(path[step + 1])
    return [g.ids[i] for i in failures]


def _one_path_to_an_origin(g: LineageGraph, start: int, upstream: np.ndarray, origin: np.ndarray) -> list[int]:
    """The nodes (start excluded) of a shortest upstream path from ``start`` to an origin."""
    parent = {start: -1}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for previous in g.into.neighbours(node).tolist():
                if upstream[previous] and previous not in parent:
                    parent[previous] = node
                    if origin[previous]:
                        path = []
                        while previous != start:
                            path.append(previous)
                            previous = parent[previous]
                        return path[::-1]
                    following.append(previous)
        frontier = following
    return []


@dataclass
class ReachTotals:
    """Per source node: the decisions and AI tools it reaches (counts), and the largest number of
    people affected and of £ of any one of those decisions (arrays). Populations and budgets of
    different decisions overlap, so they are never added up."""

    nodes: np.ndarray
    decisions: np.ndarray
    largest_people_affected: np.ndarray
    largest_value_gbp: np.ndarray
    ai_tools: np.ndarray

    def rows(self, g: LineageGraph) -> list[dict[str, Any]]:
        return [{"id": g.ids[n], "decisions": int(d), "largest_people_affected": int(p), "largest_value_gbp": float(v),
                 "ai_tools": int(a)}
                for n, d, p, v, a in zip(self.nodes.tolist(), self.decisions.tolist(),
                                         self.largest_people_affected.tolist(), self.largest_value_gbp.tolist(),
                                         self.ai_tools.tolist())]


def _target_reach(g: LineageGraph, sources: np.ndarray, targets: np.ndarray, block: int = 4096) -> sp.csr_matrix:
    """Which of ``targets`` each source reaches: a 0/1 sparse matrix (sources x targets).

    Many breadth-first searches at once, as sparse matrix products a block of sources at a time,
    so the work is done in compiled code.
    """
    matrix = g.flow_matrix()
    column = np.full(len(g), -1, dtype=np.int64)
    column[targets] = np.arange(targets.size)
    blocks = []
    for start in range(0, sources.size, block):
        chunk = sources[start:start + block]
        rows = np.arange(chunk.size)
        frontier = sp.csr_matrix((np.ones(chunk.size, dtype=np.int32), (rows, chunk)), shape=(chunk.size, len(g)))
        seen = frontier.copy()
        while frontier.nnz:
            step = frontier @ matrix
            step.data[:] = 1
            frontier = step - step.multiply(seen)
            frontier.eliminate_zeros()
            seen = seen + frontier
        seen = seen.tocoo()
        keep = column[seen.col] >= 0
        blocks.append(sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int32),
                                     (seen.row[keep], column[seen.col[keep]])), shape=(chunk.size, targets.size)))
    if not blocks:
        return sp.csr_matrix((0, targets.size), dtype=np.int32)
    return sp.vstack(blocks, format="csr")


def _totals(g: LineageGraph, nodes: np.ndarray, reach: sp.csr_matrix, targets: np.ndarray) -> ReachTotals:
    reach = reach.tocsr()
    reach.sum_duplicates()
    counts = reach.astype(np.float64)
    is_decision = (g.kind_codes[targets] == _DECISION).astype(np.float64)
    return ReachTotals(
        nodes=nodes,
        decisions=(counts @ is_decision).astype(np.int64),
        largest_people_affected=row_maxima(reach, np.nan_to_num(g.people_affected[targets])).astype(np.int64),
        largest_value_gbp=row_maxima(reach, np.nan_to_num(g.value_gbp[targets])),
        ai_tools=(counts @ (g.kind_codes[targets] == _AI_TOOL).astype(np.float64)).astype(np.int64))


def _impact_targets(g: LineageGraph) -> np.ndarray:
    return np.flatnonzero((g.kind_codes == _DECISION) | (g.kind_codes == _AI_TOOL))


def reach_totals(g: LineageGraph, kinds: Sequence[str] = ("dataset", "system")) -> ReachTotals:
    """Criticality: for every node of ``kinds``, the decisions, people, £ and AI tools it underpins."""
    nodes = np.flatnonzero(np.isin(g.kind_codes, [_KIND_CODE[k] for k in kinds]))
    targets = _impact_targets(g)
    return _totals(g, nodes, _target_reach(g, nodes, targets), targets)


def people_impact(g: LineageGraph) -> ReachTotals:
    """Impact counts for every person at once (what the leader views materialise).

    A person's reach is the union of the reach of the systems and datasets they enter, so
    each entry point is searched once, not once per contributor: a dataset with 50,000
    contributors costs one search, and a union only where a person enters several places.
    """
    people = g.of_kind("person")
    targets = _impact_targets(g)
    entries = g.out.kinds == _ENTERS
    rows = np.repeat(np.arange(len(g)), np.diff(g.out.indptr))[entries]
    cols = g.out.indices[entries]
    entry_nodes, entry_column = np.unique(cols, return_inverse=True)
    entry_reach = _target_reach(g, entry_nodes, targets)
    row_of = np.full(len(g), -1, dtype=np.int64)
    row_of[people] = np.arange(people.size)
    incidence = sp.csr_matrix((np.ones(rows.size, dtype=np.int32), (row_of[rows], entry_column)),
                              shape=(people.size, entry_nodes.size))
    union = incidence @ entry_reach
    union.data[:] = 1
    return _totals(g, people, union, targets)

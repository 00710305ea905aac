"""What if a dataset's quality changed? Which decisions' data confidence would change, and by how much.

Nothing is saved: :func:`what_if` answers on the graph as it is, with one dataset's quality
replaced. A decision's data confidence is the weakest link upstream of it
(:func:`lineage.insights.weakest_upstream`); a change to one dataset can only move the decisions
downstream of it, so only that part of the graph is recomputed: one pass over it in topological
order, starting from the weakest link each of its inputs from the rest of the graph already has.

>>> from lineage.graph import LineageGraph
>>> g = LineageGraph.from_records(
...     [{"id": "reg", "kind": "dataset", "name": "Housing register", "quality": {"timeliness": 0.71}},
...      {"id": "voids", "kind": "dataset", "name": "Voids", "quality": {"completeness": 0.8}},
...      {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400},
...      {"id": "bid", "kind": "decision", "name": "Grant bid"}],
...     [{"source": "reg", "target": "alloc", "kind": "informs"}, {"source": "voids", "target": "alloc", "kind": "informs"},
...      {"source": "voids", "target": "bid", "kind": "informs"}])
>>> result = what_if(g, "voids", {"completeness": 0.4})
>>> [(c.decision, c.before["rag"], c.after["rag"], c.change) for c in result.changed]
[('bid', 'amber', 'red', -0.4), ('alloc', 'amber', 'red', -0.31)]
>>> print(result.summary)
Setting Voids' completeness to 0.40 would change the data confidence of 2 of the 2 decisions downstream: 2 would get worse, 2 of them from amber to red.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import model
from .describe import number, plural
from .errors import LineageError
from .graph import LineageGraph, WeakLink, _weak_link
from .insights import NONE, RAGS, _ancestor_minimum, _condense, confidence_sentence, possessive, weakest_upstream

_DATASET = model.NODE_KINDS.index("dataset")
_DECISION = model.NODE_KINDS.index("decision")
LISTED = 200
"""Changed decisions listed (the worst first); the rest are counted."""


@dataclass
class ConfidenceChange:
    """One decision whose data confidence would change: before and after (weak links, or None
    for "unknown"), the change in the weakest score, and the sentence after."""

    decision: str
    name: str
    people_affected: int | None
    value_gbp: float | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    change: float | None
    rag_change: str
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class WhatIf:
    """The answer to "what if this dataset's quality changed?" (see :func:`what_if`)."""

    dataset: dict[str, Any]
    changes: dict[str, float]
    quality_before: dict[str, dict[str, Any]]
    quality_after: dict[str, dict[str, Any]]
    weakest_before: dict[str, Any] | None
    weakest_after: dict[str, Any] | None
    decisions_downstream: int
    changed_count: int
    worse: int
    better: int
    rag_changes: dict[str, int]
    summary: str
    changed: list[ConfidenceChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        result = dict(self.__dict__)
        result["changed"] = [c.as_dict() for c in self.changed]
        return result


def _check(changes: Mapping[str, Any]) -> dict[str, float]:
    if not changes:
        raise LineageError("say which quality dimension to change, and to what score")
    checked = {}
    for dimension, score in changes.items():
        if dimension not in model.QUALITY_DIMENSIONS:
            raise LineageError(f"unknown quality dimension '{dimension}'; the dimensions are: "
                               f"{', '.join(model.QUALITY_DIMENSIONS)}")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1 \
                or math.isnan(score):
            raise LineageError(f"a {dimension} score must be a number from 0 to 1, got {score!r}")
        checked[dimension] = float(score)
    return checked


def _quality_table(quality: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {d: {"score": model.quality_score(quality[d]), "rag": model.quality_rag(quality[d])}
            for d in model.QUALITY_DIMENSIONS if d in quality}


def _rank_of(g: LineageGraph, ordered: np.ndarray, node: int, rag: str, score: float | None) -> float:
    """Where a dataset with this weakest (rating, score) would sit among ``ordered`` (weakest first:
    rating, then score, then id), between two whole ranks."""
    rags = g.quality_rag[ordered]
    scores = np.nan_to_num(g.quality_score[ordered], nan=2.0)
    code = RAGS.index(rag)
    key = 2.0 if score is None else score
    low, high = np.searchsorted(rags, code, "left"), np.searchsorted(rags, code, "right")
    low, high = low + np.searchsorted(scores[low:high], key, "left"), low + np.searchsorted(scores[low:high], key, "right")
    return float(low + np.searchsorted(ordered[low:high], node, "left")) - 0.5


def what_if(g: LineageGraph, dataset: str, changes: Mapping[str, float], *, limit: int = LISTED) -> WhatIf:
    """Which decisions' data confidence would change, and by how much, if ``dataset``'s quality
    dimensions were set to ``changes`` (dimension -> score from 0 to 1). Nothing is saved.

    Decisions are listed worst change first (a rating lost, then the biggest fall in score, then
    most people affected); every decision downstream is counted.
    """
    position = g.position(dataset)
    if g.kind_codes[position] != _DATASET:
        raise LineageError(f"'{dataset}' is a {g.kind(dataset)}; a what-if changes the quality of a dataset")
    changes = _check(changes)
    subject = g.record(dataset)
    quality = dict(subject.get("quality") or {})
    after_quality = {**quality, **changes}
    before_weak, after_weak = model.weakest_dimension(quality), model.weakest_dimension(after_quality)

    upstream = weakest_upstream(g)
    ordered = upstream.ordered
    if after_weak == before_weak:  # its weakest link is the same: so is its place among the others
        own_rank = float(upstream.rank[position]) if upstream.rank[position] != NONE else float(NONE)
    else:
        own_rank = NONE if after_weak is None else _rank_of(g, ordered, position, after_weak[2], after_weak[1])

    reach = g.bfs(np.array([position]))
    nodes = np.union1d(reach.nodes, [position])  # the part that can change: the dataset and downstream
    local = np.full(len(g), -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    edges, counts = g.into.gather(nodes)
    targets = np.repeat(nodes, counts)
    sources = g.into.indices[edges]
    inside = local[sources] >= 0
    # Each node starts from its own rank and the weakest links its inputs from outside already carry.
    own = np.where(g.kind_codes[nodes] == _DATASET, _own_ranks(g, upstream, nodes), float(NONE))
    own[local[position]] = own_rank
    outside = ~inside
    np.minimum.at(own, local[targets[outside]], upstream.rank[sources[outside]].astype(np.float64))
    condensed = _condense(nodes.size, local[sources[inside]], local[targets[inside]])
    per_group = np.full(condensed.count, float(NONE))
    np.minimum.at(per_group, condensed.label, own)
    after = _ancestor_minimum(condensed, per_group)[condensed.label]

    decisions = np.flatnonzero(g.kind_codes[nodes] == _DECISION)
    before_rank = upstream.rank[nodes[decisions]].astype(np.float64)
    after_rank = after[decisions]
    moved = np.flatnonzero(before_rank != after_rank)
    moved_nodes = nodes[decisions[moved]]
    new_link = None if after_weak is None else WeakLink(dataset, after_weak[0], after_weak[1], after_weak[2])
    rag_before, score_before = _ratings(g, ordered, before_rank[moved], new_link)
    rag_after, score_after = _ratings(g, ordered, after_rank[moved], new_link)
    unknown = len(RAGS)
    step = np.minimum(rag_after, unknown - 1) - np.minimum(rag_before, unknown - 1)  # unknown counts as green
    fell = (step < 0) | ((step == 0) & (np.nan_to_num(score_after, nan=2.0) < np.nan_to_num(score_before, nan=2.0)))
    delta = score_after - score_before  # NaN where either has no score
    people = np.nan_to_num(g.people_affected[moved_nodes], nan=-1.0)
    order = np.lexsort((moved_nodes, -people, np.nan_to_num(delta, nan=0.0), step))
    labels = [*RAGS, "unknown"]
    rag_changes: dict[str, int] = {}
    for before_code, after_code in zip(rag_before.tolist(), rag_after.tolist()):
        if before_code != after_code:
            key = f"{labels[before_code]} to {labels[after_code]}"
            rag_changes[key] = rag_changes.get(key, 0) + 1
    worse, better = int(np.count_nonzero(fell)), int(moved.size - np.count_nonzero(fell))

    def link_of(rank: float) -> WeakLink | None:
        if rank == NONE:
            return None
        if rank != int(rank):
            return new_link
        return _weak_link(g, int(ordered[int(rank)]))

    listed = [(int(moved_nodes[i]), link_of(before_rank[moved[i]]), link_of(after_rank[moved[i]]), i)
              for i in order[:limit].tolist()]
    names = g.records([g.ids[n] for n, _, _, _ in listed] + [link.dataset for _, b, a, _ in listed for link in (b, a)
                                                             if link])
    changed = []
    for node, before, after_link, i in listed:
        record = names[g.ids[node]]
        change = None if math.isnan(delta[i]) else round(float(delta[i]), 6)
        changed.append(ConfidenceChange(
            decision=g.ids[node], name=record["name"], people_affected=record.get("people_affected"),
            value_gbp=record.get("value_gbp"),
            before={**before.as_dict(), "dataset_name": names[before.dataset]["name"]} if before else None,
            after={**after_link.as_dict(), "dataset_name": names[after_link.dataset]["name"]} if after_link else None,
            change=change, rag_change=(f"{labels[rag_before[i]]} to {labels[rag_after[i]]}"
                                       if rag_before[i] != rag_after[i] else "none"),
            explanation=confidence_sentence(after_link, names[after_link.dataset]["name"] if after_link else None)))
    what = "; ".join(f"{possessive(subject['name'])} {d} to {s:.2f}" for d, s in changes.items())
    summary = (f"Setting {what} would change the data confidence of {number(moved.size)} of the "
               f"{plural(decisions.size, 'decision')} downstream")
    if moved.size:
        parts = []
        if worse:
            parts.append(f"{number(worse)} would get worse")
        if better:
            parts.append(f"{number(better)} would get better")
        moves = ", ".join(f"{number(n)} {'of them ' if n else ''}from {k}" for k, n in sorted(rag_changes.items()))
        summary += ": " + " and ".join(parts) + (f", {moves}" if moves else "") + "."
    else:
        summary += "." if decisions.size else " (there are none)."
    weak = {"dimension": before_weak[0], "score": before_weak[1], "rag": before_weak[2]} if before_weak else None
    weak_after = {"dimension": after_weak[0], "score": after_weak[1], "rag": after_weak[2]} if after_weak else None
    return WhatIf(
        dataset={"id": dataset, "kind": "dataset", "name": subject["name"], "owner": subject.get("owner")},
        changes=changes, quality_before=_quality_table(quality), quality_after=_quality_table(after_quality),
        weakest_before=weak, weakest_after=weak_after, decisions_downstream=int(decisions.size),
        changed_count=int(moved.size), worse=worse, better=better, rag_changes=rag_changes, summary=summary,
        changed=changed)


def _own_ranks(g: LineageGraph, upstream: Any, nodes: np.ndarray) -> np.ndarray:
    """Each dataset's own rank among the assessed (NONE when unassessed), as floats."""
    ranks = np.full(nodes.size, float(NONE))
    position_of = np.full(len(g), -1, dtype=np.int64)
    position_of[upstream.ordered] = np.arange(upstream.ordered.size)
    found = position_of[nodes]
    ranks[found >= 0] = found[found >= 0]
    return ranks


def _ratings(g: LineageGraph, ordered: np.ndarray, ranks: np.ndarray, new_link: WeakLink | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """For weakest-link ranks (whole: a dataset in ``ordered``; between two: the changed dataset's
    new link; NONE: unknown), the rating (index into RAGS, len(RAGS) for unknown) and the score
    (NaN when none)."""
    rag = np.full(ranks.size, len(RAGS), dtype=np.int64)
    score = np.full(ranks.size, np.nan)
    known = ranks != NONE
    whole = known & (ranks == np.floor(ranks))
    datasets = ordered[ranks[whole].astype(np.int64)]
    rag[whole] = g.quality_rag[datasets]
    score[whole] = g.quality_score[datasets]
    new = known & ~whole
    if new.any() and new_link is not None:
        rag[new] = RAGS.index(new_link.rag)
        score[new] = np.nan if new_link.score is None else new_link.score
    return rag, score

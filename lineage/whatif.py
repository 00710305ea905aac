"""What if a dataset's quality changed? Which decisions would change band, and why.

Nothing is saved: :func:`what_if` answers on the graph as it is, with one dataset's quality
replaced. A decision's data confidence is :mod:`lineage.confidence`'s: the weakest link behind its
primary inputs, lowered by at most one band by its supporting ones, along paths that pass through
no other decision. A change to one dataset can only move what lies after it on such paths, so
only that part is recomputed: one pass over it in topological order, starting from the weakest
link each of its inputs from the rest of the graph already has.

The answer speaks in bands: which decisions would move between red, amber and green, worst
first; a change that moves no band says so.

>>> from lineage.graph import LineageGraph
>>> g = LineageGraph.from_records(
...     [{"id": "reg", "kind": "dataset", "name": "Housing register", "quality": {"timeliness": 0.71}},
...      {"id": "voids", "kind": "dataset", "name": "Voids", "quality": {"completeness": 0.8}},
...      {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400},
...      {"id": "bid", "kind": "decision", "name": "Grant bid"}],
...     [{"source": "reg", "target": "alloc", "kind": "informs"}, {"source": "voids", "target": "alloc", "kind": "informs"},
...      {"source": "voids", "target": "bid", "kind": "informs"}])
>>> result = what_if(g, "voids", {"completeness": 0.4})
>>> [(c.decision, c.band_change) for c in result.changed]
[('alloc', 'amber to red'), ('bid', 'amber to red')]
>>> print(result.summary)
Setting Voids' completeness to 0.40 would move all 2 decisions downstream down a band (2 from amber to red).
>>> print(what_if(g, "voids", {"completeness": 0.75}).summary)
Setting Voids' completeness to 0.75 would move no decision to another band: the 2 decisions downstream stay amber.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import model
from .condensation import ancestor_minimum, condense
from .confidence import (BANDS, NONE, UNKNOWN, WeakLink, combine, confidence_at, confidence_pass, confidence_sentence,
                         decision_ranks, possessive, weak_link_at)
from .describe import number, plural
from .errors import LineageError
from .graph import LineageGraph

_DATASET = model.NODE_KINDS.index("dataset")
_DECISION = model.NODE_KINDS.index("decision")
_INFORMS = model.EDGE_KINDS.index("informs")
LISTED = 200
"""Decisions that change band listed (the worst first); the rest are counted."""


@dataclass
class BandChange:
    """One decision that would change band: its confidence before and after
    (:meth:`lineage.confidence.Confidence.described` shapes), and the move in words."""

    decision: str
    name: str
    people_affected: int | None
    value_gbp: float | None
    before: dict[str, Any]
    after: dict[str, Any]
    band_change: str
    worse: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class WhatIf:
    """The answer to "what if this dataset's quality changed?" (see :func:`what_if`).

    ``bands_before`` counts the decisions downstream by band now; ``band_changes`` counts the
    moves ("red to amber": 2); ``link_changes`` the decisions whose reason would change while
    their band stays.
    """

    dataset: dict[str, Any]
    changes: dict[str, float]
    quality_before: dict[str, dict[str, Any]]
    quality_after: dict[str, dict[str, Any]]
    weakest_before: dict[str, Any] | None
    weakest_after: dict[str, Any] | None
    decisions_downstream: int
    bands_before: dict[str, int]
    changed_count: int
    worse: int
    better: int
    band_changes: dict[str, int]
    link_changes: int
    summary: str
    changed: list[BandChange] = field(default_factory=list)

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
    code = model.RAGS.index(rag)
    key = 2.0 if score is None else score
    low, high = np.searchsorted(rags, code, "left"), np.searchsorted(rags, code, "right")
    low, high = low + np.searchsorted(scores[low:high], key, "left"), low + np.searchsorted(scores[low:high], key, "right")
    return float(low + np.searchsorted(ordered[low:high], node, "left")) - 0.5


def what_if(g: LineageGraph, dataset: str, changes: Mapping[str, float], *, limit: int = LISTED) -> WhatIf:
    """Which decisions would change band if ``dataset``'s quality dimensions were set to ``changes``
    (dimension -> score from 0 to 1). Nothing is saved.

    Decisions are listed worst first (a band lost before a band gained, the biggest move first,
    then most people affected); every decision downstream is counted.
    """
    position = g.position(dataset)
    if g.kind_codes[position] != _DATASET:
        raise LineageError(f"'{dataset}' is a {g.kind(dataset)}; a what-if changes the quality of a dataset")
    changes = _check(changes)
    subject = g.record(dataset)
    quality = dict(subject.get("quality") or {})
    after_quality = {**quality, **changes}
    before_weak, after_weak = model.weakest_dimension(quality), model.weakest_dimension(after_quality)

    result = confidence_pass(g)
    ordered = result.ordered
    own_before = _own_ranks(g, ordered, np.array([position]))[0]
    if after_weak == before_weak:  # its weakest link is the same: so is its place among the others
        own_rank = own_before
    else:
        own_rank = float(NONE) if after_weak is None else _rank_of(g, ordered, position, after_weak[2], after_weak[1])
    new_link = None if after_weak is None else WeakLink(dataset, after_weak[0], after_weak[1], after_weak[2])

    # The part that can change: the dataset and what lies after it on paths through no decision.
    outside_decisions = g.kind_codes != _DECISION
    nodes = np.union1d(g.bfs(np.array([position]), within=outside_decisions).nodes, [position])
    local = np.full(len(g), -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    edges, counts = g.into.gather(nodes)
    targets = np.repeat(nodes, counts)
    sources = g.into.indices[edges]
    inside = local[sources] >= 0
    # Each node starts from its own rank and the weakest links its inputs from outside already carry
    # (never through a recorded outcome: those edges leave a decision).
    own = _own_ranks(g, ordered, nodes)
    own[local[position]] = own_rank
    carried = ~inside & outside_decisions[sources]
    np.minimum.at(own, local[targets[carried]], result.decisive[sources[carried]].astype(np.float64))
    condensed = condense(nodes.size, local[sources[inside]], local[targets[inside]])
    per_group = np.full(condensed.count, float(NONE))
    np.minimum.at(per_group, condensed.label, own)
    decisive = result.decisive.astype(np.float64)
    decisive[nodes] = ancestor_minimum(condensed, per_group)[condensed.label]

    following, _ = g.out.gather(nodes)
    following = following[g.out.kinds[following] == _INFORMS]
    decisions = np.unique(g.out.indices[following])
    primary, supporting = decision_ranks(g, decisive, decisions)
    band_before = result.band[decisions].astype(np.int64)

    def band(ranks: np.ndarray) -> np.ndarray:
        bands = np.full(ranks.size, UNKNOWN, dtype=np.int64)
        whole = (ranks != NONE) & (ranks == np.floor(ranks))
        bands[whole] = g.quality_rag[ordered[ranks[whole].astype(np.int64)]]
        if new_link is not None:
            bands[(ranks != NONE) & ~whole] = model.RAGS.index(new_link.rag)
        return bands

    primary_band, supporting_band = band(primary), band(supporting)
    band_after = combine(primary_band, supporting_band).astype(np.int64)
    deciding = np.where(band_after < primary_band, supporting, np.where(primary_band == UNKNOWN, float(NONE), primary))
    moved = np.flatnonzero(band_after != band_before)
    relinked = np.count_nonzero((band_after == band_before) & (deciding != result.deciding[decisions]))
    # Unknown counts as better than any band here: "unknown to red" is a fall.
    step = np.where(band_after == UNKNOWN, len(model.RAGS), band_after) - \
        np.where(band_before == UNKNOWN, len(model.RAGS), band_before)
    people = np.nan_to_num(g.people_affected[decisions], nan=-1.0)
    order = moved[np.lexsort((decisions[moved], -people[moved], -np.abs(step[moved]), step[moved] > 0))]
    band_changes: dict[str, int] = {}
    for i in order.tolist():
        key = f"{BANDS[band_before[i]]} to {BANDS[band_after[i]]}"
        band_changes[key] = band_changes.get(key, 0) + 1
    worse = int(np.count_nonzero(step[moved] < 0))

    def link_of(rank: float) -> WeakLink | None:
        if rank == NONE:
            return None
        return new_link if rank != int(rank) else weak_link_at(g, int(ordered[int(rank)]))

    listed = order[:limit].tolist()
    mentioned = {g.ids[decisions[i]] for i in listed}
    befores = {i: confidence_at(g, result, int(decisions[i])) for i in listed}
    afters = {i: (link_of(deciding[i]), link_of(primary[i]), link_of(supporting[i])) for i in listed}
    mentioned |= {link.dataset for c in befores.values() for link in (c.link, c.primary, c.supporting, c.earlier) if link}
    mentioned |= {link.dataset for links in afters.values() for link in links if link}
    records = g.records(mentioned)

    def name_of(dataset_id: str) -> str:
        return records[dataset_id]["name"]

    changed = []
    for i in listed:
        node_id = g.ids[decisions[i]]
        link, primary_link, supporting_link = afters[i]
        after = {"band": BANDS[band_after[i]], "link": link.as_dict() if link else None,
                 "primary": primary_link.as_dict() if primary_link else None,
                 "supporting": supporting_link.as_dict() if supporting_link else None, "earlier": None,
                 "lowered_by_supporting": bool(band_after[i] < primary_band[i])}
        for key in ("link", "primary", "supporting"):
            if after[key]:
                after[key]["dataset_name"] = name_of(after[key]["dataset"])
        after["text"] = confidence_sentence(after, (after["link"] or {}).get("dataset_name"))
        changed.append(BandChange(
            decision=node_id, name=records[node_id]["name"], people_affected=records[node_id].get("people_affected"),
            value_gbp=records[node_id].get("value_gbp"), before=befores[i].described(name_of), after=after,
            band_change=f"{BANDS[band_before[i]]} to {BANDS[band_after[i]]}", worse=bool(step[i] < 0)))
    bands_before = {label: int(np.count_nonzero(band_before == code)) for code, label in enumerate(BANDS)}
    what = "; ".join(f"{possessive(subject['name'])} {d} to {s:.2f}" for d, s in changes.items())
    summary = _summary(what, decisions.size, moved.size, worse, band_changes, bands_before)
    weak = {"dimension": before_weak[0], "score": before_weak[1], "rag": before_weak[2]} if before_weak else None
    weak_after = {"dimension": after_weak[0], "score": after_weak[1], "rag": after_weak[2]} if after_weak else None
    return WhatIf(
        dataset={"id": dataset, "kind": "dataset", "name": subject["name"], "owner": subject.get("owner")},
        changes=changes, quality_before=_quality_table(quality), quality_after=_quality_table(after_quality),
        weakest_before=weak, weakest_after=weak_after, decisions_downstream=int(decisions.size),
        bands_before=bands_before, changed_count=int(moved.size), worse=worse, better=int(moved.size) - worse,
        band_changes=band_changes, link_changes=int(relinked), summary=summary, changed=changed)


def _summary(what: str, downstream: int, moved: int, worse: int, band_changes: dict[str, int],
             bands_before: dict[str, int]) -> str:
    """The what-if in one sentence, in bands."""
    if not downstream:
        return f"Setting {what} would change no decision: none rests on it."
    if not moved:
        now = [f"{number(n)} {band}" for band, n in bands_before.items() if n]
        stay = now[0].split(" ", 1)[1] if len(now) == 1 else "as they are (" + ", ".join(now) + ")"
        return (f"Setting {what} would move no decision to another band: the "
                f"{plural(downstream, 'decision')} downstream stay{'s' if downstream == 1 else ''} {stay}.")
    better = moved - worse
    direction = "down a band" if not better else "up a band" if not worse else "to another band"
    moves = ", ".join(f"{number(n)} from {k}" for k, n in band_changes.items())
    if moved == downstream:
        which = "the decision downstream" if moved == 1 else f"all {plural(downstream, 'decision')} downstream"
    else:
        which = f"{number(moved)} of the {plural(downstream, 'decision')} downstream"
    return f"Setting {what} would move {which} {direction} ({moves})."


def _own_ranks(g: LineageGraph, ordered: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Each node's own rank among the assessed datasets (NONE for the rest), as floats."""
    position_of = np.full(len(g), -1, dtype=np.int64)
    position_of[ordered] = np.arange(ordered.size)
    found = position_of[nodes]
    return np.where(found >= 0, found, NONE).astype(np.float64)

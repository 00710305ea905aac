"""How far the data behind a decision can be trusted: the one definition of a decision's data confidence.

A decision's *data confidence* is a band (red, amber or green; unknown when nothing decisive is
assessed), decided like this:

1. **Decisive data.** The data a decision rests on is what flows into it along paths that do not
   pass through another decision. Data reached only through an earlier decision's recorded
   outcomes (``records_outcome``) is *earlier decisions' data*: reported, never decisive, because
   that decision had its own rating when it was made.
2. **Primary inputs decide.** The band is the weakest link (lowest rating, then lowest score) of
   the datasets at or upstream of the decision's primary inputs (``informs`` edges whose
   ``influence`` is ``primary`` or not given). A decision whose inputs are all supporting is
   decided by them.
3. **A supporting input can lower the band by at most one.** The weakest link behind the
   supporting inputs lowers a green decision to amber, or an amber one to red, never further.
4. **Unassessed data is said as such.** With no assessed dataset behind its primary inputs a
   decision's confidence is unknown.

The reason fits one sentence: the dataset and dimension that set the band
("amber because the Housing register's timeliness is 0.71").

Every figure comes from one pass over the graph's condensation (:func:`confidence_pass`, kept per
graph): the pages, their JSON twins, the decisions table, Insights, what-if and the command
line all read it.

>>> from lineage.graph import LineageGraph
>>> g = LineageGraph.from_records(
...     [{"id": "reg", "kind": "dataset", "name": "Housing register", "quality": {"timeliness": 0.71}},
...      {"id": "scan", "kind": "dataset", "name": "Scanned forms", "quality": {"accuracy": 0.4}},
...      {"id": "old", "kind": "dataset", "name": "Old outcomes", "quality": {"validity": 0.2}},
...      {"id": "earlier", "kind": "decision", "name": "Last year's allocations"},
...      {"id": "alloc", "kind": "decision", "name": "Allocations"}],
...     [{"source": "reg", "target": "alloc", "kind": "informs"},
...      {"source": "scan", "target": "alloc", "kind": "informs", "influence": "supporting"},
...      {"source": "old", "target": "earlier", "kind": "informs"},
...      {"source": "earlier", "target": "reg", "kind": "records_outcome"}])
>>> c = decision_confidence(g, "alloc")
>>> c.band, c.lowered_by_supporting
('red', True)
>>> print(c.sentence("Scanned forms", "Old outcomes"))
Red: the data behind this decision can be trusted poorly, because Scanned forms' accuracy is 0.40 (a supporting input, which lowers the rating by one band; the main inputs alone are amber). Earlier decisions' data is weaker (Old outcomes' validity is 0.20), but it reaches this decision only through their recorded outcomes, so it does not set the rating.
"""
from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import model
from .condensation import ancestor_minimum, condense
from .errors import LineageError

if TYPE_CHECKING:  # the graph module asks this one for a decision's confidence
    from .graph import LineageGraph, Reach

RAGS = model.RAGS  # worst first: red, amber, green
BANDS = (*RAGS, "unknown")
UNKNOWN = len(RAGS)
"""Band code of "unknown": after green, so that a minimum over bands never picks it over a rating."""
NONE = np.iinfo(np.int64).max
"""Rank of "no assessed dataset": after every real rank."""

_KIND = {kind: code for code, kind in enumerate(model.NODE_KINDS)}
_DATASET, _AI_TOOL, _DECISION = (_KIND[k] for k in ("dataset", "ai_tool", "decision"))
_INFORMS = model.EDGE_KINDS.index("informs")

BAND_WORDS = {"green": "well", "amber": "only in part", "red": "poorly", "unknown": "unknown"}
BAND_FLOORS = {rag: floor for floor, rag in model.RAG_THRESHOLDS}
"""The lowest score of each band: a fix to reach a band raises a dimension to its floor."""


@dataclass
class WeakLink:
    """The weakest assessed quality dimension of a dataset."""

    dataset: str
    dimension: str
    score: float | None
    rag: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def weak_link_at(g: LineageGraph, node: int) -> WeakLink | None:
    """The weakest assessed dimension of the dataset at ``node`` (None when unassessed)."""
    if g.quality_rag[node] < 0:
        return None
    score = g.quality_score[node]
    return WeakLink(g.ids[node], model.QUALITY_DIMENSIONS[g.quality_dimension[node]],
                    None if math.isnan(score) else float(score), model.RAGS[g.quality_rag[node]])


def weakest_among(g: LineageGraph, nodes: np.ndarray) -> WeakLink | None:
    """The weakest link among ``nodes``: lowest rating, then lowest score, then id."""
    return weak_link_at(g, _weakest_position(g, nodes)) if nodes.size else None


def _weakest_position(g: LineageGraph, nodes: np.ndarray) -> int:
    """The position of the weakest assessed dataset among ``nodes`` (-1 when none is assessed)."""
    assessed = nodes[g.quality_rag[nodes] >= 0]
    if assessed.size == 0:
        return -1
    rag = g.quality_rag[assessed]
    score = np.nan_to_num(g.quality_score[assessed], nan=2.0)
    worst = assessed[(rag == rag.min()) & (score == score[rag == rag.min()].min())]
    return min(worst.tolist(), key=g.ids.__getitem__)


def dataset_order(g: LineageGraph) -> np.ndarray:
    """Positions of the assessed datasets, weakest first: lowest rating, then lowest score, then id."""
    assessed = np.flatnonzero((g.quality_rag >= 0) & (g.kind_codes == _DATASET))
    score = np.nan_to_num(g.quality_score[assessed], nan=2.0)
    return assessed[np.lexsort((assessed, score, g.quality_rag[assessed]))]


@dataclass(frozen=True)
class ConfidencePass:
    """Every decision's data confidence at once, and what it is made of (see the module).

    Ranks index ``ordered`` (assessed datasets, weakest first), :data:`NONE` where there is none.
    Per node: ``decisive`` is the weakest rank at or upstream of it along paths that pass through
    no decision; ``anywhere`` the weakest rank upstream by any path; ``ai_direct``/``ai_anywhere``
    whether an AI tool is upstream along such paths. Per decision (arrays over every node, read at
    decisions): ``primary`` and ``supporting`` ranks, the ``band`` (index into :data:`BANDS`) and
    the ``deciding`` rank, whose dataset and dimension are the reason.
    """

    ordered: np.ndarray
    decisive: np.ndarray
    anywhere: np.ndarray
    ai_direct: np.ndarray
    ai_anywhere: np.ndarray
    primary: np.ndarray
    supporting: np.ndarray
    band: np.ndarray
    deciding: np.ndarray

    def link(self, g: LineageGraph, rank: int) -> WeakLink | None:
        return None if rank == NONE else weak_link_at(g, int(self.ordered[rank]))


_PASSES: weakref.WeakKeyDictionary[LineageGraph, ConfidencePass] = weakref.WeakKeyDictionary()
_PASSES_LOCK = threading.Lock()


def own_ranks(g: LineageGraph, ordered: np.ndarray) -> np.ndarray:
    """Each node's own rank among the assessed datasets (:data:`NONE` for the rest)."""
    rank = np.full(len(g), NONE, dtype=np.int64)
    rank[ordered] = np.arange(ordered.size)
    return rank


def band_of(g: LineageGraph, ordered: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The band (index into :data:`BANDS`) of each weakest-link rank."""
    ranks = np.asarray(ranks)
    band = np.full(ranks.shape, UNKNOWN, dtype=np.int8)
    known = ranks != NONE
    band[known] = g.quality_rag[ordered[ranks[known]]]
    return band


def decisive_edges(g: LineageGraph) -> tuple[np.ndarray, np.ndarray]:
    """The data-flow edges along which data is decisive: every edge but those out of a decision
    (recorded outcomes), so that no path passes through another decision."""
    keep = g.kind_codes[g.edge_sources] != _DECISION
    return g.edge_sources[keep], g.edge_targets[keep]


def combine(primary_band: np.ndarray, supporting_band: np.ndarray) -> np.ndarray:
    """The decision's band from its primary and supporting bands: the primary band, lowered by at
    most one band by a weaker supporting one (unknown primary data gives unknown).

    >>> combine(np.array([2, 2, 1, 0, 3]), np.array([0, 3, 0, 0, 0])).tolist()
    [1, 2, 0, 0, 3]
    """
    lowered = np.maximum(supporting_band, primary_band - 1)
    return np.where((supporting_band < primary_band) & (primary_band != UNKNOWN), lowered,
                    primary_band).astype(np.int8)


def decision_ranks(g: LineageGraph, decisive: np.ndarray, decisions: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per decision of ``decisions``: the weakest rank behind its primary inputs and behind its
    supporting ones, from the per-node ``decisive`` ranks (a decision with only supporting inputs
    is decided by them)."""
    positions, counts = g.into.gather(decisions)
    row = np.repeat(np.arange(decisions.size), counts)
    informs = g.into.kinds[positions] == _INFORMS
    positions, row = positions[informs], row[informs]
    supporting = g.edge_supporting[g.into.edge[positions]]
    ranks = decisive[g.into.indices[positions]]
    primary_rank = np.full(decisions.size, NONE, dtype=decisive.dtype)  # floats in a what-if: a rank between two
    supporting_rank = np.full(decisions.size, NONE, dtype=decisive.dtype)
    np.minimum.at(primary_rank, row[~supporting], ranks[~supporting])
    np.minimum.at(supporting_rank, row[supporting], ranks[supporting])
    has_primary = np.zeros(decisions.size, dtype=bool)
    has_primary[row[~supporting]] = True
    only_supporting = ~has_primary
    primary_rank[only_supporting] = supporting_rank[only_supporting]
    supporting_rank[only_supporting] = NONE
    return primary_rank, supporting_rank


def bands_and_reasons(g: LineageGraph, ordered: np.ndarray, primary: np.ndarray, supporting: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per decision: its band and the rank that sets it (the primary weakest link, or the
    supporting one where that lowers the band)."""
    primary_band, supporting_band = band_of(g, ordered, primary), band_of(g, ordered, supporting)
    band = combine(primary_band, supporting_band)
    deciding = np.where(band < primary_band, supporting, np.where(primary_band == UNKNOWN, NONE, primary))
    return band, deciding


def confidence_pass(g: LineageGraph) -> ConfidencePass:
    """Every decision's data confidence in two passes over the condensation (kept per graph).

    >>> from lineage.graph import LineageGraph
    >>> g = LineageGraph.from_records(
    ...     [{"id": "a", "kind": "dataset", "name": "A", "quality": {"validity": 0.5}},
    ...      {"id": "b", "kind": "dataset", "name": "B", "quality": {"timeliness": 0.8}},
    ...      {"id": "x", "kind": "decision", "name": "X"}, {"id": "y", "kind": "decision", "name": "Y"}],
    ...     [{"source": "a", "target": "x", "kind": "informs"}, {"source": "b", "target": "x", "kind": "informs"},
    ...      {"source": "b", "target": "y", "kind": "informs"}])
    >>> result = confidence_pass(g)
    >>> [BANDS[result.band[g.position(d)]] for d in ("x", "y")]
    ['red', 'amber']
    """
    with _PASSES_LOCK:
        found = _PASSES.get(g)
    if found is not None:
        return found
    ordered = dataset_order(g)
    values = np.stack([own_ranks(g, ordered), np.where(g.kind_codes == _AI_TOOL, 0, 1)], axis=1)

    def upstream_minimum(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        condensed = condense(len(g), sources, targets)
        per_group = np.full((condensed.count, 2), NONE, dtype=np.int64)
        np.minimum.at(per_group, condensed.label, values)
        return ancestor_minimum(condensed, per_group)[condensed.label]

    anywhere = upstream_minimum(g.edge_sources, g.edge_targets)
    decisive = upstream_minimum(*decisive_edges(g))
    decisions = g.of_kind("decision")
    primary = np.full(len(g), NONE, dtype=np.int64)
    supporting = np.full(len(g), NONE, dtype=np.int64)
    primary[decisions], supporting[decisions] = decision_ranks(g, decisive[:, 0], decisions)
    band = np.full(len(g), UNKNOWN, dtype=np.int8)
    deciding = np.full(len(g), NONE, dtype=np.int64)
    band[decisions], deciding[decisions] = bands_and_reasons(g, ordered, primary[decisions], supporting[decisions])
    # No decisive edge leaves a decision, so a decision's decisive values are its inputs' own.
    found = ConfidencePass(ordered=ordered, decisive=decisive[:, 0].copy(), anywhere=anywhere[:, 0].copy(),
                           ai_direct=decisive[:, 1] == 0, ai_anywhere=anywhere[:, 1] == 0, primary=primary,
                           supporting=supporting, band=band, deciding=deciding)
    with _PASSES_LOCK:
        _PASSES[g] = found
    return found


# ---------------------------------------------------------------------------------------------
# One decision


@dataclass
class Confidence:
    """One decision's data confidence and what it is made of (see the module).

    ``link`` is the reason (None when the band is unknown); ``primary`` and ``supporting`` the
    weakest links behind each kind of input; ``earlier`` the weakest link in earlier decisions'
    data when it is weaker than anything decisive (reported, not decisive).
    """

    decision: str
    band: str
    link: WeakLink | None
    primary: WeakLink | None
    supporting: WeakLink | None
    earlier: WeakLink | None
    lowered_by_supporting: bool
    ai_direct: bool
    ai_earlier_only: bool

    def as_dict(self) -> dict[str, Any]:
        result = {k: v for k, v in self.__dict__.items()}
        for name in LINKS:
            result[name] = result[name].as_dict() if result[name] else None
        return result

    def sentence(self, dataset_name: str | None = None, earlier_name: str | None = None) -> str:
        """Why the band is what it is, in one sentence (plus one about earlier decisions' data)."""
        return confidence_sentence(self.as_dict(), dataset_name, earlier_name)

    def described(self, name_of: Callable[[str], str]) -> dict[str, Any]:
        """:meth:`as_dict` with the name of each link's dataset (``name_of(id)``) and the sentence
        (``text``): what pages, twins and stored views carry."""
        result = self.as_dict()
        for key in LINKS:
            if result[key]:
                result[key]["dataset_name"] = name_of(result[key]["dataset"])
        result["text"] = confidence_sentence(result, *((result[k] or {}).get("dataset_name") for k in ("link", "earlier")))
        return result


LINKS = ("link", "primary", "supporting", "earlier")
"""The weak links a :class:`Confidence` names."""


def decision_confidence(g: LineageGraph, decision: str) -> Confidence:
    """The data confidence of one decision: from the estate-wide pass when the graph has one,
    else from a search of its own upstream (:func:`local_confidence`, the same answer)."""
    position = g.position(decision)
    if g.kind_codes[position] != _DECISION:
        raise LineageError(f"'{decision}' is a {g.kind(decision)}; data confidence is for a decision")
    with _PASSES_LOCK:
        found = _PASSES.get(g)
    return confidence_at(g, found, position) if found is not None else local_confidence(g, position)


def _key(g: LineageGraph, position: int) -> tuple[int, float, str]:
    """Where an assessed dataset sorts among the weakest links (the order of :func:`dataset_order`)."""
    score = g.quality_score[position]
    return int(g.quality_rag[position]), 2.0 if math.isnan(score) else float(score), g.ids[position]


def decisive_data(g: LineageGraph, position: int) -> tuple[np.ndarray, np.ndarray]:
    """The nodes behind the decision at ``position``'s primary inputs and behind its supporting ones
    (each input included), along paths that pass through no other decision."""
    entries, _ = g.into.gather(np.array([position], dtype=np.int64))
    entries = entries[g.into.kinds[entries] == _INFORMS]
    inputs = g.into.indices[entries]
    supporting = g.edge_supporting[g.into.edge[entries]]
    primary_inputs, supporting_inputs = inputs[~supporting], inputs[supporting]
    if primary_inputs.size == 0:
        primary_inputs, supporting_inputs = supporting_inputs, supporting_inputs[:0]
    outside_decisions = g.kind_codes != _DECISION

    def behind(starts: np.ndarray) -> np.ndarray:
        if starts.size == 0:
            return starts
        return np.concatenate([starts, g.bfs(starts, reverse=True, within=outside_decisions).nodes])

    return behind(primary_inputs), behind(supporting_inputs)


def local_confidence(g: LineageGraph, position: int, upstream: Reach | None = None) -> Confidence:
    """The data confidence of the decision at ``position`` from searches of its own upstream: what
    :func:`confidence_pass` finds for every decision at once. ``upstream`` is the decision's whole
    upstream when the caller has it."""
    primary_nodes, supporting_nodes = decisive_data(g, position)
    primary, supporting = _weakest_position(g, primary_nodes), _weakest_position(g, supporting_nodes)
    primary_band = int(g.quality_rag[primary]) if primary >= 0 else UNKNOWN
    supporting_band = int(g.quality_rag[supporting]) if supporting >= 0 else UNKNOWN
    band = int(combine(np.array([primary_band]), np.array([supporting_band]))[0])
    deciding = supporting if band < primary_band else (primary if primary_band != UNKNOWN else -1)
    if upstream is None:
        upstream = g.bfs(np.array([position], dtype=np.int64), reverse=True)
    anywhere = _weakest_position(g, upstream.nodes)
    decisive = [p for p in (primary, supporting) if p >= 0]
    weaker = anywhere >= 0 and (not decisive or _key(g, anywhere) < min(_key(g, p) for p in decisive))
    decisive_nodes = np.concatenate([primary_nodes, supporting_nodes])
    ai_direct = bool(np.any(g.kind_codes[decisive_nodes] == _AI_TOOL))

    def link(at: int) -> WeakLink | None:
        return weak_link_at(g, at) if at >= 0 else None

    return Confidence(
        decision=g.ids[position], band=BANDS[band], link=link(deciding), primary=link(primary),
        supporting=link(supporting), earlier=link(anywhere) if weaker else None,
        lowered_by_supporting=band < primary_band, ai_direct=ai_direct,
        ai_earlier_only=not ai_direct and bool(np.any(g.kind_codes[upstream.nodes] == _AI_TOOL)))


def confidence_at(g: LineageGraph, result: ConfidencePass, position: int) -> Confidence:
    """The :class:`Confidence` of the decision at ``position``."""
    deciding, primary, supporting = (int(a[position]) for a in (result.deciding, result.primary, result.supporting))
    decisive = min(primary, supporting)
    anywhere = int(result.anywhere[position])
    band = BANDS[result.band[position]]
    return Confidence(
        decision=g.ids[position], band=band, link=result.link(g, deciding), primary=result.link(g, primary),
        supporting=result.link(g, supporting), earlier=result.link(g, anywhere) if anywhere < decisive else None,
        lowered_by_supporting=int(result.band[position]) < int(band_of(g, result.ordered, np.array([primary]))[0]),
        ai_direct=bool(result.ai_direct[position]),
        ai_earlier_only=bool(result.ai_anywhere[position]) and not result.ai_direct[position])


# ---------------------------------------------------------------------------------------------
# Words


def possessive(name: str) -> str:
    """ "Housing register" -> "Housing register's"; "Claims" -> "Claims'"."""
    return name + ("'" if name.endswith("s") else "'s")


def score_words(link: dict[str, Any], dataset_name: str | None = None) -> str:
    """ "the Housing register's timeliness is 0.71" (or "is rated red" when only rated)."""
    name = dataset_name or link["dataset"]
    value = f"is {link['score']:.2f}" if link.get("score") is not None else f"is rated {link['rag']}"
    return f"{possessive(name)} {link['dimension']} {value}"


def confidence_sentence(confidence: dict[str, Any] | None, dataset_name: str | None = None,
                        earlier_name: str | None = None) -> str:
    """A decision's data confidence, words first, with the reason in one sentence.

    ``confidence`` is :meth:`Confidence.as_dict` (or a stored copy of it).

    >>> confidence_sentence({"band": "amber", "link": {"dataset": "reg", "dimension": "timeliness", "score": 0.71,
    ...     "rag": "amber"}, "lowered_by_supporting": False, "earlier": None}, "Housing register")
    "Amber: the data behind this decision can be trusted only in part, because Housing register's timeliness is 0.71."
    >>> confidence_sentence({"band": "unknown", "link": None, "earlier": None})
    'Unknown: none of the data this decision mainly rests on has a quality assessment.'
    """
    if confidence is None or confidence.get("link") is None:
        text = "Unknown: none of the data this decision mainly rests on has a quality assessment."
    else:
        band = confidence["band"]
        text = (f"{band.capitalize()}: the data behind this decision can be trusted {BAND_WORDS[band]}, because "
                f"{score_words(confidence['link'], dataset_name)}")
        if confidence.get("lowered_by_supporting"):
            primary = confidence.get("primary")
            text += (" (a supporting input, which lowers the rating by one band; the main inputs alone are "
                     f"{primary['rag'] if primary else 'unassessed'})")
        text += "."
    earlier = confidence.get("earlier") if confidence else None
    if earlier:
        text += (f" Earlier decisions' data is weaker ({score_words(earlier, earlier_name)}), but it reaches "
                 "this decision only through their recorded outcomes, so it does not set the rating.")
    return text


def band_sort_key(band: str, score: float | None) -> float:
    """Sorts weakest first: 10 x the band (red 0) + the score (2 if only rated); unknown after green."""
    return 10.0 * BANDS.index(band) + (2.0 if score is None or math.isnan(score) else score)


# ---------------------------------------------------------------------------------------------
# Path to green

FIXES_LISTED = 50
"""Datasets whose fixes a path to green details; the rest are counted."""
HELPED_LISTED = 10
"""Other decisions named per fix; the rest are counted."""


@dataclass
class Fix:
    """Raise one dataset's dimension to a score. ``helps`` are the other decisions below the band
    the fix aims at whose decisive data includes the dataset (each gets that step closer)."""

    dataset: str
    dataset_name: str
    dimension: str
    score: float | None
    rag: str
    target: float
    role: str                       # "primary" or "supporting": the kind of input it lies behind
    owner: dict[str, Any] | None
    open_flags: list[dict[str, Any]]
    helps: list[dict[str, Any]]
    helps_count: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Step:
    """Everything that must be true for the decision to reach ``band``: every fix, counted whole."""

    band: str
    fixes: list[Fix]
    fix_count: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "fixes": [f.as_dict() for f in self.fixes]}


@dataclass
class PathToGreen:
    """The smallest set of quality fixes that moves a decision up a band, and the set that takes it
    to green (:func:`path_to_green`)."""

    decision: dict[str, Any]
    band: str
    steps: list[Step]
    unassessed: list[dict[str, Any]]
    unassessed_count: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "steps": [s.as_dict() for s in self.steps]}


def path_to_green(g: LineageGraph, decision: str, *,
                  open_flags: Callable[[list[str]], dict[str, list[dict[str, Any]]]] | None = None) -> PathToGreen:
    """What it takes to move a red or amber decision up a band, and to green.

    Under the weakest-link rule a band is reached in one of two ways: every dimension of every
    dataset behind the decision's inputs reaches the band's floor (0.7 for amber, 0.9 for green);
    or, below green, the primary data reaches the band above and the supporting data may stay as
    it is (a supporting input lowers a rating by one band at most). Each step takes whichever needs
    fewer fixes (the first when they tie). Each fix names the
    dataset's owner, its open flags (``open_flags(ids)`` maps dataset ids to their flags; none
    when not given) and the other decisions it helps, and fixes are sorted by how many decisions
    they help, then by the people those decisions affect.

    >>> from lineage.graph import LineageGraph
    >>> g = LineageGraph.from_records(
    ...     [{"id": "reg", "kind": "dataset", "name": "Register", "owner": "jo",
    ...       "quality": {"timeliness": 0.55, "validity": 0.8}},
    ...      {"id": "jo", "kind": "person", "name": "Jo Fletcher"},
    ...      {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400}],
    ...     [{"source": "reg", "target": "alloc", "kind": "informs"}])
    >>> plan = path_to_green(g, "alloc")
    >>> [(s.band, [(f.dimension, f.target) for f in s.fixes]) for s in plan.steps]
    [('amber', [('timeliness', 0.7)]), ('green', [('timeliness', 0.9), ('validity', 0.9)])]
    >>> plan.steps[0].fixes[0].owner["name"]
    'Jo Fletcher'
    """
    position = g.position(decision)
    if g.kind_codes[position] != _DECISION:
        raise LineageError(f"'{decision}' is a {g.kind(decision)}; a path to green is for a decision")
    confidence = decision_confidence(g, decision)
    primary_nodes, supporting_nodes = decisive_data(g, position)
    datasets = {"primary": primary_nodes[g.kind_codes[primary_nodes] == _DATASET],
                "supporting": supporting_nodes[g.kind_codes[supporting_nodes] == _DATASET]}
    unassessed = np.unique(np.concatenate([d[g.quality_rag[d] < 0] for d in datasets.values()]))
    current = BANDS.index(confidence.band)
    green = RAGS.index("green")
    # Candidates: assessed datasets whose weakest dimension is below green.
    wanted = {role: nodes[(g.quality_rag[nodes] >= 0) & (g.quality_rag[nodes] < green)]
              for role, nodes in datasets.items()}
    candidates = np.unique(np.concatenate(list(wanted.values())))
    listed = candidates[np.argsort(g.quality_score[candidates], kind="stable")][:FIXES_LISTED]
    ids = [g.ids[i] for i in listed.tolist()] + [g.ids[i] for i in unassessed[:FIXES_LISTED].tolist()]
    records = g.records(ids + [decision])
    owners = g.records([o for o in {records[i].get("owner") for i in ids} if o and o in g])
    flags = open_flags([g.ids[i] for i in listed.tolist()]) if open_flags is not None and listed.size else {}
    bands = confidence_pass(g).band
    helped = {node: _helped(g, node, position, bands) for node in listed.tolist()}
    steps = []
    for target in range(current + 1, green + 1) if current < green else ():
        ways = [{"primary": target, "supporting": target}]
        if target < green:
            ways.append({"primary": target + 1, "supporting": -1})
        best: tuple[int, dict[tuple[str, str], Fix], int] | None = None
        for floors in ways:
            chosen: dict[tuple[str, str], Fix] = {}
            needing = set()
            for role, nodes in wanted.items():
                needing.update(nodes[g.quality_rag[nodes] < floors[role]].tolist())
                for node in nodes.tolist():
                    if node in helped:
                        _add_fixes(chosen, g.ids[node], records, owners, flags.get(g.ids[node], []),
                                   helped[node], role, floors[role], target)
            unlisted = len(needing - set(helped))
            if best is None or len(chosen) + unlisted < best[0]:
                best = (len(chosen) + unlisted, chosen, unlisted)
        _, chosen, unlisted = best
        fixes = sorted(chosen.values(), key=lambda f: (
            -f.helps_count, -max((d["people_affected"] or 0 for d in f.helps), default=0), f.dataset, f.dimension))
        more = f", and fixes to {unlisted:,} more datasets" if unlisted else ""
        steps.append(Step(band=RAGS[target], fixes=fixes, fix_count=len(fixes),
                          text=f"To reach {RAGS[target]}: {_fixes_text(fixes)}{more}."))
    if confidence.band == "unknown":
        text = ("Its confidence is unknown: none of the data it mainly rests on has a quality assessment. "
                "Assess it first.")
    elif confidence.band == "green":
        text = "It is already green: the data behind it can be trusted well."
    else:
        text = " ".join(step.text for step in steps)
    return PathToGreen(
        decision={"id": decision, "name": records[decision]["name"]}, band=confidence.band, steps=steps,
        unassessed=[{"id": g.ids[i], "name": records[g.ids[i]]["name"]} for i in unassessed[:FIXES_LISTED].tolist()],
        unassessed_count=int(unassessed.size), text=text)


def _add_fixes(chosen: dict[tuple[str, str], Fix], dataset: str, records: dict[str, dict[str, Any]],
               owners: dict[str, dict[str, Any]], flags: list[dict[str, Any]], helped: list[dict[str, Any]],
               role: str, floor_band: int, target: int) -> None:
    """Add the fixes that lift ``dataset``'s rating to ``floor_band``: its weakest dimension (the
    one that sets its rating, :func:`lineage.model.weakest_dimension`) raised to the band's floor,
    then the next weakest while that is still below, so no fix is spare. A goal already chosen
    for the same dimension (a dataset behind both kinds of input) is kept when it is higher."""
    if floor_band < 0:
        return
    record = records[dataset]
    owner = record.get("owner")
    owner_summary = None if not owner else (
        {"id": owner, "name": owners[owner]["name"], "kind": owners[owner]["kind"]} if owner in owners
        else {"id": None, "name": owner, "kind": None})
    others = [{k: v for k, v in d.items() if k != "band_code"} for d in helped if d["band_code"] < target]
    goal = BAND_FLOORS[RAGS[floor_band]]
    stored = record.get("quality") or {}
    quality = dict(stored)
    while (weakest := model.weakest_dimension(quality)) is not None and RAGS.index(weakest[2]) < floor_band:
        dimension = weakest[0]
        quality[dimension] = goal
        if (dataset, dimension) in chosen and chosen[dataset, dimension].target >= goal:
            continue
        chosen[dataset, dimension] = Fix(
            dataset=dataset, dataset_name=record["name"], dimension=dimension,
            score=model.quality_score(stored[dimension]), rag=model.quality_rag(stored[dimension]), target=goal,
            role=role, owner=owner_summary, open_flags=flags, helps=others[:HELPED_LISTED], helps_count=len(others))


def _helped(g: LineageGraph, dataset: int, decision: int, bands: np.ndarray) -> list[dict[str, Any]]:
    """The decisions other than ``decision`` whose decisive data includes ``dataset``, worst band
    first, then most people affected."""
    after = g.bfs(np.array([dataset]), within=g.kind_codes != _DECISION).nodes
    positions, _ = g.out.gather(np.concatenate([[dataset], after]).astype(np.int64))
    positions = positions[g.out.kinds[positions] == _INFORMS]
    reached = np.unique(g.out.indices[positions])
    reached = reached[reached != decision]
    people = np.nan_to_num(g.people_affected[reached], nan=-1.0)
    reached = reached[np.lexsort((reached, -people, bands[reached]))]
    named = reached[:HELPED_LISTED * len(RAGS)]  # enough to list HELPED_LISTED below any band
    names = {i: record["name"] for i, record in g.records([g.ids[i] for i in named.tolist()]).items()}
    return [{"id": g.ids[i], "name": names.get(g.ids[i]),
             "band": BANDS[bands[i]], "band_code": int(bands[i]),
             "people_affected": None if math.isnan(g.people_affected[i]) else int(g.people_affected[i]),
             "value_gbp": None if math.isnan(g.value_gbp[i]) else float(g.value_gbp[i])}
            for i in reached.tolist()]


def _fixes_text(fixes: list[Fix]) -> str:
    """ "raise the Housing register's timeliness from 0.55 to 0.70 and ..." """
    if not fixes:
        return "no dataset needs to change"
    parts = [f"raise {possessive(f.dataset_name)} {f.dimension} from "
             f"{f'{f.score:.2f}' if f.score is not None else f'a {f.rag} rating'} to {f.target:.2f}" for f in fixes[:3]]
    more = f", and {len(fixes) - 3} more" if len(fixes) > 3 else ""
    return (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + more

"""What leaders ask of the estate: which decisions rest on what, where the risk is, what is ready for AI.

Pure functions of a :class:`~lineage.graph.LineageGraph`. The estate-wide figures come from passes
over the graph's condensation (:mod:`lineage.condensation`), each linear in the edges:

* forward: every decision's data confidence and whether an AI tool informs it
  (:func:`lineage.confidence.confidence_pass`, the one definition of both);
* backward: the decisions and AI tools each system, dataset and AI tool underpins, and the largest
  number of people and sum of money among those decisions (:func:`underpinning`: populations and
  budgets of different decisions overlap, so they are never added up).

:func:`estate_facts` gathers both with the few attributes of each record the pages need;
:func:`insights` turns them into what the Insights page shows, for the whole estate or one
organisation; :func:`decision_rows` into the decisions table; :func:`decision_provenance` is one
decision's page. :mod:`lineage.materialised` keeps the estate-wide results in the database, keyed
on the graph version.

Examples
--------
>>> g = LineageGraph.from_records(
...     [{"id": "ali", "kind": "person", "name": "Ali"},
...      {"id": "cms", "kind": "system", "name": "Case system", "critical": True, "ai_ready": False},
...      {"id": "reg", "kind": "dataset", "name": "Housing register", "owner": "ali",
...       "quality": {"completeness": 0.94, "timeliness": 0.71}},
...      {"id": "model", "kind": "ai_tool", "name": "Model", "human_review": True},
...      {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400}],
...     [{"source": "ali", "target": "cms", "kind": "enters"}, {"source": "cms", "target": "reg", "kind": "supplies"},
...      {"source": "reg", "target": "model", "kind": "feeds"}, {"source": "model", "target": "alloc", "kind": "informs"}])
>>> result = insights(g)
>>> result.readiness["headline"]
'0 of 1 critical systems are AI-ready.'
>>> [(row["id"], row["confidence"]["band"]) for row in result.risky_decisions["rows"]]
[('alloc', 'amber')]
>>> result.ai_oversight["headline"]
'0 of 1 AI tools have no human review, and 1 has no transparency record.'
"""
from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from . import model
from .model import frequency_band
from .bulk import gc_paused
from .condensation import condense, descendant_union, row_maxima
from .confidence import (BANDS, LINKS, ConfidencePass, band_sort_key, confidence_at, confidence_pass, decisive_data,
                         score_words, weak_link_at)
from .describe import about, money, number, path_text, plural
from .errors import LineageError, NotFoundError
from .graph import LineageGraph, ReachTotals, provenance, single_points_of_failure
from .io.csv import csv_writer

_KIND = {kind: code for code, kind in enumerate(model.NODE_KINDS)}
_PERSON, _SYSTEM, _DATASET, _AI_TOOL, _DECISION = (
    _KIND[k] for k in ("person", "system", "dataset", "ai_tool", "decision"))
RAGS = model.RAGS  # worst first: red, amber, green

LISTED = 20
"""Rows each list of the Insights page keeps (the rest are counted)."""
HOT_SPOTS = 5
"""Datasets shown per quality dimension as its hot spots."""
UPSTREAM_LISTED = 100
"""Upstream datasets and AI tools a decision's page lists; a hub's hundreds of thousands are counted."""
TEAMS_LISTED = 50
ASSET_KINDS = ("system", "dataset")
"""Data assets: what the criticality ranking ranks."""
OWNED_KINDS = ("system", "dataset", "ai_tool", "decision")
"""Kinds that should have an owner: the Insights page counts those that have none."""
RANKINGS = ("decisions", "largest_people_affected", "largest_value_gbp")
"""What data assets can be ranked by: the decisions they underpin, and the largest number of people
and sum of money of any one of those decisions."""
READ_BATCH = 5000
"""Records read at a time while gathering facts (a web app's engine serves pages in between)."""


def underpinning(g: LineageGraph, kinds: Sequence[str] = ("system", "dataset", "ai_tool")) -> ReachTotals:
    """Per node of ``kinds``: the decisions, people affected, £ value and AI tools it underpins.

    The numbers of :func:`lineage.graph.reach_totals` (a node counts itself when it is a decision
    or an AI tool), as sparse unions over the condensation in reverse topological order: each
    group's decisions and tools are its own and its children's, so no search is repeated. People
    are left out of the pass (they only start paths) unless ``kinds`` asks for them.

    >>> g = LineageGraph.from_records(
    ...     [{"id": "s", "kind": "system", "name": "S"}, {"id": "a", "kind": "dataset", "name": "A"},
    ...      {"id": "b", "kind": "dataset", "name": "B"},
    ...      {"id": "x", "kind": "decision", "name": "X", "people_affected": 10, "value_gbp": 5.0}],
    ...     [{"source": "s", "target": "a", "kind": "supplies"}, {"source": "s", "target": "b", "kind": "supplies"},
    ...      {"source": "a", "target": "x", "kind": "informs"}, {"source": "b", "target": "x", "kind": "informs"}])
    >>> underpinning(g).rows(g)[-1]
    {'id': 's', 'decisions': 1, 'largest_people_affected': 10, 'largest_value_gbp': 5.0, 'ai_tools': 0}
    """
    for kind in kinds:
        if kind not in _KIND:
            raise LineageError(f"unknown node kind '{kind}'; expected one of: {', '.join(model.NODE_KINDS)}")
    nodes = np.flatnonzero(np.isin(g.kind_codes, [_KIND[k] for k in kinds]))
    sources, targets = g.edge_sources, g.edge_targets
    if "person" not in kinds:
        flow = g.kind_codes[sources] != _PERSON
        sources, targets = sources[flow], targets[flow]
    condensed = condense(len(g), sources, targets)
    wanted = np.flatnonzero((g.kind_codes == _DECISION) | (g.kind_codes == _AI_TOOL))
    own = sp.csr_matrix((np.ones(wanted.size, dtype=np.int8), (condensed.label[wanted], np.arange(wanted.size))),
                        shape=(condensed.count, wanted.size))
    union, row = descendant_union(condensed, own)
    rows = row[condensed.label[nodes]]
    is_decision = (g.kind_codes[wanted] == _DECISION).astype(np.float64)
    counts = (union @ np.stack([is_decision, 1.0 - is_decision], axis=1))[rows]
    reached = union[rows]
    return ReachTotals(nodes=nodes, decisions=np.rint(counts[:, 0]).astype(np.int64),
                       largest_people_affected=np.rint(row_maxima(reached, np.nan_to_num(
                           g.people_affected[wanted]))).astype(np.int64),
                       largest_value_gbp=row_maxima(reached, np.nan_to_num(g.value_gbp[wanted])),
                       ai_tools=np.rint(counts[:, 1]).astype(np.int64))


# ---------------------------------------------------------------------------------------------
# Words


def weak_link_sentence(weak: dict | None, dataset_name: str | None = None) -> str:
    """The weakest link of one path, in one sentence."""
    if weak is None:
        return "No dataset on this path has a quality assessment."
    return f"The weakest link on this path is {score_words(weak, dataset_name)} ({weak['rag']})."


# ---------------------------------------------------------------------------------------------
# Facts about the estate: the two passes and the attributes the pages need


_COMMON_FIELDS = ("name", "owner", "organisation")
_FIELDS = {
    "system": ("ai_ready", "critical"),
    "dataset": ("shared",),
    "ai_tool": ("phase", "human_review", "appeals", "atrs_url", "third_party"),
    "decision": ("decision_type", "frequency", "people_affected", "value_gbp", "human_in_loop"),
}
"""The attributes kept per kind, besides name, owner and organisation (and a dataset's quality)."""


_FLAGS: dict[str, dict[str, tuple[str, Callable[[Any], bool]]]] = {
    "system": {"ai_ready": ("ai_ready", lambda v: v is True), "critical": ("critical", lambda v: v is True)},
    "dataset": {"shared": ("shared", lambda v: v is True)},
    "ai_tool": {"no_human_review": ("human_review", lambda v: v is not True),
                "no_transparency_record": ("atrs_url", lambda v: not v)},
    "decision": {},
}
"""Yes/no facts the Insights page counts, per kind: (the attribute, the test)."""


@dataclass
class Columns:
    """Attributes of every node of one kind: ``nodes`` (graph positions, ascending), one list per
    attribute, aligned with it, and the yes/no facts counted (``ownerless`` and :data:`_FLAGS`)."""

    kind: str
    nodes: np.ndarray
    values: dict[str, list[Any]]
    flags: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.flags:
            return
        tests = {"ownerless": ("owner", lambda v: not v), **_FLAGS.get(self.kind, {})}
        self.flags = {flag: np.fromiter(map(test, self.values[name]), dtype=bool, count=self.nodes.size)
                      for flag, (name, test) in tests.items() if name in self.values}

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Where ``positions`` (all of this kind) sit in the columns."""
        return np.searchsorted(self.nodes, positions)

    def get(self, name: str, position: int) -> Any:
        return self.values[name][int(np.searchsorted(self.nodes, position))]


@dataclass
class EstateFacts:
    """Everything :func:`insights` and :func:`decision_rows` are made from, gathered once."""

    graph_version: int
    confidence: ConfidencePass
    totals: ReachTotals
    columns: dict[str, Columns]
    quality_scores: np.ndarray      # datasets x dimensions (columns["dataset"] order), NaN unassessed
    quality_rags: np.ndarray        # datasets x dimensions, index into RAGS, -1 unassessed
    organisation: np.ndarray        # per node, index into organisations, -1 none
    organisations: list[str]
    owner_names: dict[str, str] = field(default_factory=dict)
    owner_kinds: dict[str, str] = field(default_factory=dict)

    def totals_of(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(decisions, largest people, largest £, AI tools) underpinned by each of ``positions``."""
        at = np.searchsorted(self.totals.nodes, positions)
        return (self.totals.decisions[at], self.totals.largest_people_affected[at], self.totals.largest_value_gbp[at],
                self.totals.ai_tools[at])

    def inside(self, organisation: str | None) -> np.ndarray:
        """A mask over nodes: those of ``organisation`` (every node for None)."""
        if organisation is None:
            return np.ones(self.organisation.size, dtype=bool)
        try:
            code = self.organisations.index(organisation)
        except ValueError:
            raise NotFoundError(f"there is no organisation called '{organisation}'") from None
        return self.organisation == code

    def owner(self, owner_id: str | None) -> dict[str, Any] | None:
        if not owner_id:
            return None
        return {"id": owner_id if owner_id in self.owner_names else None, "kind": self.owner_kinds.get(owner_id),
                "name": self.owner_names.get(owner_id, owner_id)}


def _quality_matrix(qualities: list[Any], dimension_of: dict[str, int], rag_code: dict[str, int]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Datasets' quality as a score matrix (NaN where not scored) and the ratings given explicitly
    (-1 where none), one row per dataset, one column per dimension."""
    scores = np.full((len(qualities), len(dimension_of)), np.nan)
    rated = np.full((len(qualities), len(dimension_of)), -1, dtype=np.int8)
    for row, quality in enumerate(qualities):
        if not quality:
            continue
        for dimension, assessment in quality.items():
            column = dimension_of.get(dimension)
            if column is None:
                continue
            if type(assessment) is float or type(assessment) is int:  # the common case, kept quick
                scores[row, column] = assessment
                continue
            score = model.quality_score(assessment)
            if score is not None:
                scores[row, column] = score
            if isinstance(assessment, dict) and assessment.get("rag") in rag_code:
                rated[row, column] = rag_code[assessment["rag"]]
    return scores, rated


def _rags_of(scores: np.ndarray, rated: np.ndarray) -> np.ndarray:
    """The rating of every dimension: the one given, else the band of its score (model.rag_for_score)."""
    rags = np.full(scores.shape, -1, dtype=np.int8)
    for floor, rag in sorted(model.RAG_THRESHOLDS):  # lowest floor first, so higher bands overwrite
        rags[scores >= floor] = RAGS.index(rag)
    return np.where(rated >= 0, rated, rags).astype(np.int8)


KindReader = Callable[[str], Iterable[dict[str, Any]]]


def _records_by_kind(g: LineageGraph) -> KindReader:
    """Every record of a kind in id order, through ``g.records`` a batch at a time."""
    def read(kind: str) -> Iterable[dict[str, Any]]:
        ids = [g.ids[i] for i in g.of_kind(kind).tolist()]
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start:start + READ_BATCH]
            records = g.records(chunk)
            yield from (records[i] for i in chunk)
    return read


def estate_facts(g: LineageGraph, *, records_of_kind: KindReader | None = None) -> EstateFacts:
    """Gather the two passes and the attributes of every system, dataset, AI tool and decision.

    ``records_of_kind(kind)`` yields every record of a kind in id order (default: ``g.records`` in
    batches); a caller with a store passes ``lambda kind: store.nodes(kind=kind)``, one query per
    kind on its own connection, three times faster than looking ids up and with no hold on the
    engine's connection while a web app serves pages.
    """
    read = records_of_kind or _records_by_kind(g)
    confidence = confidence_pass(g)
    totals = underpinning(g)
    columns: dict[str, Columns] = {}
    organisation = np.full(len(g), -1, dtype=np.int64)
    codes: dict[str, int] = {}
    dimension_of = {d: i for i, d in enumerate(model.QUALITY_DIMENSIONS)}
    rag_code = {rag: code for code, rag in enumerate(RAGS)}
    scores = np.zeros((0, len(model.QUALITY_DIMENSIONS)))
    rated = np.zeros((0, len(model.QUALITY_DIMENSIONS)), dtype=np.int8)
    with gc_paused():  # a million small containers and no cycles: the collector would only slow this down
        for kind in ("system", "dataset", "ai_tool", "decision"):
            positions = g.of_kind(kind)
            names = _COMMON_FIELDS + _FIELDS[kind]
            ids = g.ids
            rows: list[tuple[Any, ...]] = []
            qualities: list[Any] = []
            for record in read(kind):
                if len(rows) >= positions.size or record["id"] != ids[positions[len(rows)]]:
                    raise LineageError(f"the records of kind {kind} do not match the graph (at '{record['id']}'): "
                                       "was the database changed while the facts were gathered?")
                rows.append(tuple(map(record.get, names)))
                if kind == "dataset":
                    qualities.append(record.get("quality"))
            if len(rows) != positions.size:
                raise LineageError(f"the graph has {positions.size} nodes of kind {kind} but {len(rows)} records were "
                                   "read: was the database changed while the facts were gathered?")
            values = {name: list(column) for name, column in zip(names, zip(*rows))} if rows else \
                {name: [] for name in names}
            organisation[positions] = [codes.setdefault(o, len(codes)) if o else -1 for o in values["organisation"]]
            columns[kind] = Columns(kind, positions, values)
            if kind == "dataset":
                scores, rated = _quality_matrix(qualities, dimension_of, rag_code)
        rags = _rags_of(scores, rated)
    owners = sorted(o for o in {o for c in columns.values() for o in c.values["owner"] if o} if o in g)
    owner_names, owner_kinds = {}, {}
    for start in range(0, len(owners), READ_BATCH):
        for owner_id, record in g.records(owners[start:start + READ_BATCH]).items():
            owner_names[owner_id], owner_kinds[owner_id] = record["name"], record["kind"]
    names = sorted(codes, key=codes.get)
    order = sorted(range(len(names)), key=names.__getitem__)  # organisations listed alphabetically
    recode = np.full(len(names) + 1, -1, dtype=np.int64)
    recode[order] = np.arange(len(names))
    organisation = recode[organisation]  # -1 stays -1 (the last slot)
    return EstateFacts(
        graph_version=g.version, confidence=confidence, totals=totals, columns=columns,
        quality_scores=scores, quality_rags=rags,
        organisation=organisation, organisations=sorted(names), owner_names=owner_names, owner_kinds=owner_kinds)


# ---------------------------------------------------------------------------------------------
# The Insights page


@dataclass
class Insights:
    """What the Insights page shows, for the whole estate (``organisation`` None) or one organisation.

    Each section is a dictionary of counts, a ``headline`` sentence and ``rows`` (the first
    :data:`LISTED`, ranked); :meth:`as_dict` is the JSON twin and what is materialised.
    Figures about what an asset underpins count every decision downstream of it, whichever
    organisation makes the decision.
    """

    organisation: str | None
    graph_version: int
    organisations: list[str]
    totals: dict[str, Any]
    assets: dict[str, Any]
    shared: dict[str, Any]
    ownerless: dict[str, Any]
    readiness: dict[str, Any]
    ai_oversight: dict[str, Any]
    risky_decisions: dict[str, Any]
    quality: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Insights:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def _order(decisions: np.ndarray, people: np.ndarray, value: np.ndarray, positions: np.ndarray,
           by: str = "decisions") -> np.ndarray:
    """Indexes ranking rows by ``by`` first, then the other two figures (most first), then id."""
    keys = {"decisions": -decisions, "largest_people_affected": -people, "largest_value_gbp": -value}
    rest = [keys[k] for k in RANKINGS if k != by]
    return np.lexsort((positions, rest[1], rest[0], keys[by]))


def _weakest_of(g: LineageGraph, position: int) -> dict[str, Any] | None:
    link = weak_link_at(g, position) if g.kind_codes[position] == _DATASET else None
    return None if link is None else {"dimension": link.dimension, "score": link.score, "rag": link.rag}


def _asset_rows(g: LineageGraph, facts: EstateFacts, positions: np.ndarray) -> list[dict[str, Any]]:
    decisions, people, value, tools = facts.totals_of(positions)
    rows = []
    for position, d, p, v, t in zip(positions.tolist(), decisions.tolist(), people.tolist(), value.tolist(),
                                    tools.tolist()):
        kind = model.NODE_KINDS[g.kind_codes[position]]
        column = facts.columns[kind]
        at = int(np.searchsorted(column.nodes, position))
        extra = {name: column.values[name][at] for name in _FIELDS[kind] if name in ("critical", "ai_ready", "shared")}
        rows.append({"id": g.ids[position], "kind": kind, "name": column.values["name"][at],
                     "owner": facts.owner(column.values["owner"][at]),
                     "organisation": column.values["organisation"][at],
                     "critical": extra.get("critical"), "ai_ready": extra.get("ai_ready"), "shared": extra.get("shared"),
                     "decisions": d, "largest_people_affected": p, "largest_value_gbp": v, "ai_tools": t,
                     "weakest": _weakest_of(g, position)})
    return rows


def _ranked(facts: EstateFacts, positions: np.ndarray, by: str = "decisions", limit: int = LISTED) -> np.ndarray:
    decisions, people, value, _ = facts.totals_of(positions)
    return positions[_order(decisions, people, value, positions, by)[:limit]]


def _select(column: Columns, inside: np.ndarray, flag: str | None = None) -> np.ndarray:
    """Positions of a kind inside the organisation, optionally only those with ``flag`` set."""
    keep = inside[column.nodes]
    if flag is not None:
        keep &= column.flags[flag]
    return column.nodes[keep]


def decision_confidence_row(g: LineageGraph, facts: EstateFacts, position: int) -> dict[str, Any]:
    """A decision's data confidence as rows carry it (:meth:`lineage.confidence.Confidence.described`)."""
    datasets = facts.columns["dataset"]
    return confidence_at(g, facts.confidence, position).described(
        lambda dataset: datasets.get("name", g.position(dataset)))


def _decision_risk(g: LineageGraph, facts: EstateFacts, decisions: np.ndarray, limit: int) -> dict[str, Any]:
    band = facts.confidence.band[decisions].astype(np.int64)
    people = np.nan_to_num(g.people_affected[decisions])
    value = np.nan_to_num(g.value_gbp[decisions])
    counts = {label: int(np.count_nonzero(band == code)) for code, label in enumerate(BANDS)}
    risky = np.flatnonzero(band < RAGS.index("green"))
    order = risky[np.lexsort((decisions[risky], -value[risky], -people[risky], band[risky]))][:limit]
    column = facts.columns["decision"]
    rows = []
    for index in order.tolist():
        position = int(decisions[index])
        at = int(np.searchsorted(column.nodes, position))
        confidence = decision_confidence_row(g, facts, position)
        rows.append({"id": g.ids[position], "name": column.values["name"][at],
                     "decision_type": column.values["decision_type"][at],
                     "organisation": column.values["organisation"][at],
                     "people_affected": column.values["people_affected"][at], "value_gbp": column.values["value_gbp"][at],
                     "owner": facts.owner(column.values["owner"][at]),
                     "confidence": confidence, "explanation": confidence["text"]})
    at_risk = counts["red"] + counts["amber"]
    if not decisions.size:
        headline = "There are no decisions."
    else:
        headline = f"{number(at_risk)} of {plural(decisions.size, 'decision')} rest on red or amber data"
        if risky.size and people[risky].max() > 0:
            headline += f"; the largest of them affects {about(people[risky].max())} people"
        headline += "."
    return {"decisions": int(decisions.size), "counts": counts, "headline": headline,
            "largest_people_affected": {label: int(people[band == code].max(initial=0))
                                        for code, label in enumerate(BANDS)},
            "largest_value_gbp": {label: float(value[band == code].max(initial=0))
                                  for code, label in enumerate(BANDS)},
            "rows": rows}


def _quality(g: LineageGraph, facts: EstateFacts, datasets: np.ndarray, limit: int) -> dict[str, Any]:
    column = facts.columns["dataset"]
    at = column.at(datasets)
    scores, rags = facts.quality_scores[at], facts.quality_rags[at]
    decisions, people, value, _ = facts.totals_of(datasets)
    dimensions = []
    for d, dimension in enumerate(model.QUALITY_DIMENSIONS):
        rag = rags[:, d]
        scored = scores[:, d][~np.isnan(scores[:, d])]
        weak = np.flatnonzero((rag >= 0) & (rag < RAGS.index("green")))
        score = np.nan_to_num(scores[weak, d], nan=2.0)
        chosen = weak[np.lexsort((datasets[weak], score, -decisions[weak], rag[weak]))][:limit]
        hot_spots = [{"id": g.ids[datasets[i]], "name": column.values["name"][at[i]],
                      "score": None if math.isnan(scores[i, d]) else float(scores[i, d]), "rag": RAGS[rag[i]],
                      "decisions": int(decisions[i]), "largest_people_affected": int(people[i]),
                      "largest_value_gbp": float(value[i]),
                      "owner": facts.owner(column.values["owner"][at[i]])} for i in chosen.tolist()]
        dimensions.append({"dimension": dimension, "assessed": int(np.count_nonzero(rag >= 0)),
                           **{r: int(np.count_nonzero(rag == code)) for code, r in enumerate(RAGS)},
                           "mean_score": float(scored.mean()) if scored.size else None, "hot_spots": hot_spots})
    assessed = int(np.count_nonzero((rags >= 0).any(axis=1))) if datasets.size else 0
    worst = min((row for row in dimensions if row["assessed"]), default=None,
                key=lambda row: (-row["red"], -row["amber"], row["mean_score"] if row["mean_score"] is not None else 2))
    if worst is None:
        headline = "No dataset has a quality assessment yet."
    else:
        headline = (f"{worst['dimension'].capitalize()} is the weakest dimension: of {plural(worst['assessed'], 'dataset')} "
                    f"assessed on it, {number(worst['red'])} {'is' if worst['red'] == 1 else 'are'} red and "
                    f"{number(worst['amber'])} amber.")
    return {"datasets": int(datasets.size), "assessed": assessed, "unassessed": int(datasets.size) - assessed,
            "headline": headline, "dimensions": dimensions}


def insights(g: LineageGraph, organisation: str | None = None, *, facts: EstateFacts | None = None,
             limit: int = LISTED) -> Insights:
    """Critical and shared data assets, ownerless assets, AI readiness, AI oversight, decisions on
    red or amber data and quality hot spots: for the estate, or the nodes of one organisation.

    Pass ``facts`` (:func:`estate_facts`) to make several organisations' insights from one gathering.
    """
    facts = facts or estate_facts(g)
    inside = facts.inside(organisation)
    columns = facts.columns
    systems = _select(columns["system"], inside)
    datasets = _select(columns["dataset"], inside)
    tools = _select(columns["ai_tool"], inside)
    decisions = _select(columns["decision"], inside)

    assets = np.concatenate([systems, datasets])
    shared = _select(columns["dataset"], inside, "shared")
    ownerless = {kind: _select(columns[kind], inside, "ownerless") for kind in OWNED_KINDS}
    underpinning_ownerless = np.concatenate([ownerless[k] for k in ("system", "dataset", "ai_tool")])
    orphan_decisions = ownerless["decision"]
    # Ownerless decisions rank by their own reach: one decision, its people and £.
    ranked_ownerless = np.concatenate([underpinning_ownerless, orphan_decisions])
    d, p, v, _ = facts.totals_of(underpinning_ownerless)
    d = np.concatenate([d, np.ones(orphan_decisions.size, dtype=np.int64)])
    p = np.concatenate([p, np.nan_to_num(g.people_affected[orphan_decisions]).astype(np.int64)])
    v = np.concatenate([v, np.nan_to_num(g.value_gbp[orphan_decisions])])
    chosen = _order(d, p, v, ranked_ownerless)[:limit]
    ownerless_rows = []
    for index in chosen.tolist():
        position = int(ranked_ownerless[index])
        kind = model.NODE_KINDS[g.kind_codes[position]]
        ownerless_rows.append({"id": g.ids[position], "kind": kind, "name": columns[kind].get("name", position),
                               "organisation": columns[kind].get("organisation", position),
                               "decisions": int(d[index]), "largest_people_affected": int(p[index]),
                               "largest_value_gbp": float(v[index])})
    ownerless_count = sum(a.size for a in ownerless.values())

    ai_ready = _select(columns["system"], inside, "ai_ready")
    critical = _select(columns["system"], inside, "critical")
    critical_ready = np.intersect1d(critical, ai_ready)
    if critical.size:
        readiness_headline = (f"{number(critical_ready.size)} of {number(critical.size)} critical systems "
                              f"{'is' if critical_ready.size == 1 else 'are'} AI-ready.")
    else:
        readiness_headline = (f"No system is marked critical; {number(ai_ready.size)} of "
                              f"{plural(systems.size, 'system')} {'is' if ai_ready.size == 1 else 'are'} AI-ready.")

    no_review = _select(columns["ai_tool"], inside, "no_human_review")
    no_record = _select(columns["ai_tool"], inside, "no_transparency_record")
    gaps = np.union1d(no_review, no_record)
    tool_rows = []
    ranked_gaps = _ranked(facts, gaps, limit=limit)
    for row, position in zip(_asset_rows(g, facts, ranked_gaps), ranked_gaps.tolist()):
        column = columns["ai_tool"]
        at = int(np.searchsorted(column.nodes, position))
        tool_rows.append({**{k: row[k] for k in ("id", "kind", "name", "owner", "organisation", "decisions",
                                                 "largest_people_affected", "largest_value_gbp")},
                          **{k: column.values[k][at] for k in ("phase", "human_review", "appeals", "atrs_url")}})
    oversight_headline = (f"{number(no_review.size)} of {number(tools.size)} AI tools "
                          f"{'has' if no_review.size == 1 else 'have'} no human review, and "
                          f"{number(no_record.size)} {'has' if no_record.size == 1 else 'have'} no transparency record."
                          if tools.size else "There are no AI tools.")

    people = np.nan_to_num(g.people_affected[decisions])
    value = np.nan_to_num(g.value_gbp[decisions])
    return Insights(
        organisation=organisation, graph_version=g.version, organisations=facts.organisations,
        totals={"decisions": int(decisions.size), "largest_people_affected": int(people.max(initial=0)),
                "largest_value_gbp": float(value.max(initial=0)),
                "systems": int(systems.size), "datasets": int(datasets.size), "ai_tools": int(tools.size),
                "ai_decisions": int(np.count_nonzero(facts.confidence.ai_direct[decisions])),
                "ai_earlier_only_decisions": int(np.count_nonzero(facts.confidence.ai_anywhere[decisions]
                                                                  & ~facts.confidence.ai_direct[decisions]))},
        assets={"count": int(assets.size),
                "by": {by: _asset_rows(g, facts, _ranked(facts, assets, by, limit)) for by in RANKINGS}},
        shared={"count": int(shared.size), "rows": _asset_rows(g, facts, _ranked(facts, shared, limit=limit))},
        ownerless={"count": ownerless_count, "by_kind": {k: int(a.size) for k, a in ownerless.items()},
                   "headline": (f"{plural(ownerless_count, 'asset')} {'has' if ownerless_count == 1 else 'have'} "
                                "no owner." if ownerless_count else "Every system, dataset, AI tool and decision has "
                                                                    "an owner."),
                   "rows": ownerless_rows},
        readiness={"systems": int(systems.size), "ai_ready": int(ai_ready.size), "critical": int(critical.size),
                   "critical_ready": int(critical_ready.size), "headline": readiness_headline,
                   "rows": _asset_rows(g, facts, _ranked(facts, critical, limit=limit))},
        ai_oversight={"tools": int(tools.size), "no_human_review": int(no_review.size),
                      "no_transparency_record": int(no_record.size), "either": int(gaps.size),
                      "headline": oversight_headline, "rows": tool_rows},
        risky_decisions=_decision_risk(g, facts, decisions, limit),
        quality=_quality(g, facts, datasets, HOT_SPOTS))


# ---------------------------------------------------------------------------------------------
# The decisions table


@dataclass
class DecisionRow:
    """One row of the decisions table."""

    id: str
    name: str
    decision_type: str | None
    organisation: str | None
    frequency: str | None
    frequency_band: str | None      # lineage.model.frequency_band: for filtering (the free text is shown)
    people_affected: int | None
    value_gbp: float | None
    human_in_loop: bool | None
    ai_involved: bool               # an AI tool informs it directly (lineage.confidence)
    ai_earlier_only: bool           # AI only in earlier decisions' data, through their recorded outcomes
    confidence: str | None          # red, amber, green; None when its main data is unassessed
    confidence_key: float           # sorts weakest first (lineage.confidence.band_sort_key)
    weakest_dataset: str | None     # the dataset and dimension that set the band
    weakest_dataset_name: str | None
    weakest_dimension: str | None
    weakest_score: float | None
    owner: str | None
    owner_name: str | None

    FIELDS = ()  # filled below

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(self.__dict__.values())


DecisionRow.FIELDS = tuple(f for f in DecisionRow.__dataclass_fields__ if f != "FIELDS")


def decision_rows(g: LineageGraph, *, facts: EstateFacts | None = None) -> list[DecisionRow]:
    """Every decision with its facts, its data confidence and whether an AI tool informs it, in id order."""
    facts = facts or estate_facts(g)
    column = facts.columns["decision"]
    values = column.values
    positions = column.nodes
    result = facts.confidence
    deciding = result.deciding[positions]
    found = deciding != np.iinfo(np.int64).max
    weakest = np.where(found, result.ordered[np.where(found, deciding, 0)] if result.ordered.size else -1, -1)
    at = np.where(found, facts.columns["dataset"].at(np.maximum(weakest, 0)), -1)
    dataset_names = facts.columns["dataset"].values["name"]
    ids = g.ids
    safe = np.maximum(weakest, 0)
    band_of = [BANDS[b] for b in result.band[positions].tolist()]
    dimension_of = [model.QUALITY_DIMENSIONS[c] if ok else None
                    for c, ok in zip(g.quality_dimension[safe].tolist(), found.tolist())]
    score_of = [None if not ok or math.isnan(s) else s for s, ok in zip(g.quality_score[safe].tolist(),
                                                                          found.tolist())]
    owner_names = facts.owner_names
    rows = []
    with gc_paused():
        for i, (position, w, a, ai, ai_any, owner, people, value, in_loop) in enumerate(zip(
                positions.tolist(), weakest.tolist(), at.tolist(), result.ai_direct[positions].tolist(),
                result.ai_anywhere[positions].tolist(), values["owner"], values["people_affected"],
                values["value_gbp"], values["human_in_loop"])):
            ok = w >= 0
            band = band_of[i]
            rows.append(DecisionRow(
                ids[position], values["name"][i], values["decision_type"][i], values["organisation"][i],
                values["frequency"][i], frequency_band(values["frequency"][i]), int(people) if type(people) in (int, float) else None,
                float(value) if type(value) in (int, float) else None, in_loop if type(in_loop) is bool else None,
                ai, ai_any and not ai, None if band == "unknown" else band, band_sort_key(band, score_of[i]),
                ids[w] if ok else None, dataset_names[a] if ok else None,
                dimension_of[i], score_of[i], owner if owner and owner in owner_names else None,
                owner_names.get(owner, owner) if owner else None))
    return rows


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell a spreadsheet will not run: text that starts like a formula gets a
    leading ``'`` (the convention of ``lineage export --format csv``).

    >>> csv_cell("=HYPERLINK(1)"), csv_cell(True), csv_cell(0.71), csv_cell(None)
    ("'=HYPERLINK(1)", 'true', '0.71', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) or text.startswith("'") else text


def write_csv(rows: Iterable[dict[str, Any] | Sequence[Any]], columns: Sequence[str], out: IO[str]) -> None:
    """Write rows (dictionaries keyed by ``columns``, or sequences in their order) as CSV."""
    writer = csv_writer(out)
    writer.writerow(columns)
    for row in rows:
        cells = [row.get(c) for c in columns] if isinstance(row, dict) else row
        writer.writerow([csv_cell(cell) for cell in cells])


# ---------------------------------------------------------------------------------------------
# One decision's provenance, for leaders


@dataclass
class DecisionProvenance:
    """What a decision rests on, as its page shows it: teams counted (people never named), every
    upstream dataset with its quality, every AI tool with its oversight, the weakest link on each
    path in words, and the single points of failure. Lists keep the first :data:`UPSTREAM_LISTED`
    (weakest datasets first, nearest tools first); counts count everything."""

    decision: dict[str, Any]
    upstream_count: int
    counts: dict[str, int]
    people_count: int
    team_count: int
    teams: list[dict[str, Any]]
    confidence: dict[str, Any] | None
    confidence_text: str
    unassessed_datasets: int
    dataset_count: int
    datasets: list[dict[str, Any]]
    ai_tool_count: int
    ai_tools: list[dict[str, Any]]
    paths: list[dict[str, Any]]
    single_points_of_failure: list[dict[str, Any]]
    failures_text: str
    unreviewed_ai_tools: list[dict[str, Any]] = field(default_factory=list)
    """AI tools that inform the decision directly and have no human review of their results."""
    ai_warning: str | None = None
    """The warning the decision's page opens with when there are such tools."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "kind": record["kind"], "name": record["name"]}


def _quality_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    quality = record.get("quality") or {}
    return {d: {"score": model.quality_score(quality[d]), "rag": model.quality_rag(quality[d])}
            for d in model.QUALITY_DIMENSIONS if d in quality}


def decision_provenance(g: LineageGraph, decision: str, *, limit: int = UPSTREAM_LISTED, path_limit: int = 20,
                        team_limit: int = TEAMS_LISTED, name_people: bool = True) -> DecisionProvenance:
    """A decision's provenance for its page (see :class:`DecisionProvenance`).

    With ``name_people`` False, a person who is a single point of failure is "one person in
    <team>", without id or name (for readers who see other people only by team).

    >>> g = LineageGraph.from_records(
    ...     [{"id": "p", "kind": "person", "name": "P"}, {"id": "t", "kind": "team", "name": "Housing options"},
    ...      {"id": "reg", "kind": "dataset", "name": "Register", "quality": {"timeliness": 0.71}},
    ...      {"id": "x", "kind": "decision", "name": "Allocations"}],
    ...     [{"source": "p", "target": "t", "kind": "member_of"}, {"source": "p", "target": "reg", "kind": "enters"},
    ...      {"source": "reg", "target": "x", "kind": "informs"}])
    >>> page = decision_provenance(g, "x")
    >>> page.teams, page.confidence_text
    ([{'id': 't', 'name': 'Housing options', 'people': 1}], "Amber: the data behind this decision can be trusted only in part, because Register's timeliness is 0.71.")
    >>> [row["id"] for row in page.single_points_of_failure]
    ['reg', 'p']
    """
    position = g.position(decision)
    if g.kind_codes[position] != _DECISION:
        raise LineageError(f"'{decision}' is a {g.kind(decision)}; provenance is for a decision")
    result = provenance(g, decision, limit=limit, path_limit=path_limit)
    reach = result.reach
    failures = single_points_of_failure(g, decision, reach=reach)

    datasets = reach.nodes[g.kind_codes[reach.nodes] == _DATASET]
    rag = np.where(g.quality_rag[datasets] >= 0, g.quality_rag[datasets], len(RAGS))
    score = np.nan_to_num(g.quality_score[datasets], nan=2.0)
    listed_datasets = datasets[np.lexsort((datasets, score, rag))[:limit]]
    tools = reach.of_kind("ai_tool")
    listed_tools = tools.ids(limit)
    team_ids = [t["team"] for t in result.teams[:team_limit] if t["team"]]
    confidence = result.confidence.as_dict()
    path_ids = [step for row in result.paths for step in row["path"]]
    wanted = ({decision} | {g.ids[i] for i in listed_datasets.tolist()} | set(listed_tools) | set(team_ids)
              | set(path_ids) | set(failures)
              | {link["dataset"] for link in map(confidence.get, LINKS) if link})
    records = g.records(wanted)
    described = result.confidence.described(lambda dataset: records[dataset]["name"])
    record = records[decision]
    owners = {r.get("owner") for r in [record] + [records[g.ids[i]] for i in listed_datasets.tolist()]
              + [records[t] for t in listed_tools]} - {None, ""}
    owner_records = g.records([o for o in owners if o in g])

    def owner_of(item: dict[str, Any]) -> dict[str, Any] | None:
        owner = item.get("owner")
        if not owner:
            return None
        return _summary(owner_records[owner]) if owner in owner_records else {"id": None, "kind": None, "name": owner}

    dataset_rows = []
    for node in listed_datasets.tolist():
        item = records[g.ids[node]]
        weak = _weakest_of(g, node)
        dataset_rows.append({**_summary(item), "owner": owner_of(item), "shared": item.get("shared"),
                             "record_count": item.get("record_count"), "quality": _quality_of(item), "weakest": weak})
    decisive = {g.ids[i] for nodes in decisive_data(g, position) for i in nodes[g.kind_codes[nodes] == _AI_TOOL].tolist()}
    # direct: it informs the decision along a path through no other decision; otherwise it lies
    # only behind earlier decisions' recorded outcomes.
    tool_rows = [{**_summary(records[t]), "owner": owner_of(records[t]), "direct": t in decisive,
                  **{k: records[t].get(k) for k in ("phase", "human_review", "appeals", "atrs_url", "third_party",
                                                     "purpose")}} for t in listed_tools]
    path_rows = []
    for row in result.paths:
        weak = row["weakest"]
        name = records[weak["dataset"]]["name"] if weak else None
        path_rows.append({"path": [_summary(records[s]) for s in row["path"]],
                          "text": path_text(g, row["path"], records),
                          "weakest": {**weak, "dataset_name": name} if weak else None,
                          "explanation": weak_link_sentence(weak, name)})
    failure_rows = [_summary(records[f]) for f in failures]
    if not name_people:
        for row in failure_rows:
            if row["kind"] == "person":
                teams = g.team_counts(np.array([g.position(row["id"])]))
                team = next((g.ids[t] for t, _ in teams if t >= 0), None)
                row.update(id=None, name=f"one person in {g.record(team)['name']}" if team else "one person")
    if failures:
        names = [r["name"] for r in failure_rows]
        listed_names = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        failures_text = (f"Every path into this decision passes through {listed_names}: if "
                         f"{'it fails' if len(names) == 1 else 'any of them fails'}, the decision loses all its data.")
    elif result.upstream_count:
        failures_text = "No single node carries every path into this decision."
    else:
        failures_text = "Nothing flows into this decision yet."
    decision_fields = ("decision_type", "frequency", "people_affected", "value_gbp", "value_basis", "human_in_loop",
                       "organisation", "description", "outcome")
    tool_records = g.records(sorted(decisive))
    missing = {tool_records[t].get("owner") for t in decisive} - set(owner_records) - {None, ""}
    owner_records.update(g.records([o for o in missing if o in g]))
    unreviewed = [{**_summary(tool_records[t]), "owner": owner_of(tool_records[t])}
                  for t in sorted(decisive, key=lambda t: (tool_records[t]["name"], t))
                  if tool_records[t].get("human_review") is not True]
    warning = None
    if unreviewed:
        names = [t["name"] for t in unreviewed]
        listed_names = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        warning = (f"{'An AI tool informs' if len(names) == 1 else f'{len(names)} AI tools inform'} this decision "
                   f"with no person reviewing {'its' if len(names) == 1 else 'their'} results: {listed_names}.")
        if record.get("human_in_loop") is True:
            warning += " A person makes the decision, but what the tool produces reaches them unchecked."
    provenance_result = DecisionProvenance(
        decision={**_summary(record), **{k: record.get(k) for k in decision_fields}, "owner": owner_of(record)},
        upstream_count=result.upstream_count, counts=result.counts, people_count=result.people_count,
        team_count=len(result.teams),
        teams=[{"id": t["team"], "name": records[t["team"]]["name"] if t["team"] else "People with no team",
                "people": t["people"]} for t in result.teams[:team_limit]],
        confidence=described, confidence_text=described["text"], unassessed_datasets=result.unassessed_datasets,
        dataset_count=int(datasets.size), datasets=dataset_rows, ai_tool_count=tools.count, ai_tools=tool_rows,
        paths=path_rows, single_points_of_failure=failure_rows, failures_text=failures_text,
        unreviewed_ai_tools=unreviewed, ai_warning=warning)
    return provenance_result


# ---------------------------------------------------------------------------------------------
# Charts of the Insights page


def charts(result: Insights) -> list[Any]:
    """The Insights page's charts (:class:`lineage.charts.Chart`): decisions by data confidence,
    AI readiness of systems, and datasets' ratings on each quality dimension.

    >>> g = LineageGraph.from_records([{"id": "s", "kind": "system", "name": "S", "critical": True}], [])
    >>> [(c.id, c.values) for c in charts(insights(g))][1]
    ('readiness', [[0, 1], [0, 0]])
    """
    from .charts import AMBER, GREEN, NOT_READY, READY, RED, UNKNOWN, Chart

    risk = result.risky_decisions
    ready = result.readiness
    other_ready = ready["ai_ready"] - ready["critical_ready"]
    other = ready["systems"] - ready["critical"]
    quality = result.quality
    return [
        Chart("confidence", "Decisions by data confidence", risk["headline"], ["Decisions"],
              [RED, AMBER, GREEN, UNKNOWN], [[risk["counts"][k] for k in ("red", "amber", "green", "unknown")]],
              unit="decisions"),
        Chart("readiness", "AI readiness of systems", ready["headline"], ["Critical systems", "Other systems"],
              [READY, NOT_READY], [[ready["critical_ready"], ready["critical"] - ready["critical_ready"]],
                                   [other_ready, other - other_ready]], unit="systems"),
        Chart("quality", "Datasets by rating on each quality dimension", quality["headline"],
              [row["dimension"].capitalize() for row in quality["dimensions"]], [RED, AMBER, GREEN],
              [[row["red"], row["amber"], row["green"]] for row in quality["dimensions"]], unit="datasets"),
    ]

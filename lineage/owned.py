"""What an owner owns, and lists of nodes people can use: filtered, sorted, paged, with the
columns people ask for (owner, organisation, quality in words, decisions fed).

*Your data* (:func:`your_data`) answers an owner's first question: "what do I own, what is wrong
with it, what do I do first?" Each thing they own comes with its quality in words, its open
flags, the decisions it feeds (a count, and the largest number of people any one of them affects:
populations of different decisions overlap, so they are never added up) and its last change; the
things that need attention come first (open flags; red dimensions on data that feeds
:data:`MANY_DECISIONS` or more; assessments older than :data:`ASSESSMENT_MAX_DAYS`; then fair data
feeding as many).

Node lists (:func:`node_list`) filter by owner, organisation, kind and quality band in the store
(:meth:`lineage.store.Store.list_nodes`: it keeps each node's owner, organisation and weakest
quality rating in columns), sort, page, and add the decisions each listed node feeds from the
compiled graph.

>>> from lineage.store import Store
>>> from lineage.graph import LineageGraph
>>> store = Store(":memory:", create=True)
>>> with store.change("setup", "a small estate") as change:
...     change.add_node({"id": "jo", "kind": "person", "name": "Jo"})
...     change.add_node({"id": "reg", "kind": "dataset", "name": "Register", "owner": "jo",
...                      "quality": {"timeliness": 0.55}})
...     change.add_node({"id": "bid", "kind": "decision", "name": "Grant bid", "people_affected": 900})
...     change.add_edge({"source": "reg", "target": "bid", "kind": "informs"})
>>> mine = your_data(LineageGraph.from_store(store), store, "jo")
>>> item = mine["groups"]["dataset"][0]
>>> item["quality_words"], item["decisions"], item["largest_people_affected"]
('poor (0.55): records are entered or updated late', 1, 900)
>>> node_list(LineageGraph.from_store(store), store, NodeQuery(quality="red")).rows[0]["name"]
'Register'
"""
from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timezone
from typing import Any

import numpy as np

from . import model, words
from .errors import LineageError, NotFoundError
from .graph import LineageGraph, largest, traverse
from .insights import underpinning
from .loop import open_flags_on
from .store import Store

ASSESSMENT_MAX_DAYS = 365
"""An assessment older than this many days needs doing again (``LINEAGE_ASSESSMENT_MAX_DAYS``)."""
MANY_DECISIONS = 3
"""A red dimension on data feeding at least this many decisions comes first."""
OWNED_LIMIT = 2000
"""Things listed on one owner's page; beyond this, the list says how many more there are."""

SORTS = ("name", "kind", "organisation", "owner", "quality", "decisions")
"""What a list sorts by: the decisions each node feeds, or one of the store's columns."""
QUALITY_BANDS = ("red", "amber", "green", "unassessed")


def assessment_max_days(env: Mapping[str, str] | None = None) -> int:
    raw = (env if env is not None else os.environ).get("LINEAGE_ASSESSMENT_MAX_DAYS", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else ASSESSMENT_MAX_DAYS


def weakness(dimension: str) -> str:
    """What a weak dimension means, in the words of the people who enter the records (lower case)."""
    return words.dimension_name(dimension).lower()


def quality_words(rag: str | None, score: float | None, dimension: str | None = None) -> str:
    """A rating in words: ``"fair (0.71): records are entered or updated late"``."""
    if rag is None:
        return "not assessed"
    said = words.score_text(score, rag)
    return f"{said}: {weakness(dimension)}" if dimension and rag != "green" else said


def _as_of(assessment: Any) -> Date | None:
    if isinstance(assessment, dict) and isinstance(assessment.get("as_of"), str):
        try:
            return Date.fromisoformat(assessment["as_of"][:10])
        except ValueError:
            return None
    return None


def decisions_fed(g: LineageGraph, node_id: str) -> dict[str, Any]:
    """The decisions downstream of a node (counted once each) and the largest number of people any
    one of them affects, with that decision (never a sum: populations overlap)."""
    if node_id not in g:
        return {"decisions": 0, "largest_people_affected": None, "largest_decision": None}
    reach = traverse(g, node_id, direction="downstream", kinds=["decision"])
    top, winner = largest(g, reach.nodes, g.people_affected[reach.nodes]) if reach.count else (None, None)
    return {"decisions": reach.count, "largest_people_affected": None if top is None else int(top),
            "largest_decision": None if winner is None else {"id": winner, "name": g.record(winner)["name"]}}


def _item(g: LineageGraph, store: Store, record: dict[str, Any], flags: list[dict[str, Any]],
          today: Date, max_days: int) -> dict[str, Any]:
    quality = record.get("quality") or {}
    weakest = model.weakest_dimension(quality) if record["kind"] == "dataset" else None
    dimension, score, rag = weakest if weakest else (None, None, None)
    dates = [d for d in (_as_of(a) for a in quality.values()) if d is not None]
    oldest = min(dates) if dates else None
    red = [d for d in model.QUALITY_DIMENSIONS if d in quality and model.quality_rag(quality[d]) == "red"]
    history = store.history(record["id"], limit=1)
    last = {k: history[0][k] for k in ("change", "at", "actor", "summary")} if history else None
    return {
        "id": record["id"], "kind": record["kind"], "name": record["name"],
        "organisation": record.get("organisation"),
        "rag": rag, "score": score, "weakest_dimension": dimension,
        "quality_words": quality_words(rag, score, dimension) if record["kind"] == "dataset" else None,
        "red_dimensions": red, "oldest_assessment": oldest.isoformat() if oldest else None,
        "assessment_days": (today - oldest).days if oldest else None,
        "assessment_stale": bool(oldest and (today - oldest).days > max_days),
        "open_flags": flags, **decisions_fed(g, record["id"]), "last_change": last,
    }


def _attention(item: dict[str, Any], max_days: int) -> list[dict[str, Any]]:
    """What needs doing on one thing, most urgent first."""
    found = []
    if item["open_flags"]:
        count = len(item["open_flags"])
        found.append({"reason": "flags", "rank": 0, "text": f"{count} open flag{'s' if count != 1 else ''} "
                      f"from the people who enter the records: answer {'them' if count != 1 else 'it'}"})
    if item["red_dimensions"] and item["decisions"] >= MANY_DECISIONS:
        weak = " and ".join(weakness(d) for d in item["red_dimensions"][:2])
        found.append({"reason": "red", "rank": 1, "text": f"poor quality ({weak}) and it feeds "
                      f"{item['decisions']} decisions"})
    elif item["rag"] == "amber" and item["decisions"] >= MANY_DECISIONS:
        found.append({"reason": "fair", "rank": 3, "text": f"fair quality ({weakness(item['weakest_dimension'])}, "
                      f"{item['score']:.2f}) and it feeds {item['decisions']} decisions"})
    if item["assessment_stale"]:
        found.append({"reason": "stale", "rank": 2, "text": f"quality last assessed {item['assessment_days']} days "
                      f"ago (on {item['oldest_assessment']}); assess it again at least every {max_days} days"})
    return found


def your_data(g: LineageGraph, store: Store, person_id: str, *, today: Date | None = None,
              max_days: int | None = None, limit: int = OWNED_LIMIT) -> dict[str, Any]:
    """Everything ``person_id`` owns, grouped by kind, and what needs attention first.

    Returns ``{"person", "total", "shown", "groups": {kind: [item, ...]}, "attention": [...],
    "max_days", "bands"}``; each item has its quality in words, open flags, decisions fed (count
    and the largest people affected of any one) and last change.
    """
    today = today or datetime.now(timezone.utc).date()
    max_days = max_days or assessment_max_days()
    try:
        person = store.node(person_id)
    except NotFoundError:
        person = {"id": person_id, "kind": "person", "name": person_id}
    page = store.node_page(owner=person_id, limit=limit)
    total, records = page.total, list(page.nodes)
    flags = open_flags_on(store, [r["id"] for r in records if r["kind"] == "dataset"])
    groups: dict[str, list[dict[str, Any]]] = {}
    attention = []
    for record in sorted(records, key=lambda r: (r["name"].lower(), r["id"])):
        item = _item(g, store, record, flags.get(record["id"], []), today, max_days)
        groups.setdefault(record["kind"], []).append(item)
        for need in _attention(item, max_days):
            attention.append({"id": item["id"], "kind": item["kind"], "name": item["name"], **need,
                              "decisions": item["decisions"]})
    attention.sort(key=lambda a: (a["rank"], -a["decisions"], a["name"].lower()))
    ordered = {kind: groups[kind] for kind in model.NODE_KINDS if kind in groups}
    return {"person": {"id": person["id"], "name": person["name"]}, "total": total, "shown": len(records),
            "groups": ordered, "attention": attention, "max_days": max_days, "bands": words.BANDS_EXPLAINED}


# -- lists people can use ------------------------------------------------------------------------


@dataclass
class NodeQuery:
    """Filters, sort and page of a node list. ``owner`` is a person id (or "none" for no owner)."""

    kind: str | None = None
    owner: str | None = None
    organisation: str | None = None
    quality: str | None = None
    sort: str = "name"
    order: str = "asc"
    page: int = 1
    page_size: int = 50
    hide_people: bool = False
    """Leave people out (for those who see other people only as counts)."""
    origin: tuple[str, str] | None = None
    """Only what one source added: (type, name), as :mod:`lineage.origin` keys it."""

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in model.NODE_KINDS:
            raise LineageError(f"kind must be one of: {', '.join(model.NODE_KINDS)}; got '{self.kind}'")
        if self.quality is not None and self.quality not in QUALITY_BANDS:
            raise LineageError(f"quality must be one of: {', '.join(QUALITY_BANDS)}; got '{self.quality}'")
        if self.sort not in SORTS:
            raise LineageError(f"sort must be one of: {', '.join(SORTS)}; got '{self.sort}'")
        if self.order not in ("asc", "desc"):
            raise LineageError(f"order must be asc or desc; got '{self.order}'")

    def filters(self) -> dict[str, Any]:
        """The query's filters, as :meth:`lineage.store.Store.list_nodes` takes them."""
        return {"kind": self.kind, "owner": self.owner, "organisation": self.organisation, "quality": self.quality,
                "without": ("person",) if self.hide_people else (), "origin": self.origin}


@dataclass
class NodeList:
    total: int
    page: int
    pages: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "page": self.page, "pages": self.pages, "rows": self.rows}


def _row(g: LineageGraph, record: dict[str, Any], owner_name: str | None) -> dict[str, Any]:
    weakest = model.weakest_dimension(record.get("quality")) if record["kind"] == "dataset" else None
    dimension, score, rag = weakest if weakest else (None, None, None)
    return {"id": record["id"], "kind": record["kind"], "name": record["name"],
            "owner": record.get("owner"), "owner_name": owner_name, "organisation": record.get("organisation"),
            "quality": rag, "quality_score": score, "weakest_dimension": dimension,
            "quality_words": quality_words(rag, score) if record["kind"] == "dataset" else None,
            **decisions_fed(g, record["id"])}


_DECISION_COUNTS: "weakref.WeakKeyDictionary[LineageGraph, dict[str, int]]" = weakref.WeakKeyDictionary()
_COUNTS_LOCK = threading.Lock()
_COUNTED_KINDS = ("system", "dataset", "process", "ai_tool", "decision")


def decision_counts(g: LineageGraph) -> dict[str, int]:
    """The decisions downstream of every system, dataset, process, AI tool and decision, in one
    pass over the whole graph (:func:`lineage.insights.underpinning`), kept for the graph's life:
    what a list sorts by. The same counts as :func:`decisions_fed` (a decision does not count
    itself); people and teams start no flow of their own here and count 0."""
    with _COUNTS_LOCK:
        counts = _DECISION_COUNTS.get(g)
        if counts is None:
            totals = underpinning(g, _COUNTED_KINDS)
            own = (g.kind_codes[totals.nodes] == model.NODE_KINDS.index("decision")).astype(np.int64)
            counts = dict(zip((g.ids[n] for n in totals.nodes.tolist()), (totals.decisions - own).tolist()))
            _DECISION_COUNTS[g] = counts
        return counts


def node_list(g: LineageGraph, store: Store, query: NodeQuery) -> NodeList:
    """One page of nodes matching ``query``, each with owner, organisation, quality and decisions fed.

    Sorting by decisions uses :func:`decision_counts` (one pass over the graph, kept while the
    graph is current); the rows shown count theirs with :func:`decisions_fed`.
    """
    offset = (query.page - 1) * query.page_size
    if query.sort == "decisions":  # every match by name, ordered here by count; owners named for the page only
        total, found = store.list_nodes(**query.filters(), owner_names=False)
        counts = decision_counts(g)
        ordered = sorted((node_id for node_id, _ in found), key=lambda node_id: counts.get(node_id, 0),
                         reverse=query.order == "desc")[offset:offset + query.page_size]
        owners = {r["id"]: r.get("owner") for r in store.nodes(ids=ordered)}
        names = store.node_names([o for o in owners.values() if o])
        chosen = [(node_id, names.get(owners.get(node_id), {}).get("name")) for node_id in ordered]
    else:
        total, chosen = store.list_nodes(**query.filters(), sort=query.sort, descending=query.order == "desc",
                                         limit=query.page_size, offset=offset)
    pages = max(1, -(-total // query.page_size))
    records = {r["id"]: r for r in store.nodes(ids=[node_id for node_id, _ in chosen])}
    rows = [_row(g, records[node_id], owner) for node_id, owner in chosen if node_id in records]
    return NodeList(total=total, page=query.page, pages=pages, rows=rows)


def node_rows(g: LineageGraph, store: Store, query: NodeQuery) -> list[dict[str, Any]]:
    """Every row matching ``query`` (for a CSV download), in the query's order."""
    everything = NodeQuery(**{**query.__dict__, "page": 1, "page_size": max(1, 10**9)})
    return node_list(g, store, everything).rows


NODE_CSV_COLUMNS = ("id", "name", "kind", "owner", "owner_name", "organisation", "quality", "quality_score",
                    "weakest_dimension", "decisions", "largest_people_affected")

"""What a contributor's page shows, assembled from the library's queries: pure functions of the graph.

A person (or a team, their members together) sees the decisions their records feed, the quality
of the datasets those records pass through, the issues in their own records and the decisions
those issues reach. Other people appear only as counts per team, never by name.

>>> g = LineageGraph.from_records(
...     [{"id": "ali", "kind": "person", "name": "Ali"}, {"id": "sam", "kind": "person", "name": "Sam"},
...      {"id": "opts", "kind": "team", "name": "Housing options"},
...      {"id": "reg", "kind": "dataset", "name": "Register", "quality": {"timeliness": 0.71}},
...      {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400}],
...     [{"source": "ali", "target": "opts", "kind": "member_of"},
...      {"source": "sam", "target": "opts", "kind": "member_of"},
...      {"source": "ali", "target": "reg", "kind": "enters", "records": 1240, "records_with_issues": 87},
...      {"source": "reg", "target": "alloc", "kind": "informs"}])
>>> report = contributor_report(g, "ali")
>>> report.headline
'Your records feed 1 decision, Allocations, which affects about 3,400 people.'
>>> report.teams
[{'id': 'opts', 'name': 'Housing options', 'colleagues': 1}]
>>> report.datasets[0]["weakest"]
{'dimension': 'timeliness', 'score': 0.71, 'rag': 'amber'}
>>> report.record_issues[0]["records_with_issues"], report.record_issues[0]["decision_count"]
(87, 1)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import model
from .confidence import decision_confidence
from .describe import impact_headline
from .errors import LineageError
from .graph import Impact, LineageGraph, downstream, impact
from .store import RECENT_LOOKUP

DATASETS_LISTED = 20
"""Datasets a contributor's page lists (the nearest, then the weakest); the rest are counted."""
ISSUE_DECISIONS_LISTED = 5
ISSUE_PEOPLE_READ = 500
"""People of a team whose edges are read for the kinds of issue (the totals count everyone)."""


@dataclass
class ContributorReport:
    """Everything a person's or a team's page shows, but the picture and recent changes."""

    subject: dict[str, Any]
    headline: str
    impact: Impact
    decisions: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    datasets: list[dict[str, Any]]
    dataset_count: int
    record_issues: list[dict[str, Any]]
    reached: list[str] = field(repr=False, default_factory=list)
    help_most: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        totals = {k: v for k, v in self.impact.as_dict().items() if k not in ("decisions", "subject")}
        return {"subject": self.subject, "headline": self.headline, "totals": totals,
                "decisions": self.decisions, "teams": self.teams, "datasets": self.datasets,
                "dataset_count": self.dataset_count, "record_issues": self.record_issues,
                "help_most": self.help_most}


def headline(g: LineageGraph, result: Impact, *, team: bool = False) -> str:
    """What someone's records feed, in one or two sentences (:func:`lineage.describe.impact_headline`),
    or why they feed nothing yet."""
    if not result.entered_into:
        return f"No records of {'your team' if team else 'yours'} are linked to a system or dataset yet."
    whose = "Your team's" if team else "Your"
    if not result.decision_count:
        return f"{whose} records do not reach a decision yet."
    largest = [d for d in (result.largest_people_decision, result.largest_value_decision) if d]
    return impact_headline(result, {i: r["name"] for i, r in g.records(largest).items()}, whose=whose)


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "name": record["name"], "kind": record["kind"]}


def owner_of(g: LineageGraph, record: dict[str, Any]) -> dict[str, Any] | None:
    """A record's owner as a node summary (id None when the owner is text naming no node)."""
    owner = record.get("owner")
    if not owner:
        return None
    if owner in g:
        return _summary(g.record(owner))
    return {"id": None, "name": owner, "kind": None}


def decision_cards(g: LineageGraph, result: Impact, *, team: str | None = None) -> list[dict[str, Any]]:
    """A card per decision reached: what it is, who owns it, human review, the AI tools the records
    pass through (those that inform it directly, and those only behind earlier decisions whose
    outcomes feed it), its data confidence and the paths (starting at the team, for a team)."""
    ids = {t for d in result.decisions for t in d.ai_tools + d.ai_tools_earlier} | {d.id for d in result.decisions}
    records = g.records(ids)

    def tool(tool_id: str) -> dict[str, Any]:
        return {**_summary(records[tool_id]), "human_review": records[tool_id].get("human_review"),
                "phase": records[tool_id].get("phase")}

    cards = []
    for decision in result.decisions:
        record = records[decision.id]
        paths = [[team] + path[1:] for path in decision.paths] if team else decision.paths
        cards.append({
            **decision.as_dict(), "paths": list(map(list, dict.fromkeys(map(tuple, paths)))),
            "owner": owner_of(g, record), "human_in_loop": record.get("human_in_loop"),
            "outcome": record.get("outcome"), "description": record.get("description"),
            "ai_tools": [tool(t) for t in decision.ai_tools],
            "ai_tools_earlier": [tool(t) for t in decision.ai_tools_earlier],
            "confidence": decision_confidence(g, decision.id).described(lambda i: g.record(i)["name"])})
    return cards


def teams_of(g: LineageGraph, person: str) -> list[dict[str, Any]]:
    position = g.position(person)
    teams = np.unique(g.member_teams[g.member_people == position])
    return [{"id": g.ids[t], "name": g.record(g.ids[t])["name"], "colleagues": int(g.members(g.ids[t]).size) - 1}
            for t in teams.tolist()]


def _datasets(g: LineageGraph, reached: np.ndarray, distance: np.ndarray) -> list[dict[str, Any]]:
    """The nearest datasets reached, weakest first within each distance."""
    is_dataset = g.kind_codes[reached] == model.NODE_KINDS.index("dataset")
    nodes, steps = reached[is_dataset], distance[is_dataset]
    scores = np.nan_to_num(g.quality_score[nodes], nan=2.0)  # unassessed after the assessed
    chosen = nodes[np.lexsort((nodes, scores, steps))][:DATASETS_LISTED]
    records = g.records([g.ids[i] for i in chosen.tolist()])
    rows = []
    for node in chosen.tolist():
        record = records[g.ids[node]]
        quality = record.get("quality") or {}
        weakest = model.weakest_dimension(quality)
        rows.append({**_summary(record), "owner": owner_of(g, record),
                     "weakest": dict(zip(("dimension", "score", "rag"), weakest)) if weakest else None,
                     "quality": {d: {"score": model.quality_score(quality[d]), "rag": model.quality_rag(quality[d])}
                                 for d in model.QUALITY_DIMENSIONS if d in quality},
                     "issues": [i for i in record.get("issues") or () if isinstance(i, dict)]})
    return rows


EdgeLookup = Callable[[str, str], dict[str, Any]]
"""An ``enters`` edge's record by (source, target): where the kinds of issue come from (the
compiled graph keeps only their total)."""


def _issue_kinds(people: list[str], target: str, edge: EdgeLookup | None) -> list[dict[str, Any]]:
    """The kinds of issue in the records ``people`` entered into ``target``, summed per (note,
    dimension), most first."""
    if edge is None:
        return []
    totals: dict[tuple[str, str | None], int | None] = {}
    for person in people:
        try:
            record = edge(person, target)
        except LineageError:
            continue
        for issue in record.get("issues") or ():
            if not isinstance(issue, dict) or not issue.get("note"):
                continue
            key = (issue["note"], issue.get("dimension"))
            count = issue.get("count")
            totals[key] = None if count is None and totals.get(key) is None else (totals.get(key) or 0) + (count or 0)
    kinds = [{"note": note, "count": count, "dimension": dimension} for (note, dimension), count in totals.items()]
    return sorted(kinds, key=lambda i: (-(i["count"] or 0), i["note"]))


def _flag_target(g: LineageGraph, target: int) -> dict[str, Any] | None:
    """Where to flag issues in records entered into ``target``: itself if a dataset, else the
    first dataset it supplies."""
    dataset = model.NODE_KINDS.index("dataset")
    if g.kind_codes[target] == dataset:
        return _summary(g.record(g.ids[target]))
    supplied = sorted(g.ids[i] for i in g.out.neighbours(target).tolist() if g.kind_codes[i] == dataset)
    return _summary(g.record(supplied[0])) if supplied else None


def _record_issues(g: LineageGraph, people: np.ndarray, edge: EdgeLookup | None = None) -> list[dict[str, Any]]:
    """Per system or dataset the people enter into: records, those with issues, what the issues
    are (``issues``: note, count, dimension), the decisions those issues reach, and the dataset to
    flag them on."""
    enters = model.EDGE_KINDS.index("enters")
    edges, _ = g.out.gather(people)
    edges = edges[g.out.kinds[edges] == enters]
    targets = g.out.indices[edges]
    rows = []
    for target in np.unique(targets).tolist():
        mine = g.out.edge[edges[targets == target]]
        issues = int(g.edge_issues[mine].sum())
        if not issues:
            continue
        decisions = downstream(g, g.ids[target]).of_kind("decision")
        affected = np.nan_to_num(g.people_affected[decisions.nodes], nan=-1)
        top = decisions.nodes[np.lexsort((decisions.nodes, -affected))][:ISSUE_DECISIONS_LISTED]
        records = g.records([g.ids[target]] + [g.ids[i] for i in top.tolist()])
        entering = [g.ids[p] for p in people.tolist()][:ISSUE_PEOPLE_READ]
        rows.append({"target": _summary(records[g.ids[target]]), "records": int(g.edge_records[mine].sum()),
                     "records_with_issues": issues, "decision_count": decisions.count,
                     "decisions": [_summary(records[g.ids[i]]) for i in top.tolist()],
                     "issues": _issue_kinds(entering, g.ids[target], edge),
                     "flag": _flag_target(g, target)})
    return sorted(rows, key=lambda row: (-row["records_with_issues"], row["target"]["id"]))


def entered_by_team(g: LineageGraph, node_id: str) -> list[dict[str, Any]]:
    """Who enters a system's or dataset's records, counted by team, never named: per team (``team``
    None for people in no team) how many people enter records here and how many records, largest
    first. A person in two teams counts in both, as on every team page.

    >>> g = LineageGraph.from_records(
    ...     [{"id": "ali", "kind": "person", "name": "Ali"}, {"id": "sam", "kind": "person", "name": "Sam"},
    ...      {"id": "kim", "kind": "person", "name": "Kim"},
    ...      {"id": "opts", "kind": "team", "name": "Housing options"}, {"id": "reg", "kind": "dataset", "name": "R"}],
    ...     [{"source": "ali", "target": "opts", "kind": "member_of"}, {"source": "sam", "target": "opts", "kind": "member_of"},
    ...      {"source": "ali", "target": "reg", "kind": "enters", "records": 1240},
    ...      {"source": "sam", "target": "reg", "kind": "enters", "records": 60},
    ...      {"source": "kim", "target": "reg", "kind": "enters", "records": 5}])
    >>> entered_by_team(g, "reg")
    [{'team': {'id': 'opts', 'name': 'Housing options', 'kind': 'team'}, 'people': 2, 'records': 1300}, {'team': None, 'people': 1, 'records': 5}]
    """
    enters = model.EDGE_KINDS.index("enters")
    at = g.position(node_id)
    begin, end = g.into.indptr[at], g.into.indptr[at + 1]
    chosen = g.into.kinds[begin:end] == enters
    people = g.into.indices[begin:end][chosen]
    if not people.size:
        return []
    records = np.zeros(len(g), dtype=np.int64)
    records[people] = g.edge_records[g.into.edge[begin:end][chosen]]
    in_team = np.zeros(len(g), dtype=bool)
    in_team[people] = True
    inside = in_team[g.member_people]
    teams, members = g.member_teams[inside], g.member_people[inside]
    rows: list[tuple[int, int, int]] = []  # (team position or -1, people, records)
    for team in np.unique(teams).tolist():
        mine = members[teams == team]
        rows.append((team, int(mine.size), int(records[mine].sum())))
    teamless = np.setdiff1d(people, members)
    if teamless.size:
        rows.append((-1, int(teamless.size), int(records[teamless].sum())))
    names = g.records([g.ids[t] for t, _, _ in rows if t >= 0])
    rows.sort(key=lambda row: (-row[2], -row[1], g.ids[row[0]] if row[0] >= 0 else "~"))
    return [{"team": _summary(names[g.ids[t]]) if t >= 0 else None, "people": count, "records": total}
            for t, count, total in rows]


def help_most(record_issues: list[dict[str, Any]], datasets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one thing that would help most: the kind of issue in one's records that reaches the
    most decisions (most records first), else the weakest dataset on the way.

    ``kind`` is "issue" (with ``issue``, ``target``, ``decision_count``, ``decisions``, ``flag``)
    or "weakest" (with ``dataset``, ``dimension``, ``score``, ``rag``, ``flag``).
    """
    best = None
    for row in record_issues:
        kinds = row["issues"] or [{"note": None, "count": row["records_with_issues"], "dimension": None}]
        for issue in kinds:
            rank = (row["decision_count"], issue["count"] or 0)
            if best is None or rank > best[0]:
                best = (rank, {"kind": "issue", "issue": issue, "target": row["target"], "records": row["records"],
                               "decision_count": row["decision_count"], "decisions": row["decisions"],
                               "flag": row["flag"]})
    if best is not None:
        return best[1]
    assessed = [d for d in datasets if d["weakest"] and d["weakest"]["rag"] != "green"]
    if not assessed:
        return None
    weakest = min(assessed, key=lambda d: (model.RAGS.index(d["weakest"]["rag"]),
                                           d["weakest"]["score"] if d["weakest"]["score"] is not None else 1))
    return {"kind": "weakest", "dataset": {k: weakest[k] for k in ("id", "name", "kind")}, **weakest["weakest"],
            "flag": {k: weakest[k] for k in ("id", "name", "kind")}}


def contributor_report(g: LineageGraph, subject: str, *, decision_limit: int = 50,
                       edge: EdgeLookup | None = None) -> ContributorReport:
    """What a person's (or a team's) records go on to do: see the module's description."""
    result = impact(g, subject, limit=decision_limit, path_limit=3)
    record = g.record(subject)
    is_team = record["kind"] == "team"
    people = g.members(subject) if is_team else np.array([g.position(subject)])
    reach = result.reach
    order = np.lexsort((reach.nodes, reach.distance))
    reached, distance = reach.nodes[order], reach.distance[order]
    subject_fields = {k: v for k, v in record.items() if k != "contact"}  # pages are public to the organisation
    issues = _record_issues(g, people, edge)
    datasets = _datasets(g, reached, distance)
    return ContributorReport(
        subject=subject_fields, headline=headline(g, result, team=is_team), impact=result,
        decisions=decision_cards(g, result, team=subject if is_team else None),
        teams=[] if is_team else teams_of(g, subject),
        datasets=datasets,
        dataset_count=int(np.count_nonzero(g.kind_codes[reached] == model.NODE_KINDS.index("dataset"))),
        record_issues=issues,
        reached=[g.ids[i] for i in reached[:RECENT_LOOKUP].tolist()],
        help_most=help_most(issues, datasets))

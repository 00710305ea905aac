"""Plain-English descriptions of query results: what the CLI prints and screen readers get.

>>> money(3_200_000), money(450_000), money(1_200_000_000), money(950)
('£3.2m', '£450k', '£1.2bn', '£950')
>>> number(14230)
'14,230'
>>> about(179_470), about(3_400), about(76_200_000, as_money=True)
('about 180,000', 'about 3,400', 'about £76m')
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .confidence import LINKS, PathToGreen
from .graph import Impact, LineageGraph, Provenance
from .model import EDGE_KINDS

if TYPE_CHECKING:
    from .render import View

KIND_LABELS = {
    "person": ("person", "people"), "team": ("team", "teams"), "system": ("system", "systems"),
    "dataset": ("dataset", "datasets"), "process": ("process", "processes"), "ai_tool": ("AI tool", "AI tools"),
    "decision": ("decision", "decisions"),
}


def money(value: float | None) -> str:
    """Pounds, shortened the way people say them."""
    if value is None:
        return "an unknown sum"
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if value >= size:
            shown = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"£{shown}{suffix}"
    return f"£{value:,.0f}"


def number(value: float | int) -> str:
    return f"{value:,.0f}"


def two_figures(value: float) -> float:
    """``value`` rounded to two significant figures (figures people read are no more precise).

    >>> two_figures(179_470), two_figures(3_449), two_figures(7)
    (180000.0, 3400.0, 7.0)
    """
    if value == 0 or math.isnan(value):
        return value
    return float(round(value, 1 - int(math.floor(math.log10(abs(value))))))


def about(value: float | int, *, as_money: bool = False) -> str:
    """A figure people read: two significant figures, with "about" ("about 170,000", "about £76m"):
    people affected and money at stake are estimates. Exact figures belong in tables, CSV and JSON."""
    rounded = two_figures(float(value))
    return f"about {money(rounded) if as_money else number(rounded)}"


def plural(count: int, kind: str) -> str:
    singular, many = KIND_LABELS.get(kind, (kind, kind + "s"))
    return f"{number(count)} {singular if count == 1 else many}"


def _step(record: dict[str, Any]) -> str:
    return record["name"] + (" (AI)" if record["kind"] == "ai_tool" else "")


def path_text(g: LineageGraph, path: list[str], records: dict[str, dict[str, Any]] | None = None) -> str:
    """A path as names joined by arrows, AI tools marked."""
    records = records or g.records(path)
    return " → ".join(_step(records[node]) for node in path)


def impact_headline(result: Impact, names: dict[str, str], *, whose: str = "Your") -> str:
    """The decisions someone's records feed, in one or two sentences: how many, the AI tools on the
    way, and the largest figures of any one decision (never a sum: populations overlap).

    ``names`` maps the decisions' ids to their names.

    >>> from lineage.graph import Impact
    >>> print(impact_headline(Impact("ali", 1, 10, 0, ["reg"], 6, 171_000, "budget", 76.2e6, "budget", 2, 20),
    ...                       {"budget": "Council budget"}))
    Your records feed 6 decisions, through 2 AI tools. The largest, Council budget, affects about 170,000 people and is worth about £76m.
    >>> print(impact_headline(Impact("ali", 1, 10, 0, ["reg"], 1, 3400, "alloc", None, None, 0, 5),
    ...                       {"alloc": "Allocations"}))
    Your records feed 1 decision, Allocations, which affects about 3,400 people.
    """
    count = result.decision_count
    tools = f", through {plural(result.ai_tool_count, 'ai_tool')}" if result.ai_tool_count else ""
    people, value = result.largest_people_affected, result.largest_value_gbp
    people_part = f"affects {about(people)} people" if people else None
    value_part = f"is worth {about(value, as_money=True)}" if value else None
    if count == 1:
        decision = result.largest_people_decision or result.largest_value_decision or \
            (result.decisions[0].id if result.decisions else None)
        facts = " and ".join(p for p in (people_part, value_part) if p)
        named = f", {names[decision]}" if decision in names else ""
        return f"{whose} records feed 1 decision{named}{tools}" + (f", which {facts}" if facts else "") + "."
    text = f"{whose} records feed {plural(count, 'decision')}{tools}."
    same = result.largest_people_decision == result.largest_value_decision
    if people_part:
        facts = people_part + (f" and {value_part}" if value_part and same else "")
        text += f" The largest, {names.get(result.largest_people_decision, 'one of them')}, {facts}."
    if value_part and not (people_part and same):
        text += (f" The one with most money at stake, {names.get(result.largest_value_decision, 'one of them')}, "
                 f"{value_part}.")
    return text


def impact_text(g: LineageGraph, result: Impact) -> str:
    """What a person's (or a team's) records go on to do, in plain words."""
    subject = g.record(result.subject)
    largest = [d for d in (result.largest_people_decision, result.largest_value_decision) if d]
    tools = [t for d in result.decisions for t in d.ai_tools + d.ai_tools_earlier]
    records = g.records(result.entered_into + [s for d in result.decisions for p in d.paths for s in p] + largest + tools)
    who = subject["name"] if result.people == 1 else f"The {result.people} people in {subject['name']}"
    lines = []
    if not result.entered_into:
        lines.append(f"{who} has no records entered into any system or dataset yet.")
        return "\n".join(lines)
    places = ", ".join(records[i]["name"] for i in result.entered_into)
    issues = f" ({number(result.records_with_issues)} with issues)" if result.records_with_issues else ""
    lines.append(f"{who} entered {number(result.records)} records{issues} into {places}.")
    if not result.decision_count:
        lines.append("Those records do not reach any decision yet.")
        return "\n".join(lines)
    lines.append(impact_headline(result, {i: records[i]["name"] for i in largest}, whose="Those"))
    for position, decision in enumerate(result.decisions, 1):
        facts = [f"{decision.decision_type} decision" if decision.decision_type else "decision"]
        if decision.frequency:
            facts.append(decision.frequency)
        if decision.people_affected is not None:
            facts.append(f"affects {about(decision.people_affected)} people")
        if decision.value_gbp is not None:
            facts.append(about(decision.value_gbp, as_money=True))
        lines.append("")
        lines.append(f"{position}. {decision.name}: {', '.join(facts)}")
        for path in decision.paths:
            lines.append(f"   {path_text(g, path, records)}")
        for label, listed, count in (("AI tools your records pass through", decision.ai_tools, decision.ai_tool_count),
                                     ("AI tools behind earlier decisions whose outcomes feed it",
                                      decision.ai_tools_earlier, decision.ai_tool_earlier_count)):
            if listed:
                more = f" and {number(count - len(listed))} more" if count > len(listed) else ""
                lines.append(f"   {label}: " + ", ".join(records[t]["name"] for t in listed) + more)
    if result.decision_count > len(result.decisions):
        lines.append("")
        lines.append(f"... and {number(result.decision_count - len(result.decisions))} more decisions.")
    return "\n".join(lines)


def provenance_text(g: LineageGraph, result: Provenance, failures: list[str] = ()) -> str:
    """What a decision rests on, grouped by kind, with its data confidence and its single points
    of failure (``lineage.graph.single_points_of_failure``), in plain words."""
    decision = g.record(result.decision)
    listed = [i for ids in result.nodes.values() for i in ids] + [t["team"] for t in result.teams if t["team"]]
    listed += [s for row in result.paths for s in row["path"]]
    confidence = result.confidence.as_dict()
    listed += [link["dataset"] for link in map(confidence.get, LINKS) if link]
    listed += failures
    records = g.records(listed)
    kind = f"{decision['decision_type']} decision" if decision.get("decision_type") else "decision"
    count = result.upstream_count
    lines = [f"{decision['name']} ({kind}) rests on {number(count)} upstream node{'s' if count != 1 else ''}."]
    for node_kind in ("system", "dataset", "process", "ai_tool"):
        ids = result.nodes.get(node_kind, [])
        if not ids:
            continue
        total = result.counts.get(node_kind, len(ids))
        more = f" and {number(total - len(ids))} more" if total > len(ids) else ""
        label = KIND_LABELS[node_kind][1]
        lines.append(f"  {label[0].upper() + label[1:]} ({number(total)}): "
                     + ", ".join(records[i]["name"] for i in ids) + more)
    if result.people_count:
        teams = ", ".join(f"{records[t['team']]['name'] if t['team'] else 'no team'} ({number(t['people'])})"
                          for t in result.teams)
        lines.append(f"  People: {plural(result.people_count, 'person')} in {plural(len(result.teams), 'team')}: "
                     f"{teams}")
    lines.append(result.confidence.described(lambda i: records[i]["name"])["text"])
    if result.unassessed_datasets:
        lines.append(f"  {plural(result.unassessed_datasets, 'dataset')} upstream "
                     f"{'has' if result.unassessed_datasets == 1 else 'have'} no quality assessment.")
    if failures:
        lines.append("Single points of failure (every path into it passes through them): "
                     + ", ".join(records[i]["name"] for i in failures) + ".")
    if result.paths:
        lines.append("Paths:")
        for row in result.paths:
            weakest = row["weakest"]
            note = (f" (weakest: {weakest['dimension']} {weakest['score']:.2f} {weakest['rag'].upper()})"
                    if weakest and weakest["score"] is not None else "")
            lines.append(f"  {path_text(g, row['path'], records)}{note}")
    return "\n".join(lines)


def path_to_green_text(plan: PathToGreen) -> str:
    """A decision's path to green (:func:`lineage.confidence.path_to_green`) in plain words: each
    step's fixes with the dataset's owner, its open flags and the other decisions the fix helps."""
    lines = [f"{plan.decision['name']} is {plan.band}. {plan.text}"]
    for step in plan.steps:
        lines.append(f"To reach {step.band}:")
        if not step.fixes:
            lines.append("  No assessed dataset needs to change.")
        for number_, fix in enumerate(step.fixes, 1):
            now = f"{fix.score:.2f}" if fix.score is not None else f"a {fix.rag} rating"
            role = " (a supporting input)" if fix.role == "supporting" else ""
            lines.append(f"  {number_}. Raise {fix.dimension} of {fix.dataset_name} from {now} to {fix.target:.2f}{role}.")
            owner = fix.owner["name"] if fix.owner else "nobody (it has no owner)"
            flags = (f"{plural(len(fix.open_flags), 'open flag')}, the latest: {fix.open_flags[0]['text']}"
                     if fix.open_flags else "no open flags")
            lines.append(f"     Owner: {owner}; {flags}.")
            if fix.helps_count:
                others = ", ".join(f"{d['name']} ({d['band']}"
                                   + (f", {about(d['people_affected'])} people" if d["people_affected"] else "") + ")"
                                   for d in fix.helps)
                more = f" and {number(fix.helps_count - len(fix.helps))} more" if fix.helps_count > len(fix.helps) else ""
                lines.append(f"     Also helps {plural(fix.helps_count, 'other decision')}: {others}{more}.")
    if plan.unassessed_count:
        lines.append(f"{plural(plan.unassessed_count, 'dataset')} behind its inputs "
                     f"{'has' if plan.unassessed_count == 1 else 'have'} no quality assessment: "
                     + ", ".join(d["name"] for d in plan.unassessed)
                     + (" and more" if plan.unassessed_count > len(plan.unassessed) else "") + ".")
    return "\n".join(lines)


_FLOW_WORDS = {"enters": "are entered into", "supplies": "flows into", "derives": "flows into",
               "feeds": "feeds", "informs": "informs", "records_outcome": "records its outcomes in"}


def _phrase(record: dict[str, Any]) -> str:
    """A node named in a sentence, with what a reader needs to know about its kind."""
    name = record["name"]
    if record["kind"] == "ai_tool":
        review = "yes" if record.get("human_review") is True else "no"
        return f"{name} (AI, human review: {review})"
    if record["kind"] == "decision":
        kind = " ".join(part for part in (record.get("frequency"), record.get("decision_type")) if part)
        affected = (f" affecting about {number(record['people_affected'])} people"
                    if record.get("people_affected") is not None else "")
        described = f"{kind} decision" if kind else "decision"
        return f"{name}, {'an' if described[0] in 'aeiou' else 'a'} {described}{affected}"
    return name


def path_sentence(g: LineageGraph, path: list[str], records: dict[str, dict[str, Any]],
                  entered: int | None = None, *, subject: str | None = None) -> str:
    """One path as a sentence: "Ali Khan's 1,240 records are entered into ..., which informs ...".

    ``subject`` names who the sentence is about instead of the path's first node (a team, for
    a path from one of its members).

    >>> from lineage.graph import LineageGraph
    >>> g = LineageGraph.from_records(
    ...     [{"id": "ali", "kind": "person", "name": "Ali Khan"},
    ...      {"id": "reg", "kind": "dataset", "name": "Housing register"},
    ...      {"id": "x", "kind": "decision", "name": "Allocations", "decision_type": "service",
    ...       "frequency": "weekly", "people_affected": 3400}],
    ...     [{"source": "ali", "target": "reg", "kind": "enters", "records": 1240},
    ...      {"source": "reg", "target": "x", "kind": "informs"}])
    >>> path_sentence(g, ["ali", "reg", "x"], g.records(["ali", "reg", "x"]), 1240)
    "Ali Khan's 1,240 records are entered into Housing register, which informs Allocations, a weekly \
service decision affecting about 3,400 people."
    """
    first = records[subject or path[0]]
    if first["kind"] in ("person", "team") and entered:
        words = [f"{first['name']}'s {number(entered)} records"]
    else:
        words = [_phrase(first)]
    kinds = _edge_kinds(g, path)
    for step, (node, kind) in enumerate(zip(path[1:], kinds)):
        verb = _FLOW_WORDS.get(kind, "flows into")
        words.append(f"{verb} {_phrase(records[node])}" if step == 0 else f"which {verb} {_phrase(records[node])}")
    return ", ".join([words[0] + " " + words[1]] + words[2:]) + "." if len(words) > 1 else words[0] + "."


def _edge_kinds(g: LineageGraph, path: list[str]) -> list[str]:
    kinds = []
    for source, target in zip(path, path[1:]):
        a, b = g.position(source), g.position(target)
        row = slice(g.out.indptr[a], g.out.indptr[a + 1])
        match = np.flatnonzero(g.out.indices[row] == b)
        kinds.append(EDGE_KINDS[g.out.kinds[row][match[0]]] if match.size else "flows into")
    return kinds


@dataclass
class TwinRow:
    """One line of a picture's table: an arrow drawn, with where each end links in the app."""

    source: str
    source_link: str
    target: str
    target_link: str
    how: str
    records: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Twin:
    """What a picture shows, in words: sentences per path, a note on what is folded, the table."""

    sentences: list[str]
    note: str | None
    rows: list[TwinRow]

    def as_dict(self) -> dict[str, Any]:
        return {"sentences": self.sentences, "note": self.note, "rows": [r.as_dict() for r in self.rows]}


def view_twin(g: LineageGraph, v: View, *, max_sentences: int = 30, per_decision: int = 3) -> Twin:
    """The text twin of a picture: a sentence per path from the focus to each decision it reaches
    (up to ``per_decision`` each; or from each origin to a focused decision), then the table of
    what the picture shows. A focused team speaks for its members: paths start at the team."""
    from .graph import paths
    from .render import node_link

    decisions = [n.node_id for n in v.nodes if n.kind == "decision" and n.distance > 0 and n.node_id]
    if decisions:
        found = paths(g, v.starts, decisions, per_target=per_decision, max_paths=max_sentences, cutoff=v.depth + 1)
    else:
        found = [list(reversed(p)) for p in
                 paths(g, v.starts[0], reverse=True, per_target=1, max_paths=max_sentences, skip_kinds=("person",))]
    team = next((i for i in v.focus if g.kind(i) == "team"), None)
    if team is not None:  # one sentence per way on from the team, whichever member it starts at
        ways: dict[tuple[str, ...], list[str]] = {}
        for path in found:
            ways.setdefault(tuple(path[1:]) if path[0] not in v.focus else tuple(path), path)
        found = list(ways.values())
    records = g.records({i for p in found for i in p} | set(v.focus))
    entered = {e.target: e.records for e in v.edges if e.kind == "enters" and v.node(e.source).focus}
    sentences = []
    for path in found:
        first_hop = f"n{g.position(path[1])}" if len(path) > 1 else None
        subject = team if team is not None and path[0] not in v.focus else None
        sentences.append(path_sentence(g, path, records, entered.get(first_hop), subject=subject))
    if not sentences:
        names, steps = ", ".join(records[i]["name"] for i in v.focus), f"{v.depth} step{'s' if v.depth != 1 else ''}"
        sentences.append(f"No path from {names} reaches a decision within {steps}; the table lists every arrow "
                         "around it." if v.edges else f"Nothing flows to or from {names} within {steps}.")
    notes = []
    if v.hidden:
        notes.append(f"The picture folds {number(v.hidden)} more nodes into groups.")
    if v.hidden_edges:
        notes.append(f"It leaves out {number(v.hidden_edges)} arrows off the paths from "
                     f"{'the focus' if len(v.focus) > 1 else records[v.focus[0]]['name']}, to stay readable.")
    note = " ".join(notes + ["The table lists every arrow between what it shows."]) if notes else None
    boxes = {n.key: n for n in v.nodes}
    rows = [TwinRow(boxes[e.source].name, node_link(boxes[e.source], v.focus), boxes[e.target].name,
                    node_link(boxes[e.target], v.focus), e.kind, e.records) for e in v.edges]
    return Twin(sentences, note, rows)


def view_text(g: LineageGraph, v: View, **options: Any) -> str:
    """The text twin as plain text: sentences, then the table (what the CLI prints)."""
    twin = view_twin(g, v, **options)
    lines = twin.sentences + ([twin.note] if twin.note else []) + ["", "From | To | How | Records"]
    lines += [f"{row.source} | {row.target} | {row.how} | {number(row.records) if row.records else ''}"
              for row in twin.rows]
    return "\n".join(lines)


def _flat(record: dict[str, Any] | None) -> dict[str, Any]:
    """A record's attributes with quality dimensions as ``quality.<dimension>`` (their scores) and
    the rest of an assessment as ``quality.<dimension>.note`` (``.as_of``, ``.rag``)."""
    flat: dict[str, Any] = {}
    for key, value in (record or {}).items():
        if key == "quality" and isinstance(value, dict):
            for dimension, assessment in value.items():
                if isinstance(assessment, dict):
                    flat[f"quality.{dimension}"] = assessment.get("score")
                    flat.update({f"quality.{dimension}.{k}": v for k, v in assessment.items() if k != "score"})
                else:
                    flat[f"quality.{dimension}"] = assessment
        elif key not in ("created", "updated", "version"):
            flat[key] = value
    return flat


def attribute_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """What changed between two versions of a record: (attribute, before, after), in a stable order.

    A created record lists every attribute (before None); a deleted one too (after None).

    >>> attribute_changes({"name": "Register", "quality": {"timeliness": 0.71}},
    ...                   {"name": "Register", "quality": {"timeliness": 0.4}, "owner": "jo"})
    [('owner', None, 'jo'), ('quality.timeliness', 0.71, 0.4)]
    """
    old, new = _flat(before), _flat(after)
    return [(key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)]

"""Plain-English descriptions of query results: what the CLI prints and screen readers get.

>>> money(3_200_000), money(450_000), money(1_200_000_000), money(950)
('£3.2m', '£450k', '£1.2bn', '£950')
>>> number(14230)
'14,230'
"""
from __future__ import annotations

from typing import Any

from .graph import Impact, LineageGraph, Provenance

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


def plural(count: int, kind: str) -> str:
    singular, many = KIND_LABELS.get(kind, (kind, kind + "s"))
    return f"{number(count)} {singular if count == 1 else many}"


def _names(g: LineageGraph, ids: list[str]) -> dict[str, dict[str, Any]]:
    return g.records(ids)


def _step(record: dict[str, Any]) -> str:
    return record["name"] + (" (AI)" if record["kind"] == "ai_tool" else "")


def path_text(g: LineageGraph, path: list[str], records: dict[str, dict[str, Any]] | None = None) -> str:
    """A path as names joined by arrows, AI tools marked."""
    records = records or _names(g, path)
    return " → ".join(_step(records[node]) for node in path)


def impact_text(g: LineageGraph, result: Impact) -> str:
    """What a person's (or a team's) records go on to do, in plain words."""
    subject = g.record(result.subject)
    records = _names(g, result.entered_into + [s for d in result.decisions for p in d.paths for s in p])
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
    tools = f", through {plural(result.ai_tool_count, 'ai_tool')}" if result.ai_tool_count else ""
    lines.append(f"Those records feed {plural(result.decision_count, 'decision')} affecting about "
                 f"{number(result.people_affected)} people and {money(result.value_gbp)}{tools}.")
    for position, decision in enumerate(result.decisions, 1):
        facts = [f"{decision.decision_type} decision" if decision.decision_type else "decision"]
        if decision.frequency:
            facts.append(decision.frequency)
        if decision.people_affected is not None:
            facts.append(f"affects about {number(decision.people_affected)} people")
        if decision.value_gbp is not None:
            facts.append(money(decision.value_gbp))
        lines.append("")
        lines.append(f"{position}. {decision.name}: {', '.join(facts)}")
        for path in decision.paths:
            lines.append(f"   {path_text(g, path, records)}")
        if decision.ai_tools:
            lines.append("   AI tools on the way: " + ", ".join(records[t]["name"] for t in decision.ai_tools))
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
    listed += [result.confidence.dataset] if result.confidence else []
    listed += failures
    records = _names(g, listed)
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
    weak = result.confidence
    if weak is None:
        lines.append("Data confidence: unknown (no upstream dataset has a quality assessment).")
    else:
        score = f" ({weak.score:.2f})" if weak.score is not None else ""
        lines.append(f"Data confidence: {weak.rag.upper()}; the weakest link is the {weak.dimension} of "
                     f"{records[weak.dataset]['name']}{score}.")
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

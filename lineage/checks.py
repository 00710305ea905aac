"""Gaps in a lineage graph: what ``lineage check`` and the leader views report.

Errors break the model (an edge kind joining kinds it may not join, an edge to a node that does
not exist); a store refuses to hold them, so they appear when checking files or a database
edited behind the store's back. Warnings are gaps in governance a real estate has: ownerless
assets, field links that no longer resolve or that no edge supports, owners named by OpenLineage who are not in the graph, AI tools without human review or a
transparency record, decisions with no data upstream, datasets with no quality assessment, and
cycles (legal, but worth knowing).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse.csgraph as csgraph

from . import fields, model
from .errors import Problem, ValidationError
from .graph import LineageGraph

OWNED_KINDS = ("dataset", "ai_tool", "decision")
UNOWNED_KINDS = ("process",)
"""Kinds OpenLineage makes that need no owner; an owner it names and nobody here matches is still reported."""
MAX_LISTED = 50
"""Members of a cycle listed before "and N more"."""


@dataclass(frozen=True)
class Finding:
    """One problem found by a check."""

    severity: str  # "error" or "warning"
    check: str
    node: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def _records_of(g: LineageGraph, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    ids = [g.ids[i] for kind in kinds for i in g.of_kind(kind).tolist()]
    records = g.records(ids)
    return [records[i] for i in sorted(records)]


def check_graph(g: LineageGraph) -> list[Finding]:
    """Every gap in ``g``, errors first, then warnings, each group in a stable order."""
    findings: list[Finding] = []
    for source, target, code in zip(g.edge_sources.tolist(), g.edge_targets.tolist(), g.edge_kinds.tolist()):
        kind = model.EDGE_KINDS[code]
        message = model.edge_rule_problem(model.NODE_KINDS[g.kind_codes[source]],
                                          model.NODE_KINDS[g.kind_codes[target]], kind)
        if message:
            findings.append(Finding("error", "disallowed-edge", g.ids[source],
                                    f"{g.ids[source]} -> {g.ids[target]}: {message}"))

    # Owners are people; OpenLineage ownership may also name a team (lineage.io.openlineage.Owners).
    agents = set(g.ids[i] for kind in ("person", "team") for i in g.of_kind(kind).tolist())
    for record in _records_of(g, OWNED_KINDS):
        owner = record.get("owner")
        if record.get("owner_text"):
            findings.append(_unmapped_owner(record))
        elif not owner:
            findings.append(Finding("warning", "ownerless", record["id"],
                                    f"{record['kind']} '{record['id']}' ({record['name']}) has no owner"))
        if owner and owner not in agents:
            findings.append(Finding("warning", "unknown-owner", record["id"],
                                    f"{record['kind']} '{record['id']}' is owned by '{owner}', "
                                    "who is not a person or team in the graph"))
        if record["kind"] == "ai_tool":
            if record.get("human_review") is not True:
                findings.append(Finding("warning", "no-human-review", record["id"],
                                        f"AI tool '{record['id']}' ({record['name']}) has no human review"))
            if not record.get("atrs_url"):
                findings.append(Finding("warning", "no-transparency-record", record["id"],
                                        f"AI tool '{record['id']}' ({record['name']}) has no algorithmic "
                                        "transparency record (atrs_url)"))
        if record["kind"] == "dataset" and not record.get("quality"):
            findings.append(Finding("warning", "no-quality-assessment", record["id"],
                                    f"dataset '{record['id']}' ({record['name']}) has no quality assessment"))

    for record in _records_of(g, UNOWNED_KINDS):
        if record.get("owner_text"):
            findings.append(_unmapped_owner(record))

    findings += _field_link_findings(g)

    fed = g.bfs(g.of_kind("dataset")).nodes
    for decision in np.setdiff1d(g.of_kind("decision"), fed).tolist():
        findings.append(Finding("warning", "no-data-upstream", g.ids[decision],
                                f"decision '{g.ids[decision]}' ({g.record(g.ids[decision])['name']}) "
                                "has no data upstream"))

    for members in cycles(g):
        shown = ", ".join(members[:MAX_LISTED]) + (f" and {len(members) - MAX_LISTED} more"
                                                    if len(members) > MAX_LISTED else "")
        findings.append(Finding("warning", "cycle", members[0],
                                f"cycle through {len(members)} nodes: {shown} (legal: outcomes flow back into data)"))
    order = {"error": 0, "warning": 1}
    return sorted(findings, key=lambda f: order[f.severity])


def _field_link_findings(g: LineageGraph) -> list[Finding]:
    """Field links that name a node or field no longer there (a node deleted since), or a node that
    does not feed theirs within two steps: queries do not follow them (lineage.fields)."""
    with_fields = {r["id"]: r for r in _records_of(g, fields.FIELD_KINDS) if r.get("fields") or r.get("all_fields_from")}
    problems = fields.link_problems(with_fields, lambda node_id: f"{with_fields[node_id]['kind']} '{node_id}'",
                                    lambda node_id: g.kind(node_id) if node_id in g else None)
    problems += [p for node_id in with_fields for p in fields.check_links(g, node_id)]
    return [Finding("warning", "field-link", p.where.split("'")[1], f"{p.where}, {p.field}: {p.message}")
            for p in problems]


def _unmapped_owner(record: dict[str, Any]) -> Finding:
    """An owner named by an OpenLineage ``ownership`` facet that is no person or team here."""
    return Finding("warning", "unmapped-owner", record["id"],
                   f"{record['kind']} '{record['id']}' ({record['name']}) is owned, says OpenLineage, by "
                   f"'{record['owner_text']}', who is not a person or team in the graph: add them, or map the "
                   "name with 'lineage import-openlineage --owners FILE'")


def cycles(g: LineageGraph) -> list[list[str]]:
    """The strongly connected groups of more than one node, each sorted, largest first."""
    count, labels = csgraph.connected_components(g.flow_matrix(), directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    groups = []
    for label in np.flatnonzero(sizes > 1).tolist():
        groups.append(sorted(g.ids[i] for i in np.flatnonzero(labels == label).tolist()))
    return sorted(groups, key=lambda members: (-len(members), members[0]))


def findings_from_validation(error: ValidationError) -> list[Finding]:
    """A failed validation's problems as error findings (for checking files)."""
    return [Finding("error", "invalid", None, str(problem)) for problem in error.problems
            if isinstance(problem, Problem)]

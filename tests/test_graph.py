"""Graph queries, checked against networkx computed independently on the same records."""
from __future__ import annotations

import time
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from conftest import flow_graph
from lineage.errors import LineageError, NotFoundError
from lineage.graph import (LineageGraph, downstream, impact, paths, people_impact, provenance, reach_totals,
                           single_points_of_failure,
                           to_networkx, traverse, upstream)

RAG_ORDER = {"red": 0, "amber": 1, "green": 2}
BAND_FLOOR = {"red": 0.0, "amber": 0.7, "green": 0.9}
DIMENSIONS = ("completeness", "uniqueness", "consistency", "timeliness", "validity", "accuracy")


# -- independent helpers ---------------------------------------------------------------------------------


def band(score: float) -> str:
    return "green" if score >= 0.9 else "amber" if score >= 0.7 else "red"


def weakest_of(quality: dict | None):
    """(dimension, score, rag) of a dataset's weakest assessed dimension, per the documented rule."""
    best = None
    for position, dimension in enumerate(DIMENSIONS):
        value = (quality or {}).get(dimension)
        if value is None:
            continue
        if isinstance(value, dict):
            score = value.get("score")
            rag = value.get("rag") or (band(score) if score is not None else None)
        else:
            score, rag = value, band(value)
        if rag is None:
            continue
        rank = (score if score is not None else BAND_FLOOR[rag], position)
        if best is None or rank < best[0]:
            best = (rank, dimension, score, rag)
    return None if best is None else best[1:]


def confidence_of(dataset_ids, nodes_by_id):
    """The weakest link among datasets: lowest rating, then lowest score, then id."""
    candidates = []
    for dataset in dataset_ids:
        weak = weakest_of(nodes_by_id[dataset].get("quality"))
        if weak:
            dimension, score, rag = weak
            candidates.append(((RAG_ORDER[rag], 2.0 if score is None else score, dataset), dataset, dimension, score,
                               rag))
    if not candidates:
        return None
    _, dataset, dimension, score, rag = min(candidates)
    return {"dataset": dataset, "dimension": dimension, "score": score, "rag": rag}


def of_kind(ids, nodes_by_id, kind):
    return {i for i in ids if nodes_by_id[i]["kind"] == kind}


def _link_key(link):
    return (RAG_ORDER[link["rag"]], 2.0 if link["score"] is None else link["score"], link["dataset"])


def expected_decision_confidence(graph: nx.DiGraph, nodes_by_id, decision):
    """A decision's data confidence by the documented rules (README, lineage.confidence), with
    networkx: primary inputs decide; supporting ones lower the band by one at most; data behind
    another decision's recorded outcomes is reported, never decisive."""
    decisive = graph.copy()
    decisive.remove_edges_from([(s, t) for s, t in graph.edges if nodes_by_id[s]["kind"] == "decision"])
    inputs = [(s, data) for s, _, data in graph.in_edges(decision, data=True) if data["kind"] == "informs"]
    primary = [s for s, data in inputs if data.get("influence") != "supporting"]
    supporting = [s for s, data in inputs if data.get("influence") == "supporting"]
    if not primary:
        primary, supporting = supporting, []

    def behind(starts):
        return set(starts).union(*(nx.ancestors(decisive, n) for n in starts))

    primary_nodes, supporting_nodes = behind(primary), behind(supporting)
    primary_link = confidence_of(of_kind(primary_nodes, nodes_by_id, "dataset"), nodes_by_id)
    supporting_link = confidence_of(of_kind(supporting_nodes, nodes_by_id, "dataset"), nodes_by_id)
    primary_band = RAG_ORDER[primary_link["rag"]] if primary_link else 3
    supporting_band = RAG_ORDER[supporting_link["rag"]] if supporting_link else 3
    band_code = primary_band if supporting_band >= primary_band or primary_band == 3 else \
        max(supporting_band, primary_band - 1)
    link = supporting_link if band_code < primary_band else (primary_link if primary_band != 3 else None)
    upstream = nx.ancestors(graph, decision)
    anywhere = confidence_of(of_kind(upstream, nodes_by_id, "dataset"), nodes_by_id)
    decisive_links = [x for x in (primary_link, supporting_link) if x]
    earlier = anywhere if anywhere and (not decisive_links or _link_key(anywhere) < min(map(_link_key, decisive_links))) \
        else None
    ai_direct = bool(of_kind(primary_nodes | supporting_nodes, nodes_by_id, "ai_tool"))
    return {"decision": decision, "band": ("red", "amber", "green", "unknown")[band_code], "link": link,
            "primary": primary_link, "supporting": supporting_link, "earlier": earlier,
            "lowered_by_supporting": band_code < primary_band, "ai_direct": ai_direct,
            "ai_earlier_only": not ai_direct and bool(of_kind(upstream, nodes_by_id, "ai_tool"))}


def expected_ai_tools(graph: nx.DiGraph, nodes_by_id, people, decision):
    """The AI tools on the way from ``people``'s records to a decision: (those informing it along a
    path through no other decision, those only through earlier decisions' recorded outcomes)."""
    reached = set().union(*(nx.descendants(graph, p) for p in people))
    on_any = of_kind(reached & nx.ancestors(graph, decision), nodes_by_id, "ai_tool")
    decisive = graph.copy()
    decisive.remove_edges_from([(s, t) for s, t in graph.edges if nodes_by_id[s]["kind"] == "decision"
                                and t != decision and s != decision] + list(graph.out_edges(decision)))
    direct = {t for t in on_any if nx.has_path(decisive.subgraph(reached | {decision}), t, decision)
              and _path_avoiding_decisions(graph, nodes_by_id, reached, t, decision)}
    return sorted(direct), sorted(on_any - direct)


def _path_avoiding_decisions(graph, nodes_by_id, reached, start, decision):
    allowed = {n for n in reached if nodes_by_id[n]["kind"] != "decision"} | {decision}
    return nx.has_path(graph.subgraph(allowed), start, decision)


def subgraph_of_edge_kinds(graph: nx.DiGraph, kinds: set[str]) -> nx.DiGraph:
    sub = nx.DiGraph()
    sub.add_nodes_from(graph.nodes)
    sub.add_edges_from((s, t) for s, t, k in graph.edges(data="kind") if k in kinds)
    return sub


def distances(graph: nx.DiGraph, node: str, depth: int | None = None) -> dict[str, int]:
    found = nx.single_source_shortest_path_length(graph, node, cutoff=depth)
    found.pop(node)
    return found


def assert_real_path(path, nx_flow, source=None, target=None):
    assert len(path) == len(set(path)), f"not simple: {path}"
    if source is not None:
        assert path[0] == source
    if target is not None:
        assert path[-1] == target
    for a, b in zip(path, path[1:]):
        assert nx_flow.has_edge(a, b), f"{a} -> {b} is not a data-flow edge ({path})"


def small_graph(nodes, edges) -> LineageGraph:
    return LineageGraph.from_records([{"name": n["id"], **n} for n in nodes], edges)


# -- traversal against networkx --------------------------------------------------------------------------


def test_downstream_and_upstream_match_networkx_for_every_node(session_graph, nx_flow):
    reverse = nx_flow.reverse(copy=True)
    for node in nx_flow.nodes:
        down = downstream(session_graph, node)
        expected_down = distances(nx_flow, node)
        assert set(down.ids()) == set(nx.descendants(nx_flow, node)) == set(expected_down), node
        assert dict(zip(down.ids(), sorted(expected_down.values()))) == {
            i: expected_down[i] for i in down.ids()}, node
        assert down.ids() == sorted(expected_down, key=lambda i: (expected_down[i], i))
        up = upstream(session_graph, node)
        expected_up = distances(reverse, node)
        assert set(up.ids()) == set(nx.ancestors(nx_flow, node)) == set(expected_up), node
        assert up.ids() == sorted(expected_up, key=lambda i: (expected_up[i], i))
        assert down.count == len(expected_down) and up.count == len(expected_up)


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 5])
def test_depth_limits_match_networkx(session_graph, nx_flow, depth):
    reverse = nx_flow.reverse(copy=True)
    for node in nx_flow.nodes:
        assert set(downstream(session_graph, node, depth=depth).ids()) == set(distances(nx_flow, node, depth)), node
        assert set(upstream(session_graph, node, depth=depth).ids()) == set(distances(reverse, node, depth)), node


@pytest.mark.parametrize("kinds", [["decision"], ["dataset", "ai_tool"], ["person"]])
def test_kind_filter_matches_networkx(session_graph, nx_flow, nodes_by_id, kinds):
    for node in nx_flow.nodes:
        expected_down = {i for i in nx.descendants(nx_flow, node) if nodes_by_id[i]["kind"] in kinds}
        expected_up = {i for i in nx.ancestors(nx_flow, node) if nodes_by_id[i]["kind"] in kinds}
        assert set(downstream(session_graph, node, kinds=kinds).ids()) == expected_down, node
        assert set(upstream(session_graph, node, kinds=kinds).ids()) == expected_up, node


@pytest.mark.parametrize("edge_kinds", [{"supplies", "informs"}, {"derives"}, {"enters", "supplies", "feeds"},
                                        {"records_outcome", "informs", "feeds", "derives"}])
def test_edge_kind_filter_matches_networkx(session_graph, nx_flow, edge_kinds):
    sub = subgraph_of_edge_kinds(nx_flow, edge_kinds)
    for node in nx_flow.nodes:
        assert set(downstream(session_graph, node, edge_kinds=edge_kinds).ids()) == nx.descendants(sub, node), node
        assert set(upstream(session_graph, node, edge_kinds=edge_kinds).ids()) == nx.ancestors(sub, node), node


def test_both_directions_match_networkx(session_graph, nx_flow):
    reverse = nx_flow.reverse(copy=True)
    for node in nx_flow.nodes:
        reach = traverse(session_graph, node, direction="both")
        down, up = distances(nx_flow, node), distances(reverse, node)
        expected = {i: min(down.get(i, 10**9), up.get(i, 10**9)) for i in set(down) | set(up)}
        assert set(reach.ids()) == set(expected), node
        got = dict(zip([session_graph.ids[i] for i in reach.nodes.tolist()], reach.distance.tolist()))
        assert got == expected, node
        two = traverse(session_graph, node, direction="both", depth=2)
        assert set(two.ids()) == {i for i, d in expected.items() if d <= 2}, node


def test_traverse_from_several_nodes(session_graph, nx_flow):
    starts = ["officer-ali", "housing-register", "nhs-bed-state"]
    expected = set().union(*(nx.descendants(nx_flow, s) for s in starts)) - set(starts)
    assert set(traverse(session_graph, starts).ids()) == expected


def test_ids_limit_takes_nearest_first(session_graph, nx_flow):
    expected = distances(nx_flow, "officer-ali")
    ordered = sorted(expected, key=lambda i: (expected[i], i))
    for limit in (1, 3, 7, len(ordered), len(ordered) + 5):
        assert downstream(session_graph, "officer-ali").ids(limit) == ordered[:limit]


def test_counts_by_kind(session_graph, nx_flow, nodes_by_id):
    reach = downstream(session_graph, "officer-ali")
    assert reach.counts_by_kind() == dict(Counter(nodes_by_id[i]["kind"] for i in nx.descendants(nx_flow,
                                                                                                  "officer-ali")))


def test_graph_from_records_and_networkx_agree_with_store(session_graph, samples, nx_flow):
    nodes, edges = samples
    from_records = LineageGraph.from_records(nodes, edges)
    from_nx = LineageGraph.from_networkx(to_networkx(nodes, edges))
    assert sorted(from_records.ids) == sorted(session_graph.ids) == sorted(from_nx.ids)
    for node in list(nx_flow.nodes)[::7]:
        expected = set(downstream(session_graph, node).ids())
        assert set(downstream(from_records, node).ids()) == expected
        assert set(downstream(from_nx, node).ids()) == expected
    assert from_records.record("housing-register")["name"] == "Housing register"
    assert session_graph.record("housing-register")["record_count"] == from_records.record("housing-register")[
        "record_count"]


def test_member_of_edges_are_not_followed(session_graph, samples):
    _, edges = samples
    member, team = next((e["source"], e["target"]) for e in edges if e["kind"] == "member_of")
    assert team not in downstream(session_graph, member).ids()
    assert member not in upstream(session_graph, team).ids()
    assert upstream(session_graph, team).count == 0 and downstream(session_graph, team).count == 0


# -- cycles ------------------------------------------------------------------------------------------------

CYCLE_NODES = [
    {"id": "p", "kind": "person"}, {"id": "a", "kind": "dataset"}, {"id": "b", "kind": "dataset"},
    {"id": "proc", "kind": "process"}, {"id": "x", "kind": "decision", "people_affected": 10, "value_gbp": 5.0},
]
CYCLE_EDGES = [
    {"source": "p", "target": "a", "kind": "enters", "records": 4},
    {"source": "a", "target": "b", "kind": "derives"}, {"source": "b", "target": "proc", "kind": "derives"},
    {"source": "proc", "target": "a", "kind": "derives"}, {"source": "proc", "target": "x", "kind": "informs"},
    {"source": "x", "target": "a", "kind": "records_outcome"},
]


def test_traversals_terminate_on_cycles():
    g = small_graph(CYCLE_NODES, CYCLE_EDGES)
    assert downstream(g, "a").ids() == ["b", "proc", "x"]
    assert upstream(g, "a").ids() == ["p", "proc", "x", "b"]  # by distance, then id
    assert set(traverse(g, "x", direction="both").ids()) == {"a", "b", "p", "proc"}
    assert paths(g, "p") == [["p", "a", "b", "proc", "x"]]
    result = impact(g, "p")
    assert (result.decision_count, result.largest_people_affected, result.largest_value_gbp, result.records) == \
        (1, 10, 5.0, 4)
    assert provenance(g, "x").datasets == ["b", "a"]  # nearest first


# -- paths -------------------------------------------------------------------------------------------------


def test_paths_are_real_bounded_paths_for_every_person(session_graph, nx_flow, nodes_by_id):
    people = [n for n, k in nx_flow.nodes(data="kind") if k == "person"]
    for person in people:
        found = paths(session_graph, person, max_paths=20, per_target=2, cutoff=8)
        assert len(found) <= 20
        per_target = Counter(path[-1] for path in found)
        assert max(per_target.values(), default=0) <= 2
        decisions = of_kind(nx.descendants(nx_flow, person), nodes_by_id, "decision")
        for path in found:
            assert_real_path(path, nx_flow, source=person)
            assert path[-1] in decisions
            assert len(path) - 1 <= 8


def test_paths_reach_every_decision_within_cutoff(session_graph, nx_flow, nodes_by_id):
    people = [n for n, k in nx_flow.nodes(data="kind") if k == "person"]
    for person in people:
        for cutoff in (3, 5, 12):
            found = paths(session_graph, person, cutoff=cutoff, per_target=1, max_paths=1000)
            near = {d for d, length in distances(nx_flow, person).items()
                    if length <= cutoff and nodes_by_id[d]["kind"] == "decision"}
            assert {p[-1] for p in found} == near
            assert all(len(p) - 1 <= cutoff for p in found)


def test_paths_equal_all_simple_paths_on_a_small_graph():
    nodes = [{"id": i, "kind": k} for i, k in [("p", "person"), ("s", "system"), ("d1", "dataset"),
                                                ("d2", "dataset"), ("m", "ai_tool"), ("x", "decision"),
                                                ("y", "decision")]]
    edges = [{"source": s, "target": t, "kind": k} for s, t, k in [
        ("p", "s", "enters"), ("p", "d2", "enters"), ("s", "d1", "supplies"), ("d1", "d2", "derives"),
        ("d1", "m", "feeds"), ("d2", "m", "feeds"), ("m", "x", "informs"), ("d1", "x", "informs"),
        ("d2", "y", "informs"), ("x", "d2", "records_outcome")]]
    g = small_graph(nodes, edges)
    reference = flow_graph(nodes, edges)
    found = paths(g, "p", per_target=100, max_paths=100)
    expected = [path for target in ("x", "y") for path in nx.all_simple_paths(reference, "p", target)]
    assert sorted(map(tuple, found)) == sorted(map(tuple, expected))
    assert sorted(map(tuple, paths(g, "p", ["y"], per_target=100))) == sorted(
        map(tuple, nx.all_simple_paths(reference, "p", "y")))


def test_paths_never_blow_up():
    # 2^24 distinct paths from the person to the decision: the bounds must keep the work small.
    layers = 24
    nodes = [{"id": "p", "kind": "person"}, {"id": "x", "kind": "decision"}]
    edges = []
    for layer in range(layers):
        nodes += [{"id": f"d{layer}a", "kind": "dataset"}, {"id": f"d{layer}b", "kind": "dataset"}]
    for side in "ab":
        edges.append({"source": "p", "target": f"d0{side}", "kind": "enters"})
        edges.append({"source": f"d{layers - 1}{side}", "target": "x", "kind": "informs"})
    for layer in range(layers - 1):
        for a in "ab":
            for b in "ab":
                edges.append({"source": f"d{layer}{a}", "target": f"d{layer + 1}{b}", "kind": "derives"})
    g = small_graph(nodes, edges)
    reference = flow_graph(nodes, edges)
    started = time.perf_counter()
    few = paths(g, "p", cutoff=100)
    many = paths(g, "p", per_target=10_000, max_paths=50, cutoff=100)
    capped = paths(g, "p", per_target=10_000, max_paths=10_000, cutoff=100, max_steps=5_000)
    assert time.perf_counter() - started < 3
    assert len(few) == 3 and len(many) == 50
    assert 0 < len(capped) < 5_000
    assert paths(g, "p", cutoff=layers) == []  # the shortest path has layers + 1 edges
    for path in few + many:
        assert_real_path(path, reference, "p", "x")


def test_paths_upstream(session_graph, nx_flow):
    found = paths(session_graph, "social-housing-allocations", reverse=True, skip_kinds=("person",), max_paths=30)
    assert found
    for path in found:
        assert_real_path(list(reversed(path)), nx_flow, target="social-housing-allocations")
        assert all(nx_flow.nodes[step]["kind"] != "person" for step in path)


# -- impact ------------------------------------------------------------------------------------------------


def expected_impact(people, nx_flow, nodes_by_id, edges):
    reached = set().union(*(nx.descendants(nx_flow, p) for p in people)) if people else set()
    decisions = of_kind(reached, nodes_by_id, "decision")
    enters = [e for e in edges if e["kind"] == "enters" and e["source"] in people]
    return {
        "decisions": decisions,
        "largest_people_affected": max((nodes_by_id[d]["people_affected"] for d in decisions
                                        if "people_affected" in nodes_by_id[d]), default=None),
        "largest_value_gbp": max((nodes_by_id[d]["value_gbp"] for d in decisions if "value_gbp" in nodes_by_id[d]),
                                 default=None),
        "ai_tools": len(of_kind(reached, nodes_by_id, "ai_tool")),
        "reached": len(reached),
        "records": sum(e.get("records", 0) for e in enters),
        "records_with_issues": sum(e.get("records_with_issues", 0) for e in enters),
        "entered_into": sorted({e["target"] for e in enters}),
    }


def test_impact_of_officer_ali(graph, nx_flow, nodes_by_id, samples):
    result = impact(graph, "officer-ali", limit=1000)
    expected = expected_impact(["officer-ali"], nx_flow, nodes_by_id, samples[1])
    assert {d.id for d in result.decisions} == expected["decisions"]
    assert result.decision_count == len(expected["decisions"]) == 6
    assert result.largest_people_affected == expected["largest_people_affected"] == 171_000
    assert nodes_by_id[result.largest_people_decision]["people_affected"] == 171_000
    assert result.largest_value_gbp == pytest.approx(expected["largest_value_gbp"])
    assert result.ai_tool_count == expected["ai_tools"]
    assert result.reached_count == expected["reached"]
    assert (result.records, result.records_with_issues) == (expected["records"], expected["records_with_issues"])
    assert result.records == 1240
    assert result.entered_into == expected["entered_into"]
    assert result.people == 1
    shortest = distances(nx_flow, "officer-ali")
    affected = [d.people_affected for d in result.decisions]
    assert affected == sorted(affected, reverse=True)
    for decision in result.decisions:
        record = nodes_by_id[decision.id]
        assert decision.name == record["name"]
        assert decision.people_affected == record.get("people_affected")
        assert decision.value_gbp == record.get("value_gbp")
        assert decision.decision_type == record.get("decision_type")
        assert decision.distance == shortest[decision.id]
        assert 1 <= len(decision.paths) <= 3
        for path in decision.paths:
            assert_real_path(path, nx_flow, "officer-ali", decision.id)
        tools_on_paths = {s for p in decision.paths for s in p if nodes_by_id[s]["kind"] == "ai_tool"}
        assert tools_on_paths <= set(decision.ai_tools + decision.ai_tools_earlier)
        direct, earlier = expected_ai_tools(nx_flow, nodes_by_id, ["officer-ali"], decision.id)
        assert (decision.ai_tools, decision.ai_tools_earlier) == (direct, earlier), decision.id
        assert (decision.ai_tool_count, decision.ai_tool_earlier_count) == (len(direct), len(earlier))
    # The council budget is reached by the temporary accommodation forecast, off every kept path.
    budget = next(d for d in result.decisions if d.id == "housing-budget-setting")
    assert "ta-demand-forecast" in budget.ai_tools
    as_dict = result.as_dict()
    assert [d["id"] for d in as_dict["decisions"]] == [d.id for d in result.decisions]


def test_impact_limit_keeps_totals(graph):
    full = impact(graph, "officer-ali")
    short = impact(graph, "officer-ali", limit=2)
    assert len(short.decisions) == 2 and short.decision_count == full.decision_count
    assert [d.id for d in short.decisions] == [d.id for d in full.decisions[:2]]
    assert short.largest_people_affected == full.largest_people_affected


def test_impact_of_every_team_is_union_of_members(session_graph, nx_flow, nodes_by_id, samples):
    _, edges = samples
    teams = [n for n, k in nx_flow.nodes(data="kind") if k == "team"]
    assert len(teams) > 10
    for team in teams:
        members = sorted(e["source"] for e in edges if e["kind"] == "member_of" and e["target"] == team)
        result = impact(session_graph, team, limit=1000)
        expected = expected_impact(members, nx_flow, nodes_by_id, edges)
        assert result.people == len(members), team
        assert {d.id for d in result.decisions} == expected["decisions"], team
        assert result.decision_count == len(expected["decisions"])
        assert result.largest_people_affected == expected["largest_people_affected"], team
        assert result.largest_value_gbp == pytest.approx(expected["largest_value_gbp"]), team
        for decision in result.decisions:
            assert (decision.ai_tools, decision.ai_tools_earlier) == expected_ai_tools(
                nx_flow, nodes_by_id, members, decision.id), (team, decision.id)
        assert result.records == expected["records"], team
        assert result.entered_into == expected["entered_into"], team
        member_decisions = set()
        for member in members:
            member_decisions |= {d.id for d in impact(session_graph, member, limit=1000).decisions}
        assert {d.id for d in result.decisions} == member_decisions


def test_team_impact_counts_people_in_several_teams():
    # A person may belong to more than one team (member_of edges are unique per pair, not per person).
    nodes = [{"id": "p", "kind": "person"}, {"id": "q", "kind": "person"}, {"id": "t1", "kind": "team"},
             {"id": "t2", "kind": "team"}, {"id": "d", "kind": "dataset"},
             {"id": "x", "kind": "decision", "people_affected": 5}]
    edges = [{"source": "p", "target": "t1", "kind": "member_of"}, {"source": "p", "target": "t2", "kind": "member_of"},
             {"source": "q", "target": "t2", "kind": "member_of"},
             {"source": "p", "target": "d", "kind": "enters", "records": 3},
             {"source": "d", "target": "x", "kind": "informs"}]
    g = small_graph(nodes, edges)
    assert (impact(g, "t1").people, impact(g, "t1").decision_count, impact(g, "t1").records) == (1, 1, 3)
    assert (impact(g, "t2").people, impact(g, "t2").decision_count) == (2, 1)
    teams = {row["team"]: row["people"] for row in provenance(g, "x").teams}
    assert teams == {"t1": 1, "t2": 1}


def test_impact_of_person_with_no_records():
    g = small_graph([{"id": "p", "kind": "person"}, {"id": "x", "kind": "decision"}], [])
    result = impact(g, "p")
    assert (result.decision_count, result.records, result.entered_into, result.decisions) == (0, 0, [], [])


def test_people_impact_agrees_with_impact_for_every_person(session_graph, nx_flow, nodes_by_id, samples):
    rows = {row["id"]: row for row in people_impact(session_graph).rows(session_graph)}
    people = {n for n, k in nx_flow.nodes(data="kind") if k == "person"}
    assert set(rows) == people
    for person in people:
        single = impact(session_graph, person)
        expected = expected_impact([person], nx_flow, nodes_by_id, samples[1])
        row = rows[person]
        assert row["decisions"] == single.decision_count == len(expected["decisions"]), person
        assert row["largest_people_affected"] == (single.largest_people_affected or 0) == \
            (expected["largest_people_affected"] or 0), person
        assert row["largest_value_gbp"] == pytest.approx(single.largest_value_gbp or 0) == \
            pytest.approx(expected["largest_value_gbp"] or 0), person
        assert row["ai_tools"] == single.ai_tool_count == expected["ai_tools"], person


def test_reach_totals_agree_with_bfs_for_every_dataset_and_system(session_graph, nx_flow, nodes_by_id):
    totals = reach_totals(session_graph)
    rows = {row["id"]: row for row in totals.rows(session_graph)}
    assert set(rows) == {n for n, k in nx_flow.nodes(data="kind") if k in ("dataset", "system")}
    for node, row in rows.items():
        reached = nx.descendants(nx_flow, node)
        decisions = of_kind(reached, nodes_by_id, "decision")
        bfs = downstream(session_graph, node, kinds=["decision"])
        assert row["decisions"] == len(decisions) == bfs.count, node
        assert row["largest_people_affected"] == max((nodes_by_id[d].get("people_affected", 0) for d in decisions),
                                                     default=0), node
        assert row["largest_value_gbp"] == pytest.approx(max((nodes_by_id[d].get("value_gbp", 0) for d in decisions),
                                                             default=0)), node
        assert row["ai_tools"] == len(of_kind(reached, nodes_by_id, "ai_tool")), node
    processes = reach_totals(session_graph, kinds=("process",))
    assert {session_graph.ids[i] for i in processes.nodes.tolist()} == {
        n for n, k in nx_flow.nodes(data="kind") if k == "process"}


@pytest.mark.parametrize("fan_out", [255, 256, 300, 512])
def test_reach_totals_with_many_parallel_paths(fan_out):
    # One system supplies many datasets that all inform one decision: it underpins exactly one decision.
    nodes = [{"id": "s", "kind": "system"}, {"id": "x", "kind": "decision", "people_affected": 5}]
    nodes += [{"id": f"d{i:04d}", "kind": "dataset"} for i in range(fan_out)]
    edges = [{"source": "s", "target": f"d{i:04d}", "kind": "supplies"} for i in range(fan_out)]
    edges += [{"source": f"d{i:04d}", "target": "x", "kind": "informs"} for i in range(fan_out)]
    g = small_graph(nodes, edges)
    row = {r["id"]: r for r in reach_totals(g).rows(g)}["s"]
    assert (row["decisions"], row["largest_people_affected"]) == (1, 5)


@pytest.mark.parametrize("fan_out", [255, 256, 512])
def test_people_impact_with_many_entry_points(fan_out):
    nodes = [{"id": "p", "kind": "person"}, {"id": "x", "kind": "decision", "people_affected": 5}]
    nodes += [{"id": f"d{i:04d}", "kind": "dataset"} for i in range(fan_out)]
    edges = [{"source": "p", "target": f"d{i:04d}", "kind": "enters"} for i in range(fan_out)]
    edges += [{"source": f"d{i:04d}", "target": "x", "kind": "informs"} for i in range(fan_out)]
    g = small_graph(nodes, edges)
    row = people_impact(g).rows(g)[0]
    assert (row["decisions"], row["largest_people_affected"]) == (impact(g, "p").decision_count, 5) == (1, 5)


# -- provenance ----------------------------------------------------------------------------------------------


def test_provenance_of_every_decision(session_graph, nx_flow, nodes_by_id, samples):
    _, edges = samples
    team_of = {e["source"]: e["target"] for e in edges if e["kind"] == "member_of"}
    decisions = [n for n, k in nx_flow.nodes(data="kind") if k == "decision"]
    assert len(decisions) == 26
    for decision in decisions:
        result = provenance(session_graph, decision)
        ancestors = nx.ancestors(nx_flow, decision)
        assert result.upstream_count == len(ancestors), decision
        assert result.counts == dict(Counter(nodes_by_id[a]["kind"] for a in ancestors)), decision
        assert set(result.datasets) == of_kind(ancestors, nodes_by_id, "dataset"), decision
        assert set(result.ai_tools) == of_kind(ancestors, nodes_by_id, "ai_tool"), decision
        for kind in ("system", "process"):
            assert set(result.nodes.get(kind, [])) == of_kind(ancestors, nodes_by_id, kind), decision
        assert "person" not in result.nodes and "team" not in result.nodes
        people = of_kind(ancestors, nodes_by_id, "person")
        assert result.people_count == len(people), decision
        assert {row["team"]: row["people"] for row in result.teams} == dict(
            Counter(team_of.get(p) for p in people)), decision
        assert result.confidence.as_dict() == expected_decision_confidence(nx_flow, nodes_by_id, decision), decision
        unassessed = [d for d in of_kind(ancestors, nodes_by_id, "dataset")
                      if weakest_of(nodes_by_id[d].get("quality")) is None]
        assert result.unassessed_datasets == len(unassessed), decision
        for row in result.paths:
            assert_real_path(row["path"], nx_flow, target=decision)
            assert all(nodes_by_id[s]["kind"] != "person" for s in row["path"])
            weakest_on_path = confidence_of([s for s in row["path"] if nodes_by_id[s]["kind"] == "dataset"],
                                            nodes_by_id)
            assert row["weakest"] == weakest_on_path


def test_provenance_of_social_housing_allocations(graph):
    result = provenance(graph, "social-housing-allocations")
    assert result.confidence.band == "amber"
    assert result.confidence.link.as_dict() == {"dataset": "housing-register", "dimension": "timeliness",
                                                "score": 0.71, "rag": "amber"}
    as_dict = result.as_dict()
    assert as_dict["datasets"] == result.datasets and as_dict["ai_tools"] == result.ai_tools
    assert as_dict["people_count"] == result.people_count == 9


def test_provenance_limit_keeps_counts(graph):
    full = provenance(graph, "social-housing-allocations")
    short = provenance(graph, "social-housing-allocations", limit=2)
    assert len(short.datasets) == 2 and short.counts == full.counts
    assert set(short.datasets) <= set(full.datasets)


# -- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    lambda g: downstream(g, "nobody"), lambda g: upstream(g, "nobody"), lambda g: impact(g, "nobody"),
    lambda g: provenance(g, "nobody"), lambda g: paths(g, "nobody"), lambda g: paths(g, "officer-ali", ["nobody"]),
    lambda g: traverse(g, ["officer-ali", "nobody"]), lambda g: g.record("nobody"),
])
def test_unknown_ids(graph, query):
    with pytest.raises(NotFoundError, match="no node with id 'nobody'"):
        query(graph)


@pytest.mark.parametrize("depth", [-1, 100000, 1001, 2.5, "3"])
def test_bad_depth(graph, depth):
    with pytest.raises(LineageError, match="depth must be a whole number from 0 to 1000"):
        downstream(graph, "officer-ali", depth=depth)


def test_deepest_allowed_depth(graph, nx_flow):
    assert set(downstream(graph, "officer-ali", depth=1000).ids()) == nx.descendants(nx_flow, "officer-ali")


def test_unknown_kinds_and_directions(graph):
    with pytest.raises(LineageError, match="unknown node kind 'robot'"):
        downstream(graph, "officer-ali", kinds=["robot"])
    with pytest.raises(LineageError, match="unknown edge kind 'flows'"):
        downstream(graph, "officer-ali", edge_kinds=["flows"])
    with pytest.raises(LineageError, match="unknown edge kind 'member_of'"):
        downstream(graph, "officer-ali", edge_kinds=["member_of"])
    with pytest.raises(LineageError, match="direction must be one of"):
        traverse(graph, "officer-ali", direction="sideways")


def test_wrong_kind_for_impact_and_provenance(graph):
    with pytest.raises(LineageError, match="'housing-register' is a dataset; impact is for a person or a team"):
        impact(graph, "housing-register")
    with pytest.raises(LineageError, match="'officer-ali' is a person; provenance is for a decision"):
        provenance(graph, "officer-ali")


def test_graph_lookups(graph, samples):
    nodes, _ = samples
    assert len(graph) == len(nodes)
    assert "officer-ali" in graph and "nobody" not in graph
    assert graph.kind("officer-ali") == "person"
    assert sorted(graph.ids[i] for i in graph.of_kind("ai_tool").tolist()) == sorted(
        n["id"] for n in nodes if n["kind"] == "ai_tool")
    assert isinstance(graph.flow_matrix().nnz, int)
    assert graph.flow_matrix().nnz == sum(1 for _ in flow_graph(*samples).edges)
    assert np.array_equal(graph.find("owner", "nobody-at-all"), np.zeros(0, dtype=np.int64))


def _dominating_every_origin(nx_flow, decision):
    """Single points of failure computed independently: networkx's dominator tree of the reversed
    upstream graph rooted at the decision, intersected over every origin (node with no inputs)."""
    upstream = nx.ancestors(nx_flow, decision)
    if not upstream:
        return set()
    reversed_graph = nx_flow.subgraph(upstream | {decision}).reverse(copy=True)
    idom = nx.immediate_dominators(reversed_graph, decision)
    origins = [n for n in upstream if nx_flow.in_degree(n) == 0]
    common = None
    for origin in origins:
        chain, node = set(), origin
        while node != decision:
            chain.add(node)
            node = idom[node]
        common = chain if common is None else common & chain
    return common or set()


def test_single_points_of_failure_match_networkx_dominators(session_graph, nx_flow):
    decisions = [n for n, kind in nx_flow.nodes(data="kind") if kind == "decision"]
    found_any = False
    for decision in decisions:
        ours = single_points_of_failure(session_graph, decision)
        assert set(ours) == _dominating_every_origin(nx_flow, decision), decision
        assert len(ours) == len(set(ours))
        found_any |= bool(ours)
    assert found_any, "the samples should have at least one decision resting on a single node"


def test_single_point_of_failure_on_a_diamond_and_a_bypass():
    nodes = [{"id": i, "kind": k} for i, k in [("p", "person"), ("s", "system"), ("a", "dataset"), ("b", "dataset"),
                                                ("m", "dataset"), ("x", "decision")]]
    edges = [{"source": "p", "target": "s", "kind": "enters"}, {"source": "s", "target": "a", "kind": "supplies"},
             {"source": "s", "target": "b", "kind": "supplies"}, {"source": "a", "target": "m", "kind": "derives"},
             {"source": "b", "target": "m", "kind": "derives"}, {"source": "m", "target": "x", "kind": "informs"}]
    g = small_graph(nodes, edges)
    assert single_points_of_failure(g, "x") == ["m", "s", "p"]  # nearest first; the only person too
    bypass = edges + [{"source": "p", "target": "b", "kind": "enters"}]
    assert single_points_of_failure(small_graph(nodes, bypass), "x") == ["m", "p"]

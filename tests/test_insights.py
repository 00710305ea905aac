"""The leader analytics (lineage.insights, lineage.whatif, lineage.charts, lineage.materialised),
checked against expectations computed independently: from the sample files with networkx, or
counted by hand on small graphs."""
from __future__ import annotations

import io as text_io
import itertools
import random
import xml.etree.ElementTree as ET
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from conftest import flow_graph
from test_graph import DIMENSIONS, _dominating_every_origin, band, confidence_of, expected_decision_confidence, \
    weakest_of

from lineage import insights as I
from lineage import materialised
from lineage.confidence import band_sort_key, confidence_pass, decision_confidence, local_confidence
from lineage.charts import AMBER, GREEN, RED, Chart
from lineage.errors import LineageError, NotFoundError
from lineage.graph import LineageGraph, reach_totals
from lineage.materialised import DecisionQuery
from lineage.store import Store
from lineage.whatif import what_if

SVG = "{http://www.w3.org/2000/svg}"
LEADER_KINDS = ("system", "dataset", "ai_tool", "decision")


# -- independent expectations -----------------------------------------------------------------------------


def downstream_totals(nx_flow, nodes_by_id, node):
    """(decisions, largest people affected, largest £, AI tools) downstream of a node, the node
    itself counted if it is one. Populations of different decisions overlap: never added up."""
    reached = nx.descendants(nx_flow, node) | {node}
    decisions = [n for n in reached if nodes_by_id[n]["kind"] == "decision"]
    return (len(decisions), max((nodes_by_id[d].get("people_affected", 0) for d in decisions), default=0),
            float(max((nodes_by_id[d].get("value_gbp", 0) for d in decisions), default=0)),
            sum(1 for n in reached if nodes_by_id[n]["kind"] == "ai_tool"))


def assert_confidence_matches_networkx(g, graph, by_id, label=None):
    """Every decision's confidence, from the estate-wide pass and from its own upstream, equals the
    networkx reference."""
    for decision in of_kind(by_id, "decision"):
        expected = expected_decision_confidence(graph, by_id, decision)
        assert decision_confidence(g, decision).as_dict() == expected, (label, decision)
        assert local_confidence(g, g.position(decision)).as_dict() == expected, (label, decision)


def of_kind(nodes_by_id, kind, organisation=None):
    return [n for n, r in nodes_by_id.items() if r["kind"] == kind
            and (organisation is None or r.get("organisation") == organisation)]


def rag_of(assessment):
    """A dimension's rating, by the documented rule: the rating given, else the band of its score."""
    if isinstance(assessment, dict):
        return assessment.get("rag") or (band(assessment["score"]) if assessment.get("score") is not None else None)
    return band(assessment)


@pytest.fixture(scope="module")
def facts(session_graph):
    return I.estate_facts(session_graph)


@pytest.fixture(scope="module")
def expected_confidences(nx_flow, nodes_by_id):
    """Every sample decision's data confidence by the documented rules, with networkx."""
    return {d: expected_decision_confidence(nx_flow, nodes_by_id, d) for d in of_kind(nodes_by_id, "decision")}


@pytest.fixture(scope="module")
def estate(session_graph, facts):
    return I.insights(session_graph, facts=facts)


# -- the two passes ---------------------------------------------------------------------------------------


def test_underpinning_matches_networkx_for_every_system_dataset_and_tool(session_graph, nx_flow, nodes_by_id):
    totals = I.underpinning(session_graph)
    rows = {row["id"]: row for row in totals.rows(session_graph)}
    expected_ids = {n for n in nodes_by_id if nodes_by_id[n]["kind"] in ("system", "dataset", "ai_tool")}
    assert set(rows) == expected_ids
    for node in expected_ids:
        decisions, people, value, tools = downstream_totals(nx_flow, nodes_by_id, node)
        row = rows[node]
        assert (row["decisions"], row["largest_people_affected"], row["ai_tools"]) == (decisions, people, tools), node
        assert row["largest_value_gbp"] == pytest.approx(value), node


def test_underpinning_agrees_with_reach_totals(session_graph):
    ours, theirs = I.underpinning(session_graph, ("system", "dataset")), reach_totals(session_graph)
    assert np.array_equal(ours.nodes, theirs.nodes)
    for name in ("decisions", "largest_people_affected", "ai_tools"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
    assert np.allclose(ours.largest_value_gbp, theirs.largest_value_gbp)


def test_confidence_and_ai_upstream_of_every_decision(session_graph, nx_flow, nodes_by_id):
    assert len(of_kind(nodes_by_id, "decision")) == 26
    confidence_pass(session_graph)
    assert_confidence_matches_networkx(session_graph, nx_flow, nodes_by_id)


def random_estate(seed: int, size: int = 120):
    """A random graph of allowed edges, with feedback loops, quality and reach on it."""
    rng = random.Random(seed)
    kinds = ["person"] * 15 + ["system"] * 10 + ["dataset"] * 45 + ["process"] * 15 + ["ai_tool"] * 10 + \
        ["decision"] * 25
    nodes = []
    for i in range(size):
        kind = rng.choice(kinds)
        node = {"id": f"n{i:03d}", "kind": kind, "name": f"Node {i}"}
        if kind == "dataset" and rng.random() < 0.8:
            node["quality"] = {d: round(rng.random(), 2) for d in rng.sample(DIMENSIONS, rng.randint(1, 6))}
            if rng.random() < 0.2:
                dimension = rng.choice(list(node["quality"]))
                node["quality"][dimension] = {"rag": rng.choice(["red", "amber", "green"])}
        if kind == "decision":
            node.update(people_affected=rng.randint(0, 1000), value_gbp=rng.randint(0, 10**6))
        nodes.append(node)
    allowed = {("person", "system"): "enters", ("person", "dataset"): "enters", ("system", "dataset"): "supplies",
               ("dataset", "dataset"): "derives", ("dataset", "process"): "feeds", ("process", "dataset"): "derives",
               ("dataset", "ai_tool"): "feeds", ("dataset", "decision"): "informs", ("ai_tool", "decision"): "informs",
               ("process", "decision"): "informs", ("decision", "dataset"): "records_outcome"}
    edges, seen = [], set()
    for _ in range(size * 3):
        a, b = rng.sample(nodes, 2)
        kind = allowed.get((a["kind"], b["kind"]))
        if kind and (a["id"], b["id"]) not in seen:
            seen.add((a["id"], b["id"]))
            edges.append({"source": a["id"], "target": b["id"], "kind": kind})
            if kind == "informs" and rng.random() < 0.3:
                edges[-1]["influence"] = "supporting"
    return nodes, edges


def test_random_graphs_have_feedback_loops():
    assert sum(not nx.is_directed_acyclic_graph(flow_graph(*random_estate(seed))) for seed in range(8)) >= 4


@pytest.mark.parametrize("seed", range(8))
def test_passes_match_networkx_on_random_graphs_with_cycles(seed):
    nodes, edges = random_estate(seed)
    g = LineageGraph.from_records(nodes, edges)
    graph = flow_graph(nodes, edges)
    by_id = {n["id"]: n for n in nodes}
    totals = {row["id"]: row for row in I.underpinning(g).rows(g)}
    for node_id, row in totals.items():
        decisions, people, value, tools = downstream_totals(graph, by_id, node_id)
        assert (row["decisions"], row["largest_people_affected"], row["ai_tools"]) == (decisions, people, tools)
        assert row["largest_value_gbp"] == pytest.approx(value)
    assert_confidence_matches_networkx(g, graph, by_id, seed)
    confidence_pass(g)
    assert_confidence_matches_networkx(g, graph, by_id, seed)


def test_passes_on_a_hand_counted_graph():
    # p -> s -> a -> x (decision) -> a (feedback), x -> f (its outcomes) -> w (decision);
    # s -> b -> t (AI) -> y (decision);  s -> c -> z (decision) <- d (a supporting input)
    nodes = [{"id": i, "kind": k, "name": i} for i, k in [("p", "person"), ("s", "system"), ("t", "ai_tool")]]
    nodes += [{"id": "a", "kind": "dataset", "name": "a", "quality": {"validity": 0.5}},
              {"id": "b", "kind": "dataset", "name": "b", "quality": {"timeliness": {"rag": "amber"}}},
              {"id": "c", "kind": "dataset", "name": "c", "quality": {"accuracy": 0.95}},
              {"id": "d", "kind": "dataset", "name": "d", "quality": {"completeness": 0.3}},
              {"id": "f", "kind": "dataset", "name": "f", "quality": {"accuracy": 0.95}},
              {"id": "x", "kind": "decision", "name": "x", "people_affected": 10, "value_gbp": 1.0},
              {"id": "y", "kind": "decision", "name": "y", "people_affected": 5, "value_gbp": 2.0},
              {"id": "z", "kind": "decision", "name": "z", "people_affected": 20, "value_gbp": 4.0},
              {"id": "w", "kind": "decision", "name": "w", "people_affected": 40, "value_gbp": 8.0}]
    edges = [("p", "s", "enters"), ("s", "a", "supplies"), ("a", "x", "informs"), ("x", "a", "records_outcome"),
             ("s", "b", "supplies"), ("b", "t", "feeds"), ("t", "y", "informs"), ("s", "c", "supplies"),
             ("c", "z", "informs"), ("d", "z", "informs"), ("x", "f", "records_outcome"), ("f", "w", "informs")]
    g = LineageGraph.from_records(nodes, [{"source": s, "target": t, "kind": k,
                                           **({"influence": "supporting"} if s == "d" else {})}
                                          for s, t, k in edges])
    rows = {row["id"]: (row["decisions"], row["largest_people_affected"], row["largest_value_gbp"], row["ai_tools"])
            for row in I.underpinning(g).rows(g)}
    assert rows == {"s": (4, 40, 8.0, 1), "a": (2, 40, 8.0, 0), "b": (1, 5, 2.0, 1), "t": (1, 5, 2.0, 1),
                    "c": (1, 20, 4.0, 0), "d": (1, 20, 4.0, 0), "f": (1, 40, 8.0, 0)}

    def link(dataset, dimension, score, rag):
        return {"dataset": dataset, "dimension": dimension, "score": score, "rag": rag}

    confidence_pass(g)
    got = {d: decision_confidence(g, d) for d in "xyzw"}
    assert {d: (c.band, c.link.as_dict() if c.link else None) for d, c in got.items()} == {
        "x": ("red", link("a", "validity", 0.5, "red")), "y": ("amber", link("b", "timeliness", None, "amber")),
        # a supporting red input lowers a green decision by one band only
        "z": ("amber", link("d", "completeness", 0.3, "red")),
        # red data behind an earlier decision's recorded outcomes is reported, not decisive
        "w": ("green", link("f", "accuracy", 0.95, "green"))}
    assert got["z"].lowered_by_supporting and not got["x"].lowered_by_supporting
    assert got["w"].earlier.as_dict() == link("a", "validity", 0.5, "red")
    assert [got[d].earlier for d in "xyz"] == [None, None, None]
    assert [(got[d].ai_direct, got[d].ai_earlier_only) for d in "xyzw"] == [(False, False), (True, False),
                                                                            (False, False), (False, False)]
    with pytest.raises(LineageError, match="'a' is a dataset; data confidence is for a decision"):
        decision_confidence(g, "a")
    with pytest.raises(LineageError, match="unknown node kind 'robot'"):
        I.underpinning(g, ("robot",))


# -- the Insights page ------------------------------------------------------------------------------------


def test_estate_totals_and_organisations(estate, nodes_by_id, expected_confidences):
    decisions = of_kind(nodes_by_id, "decision")
    assert estate.totals == {
        "decisions": 26, "largest_people_affected": max(nodes_by_id[d].get("people_affected", 0) for d in decisions),
        "largest_value_gbp": pytest.approx(max(nodes_by_id[d].get("value_gbp", 0) for d in decisions)),
        "systems": len(of_kind(nodes_by_id, "system")), "datasets": len(of_kind(nodes_by_id, "dataset")),
        "ai_tools": len(of_kind(nodes_by_id, "ai_tool")),
        "ai_decisions": sum(c["ai_direct"] for c in expected_confidences.values()),
        "ai_earlier_only_decisions": sum(c["ai_earlier_only"] for c in expected_confidences.values())}
    assert estate.organisations == sorted({r["organisation"] for r in nodes_by_id.values()
                                           if r["kind"] in LEADER_KINDS and r.get("organisation")})


def test_readiness_counts_critical_and_ai_ready_systems(estate, nodes_by_id):
    systems = [nodes_by_id[s] for s in of_kind(nodes_by_id, "system")]
    critical = [s for s in systems if s.get("critical") is True]
    ready = [s for s in critical if s.get("ai_ready") is True]
    readiness = estate.readiness
    assert (readiness["systems"], readiness["critical"], readiness["critical_ready"]) == (
        len(systems), len(critical), len(ready))
    assert readiness["ai_ready"] == sum(s.get("ai_ready") is True for s in systems)
    assert readiness["headline"] == f"{len(ready)} of {len(critical)} critical systems are AI-ready."
    assert len(readiness["rows"]) == min(I.LISTED, len(critical))
    assert {row["id"] for row in readiness["rows"]} <= {s["id"] for s in critical}
    assert all(row["ai_ready"] == nodes_by_id[row["id"]].get("ai_ready") for row in readiness["rows"])
    assert [row["decisions"] for row in readiness["rows"]] == sorted((row["decisions"] for row in readiness["rows"]),
                                                                     reverse=True)


def test_ai_tools_without_oversight(estate, nodes_by_id):
    tools = [nodes_by_id[t] for t in of_kind(nodes_by_id, "ai_tool")]
    no_review = {t["id"] for t in tools if t.get("human_review") is not True}
    no_record = {t["id"] for t in tools if not t.get("atrs_url")}
    oversight = estate.ai_oversight
    assert (oversight["tools"], oversight["no_human_review"], oversight["no_transparency_record"],
            oversight["either"]) == (len(tools), len(no_review), len(no_record), len(no_review | no_record))
    assert {row["id"] for row in oversight["rows"]} == no_review | no_record
    assert no_review and no_record  # the samples have both gaps


def test_ownerless_assets(estate, nodes_by_id, nx_flow):
    expected = {kind: {n for n in of_kind(nodes_by_id, kind) if not nodes_by_id[n].get("owner")}
                for kind in I.OWNED_KINDS}
    assert estate.ownerless["by_kind"] == {kind: len(ids) for kind, ids in expected.items()}
    assert estate.ownerless["count"] == sum(map(len, expected.values())) == 4  # as lineage check finds
    rows = estate.ownerless["rows"]
    assert {row["id"] for row in rows} == set().union(*expected.values())
    for row in rows:
        if row["kind"] != "decision":
            assert row["decisions"] == downstream_totals(nx_flow, nodes_by_id, row["id"])[0]
    assert [r["decisions"] for r in rows] == sorted((r["decisions"] for r in rows), reverse=True)


def test_critical_assets_ranked_by_each_figure(estate, nodes_by_id, nx_flow):
    assets = of_kind(nodes_by_id, "system") + of_kind(nodes_by_id, "dataset")
    totals = {a: downstream_totals(nx_flow, nodes_by_id, a) for a in assets}
    assert estate.assets["count"] == len(assets)
    keys = {"decisions": lambda a: (-totals[a][0], -totals[a][1], -totals[a][2], a),
            "largest_people_affected": lambda a: (-totals[a][1], -totals[a][0], -totals[a][2], a),
            "largest_value_gbp": lambda a: (-totals[a][2], -totals[a][0], -totals[a][1], a)}
    assert tuple(keys) == I.RANKINGS
    for by, key in keys.items():
        rows = estate.assets["by"][by]
        assert [row["id"] for row in rows] == sorted(assets, key=key)[:I.LISTED], by
        for row in rows:
            assert (row["decisions"], row["largest_people_affected"]) == totals[row["id"]][:2]
            assert row["largest_value_gbp"] == pytest.approx(totals[row["id"]][2])
            assert row["name"] == nodes_by_id[row["id"]]["name"]


def test_shared_datasets(estate, nodes_by_id):
    shared = {d for d in of_kind(nodes_by_id, "dataset") if nodes_by_id[d].get("shared") is True}
    assert estate.shared["count"] == len(shared) > 0
    assert {row["id"] for row in estate.shared["rows"]} <= shared
    assert all(row["shared"] is True for row in estate.shared["rows"])


def without_names(described):
    """A described confidence (``Confidence.described``) without the words added for readers."""
    plain = {k: v for k, v in described.items() if k != "text"}
    for key in ("link", "primary", "supporting", "earlier"):
        if plain[key]:
            plain[key] = {k: v for k, v in plain[key].items() if k != "dataset_name"}
    return plain


def test_decisions_on_red_or_amber_data(estate, nodes_by_id, expected_confidences):
    confidence = expected_confidences
    counts = Counter(c["band"] for c in confidence.values())
    risk = estate.risky_decisions
    assert risk["counts"] == {band: counts.get(band, 0) for band in ("red", "amber", "green", "unknown")}
    risky = [d for d, c in confidence.items() if c["band"] in ("red", "amber")]
    assert risk["largest_people_affected"]["red"] == max(
        (nodes_by_id[d].get("people_affected", 0) for d in risky if confidence[d]["band"] == "red"), default=0)
    largest = max(nodes_by_id[d].get("people_affected", 0) for d in risky)
    assert risk["headline"] == (f"{len(risky)} of 26 decisions rest on red or amber data; the largest of them "
                                f"affects about {float(f'{largest:.2g}'):,.0f} people.")
    order = sorted(risky, key=lambda d: ({"red": 0, "amber": 1}[confidence[d]["band"]],
                                         -nodes_by_id[d].get("people_affected", 0),
                                         -nodes_by_id[d].get("value_gbp", 0), d))
    assert [row["id"] for row in risk["rows"]] == order[:I.LISTED]
    for row in risk["rows"]:
        expected = confidence[row["id"]]
        assert without_names(row["confidence"]) == expected
        name = nodes_by_id[expected["link"]["dataset"]]["name"]
        assert row["explanation"].startswith(f"{expected['band'].capitalize()}: the data behind this decision")
        assert f"because {name}" in row["explanation"]


def test_quality_by_dimension(estate, nodes_by_id):
    datasets = [nodes_by_id[d] for d in of_kind(nodes_by_id, "dataset")]
    quality = estate.quality
    assessed = [d for d in datasets if weakest_of(d.get("quality"))]
    assert (quality["datasets"], quality["assessed"], quality["unassessed"]) == (
        len(datasets), len(assessed), len(datasets) - len(assessed))
    for row in quality["dimensions"]:
        ratings = Counter(rag_of(d["quality"][row["dimension"]]) for d in datasets
                          if row["dimension"] in (d.get("quality") or {}))
        assert (row["red"], row["amber"], row["green"]) == (ratings["red"], ratings["amber"], ratings["green"])
        assert row["assessed"] == sum(ratings.values())
        for spot in row["hot_spots"]:
            assert spot["rag"] in ("red", "amber") and spot["rag"] == rag_of(
                nodes_by_id[spot["id"]]["quality"][row["dimension"]])


def test_one_organisation(session_graph, facts, nodes_by_id, nx_flow):
    council = "Northbridge Borough Council"
    result = I.insights(session_graph, council, facts=facts)
    assert result.organisation == council
    assert result.totals["decisions"] == len(of_kind(nodes_by_id, "decision", council)) == 8
    assert result.totals["datasets"] == len(of_kind(nodes_by_id, "dataset", council))
    systems = [nodes_by_id[s] for s in of_kind(nodes_by_id, "system", council)]
    assert result.readiness["critical"] == sum(s.get("critical") is True for s in systems)
    assert all(nodes_by_id[row["id"]]["organisation"] == council for row in result.assets["by"]["decisions"])
    ons = I.insights(session_graph, "Office for National Statistics", facts=facts)
    assert ons.totals["datasets"] == 1 and ons.totals["decisions"] == 0
    with pytest.raises(NotFoundError, match="no organisation called 'Nowhere'"):
        I.insights(session_graph, "Nowhere", facts=facts)


def test_insights_round_trip_as_json(estate):
    import json

    again = I.Insights.from_dict(json.loads(json.dumps(estate.as_dict())))
    assert again == estate


# -- the decisions table ----------------------------------------------------------------------------------


def test_decision_rows(session_graph, facts, nodes_by_id, expected_confidences):
    rows = I.decision_rows(session_graph, facts=facts)
    assert [r.id for r in rows] == sorted(of_kind(nodes_by_id, "decision"))
    for row in rows:
        record = nodes_by_id[row.id]
        expected = expected_confidences[row.id]
        assert (row.name, row.decision_type, row.frequency, row.organisation, row.people_affected) == (
            record["name"], record.get("decision_type"), record.get("frequency"), record.get("organisation"),
            record.get("people_affected"))
        link = expected["link"]
        assert row.confidence == (None if expected["band"] == "unknown" else expected["band"])
        assert row.weakest_dataset == (link["dataset"] if link else None)
        assert row.weakest_score == (link["score"] if link else None)
        assert (row.ai_involved, row.ai_earlier_only) == (expected["ai_direct"], expected["ai_earlier_only"])
        assert row.owner_name == (nodes_by_id[record["owner"]]["name"] if record.get("owner") else None)
    keys = sorted((r.confidence_key, r.weakest_dataset) for r in rows if r.confidence)
    ranks = sorted(({"red": 0, "amber": 1, "green": 2}[r.confidence], r.weakest_score if r.weakest_score is not None
                    else 2.0, r.weakest_dataset) for r in rows if r.confidence)
    assert [k[1] for k in keys] == [r[2] for r in ranks]  # the sort key orders weakest first


def test_csv_cells_are_never_formulas():
    out = text_io.StringIO()
    I.write_csv([{"a": "=1+1", "b": "@SUM(A1)"}, ["-2", "+x"], {"a": "'=y", "b": None}], ["a", "b"], out)
    assert out.getvalue().splitlines() == ["a,b", "'=1+1,'@SUM(A1)", "'-2,'+x", "''=y,"]


# -- one decision's provenance ----------------------------------------------------------------------------


def test_decision_provenance_of_every_decision(session_graph, nx_flow, nodes_by_id, samples, expected_confidences):
    _, edges = samples
    team_of = {e["source"]: e["target"] for e in edges if e["kind"] == "member_of"}
    for decision in of_kind(nodes_by_id, "decision"):
        page = I.decision_provenance(session_graph, decision)
        ancestors = nx.ancestors(nx_flow, decision)
        people = [a for a in ancestors if nodes_by_id[a]["kind"] == "person"]
        teams = Counter(team_of.get(p) for p in people)
        assert page.people_count == len(people)
        assert {t["id"]: t["people"] for t in page.teams} == dict(teams), decision
        assert all("name" in t and t["name"] != nodes_by_id.get(t["id"] or "", {}).get("role") for t in page.teams)
        datasets = [a for a in ancestors if nodes_by_id[a]["kind"] == "dataset"]
        assert page.dataset_count == len(datasets) and {d["id"] for d in page.datasets} == set(datasets)
        for row in page.datasets:
            quality = nodes_by_id[row["id"]].get("quality") or {}
            assert set(row["quality"]) == set(quality)
            assert all(row["quality"][d]["rag"] == rag_of(quality[d]) for d in quality)
        tools = {a for a in ancestors if nodes_by_id[a]["kind"] == "ai_tool"}
        assert page.ai_tool_count == len(tools) and {t["id"] for t in page.ai_tools} == tools
        for tool in page.ai_tools:
            record = nodes_by_id[tool["id"]]
            assert (tool["phase"], tool["human_review"], tool["atrs_url"]) == (
                record.get("phase"), record.get("human_review"), record.get("atrs_url"))
        assert {f["id"] for f in page.single_points_of_failure} == _dominating_every_origin(nx_flow, decision)
        assert without_names(page.confidence) == expected_confidences[decision], decision
        for row in page.paths:
            steps = [s["id"] for s in row["path"]]
            assert steps[-1] == decision and all(nx_flow.has_edge(a, b) for a, b in itertools.pairwise(steps))
            assert "person" not in {s["kind"] for s in row["path"]}
        # people never appear by name: only teams are listed
        names = {nodes_by_id[p]["name"] for p in people}
        assert not names & {t["name"] for t in page.teams}


def test_weakest_datasets_listed_first(session_graph, nodes_by_id):
    page = I.decision_provenance(session_graph, "social-housing-allocations", limit=3)
    assert page.dataset_count == 8 and len(page.datasets) == 3
    assert page.datasets[0]["id"] == "housing-register"
    assert page.confidence_text == ("Amber: the data behind this decision can be trusted only in part, because "
                                    "Housing register's timeliness is 0.71.")
    scores = [d["weakest"]["score"] for d in page.datasets]
    assert scores == sorted(scores)


def test_single_point_of_failure_is_said_in_words(session_graph):
    page = I.decision_provenance(session_graph, "ctr-scheme")
    names = [f["name"] for f in page.single_points_of_failure]
    assert names == ["Council Tax Reduction scheme modelling", "Council Tax Reduction claims",
                     "Revenues and benefits system"]
    assert page.failures_text.startswith("Every path into this decision passes through Council Tax Reduction "
                                         "scheme modelling, Council Tax Reduction claims and Revenues and")


def test_decision_provenance_refuses_other_kinds(session_graph):
    with pytest.raises(LineageError, match="'housing-register' is a dataset; provenance is for a decision"):
        I.decision_provenance(session_graph, "housing-register")
    with pytest.raises(NotFoundError):
        I.decision_provenance(session_graph, "nobody")


# -- what if ----------------------------------------------------------------------------------------------


def decisions_it_informs(nx_flow, nodes_by_id, dataset):
    """The decisions a dataset informs along paths through no other decision: the ones whose data
    confidence its quality can change (data behind recorded outcomes is never decisive)."""
    is_decision = {n for n in nx_flow if nodes_by_id[n]["kind"] == "decision"}
    reached = nx.descendants(nx_flow.subgraph(set(nx_flow) - is_decision), dataset) | {dataset}
    return {t for s in reached for t in nx_flow.successors(s) if t in is_decision
            and nx_flow.edges[s, t]["kind"] == "informs"}


def expected_what_if(nx_flow, nodes_by_id, dataset, changes):
    """(decisions whose band would change -> (before, after) bands, decisions informed, decisions whose
    band stays but whose reason would change), with networkx."""
    changed = {**(nodes_by_id[dataset].get("quality") or {}), **changes}
    modified = {**nodes_by_id, dataset: {**nodes_by_id[dataset], "quality": changed}}
    moved, relinked = {}, 0
    informed = decisions_it_informs(nx_flow, nodes_by_id, dataset)
    for decision in informed:
        before = expected_decision_confidence(nx_flow, nodes_by_id, decision)
        after = expected_decision_confidence(nx_flow, modified, decision)
        if before["band"] != after["band"]:
            moved[decision] = (before["band"], after["band"], after["link"])
        elif before["link"] != after["link"]:
            relinked += 1
    return moved, len(informed), relinked


WORST_FIRST = {"red": 0, "amber": 1, "green": 2, "unknown": 3}


def assert_what_if_matches(result, nx_flow, nodes_by_id, dataset, changes):
    moved, informed, relinked = expected_what_if(nx_flow, nodes_by_id, dataset, changes)
    got = {c.decision: c for c in result.changed}
    assert {d: (c.before["band"], c.after["band"]) for d, c in got.items()} == {
        d: m[:2] for d, m in moved.items()}, (dataset, changes)
    for decision, (_, after, link) in moved.items():
        change = got[decision]
        assert change.band_change == f"{change.before['band']} to {after}"
        assert {k: v for k, v in (change.after["link"] or {}).items() if k != "dataset_name"} == (link or {})
        assert change.worse == (WORST_FIRST[after] < WORST_FIRST[change.before["band"]])
    assert (result.changed_count, result.decisions_downstream, result.link_changes) == (len(moved), informed,
                                                                                        relinked)
    assert result.worse + result.better == len(moved)
    # losses first
    assert [c.worse for c in result.changed] == sorted((c.worse for c in result.changed), reverse=True)
    return moved


@pytest.mark.parametrize("score", [0.0, 0.4, 0.69, 0.7, 0.85, 0.9, 1.0])
def test_what_if_matches_networkx_for_every_dataset(session_graph, nx_flow, nodes_by_id, score):
    rng = random.Random(int(score * 100))
    for dataset in of_kind(nodes_by_id, "dataset"):
        changes = {rng.choice(DIMENSIONS): score}
        assert_what_if_matches(what_if(session_graph, dataset, changes), nx_flow, nodes_by_id, dataset, changes)


@pytest.mark.parametrize("seed", range(4))
def test_what_if_matches_networkx_on_random_graphs(seed):
    nodes, edges = random_estate(seed)
    g = LineageGraph.from_records(nodes, edges)
    graph, by_id = flow_graph(nodes, edges), {n["id"]: n for n in nodes}
    rng = random.Random(seed)
    for dataset in of_kind(by_id, "dataset"):
        changes = {rng.choice(DIMENSIONS): rng.choice([0.2, 0.75, 0.95])}
        assert_what_if_matches(what_if(g, dataset, changes), graph, by_id, dataset, changes)


def test_what_if_housing_register_timeliness_drops(session_graph, nx_flow, nodes_by_id):
    result = what_if(session_graph, "housing-register", {"timeliness": 0.4})
    moved = assert_what_if_matches(result, nx_flow, nodes_by_id, "housing-register", {"timeliness": 0.4})
    assert len(moved) > 0
    allocations = next(c for c in result.changed if c.decision == "social-housing-allocations")
    assert (allocations.before["band"], allocations.after["band"]) == ("amber", "red")
    assert allocations.band_change == "amber to red" and allocations.worse
    assert "Housing register's timeliness is 0.40" in allocations.after["text"]
    assert result.weakest_after == {"dimension": "timeliness", "score": 0.4, "rag": "red"}
    assert result.quality_after["timeliness"] == {"score": 0.4, "rag": "red"}
    assert result.quality_before["timeliness"] == {"score": 0.71, "rag": "amber"}
    assert result.summary == ("Setting Housing register's timeliness to 0.40 would move the decision downstream "
                              "down a band (1 from amber to red).")
    assert result.worse == len(moved) and result.better == 0


def test_what_if_that_moves_no_band_says_so(session_graph, nx_flow, nodes_by_id):
    same = what_if(session_graph, "housing-register", {"timeliness": 0.75})
    assert same.changed == [] and same.changed_count == 0
    assert same.link_changes > 0  # the reason's score changes; the band does not
    assert "would move no decision to another band" in same.summary
    better = what_if(session_graph, "housing-register", {"timeliness": 0.99})
    moved = assert_what_if_matches(better, nx_flow, nodes_by_id, "housing-register", {"timeliness": 0.99})
    assert better.better == len(moved) and better.worse == 0


def test_what_if_on_an_unassessed_dataset(session_graph, nx_flow, nodes_by_id):
    result = what_if(session_graph, "ctr-housing-match", {"accuracy": 0.3})
    assert_what_if_matches(result, nx_flow, nodes_by_id, "ctr-housing-match", {"accuracy": 0.3})
    assert result.weakest_before is None


@pytest.mark.parametrize("dataset, changes, message", [
    ("officer-ali", {"timeliness": 0.4}, "'officer-ali' is a person; a what-if changes the quality of a dataset"),
    ("housing-register", {"speed": 0.4}, "unknown quality dimension 'speed'"),
    ("housing-register", {"timeliness": 1.5}, "a timeliness score must be a number from 0 to 1, got 1.5"),
    ("housing-register", {"timeliness": float("nan")}, "must be a number from 0 to 1"),
    ("housing-register", {"timeliness": True}, "must be a number from 0 to 1"),
    ("housing-register", {}, "say which quality dimension to change"),
])
def test_what_if_errors(session_graph, dataset, changes, message):
    with pytest.raises(LineageError, match=message):
        what_if(session_graph, dataset, changes)


def test_what_if_changes_nothing_stored(loaded_store):
    before = loaded_store.version, loaded_store.node("housing-register")
    what_if(LineageGraph.from_store(loaded_store), "housing-register", {"timeliness": 0.1})
    assert (loaded_store.version, loaded_store.node("housing-register")) == before


# -- charts -----------------------------------------------------------------------------------------------


def test_insights_charts_are_accessible_svg(estate):
    charts = I.charts(estate)
    assert [c.id for c in charts] == ["confidence", "readiness", "quality"]
    readiness = charts[1].as_dict()["rows"]
    assert readiness[0]["values"] == {"ai_ready": estate.readiness["critical_ready"],
                                      "not_ready": estate.readiness["critical"] - estate.readiness["critical_ready"]}
    assert sum(row["total"] for row in readiness) == estate.readiness["systems"]
    quality = {row["category"]: row["values"] for row in charts[2].as_dict()["rows"]}
    for row in estate.quality["dimensions"]:
        assert quality[row["dimension"].capitalize()] == {"red": row["red"], "amber": row["amber"],
                                                          "green": row["green"]}
    for chart in charts:
        svg = chart.svg()
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{chart.id}-title {chart.id}-desc"
        assert root.find(f"{SVG}title").text == chart.title and root.find(f"{SVG}desc").text == chart.summary
        assert "style=" not in svg and "<script" not in svg
        texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
        for series in chart.series:
            assert series.label in texts  # the legend says what each pattern means, in words


def test_chart_text_is_escaped_and_patterns_differ():
    chart = Chart("hostile", "<script>alert(1)</script>", 'A "quote" & more', ['</text><script>x</script>'],
                  [RED, AMBER, GREEN], [[1, 2, 3]])
    svg = chart.svg()
    root = ET.fromstring(svg)  # still well-formed
    assert "<script" not in svg and root.find(f"{SVG}title").text == "<script>alert(1)</script>"
    patterns = root.findall(f"{SVG}defs/{SVG}pattern")
    assert len(patterns) == 3 and len({ET.tostring(p) for p in patterns}) == 3
    with pytest.raises(ValueError, match="chart id"):
        Chart("Bad id", "t", "s", [], [RED], [])
    with pytest.raises(ValueError, match="one value per series"):
        Chart("c", "t", "s", ["a"], [RED, AMBER], [[1]])


# -- materialised ------------------------------------------------------------------------------------------


def test_refresh_stores_every_organisation_and_the_table(loaded_store, nodes_by_id, estate):
    assert materialised.stored(loaded_store) is None and materialised.stored_version(loaded_store) is None
    assert materialised.decision_page(loaded_store, DecisionQuery()).rows == []
    summary = materialised.refresh(loaded_store, LineageGraph.from_store(loaded_store))
    assert summary.version == loaded_store.version == 1
    assert summary.decisions == summary.decisions_written == 26 and summary.organisations == len(estate.organisations)
    stored = materialised.stored(loaded_store)
    assert stored.version == 1 and stored.body == {**estate.as_dict(), "graph_version": 1}
    for organisation in estate.organisations:
        found = materialised.stored(loaded_store, materialised.organisation_key(organisation))
        assert found.body["organisation"] == organisation
    choices = materialised.stored(loaded_store, materialised.DECISIONS).body
    decisions = [nodes_by_id[d] for d in of_kind(nodes_by_id, "decision")]
    assert choices["count"] == 26 and choices["types"] == sorted({d["decision_type"] for d in decisions})
    assert materialised.refresh(loaded_store, LineageGraph.from_store(loaded_store)) is None  # already current


def test_refresh_after_one_edit_writes_only_what_changed(loaded_store, nx_flow, nodes_by_id):
    materialised.refresh(loaded_store, LineageGraph.from_store(loaded_store))
    stale = LineageGraph.from_store(loaded_store)
    with loaded_store.change("jo", "timeliness falls") as change:
        change.update_node("housing-register", {"quality": {**nodes_by_id["housing-register"]["quality"],
                                                            "timeliness": 0.4}})
    assert materialised.refresh(loaded_store, stale) is None  # the store moved on: refresh from a newer graph
    summary = materialised.refresh(loaded_store, LineageGraph.from_store(loaded_store))
    moved, _, relinked = expected_what_if(nx_flow, nodes_by_id, "housing-register", {"timeliness": 0.4})
    assert summary.version == 2 and summary.decisions_written == len(moved) + relinked > 0
    rows = {r["id"]: r for r in materialised.decision_page(loaded_store, DecisionQuery(page_size=500)).rows}
    for decision, (_, after, link) in moved.items():
        assert (rows[decision]["confidence"], rows[decision]["weakest_score"]) == (after, link["score"])


def test_an_older_result_never_replaces_a_newer_one(loaded_store):
    old = LineageGraph.from_store(loaded_store)
    with loaded_store.change("jo", "rename") as change:
        change.update_node("housing-register", {"name": "The housing register"})
    materialised.refresh(loaded_store, LineageGraph.from_store(loaded_store))
    assert materialised.stored_version(loaded_store) == 2
    assert materialised.refresh(loaded_store, old, force=True) is None
    assert materialised.stored_version(loaded_store) == 2


def test_decision_pages_filter_and_sort_like_python(loaded_store, session_graph, facts):
    materialised.refresh(loaded_store, LineageGraph.from_store(loaded_store))
    rows = [r.as_dict() for r in I.decision_rows(session_graph, facts=facts)]

    def page(**query):
        return materialised.decision_page(loaded_store, DecisionQuery(page_size=500, **query))

    assert page().total == 26
    by_people = page(sort="people").rows
    assert [r["id"] for r in by_people] == [r["id"] for r in sorted(rows, key=lambda r: (
        r["people_affected"] if r["people_affected"] is not None else -1, r["id"]), reverse=True)]  # ties too
    by_name = page(sort="name", order="asc").rows
    assert [r["name"] for r in by_name] == sorted(r["name"] for r in rows)
    by_confidence = page().rows
    known = [r for r in rows if r["confidence"]]
    assert [r["id"] for r in by_confidence[:len(known)]] == [r["id"] for r in sorted(
        known, key=lambda r: (r["confidence_key"], r["weakest_dataset"], r["id"]))]
    assert all(r["confidence"] is None and r["confidence_key"] == band_sort_key("unknown", None)
               for r in by_confidence[len(known):])  # unknown last
    assert page(confidence="red").total == sum(r["confidence"] == "red" for r in rows)
    assert page(confidence="unknown").total == sum(r["confidence"] is None for r in rows)
    assert page(ai=True).total == sum(r["ai_involved"] for r in rows)
    assert page(decision_type="funding", organisation="Northbridge Borough Council").total == sum(
        r["decision_type"] == "funding" and r["organisation"] == "Northbridge Borough Council" for r in rows)
    assert [r["id"] for r in page(text="housing").rows] == [r["id"] for r in sorted(
        (r for r in rows if "housing" in r["name"].lower()), key=lambda r: (r["confidence_key"] is None,
                                                                         r["confidence_key"] or 0,
                                                                         r["weakest_dataset"] or "", r["id"]))]
    assert page(text="100%_").total == 0  # LIKE wildcards are plain text
    assert page(owner="owner-jo").total == sum(r["owner"] == "owner-jo" for r in rows)
    second = materialised.decision_page(loaded_store, DecisionQuery(page=2, page_size=10))
    assert [r["id"] for r in second.rows] == [r["id"] for r in by_confidence[10:20]] and second.pages == 3
    assert len(list(materialised.decision_table(loaded_store, DecisionQuery(confidence="red")))) == \
        page(confidence="red").total
    with pytest.raises(LineageError, match="sort must be one of"):
        materialised.decision_page(loaded_store, DecisionQuery(sort="colour"))
    with pytest.raises(LineageError, match="a page holds 1 to 500 decisions"):
        materialised.decision_page(loaded_store, DecisionQuery(page_size=0))


def test_a_store_never_refreshed_is_untouched(tmp_path, samples_db):
    from conftest import copy_db

    path = copy_db(samples_db, tmp_path / "fresh.db")
    store = Store(path)
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert materialised.stored(store) is None
    assert {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == tables
    store.close()


def test_a_person_who_is_a_single_point_of_failure_can_stay_unnamed(session_graph, nodes_by_id, samples):
    named = I.decision_provenance(session_graph, "nhs-theatre-scheduling")
    person = next(f for f in named.single_points_of_failure if f["kind"] == "person")
    name = nodes_by_id[person["id"]]["name"]
    assert name in named.failures_text
    team = next(e["target"] for e in samples[1] if e["kind"] == "member_of" and e["source"] == person["id"])
    hidden = I.decision_provenance(session_graph, "nhs-theatre-scheduling", name_people=False)
    row = next(f for f in hidden.single_points_of_failure if f["kind"] == "person")
    assert row == {"id": None, "kind": "person", "name": f"one person in {nodes_by_id[team]['name']}"}
    assert name not in hidden.failures_text and name not in str(hidden.as_dict())

"""Path to green (lineage.confidence.path_to_green), on the pages, twins and command line, checked
by applying its fixes and re-rating the decision with the networkx reference of the documented rules."""
from __future__ import annotations

import json

import pytest
from conftest import flow_graph, run
from test_graph import expected_decision_confidence
from test_insights import random_estate

from lineage.confidence import FIXES_LISTED, confidence_pass, path_to_green
from lineage.errors import LineageError
from lineage.graph import LineageGraph
from web import create_app

ORDER = ("red", "amber", "green", "unknown")


@pytest.fixture
def client(db_path):
    return create_app({"LINEAGE_DB": str(db_path), "TESTING": True}).test_client()


def with_fixes(nodes_by_id, fixes):
    """The records with every fix applied: each (dataset, dimension) raised to its target."""
    changed = dict(nodes_by_id)
    for fix in fixes:
        record = changed[fix.dataset]
        changed[fix.dataset] = {**record, "quality": {**(record.get("quality") or {}), fix.dimension: fix.target}}
    return changed


def assert_each_step_is_enough_and_nothing_spare(g, graph, nodes_by_id, decision):
    plan = path_to_green(g, decision)
    before = expected_decision_confidence(graph, nodes_by_id, decision)["band"]
    assert plan.band == before, decision
    if before in ("green", "unknown"):
        assert plan.steps == [], decision
        return plan
    assert [s.band for s in plan.steps] == list(ORDER[ORDER.index(before) + 1:ORDER.index("green") + 1])
    for step in plan.steps:
        if len(step.fixes) >= FIXES_LISTED or "more datasets" in step.text:
            continue  # a listed part of a longer plan: not the whole of it
        after = expected_decision_confidence(graph, with_fixes(nodes_by_id, step.fixes), decision)["band"]
        assert ORDER.index(after) >= ORDER.index(step.band), (decision, step.band, after)
        for left_out in range(len(step.fixes)):
            fewer = step.fixes[:left_out] + step.fixes[left_out + 1:]
            short = expected_decision_confidence(graph, with_fixes(nodes_by_id, fewer), decision)["band"]
            assert ORDER.index(short) < ORDER.index(step.band), (decision, step.band, step.fixes[left_out])
    return plan


def test_path_to_green_of_every_sample_decision(session_graph, nx_flow, nodes_by_id):
    confidence_pass(session_graph)
    plans = {d: assert_each_step_is_enough_and_nothing_spare(session_graph, nx_flow, nodes_by_id, d)
             for d, r in nodes_by_id.items() if r["kind"] == "decision"}
    assert sum(bool(p.steps) for p in plans.values()) >= 10  # most sample decisions have a way up


@pytest.mark.parametrize("seed", range(6))
def test_path_to_green_on_random_graphs_with_supporting_inputs(seed):
    nodes, edges = random_estate(seed, size=80)
    g = LineageGraph.from_records(nodes, edges)
    graph, by_id = flow_graph(nodes, edges), {n["id"]: n for n in nodes}
    for decision in (n["id"] for n in nodes if n["kind"] == "decision"):
        assert_each_step_is_enough_and_nothing_spare(g, graph, by_id, decision)


def small_estate():
    """reg (primary, timeliness 0.55, owned by Jo) and scan (supporting, accuracy 0.8) inform
    alloc; reg also informs budget."""
    nodes = [{"id": "jo", "kind": "person", "name": "Jo Fletcher"},
             {"id": "reg", "kind": "dataset", "name": "Register", "owner": "jo",
              "quality": {"timeliness": 0.55, "validity": 0.95}},
             {"id": "scan", "kind": "dataset", "name": "Scans", "quality": {"accuracy": 0.8}},
             {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 3400},
             {"id": "budget", "kind": "decision", "name": "Budget", "people_affected": 170000}]
    edges = [{"source": "reg", "target": "alloc", "kind": "informs"},
             {"source": "scan", "target": "alloc", "kind": "informs", "influence": "supporting"},
             {"source": "reg", "target": "budget", "kind": "informs"}]
    return LineageGraph.from_records(nodes, edges)


def test_a_supporting_input_is_fixed_only_for_green_and_fixes_name_owner_flags_and_other_decisions():
    g = small_estate()
    flags = {"reg": [{"id": 7, "text": "Dates entered late", "status": "open"}]}
    plan = path_to_green(g, "alloc", open_flags=lambda ids: {i: flags[i] for i in ids if i in flags})
    assert plan.band == "red"
    amber, green = plan.steps
    assert [(f.dataset, f.dimension, f.target, f.role) for f in amber.fixes] == [("reg", "timeliness", 0.7, "primary")]
    # green needs the supporting data green too: it would lower a green rating to amber
    assert [(f.dataset, f.dimension, f.target, f.role) for f in green.fixes] == [
        ("reg", "timeliness", 0.9, "primary"), ("scan", "accuracy", 0.9, "supporting")]
    fix = amber.fixes[0]
    assert fix.owner == {"id": "jo", "name": "Jo Fletcher", "kind": "person"}
    assert fix.open_flags == flags["reg"]
    assert (fix.helps_count, fix.helps[0]["id"], fix.helps[0]["people_affected"]) == (1, "budget", 170000)
    assert plan.text == ("To reach amber: raise Register's timeliness from 0.55 to 0.70. To reach green: raise "
                         "Register's timeliness from 0.55 to 0.90 and raise Scans' accuracy from 0.80 to 0.90.")
    assert json.loads(json.dumps(plan.as_dict()))["steps"][0]["fixes"][0]["dataset"] == "reg"


def test_path_to_green_of_green_and_unknown_decisions_and_wrong_kinds():
    g = LineageGraph.from_records(
        [{"id": "good", "kind": "dataset", "name": "Good", "quality": {"accuracy": 0.95}},
         {"id": "blank", "kind": "dataset", "name": "Blank"},
         {"id": "fine", "kind": "decision", "name": "Fine"}, {"id": "dark", "kind": "decision", "name": "Dark"}],
        [{"source": "good", "target": "fine", "kind": "informs"}, {"source": "blank", "target": "dark", "kind": "informs"}])
    assert path_to_green(g, "fine").text == "It is already green: the data behind it can be trusted well."
    dark = path_to_green(g, "dark")
    assert dark.band == "unknown" and dark.steps == [] and dark.unassessed == [{"id": "blank", "name": "Blank"}]
    assert dark.text.startswith("Its confidence is unknown")
    with pytest.raises(LineageError, match="'good' is a dataset; a path to green is for a decision"):
        path_to_green(g, "good")


def test_path_to_green_command(runner, db_path):
    result = run(runner, ["--db", db_path, "path-to-green", "prevention-grant-bid"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Homelessness Prevention Grant bid 2027/28 is red. To reach amber: raise "
                               "Homelessness prevention and relief cases' timeliness from 0.55 to 0.70.")
    assert "To reach amber:" in lines and "To reach green:" in lines
    assert "     Owner: Helen Marsh; no open flags." in lines
    data = json.loads(run(runner, ["--db", db_path, "path-to-green", "--json", "prevention-grant-bid"]).output)
    assert data["band"] == "red" and [s["band"] for s in data["steps"]] == ["amber", "green"]
    assert data["steps"][0]["fixes"][0]["owner"]["name"] == "Helen Marsh"
    missing = run(runner, ["--db", db_path, "path-to-green", "nowhere"])
    assert missing.exit_code == 1 and missing.output == "Error: no node with id 'nowhere'\n"
    wrong = run(runner, ["--db", db_path, "path-to-green", "housing-register"])
    assert wrong.exit_code == 1 and "a path to green is for a decision" in wrong.output


def test_path_to_green_on_the_decision_page_and_twin(client):
    twin = client.get("/decisions/prevention-grant-bid.json").get_json()
    plan = twin["path_to_green"]
    assert plan["band"] == "red" and [s["band"] for s in plan["steps"]] == ["amber", "green"]
    page = client.get("/decisions/prevention-grant-bid")
    assert page.status_code == 200
    assert 'id="path-to-green"' in page.text and "What would make it green" in page.text
    first = plan["steps"][0]["fixes"][0]
    assert f"Raise the {first['dimension']} of" in page.text and first["dataset_name"] in page.text

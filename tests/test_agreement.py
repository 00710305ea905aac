"""One definition of each figure: My impact, the decision page, the decisions table, Insights and
the command line say the same of every sample decision, and what they say is what networkx finds
by the documented rules."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

import networkx as nx
import pytest
from conftest import run
from test_graph import expected_ai_tools, expected_decision_confidence

from web import create_app

CONFIDENCE_FIELDS = ("band", "lowered_by_supporting", "ai_direct", "ai_earlier_only")


@pytest.fixture(scope="module")
def expected(nx_flow, nodes_by_id):
    return {d: expected_decision_confidence(nx_flow, nodes_by_id, d) for d, r in nodes_by_id.items()
            if r["kind"] == "decision"}


@pytest.fixture(scope="module")
def client(tmp_path_factory, samples_db):
    from conftest import copy_db

    db = copy_db(samples_db, tmp_path_factory.mktemp("agreement") / "web.db")
    return create_app({"LINEAGE_DB": str(db), "TESTING": True}).test_client()


def plain(confidence):
    """What a page or twin says of a decision's confidence, without the words added for readers."""
    result = {k: confidence[k] for k in CONFIDENCE_FIELDS}
    result["link"] = {k: v for k, v in confidence["link"].items() if k != "dataset_name"} if confidence["link"] else None
    return result


def reference(expected_confidence):
    return {**{k: expected_confidence[k] for k in CONFIDENCE_FIELDS}, "link": expected_confidence["link"]}


def test_decision_pages_table_insights_and_cli_agree_on_every_decision(client, runner, db_path, expected,
                                                                       nodes_by_id, nx_flow):
    table = {r["id"]: r for r in client.get("/decisions.json?page_size=500").get_json()["rows"]}
    download = {r["id"]: r for r in csv.DictReader(io.StringIO(client.get("/decisions.csv").get_data(as_text=True)))}
    insights = client.get("/insights.json").get_json()["insights"]
    risky = {r["id"]: r for r in insights["risky_decisions"]["rows"]}
    assert len(table) == len(download) == len(expected) == 26
    for decision, want in expected.items():
        page = client.get(f"/decisions/{decision}.json").get_json()
        assert plain(page["confidence"]) == reference(want), decision
        cli = json.loads(run(runner, ["--db", db_path, "provenance", "--json", decision]).output)
        assert plain(cli["confidence"]) == reference(want), decision
        band = None if want["band"] == "unknown" else want["band"]
        row = table[decision]
        assert (row["confidence"], row["ai_involved"], row["ai_earlier_only"]) == (
            band, want["ai_direct"], want["ai_earlier_only"]), decision
        assert row["weakest_dataset"] == (want["link"] or {}).get("dataset"), decision
        assert (download[decision]["confidence"] or None) == band, decision
        if decision in risky:
            assert band in ("red", "amber") and plain(risky[decision]["confidence"]) == reference(want), decision
        # the AI tools the page lists say whether they inform the decision directly
        direct = {t["id"] for t in page["ai_tools"] if t["direct"]}
        assert bool(direct) == want["ai_direct"], decision
        people = nodes_by_id[decision].get("people_affected")
        assert row["people_affected"] == people, decision
    counts = Counter(w["band"] for w in expected.values())
    assert len(risky) == min(20, counts["red"] + counts["amber"])
    assert insights["risky_decisions"]["counts"] == {b: counts.get(b, 0) for b in ("red", "amber", "green", "unknown")}
    assert insights["totals"]["ai_decisions"] == sum(w["ai_direct"] for w in expected.values())


def contributors(nodes_by_id, nx_flow):
    """People whose records reach the most decisions, one per organisation: the My impact pages
    that show most."""
    best = {}
    for person, record in nodes_by_id.items():
        if record["kind"] != "person":
            continue
        reached = sum(nodes_by_id[n]["kind"] == "decision" for n in nx.descendants(nx_flow, person))
        organisation = record.get("organisation")
        if reached and reached > best.get(organisation, (0, None))[0]:
            best[organisation] = (reached, person)
    return sorted(p for _, p in best.values())


def test_my_impact_cards_agree_with_the_decision_pages(client, expected, nodes_by_id, nx_flow):
    people = contributors(nodes_by_id, nx_flow)
    assert "officer-ali" in people or len(people) >= 3
    for person in people:
        report = client.get(f"/people/{person}.json").get_json()
        reached = {d for d in nx.descendants(nx_flow, person) if nodes_by_id[d]["kind"] == "decision"}
        assert {c["id"] for c in report["decisions"]} == reached, person
        for card in report["decisions"]:
            assert plain(card["confidence"]) == reference(expected[card["id"]]), (person, card["id"])
            direct, earlier = expected_ai_tools(nx_flow, nodes_by_id, [person], card["id"])
            assert ([t["id"] for t in card["ai_tools"]], [t["id"] for t in card["ai_tools_earlier"]]) == (
                direct, earlier), (person, card["id"])
            assert (card["ai_tool_count"], card["ai_tool_earlier_count"]) == (len(direct), len(earlier))
            assert card["people_affected"] == nodes_by_id[card["id"]].get("people_affected")
        largest = max(reached, key=lambda d: (nodes_by_id[d].get("people_affected") or 0))
        assert report["totals"]["largest_people_affected"] == (nodes_by_id[largest].get("people_affected") or 0)


def test_an_ai_tool_beyond_the_kept_paths_is_named_on_the_card(client, nodes_by_id):
    """Ali's records reach the council budget through the TA demand forecast on a path longer than
    the ones the card keeps: the card names it all the same."""
    report = client.get("/people/officer-ali.json").get_json()
    budget = next(c for c in report["decisions"] if c["id"] == "housing-budget-setting")
    on_paths = {s for p in budget["paths"] for s in p if nodes_by_id[s]["kind"] == "ai_tool"}
    assert "ta-demand-forecast" not in on_paths
    assert "ta-demand-forecast" in {t["id"] for t in budget["ai_tools"]}
    page = client.get("/people/officer-ali").text
    assert "Temporary accommodation demand forecast" in page

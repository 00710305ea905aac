"""The leader pages through Flask's test client: decisions, a decision's provenance, insights,
explore and what-if, each page and its JSON twin, the downloads, the error paths, who may see
what, and the materialised results being served and refreshed.

Figures are checked against expectations computed from the sample files with networkx.
"""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from urllib.parse import quote

import networkx as nx
import pytest
from markupsafe import escape

from conftest import client_as, copy_db, write_graph, with_demo_accounts
from test_graph import _dominating_every_origin
from test_graph import expected_decision_confidence
from test_insights import downstream_totals, expected_what_if, of_kind

from lineage import io as lineage_io
from lineage import materialised
from lineage.store import Store
from web import create_app, leader

COUNCIL = "Northbridge Borough Council"


@pytest.fixture
def db(tmp_path, samples_db):
    return copy_db(samples_db, tmp_path / "web.db")


@pytest.fixture
def app(db):
    return create_app({"LINEAGE_DB": str(db), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def client_of(tmp_path, nodes: list[dict], edges: list[dict]):
    """A test client of an app on a database holding just these nodes and edges."""
    db = tmp_path / "graph.db"
    store = Store(db, create=True)
    store.load(lineage_io.read_files([write_graph(tmp_path / "graph.json", nodes, edges)], store), actor="t",
               summary="t")
    store.close()
    return create_app({"LINEAGE_DB": str(db), "TESTING": True}).test_client()


def shows_text(page, text: str) -> bool:
    return str(escape(text)) in page.text


def error_of(response) -> str:
    return response.get_json()["error"]["message"]


def band_of(nx_flow, nodes_by_id, decision):
    """A decision's data confidence band by the documented rules (None when unknown), with networkx."""
    band = expected_decision_confidence(nx_flow, nodes_by_id, decision)["band"]
    return None if band == "unknown" else band


# ---------------------------------------------------------------------------------------------
# Insights


def test_insights_page_and_twin_match_networkx(client, nodes_by_id, nx_flow):
    page = client.get("/insights")
    assert page.status_code == 200
    twin = client.get("/insights.json")
    assert twin.status_code == 200
    data = twin.get_json()
    insights = data["insights"]
    decisions = of_kind(nodes_by_id, "decision")
    assert insights["totals"]["decisions"] == len(decisions)
    assert insights["totals"]["largest_people_affected"] == max(nodes_by_id[d].get("people_affected", 0)
                                                                for d in decisions)
    assert "people_affected" not in insights["totals"] and "value_gbp" not in insights["totals"]
    counts = Counter(band_of(nx_flow, nodes_by_id, d) or "unknown" for d in decisions)
    assert insights["risky_decisions"]["counts"] == {k: counts.get(k, 0) for k in ("red", "amber", "green", "unknown")}
    systems = [nodes_by_id[s] for s in of_kind(nodes_by_id, "system")]
    critical = [s for s in systems if s.get("critical") is True]
    ready = [s for s in critical if s.get("ai_ready") is True]
    headline = f"{len(ready)} of {len(critical)} critical systems are AI-ready."
    assert insights["readiness"]["headline"] == headline
    assert f'id="readiness-headline">{headline}</p>' in page.text
    top = insights["assets"]["by"]["decisions"][0]
    assert (top["decisions"], top["largest_people_affected"]) == downstream_totals(nx_flow, nodes_by_id,
                                                                                  top["id"])[:2]
    assert shows_text(page, top["name"])
    assert [c["id"] for c in data["charts"]] == ["confidence", "readiness", "quality"]
    assert data["status"]["current"] is True and data["status"]["version"] == 1


def test_insights_page_draws_accessible_charts_with_table_twins(client):
    page = client.get("/insights")
    svgs = re.findall(r"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\".*?</svg>", page.text, re.DOTALL)
    assert len(svgs) == 3
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img" and root.get("aria-labelledby")
        assert "style=" not in svg
    assert page.text.count(": the figures") == 3  # each chart's table twin
    counts = client.get("/insights.json").get_json()["insights"]["risky_decisions"]["counts"]
    line = (f"Red {counts['red']}, Amber {counts['amber']}, Green {counts['green']}, "
            f"Not assessed {counts['unknown']}")
    assert line in svgs[0]  # each bar says its figures in words, not by colour alone


def test_insights_for_one_organisation(client, nodes_by_id):
    data = client.get(f"/insights.json?organisation={quote(COUNCIL)}").get_json()["insights"]
    assert data["organisation"] == COUNCIL
    assert data["totals"]["decisions"] == len(of_kind(nodes_by_id, "decision", COUNCIL))
    assert data["totals"]["systems"] == len(of_kind(nodes_by_id, "system", COUNCIL))
    page = client.get(f"/insights?organisation={quote(COUNCIL)}")
    assert page.status_code == 200 and f'<option value="{COUNCIL}" selected>' in page.text
    assert "Insights for Northbridge Borough Council" in page.text


def test_insights_ranks_assets_by_each_figure(client):
    for by in ("decisions", "largest_people_affected", "largest_value_gbp"):
        page = client.get(f"/insights?by={by}")
        assert page.status_code == 200
        assert re.search(rf'href="/insights\?by={by}#critical-assets" aria-current="true"', page.text), by


@pytest.mark.parametrize("url, status, message", [
    ("/insights?organisation=Nowhere", 404, "there is no organisation called 'Nowhere'"),
    ("/insights?by=colour", 400, "by must be one of: decisions, largest_people_affected, largest_value_gbp; got 'colour'"),
    ("/insights?organisation=" + "x" * 300, 400, "organisation is at most 200 characters"),
])
def test_insights_errors(client, url, status, message):
    page = client.get(url)
    assert page.status_code == status and shows_text(page, message[:1].upper() + message[1:])
    twin = client.get(url.replace("/insights?", "/insights.json?"))
    assert twin.status_code == status and message in error_of(twin)


# ---------------------------------------------------------------------------------------------
# Materialised results: served as stored, refreshed in the background


def test_stale_insights_are_served_labelled_then_refreshed(app, client, db):
    assert client.get("/insights").status_code == 200  # computes and stores (nothing was stored)
    store = Store(db)
    with store.change("tester", "timeliness falls") as change:
        quality = store.node("housing-register")["quality"]
        change.update_node("housing-register", {"quality": {**quality, "timeliness": 0.4}})
    store.close()
    stale = client.get("/insights.json").get_json()
    assert stale["status"] == {**stale["status"], "version": 1, "graph_version": 2, "current": False,
                               "refreshing": True}
    page = client.get("/insights")
    assert "before the latest change to the map; they are being brought up to date" in page.text
    assert leader.refresher(app).wait(timeout=60)
    fresh = client.get("/insights.json").get_json()
    assert fresh["status"]["current"] is True and fresh["status"]["version"] == 2
    rows = client.get("/decisions.json?q=Social+housing+allocations").get_json()["rows"]
    assert rows[0]["confidence"] == "red" and rows[0]["weakest_score"] == 0.4
    assert "Up to date: worked out just now." in client.get("/insights").text


def test_refresh_soon_runs_once_more_for_a_write_during_a_refresh(app, db):
    with app.app_context():
        leader.refresher(app).now()
    store = Store(db)
    for score in (0.5, 0.45):
        with store.change("tester", f"timeliness {score}") as change:
            quality = store.node("housing-register")["quality"]
            change.update_node("housing-register", {"quality": {**quality, "timeliness": score}})
        thread = leader.refresh_soon(app)
    assert leader.refresher(app).wait(timeout=60) and not thread.is_alive()
    assert materialised.stored_version(store) == store.version == 3
    assert leader.refresher(app).last_error is None
    store.close()


def test_a_never_refreshed_database_is_computed_on_first_visit(client, db):
    store = Store(db)
    assert materialised.stored(store) is None
    assert client.get("/decisions").status_code == 200
    assert materialised.stored_version(store) == store.version
    store.close()


# ---------------------------------------------------------------------------------------------
# Decisions


def test_decisions_table_and_twin(client, nodes_by_id, nx_flow):
    page = client.get("/decisions")
    assert page.status_code == 200
    data = client.get("/decisions.json").get_json()
    assert data["total"] == data["count"] == 26 and data["pages"] == 1
    assert data["sort"] == "confidence" and data["order"] == "asc"
    for row in data["rows"]:
        expected = expected_decision_confidence(nx_flow, nodes_by_id, row["id"])
        assert row["confidence"] == band_of(nx_flow, nodes_by_id, row["id"]), row["id"]
        assert (row["ai_involved"], row["ai_earlier_only"]) == (expected["ai_direct"], expected["ai_earlier_only"])
        assert shows_text(page, row["name"])
        assert f'href="/decisions/{row["id"]}"' in page.text
    assert [r["confidence"] for r in data["rows"]] == sorted(
        (r["confidence"] for r in data["rows"]), key=lambda c: ["red", "amber", "green", None].index(c))


def test_decisions_sort_by_every_column_with_aria_sort(client):
    for key, (column, first) in materialised.SORTS.items():
        page = client.get(f"/decisions?sort={key}")
        assert page.status_code == 200, key
        label = "ascending" if first == "asc" else "descending"
        assert page.text.count("aria-sort=") == 1 and f'aria-sort="{label}"' in page.text, key
        reverse = "desc" if first == "asc" else "asc"
        assert f"sort={key}&amp;order={reverse}" in page.text, key  # the header link reverses the sort
    rows = client.get("/decisions.json?sort=people&order=desc").get_json()["rows"]
    people = [r["people_affected"] for r in rows if r["people_affected"] is not None]
    assert people == sorted(people, reverse=True)
    rows = client.get("/decisions.json?sort=value&order=asc").get_json()["rows"]
    values = [r["value_gbp"] for r in rows if r["value_gbp"] is not None]
    assert values == sorted(values)


def test_decisions_filters(client, nodes_by_id, nx_flow):
    red = client.get("/decisions.json?confidence=red").get_json()
    expected = {d for d in of_kind(nodes_by_id, "decision")
                if band_of(nx_flow, nodes_by_id, d) == "red"}
    assert {r["id"] for r in red["rows"]} == expected and red["total"] == len(expected)
    funding = client.get(f"/decisions.json?type=funding&organisation={quote(COUNCIL)}").get_json()
    assert {r["id"] for r in funding["rows"]} == {
        d for d in of_kind(nodes_by_id, "decision", COUNCIL) if nodes_by_id[d].get("decision_type") == "funding"}
    no_ai = client.get("/decisions.json?ai=no").get_json()
    assert {r["id"] for r in no_ai["rows"]} == {
        d for d in of_kind(nodes_by_id, "decision") if not expected_decision_confidence(nx_flow, nodes_by_id, d)["ai_direct"]}
    owned = client.get("/decisions.json?owner=owner-jo").get_json()
    assert {r["id"] for r in owned["rows"]} == {d for d in of_kind(nodes_by_id, "decision")
                                                if nodes_by_id[d].get("owner") == "owner-jo"}
    named = client.get("/decisions.json?q=council+tax").get_json()
    assert {r["id"] for r in named["rows"]} == {d for d in of_kind(nodes_by_id, "decision")
                                                if "council tax" in nodes_by_id[d]["name"].lower()}
    page = client.get("/decisions?confidence=red")
    assert f"{len(expected)} of 26 decisions match" in page.text
    assert '<option value="red" selected>' in page.text


def test_decisions_csv(client, nodes_by_id, nx_flow):
    response = client.get("/decisions.csv?confidence=amber&sort=people")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="decisions-v1.csv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = {d for d in of_kind(nodes_by_id, "decision")
                if band_of(nx_flow, nodes_by_id, d) == "amber"}
    assert {r["id"] for r in rows} == expected
    people = [int(r["people_affected"]) for r in rows if r["people_affected"]]
    assert people == sorted(people, reverse=True)
    assert set(rows[0]) >= {"name", "confidence", "weakest_dataset_name", "weakest_score", "ai_involved", "owner_name"}
    page = client.get("/decisions?confidence=amber&sort=people")
    assert 'href="/decisions.csv?confidence=amber&amp;sort=people&amp;order=desc"' in page.text


def test_decisions_pages(tmp_path):
    nodes = [{"id": "reg", "kind": "dataset", "name": "Register", "quality": {"validity": 0.8}}]
    nodes += [{"id": f"d{i:03d}", "kind": "decision", "name": f"Decision {i:03d}", "people_affected": i}
              for i in range(120)]
    edges = [{"source": "reg", "target": f"d{i:03d}", "kind": "informs"} for i in range(120)]
    client = client_of(tmp_path, nodes, edges)
    first = client.get("/decisions.json?sort=name&order=asc").get_json()
    assert first["pages"] == 3 and [r["id"] for r in first["rows"]] == [f"d{i:03d}" for i in range(50)]
    third = client.get("/decisions.json?sort=name&order=asc&page=3").get_json()
    assert [r["id"] for r in third["rows"]] == [f"d{i:03d}" for i in range(100, 120)]
    page = client.get("/decisions?sort=name&order=asc&page=2")
    assert 'rel="prev"' in page.text and 'rel="next"' in page.text
    assert client.get("/decisions?page=4").status_code == 404


@pytest.mark.parametrize("url, status, message", [
    ("/decisions?sort=colour", 400, "sort must be one of: name, type, organisation"),
    ("/decisions?order=sideways", 400, "order must be one of: asc, desc; got 'sideways'"),
    ("/decisions?confidence=purple", 400, "confidence must be one of: red, amber, green, unknown"),
    ("/decisions?type=magic", 400, "type must be one of: funding, operational, policy, service; got 'magic'"),
    ("/decisions?organisation=Nowhere", 400, "organisation must be one of: "),
    ("/decisions?ai=maybe", 400, "ai must be one of: yes, no"),
    ("/decisions?owner=Not+An+Id", 400, "owner is a person's id"),
    ("/decisions?page=abc", 400, "page must be a whole number"),
    ("/decisions?page=99", 404, "there are 1 pages of decisions; page 99 does not exist"),
])
def test_decisions_errors(client, url, status, message):
    page = client.get(url)
    assert page.status_code == status
    twin = client.get(url.replace("/decisions?", "/decisions.json?"))
    assert twin.status_code == status and message in error_of(twin)
    download = client.get(url.replace("/decisions?", "/decisions.csv?"))
    assert download.status_code == (status if status == 400 else 200)  # the download has every page


# ---------------------------------------------------------------------------------------------
# A decision's provenance


def test_provenance_page_of_every_decision_matches_networkx(client, nodes_by_id, nx_flow, samples):
    _, edges = samples
    team_of = {e["source"]: e["target"] for e in edges if e["kind"] == "member_of"}
    for decision in of_kind(nodes_by_id, "decision"):
        twin = client.get(f"/decisions/{decision}.json")
        assert twin.status_code == 200, decision
        data = twin.get_json()
        ancestors = nx.ancestors(nx_flow, decision)
        people = [a for a in ancestors if nodes_by_id[a]["kind"] == "person"]
        assert data["people_count"] == len(people)
        assert {t["id"]: t["people"] for t in data["teams"]} == dict(Counter(team_of.get(p) for p in people))
        assert data["dataset_count"] == sum(nodes_by_id[a]["kind"] == "dataset" for a in ancestors)
        assert data["ai_tool_count"] == sum(nodes_by_id[a]["kind"] == "ai_tool" for a in ancestors)
        assert {f["id"] for f in data["single_points_of_failure"]} == _dominating_every_origin(nx_flow, decision)
        expected = expected_decision_confidence(nx_flow, nodes_by_id, decision)
        assert {k: data["confidence"][k] for k in ("band", "lowered_by_supporting", "ai_direct", "ai_earlier_only")} \
            == {k: expected[k] for k in ("band", "lowered_by_supporting", "ai_direct", "ai_earlier_only")}, decision
        assert (data["confidence"]["link"] or {}).get("dataset") == (expected["link"] or {}).get("dataset")
        assert bool(data["picture"]["rows"]) == bool(ancestors), decision  # the picture's text twin
        assert data["picture"]["sentences"], decision


def test_provenance_page_says_it_in_words(client, nodes_by_id):
    page = client.get("/decisions/social-housing-allocations")
    assert page.status_code == 200
    assert shows_text(page, "Amber: the data behind this decision can be trusted only in part, because Housing "
                            "register's timeliness is 0.71.")
    assert 'id="weakest-dataset" href="/nodes/housing-register"' in page.text
    assert 'href="/what-if?dataset=housing-register&amp;dimension=timeliness"' in page.text
    assert "9 people in 3 teams enter the records" in page.text
    for person in ("officer-ali", "officer-sam"):
        if person in nodes_by_id:
            assert not shows_text(page, nodes_by_id[person]["name"])  # people are counted, not named
    assert "Housing need prioritisation model" in page.text and "Transparency record" in page.text
    assert "The weakest link on this path is" in page.text
    assert '<svg' in page.text and "The picture in words" in page.text
    assert "/nodes/social-housing-allocations/picture.svg?" in page.text
    assert "direction=upstream" in re.search(r'href="(/nodes/social-housing-allocations/picture\.svg\?[^"]+)"',
                                             page.text).group(1)
    failures = client.get("/decisions/ctr-scheme")
    assert "Every path into this decision passes through" in failures.text
    assert "govuk-warning-text" in failures.text


def test_provenance_picture_controls(client):
    page = client.get("/decisions/social-housing-allocations?depth=1&direction=both")
    assert page.status_code == 200 and '<option value="1" selected>' in page.text
    assert client.get("/decisions/social-housing-allocations?depth=99").status_code == 400


@pytest.mark.parametrize("url, message", [
    ("/decisions/nobody", "there is no decision with the id 'nobody'"),
    ("/decisions/housing-register", "there is no decision with the id 'housing-register': it is a dataset"),
])
def test_provenance_unknown_ids_are_404(client, url, message):
    page = client.get(url)
    assert page.status_code == 404 and shows_text(page, message[:1].upper() + message[1:])
    twin = client.get(url + ".json")
    assert twin.status_code == 404 and error_of(twin) == message


def test_existing_pages_link_to_the_leader_pages(client):
    decision = client.get("/nodes/social-housing-allocations")
    assert 'href="/decisions/social-housing-allocations"' in decision.text
    dataset = client.get("/nodes/housing-register")
    assert 'id="what-if-link" href="/what-if?dataset=housing-register"' in dataset.text
    impact = client.get("/people/officer-ali")  # its cards link to the decision's page, which links on
    assert 'href="/nodes/social-housing-allocations"' in impact.text


def test_hostile_names_are_escaped(tmp_path):
    evil = '<script>alert("x")</script>'
    nodes = [{"id": "evil-data", "kind": "dataset", "name": "=HYPERLINK(\"x\")" + evil,
              "quality": {"timeliness": 0.2}},
             {"id": "evil", "kind": "decision", "name": evil, "decision_type": "service", "people_affected": 1},
             {"id": "sys", "kind": "system", "name": evil, "critical": True}]
    edges = [{"source": "sys", "target": "evil-data", "kind": "supplies"},
             {"source": "evil-data", "target": "evil", "kind": "informs"}]
    client = client_of(tmp_path, nodes, edges)
    for url in ("/insights", "/decisions", "/decisions/evil", "/explore?select=%2Bevil",
                "/what-if?dataset=evil-data&dimension=timeliness&score=0.1"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert evil not in page.text and "&lt;script&gt;" in page.text, url
    rows = list(csv.reader(io.StringIO(client.get("/decisions.csv").get_data(as_text=True))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)


# ---------------------------------------------------------------------------------------------
# Explore


def test_explore_selection_page_and_twin(client, nodes_by_id, nx_flow):
    selector = "+social-housing-allocations"
    expected = nx.ancestors(nx_flow, "social-housing-allocations") | {"social-housing-allocations"}
    data = client.get(f"/explore.json?select={quote(selector)}").get_json()
    assert data["count"] == len(expected)
    assert data["by_kind"] == dict(Counter(nodes_by_id[n]["kind"] for n in expected))
    assert {n["id"] for n in data["nodes"]} == expected  # fewer than a page
    assert data["picture"] is None  # more than a picture can show at a readable size: the table lists them
    assert data["url"] == f"/explore?select={quote(selector)}&depth={leader.EXPLORE_DEPTH}&direction=both"
    small = client.get(f"/explore.json?select={quote('1+social-housing-allocations')}").get_json()
    assert 0 < small["count"] <= leader.EXPLORE_FOCUS and small["picture"]["rows"]
    datasets = client.get(f"/explore.json?select={quote(selector)}&kinds=dataset").get_json()
    assert {n["id"] for n in datasets["nodes"]} == {n for n in expected if nodes_by_id[n]["kind"] == "dataset"}
    page = client.get(f"/explore?select={quote('1+social-housing-allocations')}&kinds=dataset&kinds=ai_tool&depth=1"
                      "&direction=upstream")
    assert page.status_code == 200
    assert 'id="view-link"' in page.text and "kinds=dataset,ai_tool&amp;depth=1&amp;direction=upstream" in page.text
    assert '<svg' in page.text and "The picture in words" in page.text
    for fmt in ("svg", "png", "dot"):
        assert f"/explore/picture.{fmt}?select=" in page.text
    assert "/explore.csv?select=" in page.text


def test_explore_reproduces_the_view_from_its_url(client):
    page = client.get("/explore?select=kind%3Aai_tool&depth=1&direction=downstream")
    link = re.search(r'id="view-link" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    again = client.get(link)
    assert again.status_code == 200
    assert 'value="kind:ai_tool"' in again.text and '<option value="downstream"' in again.text
    assert re.search(r'<option value="downstream"\s+selected', again.text) or \
        '<option value="downstream" selected>' in again.text


def test_explore_downloads(client, nodes_by_id):
    tools = sorted(n for n in nodes_by_id if nodes_by_id[n]["kind"] == "ai_tool")
    rows = list(csv.DictReader(io.StringIO(client.get("/explore.csv?select=kind:ai_tool").get_data(as_text=True))))
    assert [r["id"] for r in rows] == tools and rows[0]["kind"] == "ai_tool"
    svg = client.get("/explore/picture.svg?select=housing-register%2B1")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'")
    dot = client.get("/explore/picture.dot?select=housing-register%2B1&depth=1")
    assert dot.status_code == 200 and b"digraph" in dot.data
    png = client.get("/explore/picture.png?select=housing-register")
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"


def test_explore_too_big_to_draw_is_listed(client):
    page = client.get("/explore?select=kind:dataset")
    assert page.status_code == 200 and "The selection is too big to draw" in page.text
    assert 'rel="next"' in page.text
    assert client.get("/explore/picture.svg?select=kind:dataset").status_code == 400
    second = client.get("/explore.json?select=kind:dataset&page=2").get_json()
    assert second["page"] == 2 and len(second["nodes"]) == second["count"] - 50


def test_explore_without_a_selector_shows_the_form(client):
    page = client.get("/explore")
    assert page.status_code == 200 and 'name="select"' in page.text and "The selection" not in page.text
    assert client.get("/explore.json").get_json()["count"] == 0


@pytest.mark.parametrize("url, status, message", [
    ("/explore?select=%2B%2B", 400, "cannot read '++'"),
    ("/explore?select=nobody-here", 400, "no node with id 'nobody-here'"),
    ("/explore?select=kind:robot", 400, "unknown kind 'robot'"),
    ("/explore?select=x&kinds=robot", 400, "unknown kind 'robot'"),
    ("/explore?select=x&depth=99", 400, "depth must be a whole number from 0 to 12"),
    ("/explore?select=kind:decision&page=9", 404, "the selection has 1 pages; page 9 does not exist"),
])
def test_explore_errors(client, url, status, message):
    page = client.get(url)
    assert page.status_code == status
    assert shows_text(page, message) or shows_text(page, message[:1].upper() + message[1:])
    twin = client.get(url.replace("/explore?", "/explore.json?"))
    assert twin.status_code == status and message in error_of(twin)


def test_explore_selector_error_keeps_the_form_and_points_at_the_problem(client):
    page = client.get("/explore?select=%2B%2B")
    assert page.status_code == 400
    assert "govuk-error-summary" in page.text and 'href="#select"' in page.text
    assert 'value="++"' in page.text and "^" in page.text
    assert client.get("/explore/picture.gif?select=x").status_code == 404
    assert client.get("/explore/picture.svg").status_code == 400
    assert client.get("/explore.csv").status_code == 400


# ---------------------------------------------------------------------------------------------
# What if


def test_what_if_page_and_twin_match_networkx(client, nodes_by_id, nx_flow):
    url = "/what-if?dataset=housing-register&dimension=timeliness&score=0.4"
    data = client.get(url.replace("/what-if?", "/what-if.json?")).get_json()
    moved, informed, _ = expected_what_if(nx_flow, nodes_by_id, "housing-register", {"timeliness": 0.4})
    result = data["result"]
    assert {c["decision"]: (c["before"]["band"], c["after"]["band"]) for c in result["changed"]} == {
        d: m[:2] for d, m in moved.items()}
    assert (result["changed_count"], result["decisions_downstream"]) == (len(moved), informed)
    page = client.get(url)
    assert page.status_code == 200 and shows_text(page, result["summary"])
    assert "Nothing has been saved" in page.text
    assert 'href="/decisions/social-housing-allocations"' in page.text
    assert '<option value="timeliness" selected>' in page.text and 'value="0.4"' in page.text


def test_what_if_form_steps(client):
    empty = client.get("/what-if")
    assert empty.status_code == 200 and 'name="dataset"' in empty.text and "What would change" not in empty.text
    chosen = client.get("/what-if?dataset=housing-register")
    assert chosen.status_code == 200 and "Housing register now" in chosen.text
    assert '<option value="timeliness" selected>' in chosen.text  # its weakest dimension first
    assert client.get("/what-if.json?dataset=housing-register").get_json()["dimension"] == "timeliness"


def test_what_if_saves_nothing(client, db):
    store = Store(db)
    before = store.version, store.node("housing-register")
    client.get("/what-if?dataset=housing-register&dimension=timeliness&score=0.1")
    assert (store.version, store.node("housing-register")) == before
    store.close()


@pytest.mark.parametrize("url, status, message", [
    ("/what-if?dataset=nobody&score=0.4", 404, "No dataset is called “nobody”"),
    ("/what-if?dataset=officer-ali&score=0.4", 400, "'officer-ali' is a person; a what-if changes a dataset's quality"),
    ("/what-if?dataset=housing-register&dimension=speed&score=0.4", 400, "dimension must be one of: completeness"),
    ("/what-if?dataset=housing-register&score=abc", 400, "score must be a number from 0 to 1, like 0.4; got 'abc'"),
    ("/what-if?dataset=housing-register&score=1.5", 400, "score must be a number from 0 to 1, like 0.4; got '1.5'"),
])
def test_what_if_errors(client, url, status, message):
    page = client.get(url)
    assert page.status_code == status and shows_text(page, message[:1].upper() + message[1:])
    twin = client.get(url.replace("/what-if?", "/what-if.json?"))
    assert twin.status_code == status and message in error_of(twin)


def test_what_if_score_error_keeps_the_form(client):
    page = client.get("/what-if?dataset=housing-register&score=abc")
    assert "govuk-error-summary" in page.text and 'href="#score"' in page.text and 'value="abc"' in page.text


# ---------------------------------------------------------------------------------------------
# Who sees what


@pytest.fixture
def accounts_app(db):
    with_demo_accounts(db)
    return create_app({"LINEAGE_DB": str(db), "TESTING": True})



LEADER_URLS = ["/decisions", "/decisions.json", "/decisions.csv", "/insights", "/insights.json", "/explore",
               "/explore.json?select=kind:ai_tool", "/explore.csv?select=kind:ai_tool",
               "/explore/picture.dot?select=housing-register", "/what-if", "/what-if.json?dataset=housing-register"]


@pytest.mark.parametrize("who, allowed", [("rob", True), ("admin", True), ("ali", False), ("jo", False)])
def test_estate_pages_are_for_leaders_and_admins(accounts_app, who, allowed):
    client = client_as(accounts_app, who)
    for url in LEADER_URLS:
        status = client.get(url).status_code
        assert (status == 200) if allowed else (status == 403), (who, url, status)
    home = client.get("/", follow_redirects=True)  # each role's front door
    assert ('href="/insights"' in home.text) == allowed and ('href="/explore"' in home.text) == allowed
    assert client.get("/decisions/social-housing-allocations").status_code == 200  # provenance: anyone signed in


def test_contributors_see_provenance_without_people_linked(accounts_app, nodes_by_id):
    client = client_as(accounts_app, "ali")
    page = client.get("/decisions/social-housing-allocations")
    assert page.status_code == 200
    assert 'href="/people/owner-jo"' not in page.text and "Jo Fletcher" in page.text  # named as owner, not linked
    assert "What if" not in page.text  # the what-if is a leader's page
    leader_page = client_as(accounts_app, "rob").get("/decisions/social-housing-allocations")
    assert 'href="/people/owner-jo"' in leader_page.text


def test_nobody_signed_in_is_sent_to_sign_in(accounts_app):
    client = client_as(accounts_app, None)
    assert client.get("/insights").status_code == 302
    assert client.get("/insights.json").status_code == 401


def test_a_person_single_point_of_failure_is_named_only_to_those_who_may_see_people(accounts_app, nodes_by_id):
    kieran = nodes_by_id["odp-kieran"]["name"]
    for who, named in (("ali", False), ("jo", False), ("rob", True), ("admin", True)):
        client = client_as(accounts_app, who)
        page = client.get("/decisions/nhs-theatre-scheduling")
        twin = client.get("/decisions/nhs-theatre-scheduling.json")
        assert page.status_code == twin.status_code == 200
        assert shows_text(page, kieran) == named and (kieran in twin.text) == named, who
        assert "one person in" in page.text or named

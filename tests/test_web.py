"""The web app through Flask's test client: every page and its JSON twin, the API, the error pages.

Figures on pages are checked against the sample files and networkx, not against the library.
"""
from __future__ import annotations

import html

import re
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from markupsafe import escape
from conftest import copy_db, write_graph
from test_graph import expected_ai_tools

from lineage import io, render
from lineage.store import Store
from web import MAX_QUERY_STRING, create_app
from web.filters import field_label

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(tmp_path, samples_db):
    return create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "web.db")), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def client_of(tmp_path, nodes: list[dict], edges: list[dict]):
    """A test client of an app on a database holding just these nodes and edges."""
    db = tmp_path / "graph.db"
    store = Store(db, create=True)
    store.load(io.read_files([write_graph(tmp_path / "graph.json", nodes, edges)], store), actor="t", summary="t")
    store.close()
    return create_app({"LINEAGE_DB": str(db), "TESTING": True}).test_client()


def shows(page, message: str) -> bool:
    """An error message as an HTML page shows it: first letter capitalised, escaped."""
    return str(escape(message[:1].upper() + message[1:])) in page.text


def shows_text(page: str, text: str) -> bool:
    return str(escape(text)) in page


def members(samples, team: str) -> list[str]:
    return [e["source"] for e in samples[1] if e["kind"] == "member_of" and e["target"] == team]


def decisions_downstream(nx_flow, nodes_by_id, sources: list[str]) -> set[str]:
    reached = set().union(*(nx.descendants(nx_flow, s) for s in sources))
    return {n for n in reached if nodes_by_id[n]["kind"] == "decision"}


# ---------------------------------------------------------------------------------------------
# Home, search, lists, accessibility


def test_home_says_what_this_is_and_counts_what_matters(client, samples):
    page = client.get("/")
    assert page.status_code == 200
    assert "See what your records go on to do" in page.text
    kinds = [n["kind"] for n in samples[0]]
    for kind in ("decision", "dataset", "ai_tool", "person"):
        assert f">{kinds.count(kind):,}</span>" in page.text
    for journey in ("I enter records", "I own data", "I lead a service"):
        assert journey in page.text
    assert 'name="q"' in page.text
    for twin in ("/index.json", "/?format=json"):
        data = client.get(twin).get_json()
        assert data["counts"]["decision"] == kinds.count("decision")
        assert data["edges"] == len(samples[1])


def test_search_groups_results_by_kind(client):
    page = client.get("/search?q=housing")
    assert page.status_code == 200
    assert "Datasets (" in page.text and "Decisions (" in page.text
    data = client.get("/search.json?q=housing").get_json()
    assert set(data["groups"]) <= {"person", "team", "system", "dataset", "process", "ai_tool", "decision"}
    assert data["count"] == sum(len(rows) for rows in data["groups"].values())
    assert all(row["kind"] == kind for kind, rows in data["groups"].items() for row in rows)


def test_search_by_kind_and_links_to_each_page(client):
    data = client.get("/search.json?q=ali&kind=person").get_json()
    assert list(data["groups"]) == ["person"]
    page = client.get("/search?q=ali khan&kind=person")
    assert 'href="/people/officer-ali"' in page.text
    assert "Search everything instead" in page.text
    assert 'href="/nodes/housing-register"' in client.get("/search?q=housing register").text


def test_search_with_nothing_found_or_no_query(client):
    assert "Nothing matches" in client.get("/search?q=zzzzqqq").text
    assert client.get("/search").status_code == 200
    assert client.get("/search.json").get_json()["count"] == 0


def test_search_escapes_the_query(client):
    page = client.get("/search?q=<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.parametrize("url, message", [
    ("/search?q=" + "x" * 300, "a search is at most 200 characters"),
    ("/search?q=x&kind=wizard", "unknown kind 'wizard'"),
])
def test_bad_searches_are_400(client, url, message):
    response = client.get(url)
    assert response.status_code == 400 and shows(response, message)
    twin = client.get(url.replace("/search?", "/search.json?"))
    assert twin.status_code == 400 and message in twin.get_json()["error"]["message"]


def test_node_list_pages_through_a_kind(client, samples):
    datasets = [n["id"] for n in sorted((n for n in samples[0] if n["kind"] == "dataset"),
                                        key=lambda n: (n["name"].lower(), n["id"]))]  # by name, as people look
    first = client.get("/nodes.json?kind=dataset").get_json()
    assert first["total"] == len(datasets) and first["pages"] == -(-len(datasets) // 50)
    assert [n["id"] for n in first["nodes"]] == datasets[:50]
    page = client.get("/nodes?kind=dataset")
    assert page.status_code == 200 and f"{len(datasets)} matches" in page.text
    if first["pages"] > 1:
        assert 'rel="next"' in page.text
        assert [n["id"] for n in client.get("/nodes.json?kind=dataset&page=2").get_json()["nodes"]] == datasets[50:100]
    assert client.get(f"/nodes?kind=dataset&page={first['pages'] + 1}").status_code == 404
    assert client.get("/nodes?page=abc").status_code == 400


def test_accessibility_statement(client):
    page = client.get("/accessibility")
    assert page.status_code == 200
    assert "Accessibility statement for Lineage" in page.text and "WCAG" in page.text


def test_every_page_has_the_house_layout(client):
    page = client.get("/").text
    assert "govuk-service-navigation" in page and "govuk-phase-banner" in page
    assert 'href="/accessibility"' in page
    for gov_uk_only in ("govuk-logo", "Crown copyright", "Open Government Licence", "GDS Transport"):
        assert gov_uk_only not in page
    css = client.get("/static/lineage.css")
    assert css.status_code == 200 and "GDS Transport" not in css.text


def test_security_headers_and_a_nonce_for_the_one_inline_script(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in response.text
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*nonce=)", response.text) == []
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/").headers["Content-Security-Policy"] != policy  # a new nonce each time


# ---------------------------------------------------------------------------------------------
# My impact


def test_my_impact_headline_and_figures_match_the_samples(client, nx_flow, nodes_by_id):
    decisions = decisions_downstream(nx_flow, nodes_by_id, ["officer-ali"])
    largest = max(decisions, key=lambda d: nodes_by_id[d].get("people_affected") or 0)
    people = nodes_by_id[largest]["people_affected"]
    page = client.get("/people/officer-ali")
    assert page.status_code == 200
    assert (f"Your records feed {len(decisions)} decisions, through 2 AI tools. The largest, "
            f"{nodes_by_id[largest]['name']}, affects about {float(f'{people:.2g}'):,.0f} people") in page.text
    total = sum(nodes_by_id[d].get("people_affected") or 0 for d in decisions)
    assert f"{total:,}" not in page.text  # overlapping populations are never added up
    data = client.get("/people/officer-ali.json").get_json()
    assert data["totals"]["decision_count"] == len(decisions)
    assert (data["totals"]["largest_people_affected"], data["totals"]["largest_people_decision"]) == (people, largest)
    assert "people_affected" not in data["totals"]
    assert {card["id"] for card in data["decisions"]} == decisions
    for card in data["decisions"]:
        assert nodes_by_id[card["id"]]["name"] in page.text
        assert all(path[0] == "officer-ali" and path[-1] == card["id"] for path in card["paths"])
        direct, earlier = expected_ai_tools(nx_flow, nodes_by_id, ["officer-ali"], card["id"])
        assert ([t["id"] for t in card["ai_tools"]], [t["id"] for t in card["ai_tools_earlier"]]) == (
            direct, earlier), card["id"]
        # every AI tool on the kept paths is named, and more besides when longer paths hold one
        on_paths = {step for path in card["paths"] for step in path if nodes_by_id[step]["kind"] == "ai_tool"}
        assert on_paths <= set(direct)


def test_my_impact_names_no_colleague(client, samples, nodes_by_id):
    colleagues = [m for m in members(samples, "housing-options") if m != "officer-ali"]
    page = client.get("/people/officer-ali")
    assert f"You and {len(colleagues)} colleagues in" in page.text
    data = client.get("/people/officer-ali.json")
    owners = {n.get("owner") for n in samples[0]}  # owners are named as owners, not as contributors
    assert [c for c in colleagues if c not in owners], "the test needs a colleague who owns nothing"
    for colleague in (c for c in colleagues if c not in owners):
        assert nodes_by_id[colleague]["name"] not in page.text
        assert nodes_by_id[colleague]["name"] not in data.text
    assert "contact" not in data.get_json()["subject"]


def test_my_impact_shows_the_issues_in_their_records_and_where_they_go(client, samples, nx_flow, nodes_by_id):
    entered = [e for e in samples[1] if e["source"] == "officer-ali" and e["kind"] == "enters"]
    data = client.get("/people/officer-ali.json").get_json()
    for edge in entered:
        row = next(r for r in data["record_issues"] if r["target"]["id"] == edge["target"])
        assert (row["records"], row["records_with_issues"]) == (edge["records"], edge["records_with_issues"])
        assert row["decision_count"] == len(decisions_downstream(nx_flow, nodes_by_id, [edge["target"]]))
        assert row["issues"] == sorted(edge["issues"], key=lambda i: -i["count"])  # what the issues are
        assert sum(i["count"] for i in row["issues"]) == edge["records_with_issues"]
    page = client.get("/people/officer-ali").text
    target = nodes_by_id[entered[0]["target"]]["name"]
    assert f"{entered[0]['records_with_issues']} of {entered[0]['records']:,} records you entered into {target}" in page
    for issue in entered[0]["issues"]:  # each kind, with its count and the dimension's plain name
        assert f"{issue['note']}: {issue['count']:,} records" in page
    # the one thing that would help most: the biggest kind of issue, how to fix it, and where to flag it
    top = max(entered[0]["issues"], key=lambda i: i["count"])
    help_most = page[page.index('id="help"'):page.index('id="issues"')]
    assert top["note"] in help_most and "How to fix it:" in help_most
    assert client.get("/people/officer-ali.json").get_json()["help_most"]["issue"]["note"] == top["note"]


def test_my_impact_lists_the_quality_of_the_datasets_reached(client, nx_flow, nodes_by_id):
    reached = {n for n in nx.descendants(nx_flow, "officer-ali") if nodes_by_id[n]["kind"] == "dataset"}
    data = client.get("/people/officer-ali.json").get_json()
    assert data["dataset_count"] == len(reached)
    assert {d["id"] for d in data["datasets"]} <= reached
    register = next(d for d in data["datasets"] if d["id"] == "housing-register")
    assert register["weakest"] == {"dimension": "timeliness", "score": 0.71, "rag": "amber"}
    page = client.get("/people/officer-ali").text  # the dimension's plain name, the score in words first
    assert "Records are entered or updated late: fair (0.71)" in page


def test_my_impact_has_the_picture_and_its_text_twin(client):
    page = client.get("/people/officer-ali").text
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    root = ET.fromstring(svg)
    assert root.get("width") is None and root.get("viewBox")
    assert not list(root.iter(f"{SVG}script"))
    assert 'data-picture-action="zoom-in"' in page and 'class="app-picture__viewport" tabindex="0"' in page
    assert shows_text(page, "Ali Khan's 1,240 records are entered into Housing case management system")
    assert "Every arrow in the picture" in page
    twin = client.get("/people/officer-ali.json").get_json()["picture"]
    assert twin["sentences"] and twin["rows"]
    assert all(row["source_link"].startswith("/nodes/") for row in twin["rows"])


def test_my_impact_lists_recent_changes_downstream(client, app):
    with app.app_context():
        from web.db import get_store
        store = get_store()
        with store.change("owner-jo", "Housing register refreshed nightly again") as change:
            change.update_node("housing-register", {"refresh": "nightly"})
        with store.change("someone", "An unrelated tweak") as change:
            change.update_node("nhs-ed-attendances", {"description": "Unrelated"})
    page = client.get("/people/officer-ali").text
    assert "Housing register refreshed nightly again" in page
    assert "An unrelated tweak" not in page
    changes = client.get("/people/officer-ali.json").get_json()["recent_changes"]
    assert changes[0]["summary"] == "Housing register refreshed nightly again"
    assert changes[0]["items"] == [{"entity": "node", "ref": "housing-register", "action": "update", "kind": "dataset"}]
    assert changes[0]["hidden"] == 0


def test_team_page_aggregates_its_members(client, samples, nx_flow, nodes_by_id):
    team = members(samples, "housing-options")
    decisions = decisions_downstream(nx_flow, nodes_by_id, team)
    records = sum(e.get("records", 0) for e in samples[1] if e["kind"] == "enters" and e["source"] in team)
    page = client.get("/teams/housing-options")
    assert page.status_code == 200
    assert shows_text(page.text, f"Your team's records feed {len(decisions)} decisions")
    assert f"{len(team)} people in this team" in page.text
    data = client.get("/teams/housing-options.json").get_json()
    assert data["totals"]["records"] == records and data["totals"]["people"] == len(team)
    assert all(path[0] == "housing-options" for card in data["decisions"] for path in card["paths"])
    owners = {n.get("owner") for n in samples[0]}
    for person in (p for p in team if p not in owners):
        assert nodes_by_id[person]["name"] not in page.text
        assert nodes_by_id[person]["name"] not in client.get("/teams/housing-options.json").text


def test_a_person_with_no_records_gets_a_plain_answer(client, samples):
    entering = {e["source"] for e in samples[1] if e["kind"] == "enters"}
    idle = next(n["id"] for n in samples[0] if n["kind"] == "person" and n["id"] not in entering)
    page = client.get(f"/people/{idle}")
    assert page.status_code == 200 and "No records of yours are linked to a system or dataset yet." in page.text


# ---------------------------------------------------------------------------------------------
# Node pages and pictures


@pytest.mark.parametrize("node_id", ["housing-cms", "housing-register", "housing-need-model",
                                     "social-housing-allocations"])
def test_node_pages_show_every_attribute_and_what_is_either_side(client, nx_flow, nodes_by_id, node_id):
    record = nodes_by_id[node_id]
    page = client.get(f"/nodes/{node_id}")
    assert page.status_code == 200
    assert f"<h1 class=\"govuk-heading-xl\">{record['name']}</h1>" in page.text
    data = client.get(f"/nodes/{node_id}.json").get_json()
    assert data["upstream"]["count"] == len(nx.ancestors(nx_flow, node_id))
    assert data["downstream"]["count"] == len(nx.descendants(nx_flow, node_id))
    for field in record:  # each under the name people read ("Algorithmic Transparency ... record", not "Atrs url")
        if field not in ("id", "kind", "name", "description", "quality", "tags", "risks", "issues"):
            assert html.escape(field_label(field), quote=False) in page.text, field
    for issue in record.get("issues", []):
        assert issue["note"] in page.text
    assert "<svg" in page.text and "The picture in words" in page.text
    assert data["history"][0]["action"] == "create"


def test_a_process_page(client, samples):
    process = next(n for n in samples[0] if n["kind"] == "process")
    assert client.get(f"/nodes/{process['id']}").status_code == 200


def test_dataset_page_shows_each_quality_dimension_in_words(client):
    page = client.get("/nodes/housing-register").text
    assert "Records are entered or updated late" in page and "(timeliness)" in page  # the plain name first
    assert "0.71" in page and "Fair" in page and "AMBER" in page
    assert "Annual re-registration overdue for 1,106 households." in page


def test_external_links_only_for_web_addresses(client):
    page = client.get("/nodes/housing-need-model").text
    assert 'href="https://www.gov.uk/algorithmic-transparency-records/' in page


def test_picture_controls_change_the_view(client):
    deep = client.get("/nodes/housing-register.json?depth=1&direction=upstream").get_json()["picture"]
    wide = client.get("/nodes/housing-register.json?depth=3&direction=both").get_json()["picture"]
    assert len(deep["rows"]) < len(wide["rows"])
    page = client.get("/nodes/housing-register?depth=1&direction=upstream").text
    assert '<option value="1" selected>' in page and '<option value="upstream" selected>' in page


@pytest.mark.parametrize("format, media_type, start", [
    ("svg", "image/svg+xml", b"<?xml"), ("png", "image/png", b"\x89PNG"), ("dot", "text/vnd.graphviz", b"digraph"),
])
def test_pictures_download_in_each_format(client, format, media_type, start):
    response = client.get(f"/nodes/officer-ali/picture.{format}?depth=3")
    assert response.status_code == 200
    assert response.mimetype == media_type and response.data.startswith(start)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_expanding_a_group_from_its_link(tmp_path):
    nodes = [{"id": "hub", "kind": "dataset", "name": "Hub"}] + [
        {"id": f"d{i:03d}", "kind": "dataset", "name": f"D{i}"} for i in range(200)]
    edges = [{"source": "hub", "target": f"d{i:03d}", "kind": "derives"} for i in range(200)]
    client = client_of(tmp_path, nodes, edges)
    page = client.get("/nodes/hub").text
    link = re.search(r'/nodes/hub\?expand=(more-dataset-down1)', page)
    assert link and "more datasets" in page
    expanded = client.get(f"/nodes/hub.json?expand={link.group(1)}").get_json()["picture"]
    assert len(expanded["rows"]) == 200


def test_graphviz_failure_still_gives_the_page_and_its_words(client, monkeypatch):
    def broken(*args, **kwargs):
        raise render.RenderError("Graphviz took longer than 10 s")

    monkeypatch.setattr("web.respond.picture", broken)
    page = client.get("/nodes/housing-register")
    assert page.status_code == 200
    assert "The picture could not be drawn: Graphviz took longer than 10 s" in page.text
    assert "The picture in words" in page.text
    download = client.get("/nodes/housing-register/picture.svg")
    assert download.status_code == 503 and "Graphviz took longer" in download.text


# ---------------------------------------------------------------------------------------------
# Redirects, unknown ids and bad arguments


@pytest.mark.parametrize("url, location", [
    ("/nodes/officer-ali", "/people/officer-ali"),
    ("/nodes/housing-options?depth=3", "/teams/housing-options?depth=3"),
    ("/people/housing-register", "/nodes/housing-register"),
    ("/teams/officer-ali", "/people/officer-ali"),
    ("/nodes/officer-ali.json", "/people/officer-ali.json"),
])
def test_each_node_lives_at_the_page_for_its_kind(client, url, location):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"] == location


@pytest.mark.parametrize("url", ["/people/nobody", "/teams/nobody", "/nodes/nobody", "/nodes/nobody/picture.svg",
                                 "/no/such/page"])
def test_unknown_pages_are_404_with_a_search_box(client, url):
    page = client.get(url)
    assert page.status_code == 404
    assert "Page not found" in page.text and 'name="q"' in page.text


@pytest.mark.parametrize("url", ["/people/nobody.json", "/nodes/nobody.json", "/api/nodes/nobody",
                                 "/api/lineage/nobody"])
def test_unknown_ids_in_json_are_the_404_shape(client, url):
    response = client.get(url)
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["status"] == 404 and "nobody" in error["message"]


@pytest.mark.parametrize("query, message", [
    ("depth=-1", "depth must be a whole number from 0 to 12, got -1"),
    ("depth=abc", "depth must be a whole number from 0 to 12, got 'abc'"),
    ("depth=100000", "depth must be a whole number from 0 to 12, got 100000"),
    ("direction=sideways", "direction must be one of: downstream, upstream, both"),
    ("expand=javascript:alert(1)", "expand names a group of the picture"),
])
@pytest.mark.parametrize("path", ["/people/officer-ali", "/nodes/housing-register",
                                  "/nodes/housing-register/picture.svg"])
def test_bad_picture_arguments_are_400_saying_what_is_allowed(client, path, query, message):
    page = client.get(f"{path}?{query}")
    assert page.status_code == 400 and shows(page, message)
    if not path.endswith(".svg"):
        twin = client.get(f"{path}.json?{query}")
        assert twin.get_json() == {"error": {"status": 400, "message": twin.get_json()["error"]["message"]}}
        assert message in twin.get_json()["error"]["message"]


def test_huge_query_strings_are_refused(client):
    response = client.get("/people/officer-ali?depth=2&pad=" + "x" * 10_000)
    assert response.status_code == 400 and f"at most {MAX_QUERY_STRING:,} are accepted" in response.text
    assert client.get("/api/nodes?pad=" + "x" * 10_000).get_json()["error"]["status"] == 400


def test_unexpected_errors_are_a_500_page_and_the_json_shape(app):
    app.config["TESTING"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500 and "Sorry, there is a problem with the service" in page.text
    assert "secret detail" not in page.text
    twin = client.get("/boom?format=json")
    assert twin.get_json() == {"error": {"status": 500,
                                         "message": "Something went wrong on our side. It has been logged."}}


def test_missing_database_is_503_not_a_crash(tmp_path):
    client = create_app({"LINEAGE_DB": str(tmp_path / "absent.db")}).test_client()
    response = client.get("/api/nodes")
    assert response.status_code == 503
    assert "no lineage database" in response.get_json()["error"]["message"]
    assert client.get("/").status_code == 503


# ---------------------------------------------------------------------------------------------
# Hostile names


def test_names_with_markup_are_text_everywhere(tmp_path):
    hostile = '<script>alert("x")</script> x" ]; evil -> y [label="'
    nodes = [{"id": "p", "kind": "person", "name": hostile},
             {"id": "d", "kind": "dataset", "name": "<b>bold</b> & co", "description": "<img src=x onerror=alert(1)>"},
             {"id": "x", "kind": "decision", "name": "<i>Allocations</i>", "people_affected": 10}]
    edges = [{"source": "p", "target": "d", "kind": "enters", "records": 5},
             {"source": "d", "target": "x", "kind": "informs"}]
    client = client_of(tmp_path, nodes, edges)
    for url in ("/people/p", "/nodes/d", "/nodes/x", "/search?q=script", "/search?q=bold"):
        page = client.get(url).text
        assert "<script>alert" not in page and "<b>bold</b>" not in page and "<img src=x" not in page
        assert "<i>Allocations</i>" not in page
    page = client.get("/people/p").text
    assert "&lt;script&gt;" in page
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    assert not list(svg.iter(f"{SVG}script"))
    assert len([g for g in svg.iter(f"{SVG}g") if g.get("class") == "node"]) == 3
    assert client.get("/people/p.json").get_json()["subject"]["name"] == hostile


# ---------------------------------------------------------------------------------------------
# JSON API


def test_api_nodes_pages_and_filters_by_kind(client):
    data = client.get("/api/nodes?kind=ai_tool&limit=3").get_json()
    assert data["limit"] == 3 and len(data["nodes"]) == 3
    assert {n["kind"] for n in data["nodes"]} == {"ai_tool"}
    everything = client.get(f"/api/nodes?kind=ai_tool&limit={data['total']}").get_json()["nodes"]
    assert [n["id"] for n in everything] == sorted(n["id"] for n in everything)


@pytest.mark.parametrize("url, message", [
    ("/api/nodes?limit=abc", "limit must be a whole number"),
    ("/api/nodes?limit=0", "limit must be a whole number"),
    ("/api/nodes?limit=100000", "limit must be a whole number"),
    ("/api/nodes?kind=wizard", "unknown kind"),
    ("/api/nodes?offset=-1", "offset must be a whole number"),
    ("/api/lineage/officer-ali?kinds=wizard", "unknown kind 'wizard'"),
    ("/api/lineage/officer-ali?depth=-1", "depth must be a whole number"),
    ("/api/lineage/officer-ali?direction=left", "direction must be one of"),
    ("/api/lineage/officer-ali?limit=0", "limit must be a whole number"),
])
def test_api_bad_arguments_are_400_with_a_message(client, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_api_node_has_record_and_edges(client):
    data = client.get("/api/nodes/officer-ali").get_json()
    assert data["node"]["name"] == "Ali Khan"
    assert any(e["kind"] == "enters" and e["records"] == 1240 for e in data["edges"])


def test_api_lineage_matches_networkx(client, nx_flow, nodes_by_id):
    data = client.get("/api/lineage/officer-ali").get_json()
    below = nx.descendants(nx_flow, "officer-ali")
    assert data["count"] == len(below) and {n["id"] for n in data["nodes"]} == below
    distances = nx.single_source_shortest_path_length(nx_flow, "officer-ali")
    assert all(n["distance"] == distances[n["id"]] for n in data["nodes"])
    listed = below | {"officer-ali"}
    expected = {(s, t) for s, t in nx_flow.edges if s in listed and t in listed}
    assert {(e["source"], e["target"]) for e in data["edges"]} == expected
    up = client.get("/api/lineage/social-housing-allocations?direction=upstream&depth=1").get_json()
    assert {n["id"] for n in up["nodes"]} == set(nx_flow.predecessors("social-housing-allocations"))
    only = client.get("/api/lineage/officer-ali?kinds=decision,ai_tool").get_json()
    assert {n["id"] for n in only["nodes"]} == {n for n in below if nodes_by_id[n]["kind"] in ("decision", "ai_tool")}
    assert client.get("/api/lineage/officer-ali?limit=2").get_json()["count"] == len(below)
    assert len(client.get("/api/lineage/officer-ali?limit=2").get_json()["nodes"]) == 2



def test_the_engine_follows_the_store_version(client, app):
    before = client.get("/api/lineage/officer-ali").get_json()["count"]
    with app.app_context():
        from web.db import get_store
        with get_store().change("t", "a new dataset downstream") as change:
            change.add_node({"id": "new-ds", "kind": "dataset", "name": "New"})
            change.add_edge({"source": "housing-register", "target": "new-ds", "kind": "derives"})
    assert client.get("/api/lineage/officer-ali").get_json()["count"] == before + 1

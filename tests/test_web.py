"""The web app through Flask's test client: pages, the JSON API and the one error shape."""
from __future__ import annotations

from pathlib import Path

import pytest

from lineage.store import Store
from web import create_app

SAMPLES = sorted(p for p in (Path(__file__).resolve().parent.parent / "sample_graphs").glob("*.json")
                 if p.name != "schema.json")


@pytest.fixture
def app(tmp_path):
    from lineage import io

    db = tmp_path / "web.db"
    store = Store(db, create=True)
    store.load(io.read_files(SAMPLES, store), actor="test", summary="samples")
    store.close()
    return create_app({"LINEAGE_DB": str(db), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def test_home_shows_counts_by_kind(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "See what your records go on to do" in page.text
    data = client.get("/?format=json").get_json()
    assert data["counts"]["person"] > 0 and data["counts"]["decision"] > 0
    assert f"{data['counts']['dataset']:,}" in page.text


def test_search_finds_a_person_and_escapes_the_query(client):
    page = client.get("/search?q=Ali Khan")
    assert page.status_code == 200 and "Ali Khan" in page.text
    hostile = client.get("/search?q=<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in hostile.text
    assert "&lt;script&gt;" in hostile.text
    results = client.get("/search?q=housing register&format=json").get_json()["results"]
    assert "housing-register" in [r["id"] for r in results]


def test_search_refuses_oversized_queries(client):
    response = client.get("/search?format=json&q=" + "x" * 10_000)
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400


def test_api_nodes_pages_and_filters_by_kind(client):
    data = client.get("/api/nodes?kind=ai_tool&limit=3").get_json()
    assert data["limit"] == 3 and len(data["nodes"]) == 3
    assert {n["kind"] for n in data["nodes"]} == {"ai_tool"}
    everything = client.get(f"/api/nodes?kind=ai_tool&limit={data['total']}").get_json()["nodes"]
    assert [n["id"] for n in everything] == sorted(n["id"] for n in everything)


@pytest.mark.parametrize("query, message", [
    ("limit=abc", "limit must be a whole number"),
    ("limit=0", "limit must be a whole number"),
    ("limit=100000", "limit must be a whole number"),
    ("kind=wizard", "unknown kind"),
    ("offset=-1", "offset must be a whole number"),
])
def test_api_nodes_bad_arguments_are_400_with_a_message(client, query, message):
    response = client.get(f"/api/nodes?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_api_node_has_record_and_edges(client):
    data = client.get("/api/nodes/officer-ali").get_json()
    assert data["node"]["name"] == "Ali Khan"
    assert any(e["kind"] == "enters" and e["records"] == 1240 for e in data["edges"])


def test_unknown_ids_are_404_in_both_shapes(client):
    response = client.get("/api/nodes/no-such-node")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"status": 404, "message": "no node with id 'no-such-node'"}}
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.text and 'name="q"' in page.text


def test_missing_database_is_503_not_a_crash(tmp_path):
    client = create_app({"LINEAGE_DB": str(tmp_path / "absent.db")}).test_client()
    response = client.get("/api/nodes")
    assert response.status_code == 503
    assert "no lineage database" in response.get_json()["error"]["message"]

"""Export formats: native JSON and CSV round trips to the byte, GraphML read back by networkx with every
attribute, DOT parsed by pydot and laid out by Graphviz, PROV-JSON read back by the ``prov`` package.

Expectations come from the sample files (tests/conftest.py) and the records written, not from the
exporters.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from typing import Any

import networkx as nx
import pydot
import pytest
from conftest import SAMPLE_DIR, load_files, run

from lineage import io
from lineage.io import openlineage as ol
from lineage.store import Store

EVIL = 'Evil" ]; injected -> node [label="gotcha"]; <b>&amp;</b> \\N \\ {}\n\ttab'
MANAGED = {"created", "updated", "version"}


def enrich(store: Store) -> Store:
    """Add what OpenLineage brings (nested metadata, schema lists, quality notes, an AI tool writing a
    dataset) and a node whose name tries to break out of every format."""
    event = {
        "eventType": "COMPLETE", "eventTime": "2026-03-02T10:00:00Z", "producer": "https://example.org",
        "run": {"runId": "r"},
        "job": {"namespace": "airflow", "name": "triage.score", "facets": {
            "tags": {"tags": [{"key": "ai_tool", "value": "true"}]},
            "ownership": {"owners": [{"name": "user:nobody@example.org"}]}}},
        "inputs": [{"namespace": "pg", "name": "public.referrals", "facets": {
            "schema": {"fields": [{"name": "id", "type": "INTEGER"}, {"name": "a", "fields": [{"name": "b"}]}]}},
                    "inputFacets": {"dataQualityAssertions": {"assertions": [
                        {"assertion": "not_null", "success": True, "column": "id"}]}}}],
        "outputs": [{"namespace": "pg", "name": "public.scores"}]}
    ol.import_events(store, [ol.parse_event(event, "e")], actor="t", summary="openlineage")
    with store.change("t", "evil names") as change:
        change.add_node({"id": "evil", "kind": "dataset", "name": EVIL, "description": EVIL, "tags": [EVIL, "b"],
                         "quality": {"validity": {"score": 0.5, "rag": "red", "note": EVIL, "as_of": "2026-01-02"}},
                         "odd": {"nested": [1, 2.5, None, True]}, "big": 2**40, "ratio": 1.5})
        change.add_edge({"source": "evil", "target": "social-housing-allocations", "kind": "informs",
                         "influence": "primary"})
    return store


@pytest.fixture
def rich_store(loaded_store) -> Store:
    """The four samples, enriched."""
    return enrich(loaded_store)


@pytest.fixture
def small_rich_store(store) -> Store:
    """One sample, enriched (pydot's parser takes seconds over all four)."""
    load_files(store, [SAMPLE_DIR / "council_housing.json"])
    return enrich(store)


def records(store: Store) -> tuple[list[dict], list[dict]]:
    clean = lambda r: {k: v for k, v in r.items() if k not in MANAGED}
    return [clean(n) for n in store.nodes()], [clean(e) for e in store.edges()]


def flat(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the exports flatten it: quality as quality.<dimension>[.<part>], nothing else nested."""
    result = {}
    for key, value in record.items():
        if key == "quality":
            for dimension, assessment in value.items():
                if isinstance(assessment, dict):
                    for part, item in assessment.items():
                        result[f"quality.{dimension}" + ("" if part == "score" else f".{part}")] = item
                else:
                    result[f"quality.{dimension}"] = assessment
        else:
            result[key] = value
    return result


# -- native JSON and CSV --------------------------------------------------------------------------


def test_native_json_round_trips_to_the_byte(rich_store, tmp_path):
    first = tmp_path / "first.json"
    io.export(rich_store, "json", first)
    fresh = Store(tmp_path / "fresh.db", create=True)
    fresh.load(io.read_files([first], fresh), actor="t", summary="load")
    second = tmp_path / "second.json"
    io.export(fresh, "json", second)
    assert second.read_bytes() == first.read_bytes()
    assert records(fresh) == records(rich_store)


def test_csv_round_trips_to_the_byte(rich_store, tmp_path):
    first = io.export(rich_store, "csv", tmp_path / "first")
    fresh = Store(tmp_path / "fresh.db", create=True)
    fresh.load(io.read_csv(*first), actor="t", summary="csv")
    second = io.export(fresh, "csv", tmp_path / "second")
    assert [p.read_bytes() for p in second] == [p.read_bytes() for p in first]
    assert records(fresh) == records(rich_store)


# -- GraphML ------------------------------------------------------------------------------------------


def test_graphml_reads_back_with_every_attribute(rich_store, tmp_path):
    path = io.export(rich_store, "graphml", tmp_path / "estate.graphml")[0]
    g = nx.read_graphml(path)
    assert isinstance(g, nx.DiGraph)
    nodes, edges = records(rich_store)
    json_keys = set(re.findall(r'attr\.name="([^"]+)" attr\.type="string"><desc>json</desc>', path.read_text()))
    assert {"tags", "schema", "openlineage", "odd", "risks"} <= json_keys

    def decoded(data: dict[str, Any]) -> dict[str, Any]:
        return {k: json.loads(v) if k in json_keys else v for k, v in data.items()}

    assert len(g) == len(nodes) and g.number_of_edges() == len(edges)
    for node in nodes:
        expected = flat(node)
        expected.pop("id")
        expected.setdefault("label", node["name"])
        assert decoded(g.nodes[node["id"]]) == expected, node["id"]
    for edge in edges:
        expected = {k: v for k, v in flat(edge).items() if k not in ("source", "target")}
        assert decoded(g.edges[edge["source"], edge["target"]]) == expected
    # Types survive: numbers as numbers, true/false as booleans, big whole numbers whole.
    assert g.nodes["evil"]["big"] == 2**40 and g.nodes["evil"]["ratio"] == 1.5
    assert g.nodes["housing-register"]["shared"] is False
    assert type(g.nodes["housing-register"]["record_count"]) is int


def test_graphml_holds_names_xml_cannot(store, tmp_path):
    with store.change("t", "control characters") as change:
        change.add_node({"id": "c", "kind": "dataset", "name": "bell"})
    # Control characters are refused on the way in now; a database written before may hold them.
    store.conn.execute("UPDATE nodes SET name = ? WHERE id = 'c'", ("bell\x07 and <tag> & \"quotes\"",))
    g = nx.read_graphml(io.export(store, "graphml", tmp_path / "c.graphml")[0])
    assert g.nodes["c"]["name"] == "bell\ufffd and <tag> & \"quotes\""


# -- DOT ----------------------------------------------------------------------------------------------------


def unquote(text: str) -> str:
    """A DOT quoted string's text (what lineage.render.dot_string escaped)."""
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), text[1:-1])


def test_dot_parses_keeps_every_name_and_lays_out(small_rich_store, tmp_path):
    path = io.export(small_rich_store, "dot", tmp_path / "estate.dot")[0]
    graph = pydot.graph_from_dot_file(str(path))[0]
    nodes, edges = records(small_rich_store)
    parsed = {unquote(n.get_name()): n.get_attributes() for n in graph.get_nodes() if n.get_name() not in
              ("node", "edge", "graph")}
    assert set(parsed) == {n["id"] for n in nodes}  # the evil name added no node
    pairs = Counter((unquote(e.get_source()), unquote(e.get_destination())) for e in graph.get_edges())
    assert pairs == Counter((e["source"], e["target"]) for e in edges)
    for node in nodes:
        attributes = {unquote(k): unquote(v) for k, v in parsed[node["id"]].items() if k.startswith('"lineage.')}
        assert attributes["lineage.name"] == node["name"] and attributes["lineage.kind"] == node["kind"]
        assert set(attributes) == {f"lineage.{k}" for k in flat(node) if k != "id"}
    assert unquote(parsed["evil"]["tooltip"]) == EVIL
    assert json.loads(unquote(parsed["evil"]['"lineage.tags"'])) == [EVIL, "b"]

    done = subprocess.run([shutil.which("dot"), "-Tsvg", str(path)], capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    svg = done.stdout.decode()
    assert svg.count('class="node"') == len(nodes) and svg.count('class="edge"') == len(edges)
    assert "gotcha" not in re.sub(r"<title>.*?</title>|<text[^>]*>.*?</text>|xlink:title=\"[^\"]*\"", "", svg)


# -- PROV-JSON -----------------------------------------------------------------------------------------


def test_prov_json_reads_back_with_the_right_agents_entities_and_activities(rich_store, tmp_path):
    from prov.model import ProvDocument

    path = io.export(rich_store, "prov-json", tmp_path / "estate.json")[0]
    document = ProvDocument.deserialize(str(path), format="json")
    nodes, edges = records(rich_store)
    kinds = Counter(n["kind"] for n in nodes)
    found = Counter(type(r).__name__ for r in document.get_records())
    assert found["ProvAgent"] == kinds["person"] + kinds["team"]
    assert found["ProvEntity"] == kinds["dataset"] + kinds["system"]
    assert found["ProvActivity"] == kinds["process"] + kinds["ai_tool"] + kinds["decision"]
    relations = sum(n for name, n in found.items() if name not in ("ProvAgent", "ProvEntity", "ProvActivity"))
    assert relations == len(edges)
    by_kind = Counter(e["kind"] for e in edges)
    assert found["ProvDelegation"] == by_kind["member_of"]
    assert found["ProvAttribution"] == by_kind["enters"]

    register = document.get_record("lineage:housing-register")[0]
    attributes = {str(k): v for k, v in register.attributes}
    assert attributes["prov:label"] == "Housing register"
    assert attributes["lineage:quality.completeness"] == 0.94 and attributes["lineage:record_count"] == 8421
    scores = document.get_record("lineage:" + ol.node_id("dataset", "pg", "public.scores"))[0]
    assert type(scores).__name__ == "ProvEntity"
    ali = document.get_record("lineage:officer-ali")[0]
    assert "prov:Person" in {str(v) for k, v in ali.attributes if str(k) == "prov:type"}
    evil = {str(k): v for k, v in document.get_record("lineage:evil")[0].attributes}
    assert evil["prov:label"] == EVIL and json.loads(evil["lineage:tags"]) == [EVIL, "b"]
    # The document PROV wrote back is the same document.
    again = ProvDocument.deserialize(content=document.serialize(format="json"), format="json")
    assert again == document


# -- the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize("format_", ["json", "graphml", "dot", "prov-json"])
def test_cli_exports_every_format_to_a_file_or_standard_output(runner, db_path, tmp_path, format_):
    path = tmp_path / f"estate.{format_}"
    result = run(runner, ["--db", db_path, "export", "--format", format_, path])
    assert result.exit_code == 0 and f"Wrote {path}" in result.output
    printed = run(runner, ["--db", db_path, "export", "--format", format_, "-"])
    assert printed.exit_code == 0 and printed.output == path.read_text("utf-8")


def test_cli_export_csv_needs_a_folder(runner, db_path):
    result = run(runner, ["--db", db_path, "export", "--format", "csv", "-"])
    assert result.exit_code == 2 and "give a folder" in result.output
    assert "graphml" in run(runner, ["export", "--help"]).output

"""OpenLineage columns as fields: ``schema`` fields, ``columnMetrics`` null counts as completeness,
``columnLineage`` 1-0-1 (deprecated transformationType), 1-1-0 (transformations[]) and 1-2-0
(dataset-wide ``dataset[]``), by file and over HTTP with identical results.

The fixtures in tests/data/openlineage/ were written for this project in the shapes Spark, Airflow
and dbt emit. Expected ids come from the documented hash rule, recomputed in test_openlineage.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT
from test_openlineage import exported, expected_id, facet, import_, run_event

from lineage import fields as lf
from lineage.errors import ValidationError
from lineage.graph import LineageGraph
from lineage.io import openlineage as ol
from lineage.store import Store
from web import create_app

DATA = ROOT / "tests" / "data" / "openlineage"
FILES = sorted(DATA.iterdir())
CMS, DW = "postgres://cms.northbridge.local:5432", "postgres://dw.northbridge.local:5432"
APPLICATIONS = expected_id("dataset", CMS, "cms.public.applications")
SNAPSHOT = expected_id("dataset", "file", "/data/housing/register")
REGISTER = expected_id("dataset", DW, "dw.housing.register")
MEDICAL = expected_id("dataset", DW, "dw.housing.medical")
INPUTS = expected_id("dataset", DW, "dw.housing.model_inputs")
FEATURES = expected_id("dataset", DW, "dw.housing.priority_features")


@pytest.fixture
def imported(tmp_path) -> Store:
    store = Store(tmp_path / "ol.db", create=True)
    ol.import_files(store, FILES, actor="tester")
    return store


def by_name(store: Store, node: str) -> dict[str, dict]:
    return {item["name"]: item for item in store.node(node).get("fields", [])}


def test_schema_fields_and_nested_structs(imported):
    fields = by_name(imported, APPLICATIONS)
    assert list(fields) == ["application_id", "household_size", "date_of_birth", "address", "address.postcode",
                            "address.line_1"]
    assert fields["household_size"]["type"] == "integer"


def test_column_metrics_give_completeness_per_field(imported):
    household = by_name(imported, APPLICATIONS)["household_size"]
    assert household["quality"]["completeness"] == {
        "score": round(1 - 674 / 8421, 6), "note": "OpenLineage dataQualityMetrics: 674 of 8,421 records leave it blank"}
    assert by_name(imported, APPLICATIONS)["date_of_birth"]["quality"]["completeness"]["score"] == 1.0


def test_1_0_1_legacy_transformation_types(imported):
    fields = by_name(imported, SNAPSHOT)
    assert fields["household_size"]["from"] == [{"node": APPLICATIONS, "field": "household_size",
                                                 "type": "DIRECT", "subtype": "IDENTITY"}]
    assert fields["postcode_hash"]["from"] == [{"node": APPLICATIONS, "field": "address.postcode", "type": "DIRECT",
                                                "subtype": "TRANSFORMATION", "description": "sha2(address.postcode, 256)",
                                                "masking": True}]
    assert fields["age_band"]["from"][0]["description"].startswith("CASE WHEN")


def test_1_1_0_transformations_one_link_each(imported):
    points = by_name(imported, INPUTS)["medical_points"]
    assert points["from"] == [
        {"node": MEDICAL, "field": "points", "type": "DIRECT", "subtype": "TRANSFORMATION",
         "description": "coalesce(m.points, 0)", "masking": False},
        {"node": MEDICAL, "field": "application_id", "type": "INDIRECT", "subtype": "JOIN", "masking": False}]


def test_1_2_0_dataset_wide_lineage_and_input_fields_added_to_inputs(imported):
    features = imported.node(FEATURES)
    assert features["all_fields_from"][0] == {"node": INPUTS, "field": "status", "type": "INDIRECT",
                                              "subtype": "FILTER", "description": "where status = 'active'",
                                              "masking": False}
    assert "status" in by_name(imported, INPUTS)  # named by the lineage, not by any schema


def test_field_queries_run_across_the_imported_jobs(imported):
    g = LineageGraph.from_store(imported)
    reach = lf.field_downstream(g, REGISTER, "household_size")
    assert reach.fields == [(INPUTS, "household_size"), (FEATURES, "household_size")]
    assert (FEATURES, "points") in lf.field_downstream(g, MEDICAL, "points").fields
    # A filter column reaches every field of the filtered dataset.
    assert lf.field_downstream(g, INPUTS, "status").fields == []
    assert FEATURES in lf.field_downstream(g, INPUTS, "status").nodes
    assert lf.field_upstream(g, FEATURES, "points").fields[:1] == [(INPUTS, "medical_points")]


def test_the_same_events_twice_change_nothing(imported):
    version = imported.version
    ol.import_files(imported, FILES, actor="tester")
    assert imported.version == version


def test_http_gives_the_same_graph_as_the_file(tmp_path, imported):
    Store(tmp_path / "web.db", create=True).close()
    client = create_app({"LINEAGE_DB": str(tmp_path / "web.db"), "TESTING": True}).test_client()
    for path in FILES:
        text = path.read_text("utf-8")
        events = [json.loads(line) for line in text.splitlines() if line.strip()] if path.suffix == ".ndjson" \
            else json.loads(text)
        for event in events if isinstance(events, list) else [events]:
            response = client.post("/api/v1/lineage", json=event)
            assert response.status_code == 201, response.json
    assert exported(Store(tmp_path / "web.db")) == exported(imported)


def test_a_deleted_column_lineage_facet_removes_the_links_in_either_order(tmp_path):
    outputs = [{"namespace": DW, "name": "out", "facets": {"columnLineage": facet(fields={
        "a": {"inputFields": [{"namespace": DW, "name": "in", "field": "x"}]}})}}]
    inputs = [{"namespace": DW, "name": "in", "facets": {}}]
    full = run_event(time="2026-03-02T10:00:00Z", inputs=inputs, outputs=outputs)
    deleted = run_event(time="2026-03-03T10:00:00Z", inputs=inputs, outputs=[
        {"namespace": DW, "name": "out", "facets": {"columnLineage": facet(_deleted=True)}}])
    one, two = Store(tmp_path / "1.db", create=True), Store(tmp_path / "2.db", create=True)
    import_(one, [full])
    assert one.node(expected_id("dataset", DW, "out"))["fields"] == [
        {"name": "a", "from": [{"node": expected_id("dataset", DW, "in"), "field": "x"}]}]
    import_(one, [deleted])
    import_(two, [deleted])
    import_(two, [full])
    assert "fields" not in one.node(expected_id("dataset", DW, "out"))
    assert exported(one) == exported(two)


@pytest.mark.parametrize("lineage, path, message", [
    ({"fields": {"a": {}}}, "outputs[0].facets.columnLineage.fields.a.inputFields", "required"),
    ({"fields": {"a": {"inputFields": [{"namespace": "n", "name": "x"}]}}},
     "outputs[0].facets.columnLineage.fields.a.inputFields[0].field", "required"),
    ({"fields": {"a": {"inputFields": [{"namespace": "n", "name": "x", "field": "f",
                                        "transformations": [{"type": "SIDEWAYS"}]}]}}},
     "outputs[0].facets.columnLineage.fields.a.inputFields[0].transformations[0].type", "DIRECT, INDIRECT"),
    ({"fields": {"a": {"inputFields": [{"namespace": "n", "name": "x", "field": "f",
                                        "transformations": [{"subtype": "MAGIC"}]}]}}},
     "transformations[0].subtype", "IDENTITY"),
    ({"fields": {"a": {"inputFields": []}}, "dataset": [{"namespace": "n", "name": "x"}]},
     "outputs[0].facets.columnLineage.dataset[0].field", "required"),
    ({"fields": []}, "outputs[0].facets.columnLineage.fields", "an object"),
])
def test_bad_column_lineage_names_the_json_path(tmp_path, lineage, path, message):
    event = run_event(outputs=[{"namespace": DW, "name": "out", "facets": {"columnLineage": facet(**lineage)}}])
    with pytest.raises(ValidationError) as caught:
        ol.parse_event(event, "events.json: event 1")
    text = str(caught.value)
    assert path in text and message in text and "events.json: event 1" in text


def test_fixture_files_are_the_project_own(tmp_path):
    for path in FILES:
        assert "northbridge" in Path(path).read_text()

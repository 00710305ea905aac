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
HDFS, HIVE = "hdfs://namenode.northbridge.local:8020", "hive://metastore.northbridge.local:9083"
COMPLETED_JOBS = expected_id("dataset", HDFS, "/warehouse/repairs.db/completed_jobs")
TRADE_COSTS = expected_id("dataset", HDFS, "/warehouse/repairs.db/trade_costs")


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
    # A file's events in one import, as the batch form takes them: a table renamed in one import is
    # named after its new name, in two it keeps the id it had (lineage.io.openlineage_names).
    for path in FILES:
        if path.suffix == ".ndjson" or isinstance(json.loads(path.read_text("utf-8")), list):
            response = client.post("/api/v1/lineage/batch", data=path.read_bytes(), content_type="application/json")
            assert response.status_code == 200 and response.json["rejected"] == 0, response.json
        else:
            response = client.post("/api/v1/lineage", data=path.read_bytes(), content_type="application/json")
            assert response.status_code == 201, response.json
    assert exported(Store(tmp_path / "web.db")) == exported(imported)


# -- every name of a table is its one node (lineage.io.openlineage_names) ------------------------------


def test_field_links_named_by_a_symlink_land_on_the_one_node(imported):
    """spark-column-lineage-symlinks.json names its input by the Hive name its ``symlinks`` give
    (the HTTP import of the same event is compared in test_http_gives_the_same_graph_as_the_file)."""
    fields = by_name(imported, TRADE_COSTS)
    assert fields["trade"]["from"] == [{"node": COMPLETED_JOBS, "field": "trade", "type": "DIRECT",
                                        "subtype": "IDENTITY", "masking": False}]
    assert fields["total_cost"]["from"][0]["node"] == COMPLETED_JOBS
    # Dataset-wide links, by the Hive name and by the path, both name the one node.
    assert {(link["node"], link["field"]) for link in imported.node(TRADE_COSTS)["all_fields_from"]} == {
        (COMPLETED_JOBS, "completed_on"), (COMPLETED_JOBS, "trade")}
    assert not list(imported.nodes(ids={expected_id("dataset", HIVE, "repairs.completed_jobs")}))
    g = LineageGraph.from_store(imported)
    assert lf.field_upstream(g, TRADE_COSTS, "total_cost").fields[:1] == [(COMPLETED_JOBS, "cost")]


def test_two_names_of_one_input_give_one_link_and_all_their_fields(store):
    """An output naming its input's fields by both of the input's names, which lists no schema."""
    def named(name: str, field: str) -> dict:
        return {"namespace": HIVE if name == "t" else HDFS, "name": name, "field": field}

    inputs = [{"namespace": HDFS, "name": "/w/t", "facets": {"symlinks": facet(identifiers=[
        {"namespace": HIVE, "name": "t", "type": "TABLE"}])}}]
    outputs = [{"namespace": DW, "name": "out", "facets": {"columnLineage": facet(fields={
        "a": {"inputFields": [named("t", "a"), named("/w/t", "a")]}, "b": {"inputFields": [named("/w/t", "b")]},
        "c": {"inputFields": [named("t", "c")]}})}}]
    import_(store, [run_event(inputs=inputs, outputs=outputs)])
    table = expected_id("dataset", HDFS, "/w/t")
    fields = by_name(store, expected_id("dataset", DW, "out"))
    assert fields["a"]["from"] == [{"node": table, "field": "a"}]
    assert [fields[name]["from"][0]["node"] for name in "bc"] == [table, table]
    assert sorted(by_name(store, table)) == ["a", "b", "c"]


@pytest.mark.parametrize("split", [True, False], ids=["one import each", "one import"])
def test_field_links_to_a_table_named_before_its_rename_land_on_it(tmp_path, split):
    created = run_event(time="2026-03-02T10:00:00Z", job="make", inputs=[], outputs=[
        {"namespace": HIVE, "name": "costs_v1", "facets": {"schema": facet(fields=[{"name": "cost", "type": "int"}])}}])
    renamed = run_event(time="2026-03-03T10:00:00Z", job="rename", inputs=[], outputs=[
        {"namespace": HIVE, "name": "costs", "facets": {"lifecycleStateChange": facet(
            lifecycleStateChange="RENAME", previousIdentifier={"namespace": HIVE, "name": "costs_v1"})}}])
    reader = run_event(time="2026-03-04T10:00:00Z", job="report", inputs=[{"namespace": HIVE, "name": "costs_v1"}],
                       outputs=[{"namespace": DW, "name": "report", "facets": {"columnLineage": facet(fields={
                           "spend": {"inputFields": [{"namespace": HIVE, "name": "costs_v1", "field": "cost"}]}})}}])
    store = Store(tmp_path / "s.db", create=True)
    for batch in ([created], [renamed], [reader]) if split else ([created, renamed, reader],):
        import_(store, batch)
    tables = [n for n in store.nodes() if n["kind"] == "dataset" and n["name"] != "report"]
    assert [n["name"] for n in tables] == ["costs"]
    link = by_name(store, expected_id("dataset", DW, "report"))["spend"]["from"]
    assert link == [{"node": tables[0]["id"], "field": "cost"}]
    assert store.edge(tables[0]["id"], expected_id("job", "airflow", "report"))


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

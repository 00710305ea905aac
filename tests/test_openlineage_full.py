"""OpenLineage taken in full (issue 18): blank texts, event types by schema URL, RFC 3339 times, batch
numbering, symlinks, the parent run facet, lifecycle states, kept raw events and the Marquez read API.

Fixtures in tests/data/openlineage are written for this project in the shapes the producers emit
(Airflow, Spark, dbt, Flink, Marquez); expected ids are computed here by the documented hash rule.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_db, run
from test_export import unquote
from test_openlineage import PRODUCER, expected_id, import_, run_event

from lineage.io import openlineage as ol
from lineage.store import Store
from web import create_app

DATA = Path(__file__).parent / "data" / "openlineage"
KAFKA = "kafka://kafka.northbridge.local:9092"


@pytest.fixture
def app(tmp_path, samples_db):
    return create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "web.db")), "TESTING": True})


def exported_graph(store: Store) -> tuple[list, list]:
    """Nodes and edges without the times they were written (which differ between two stores)."""
    drop = ("created", "updated")
    nodes = sorted(({k: v for k, v in n.items() if k not in drop} for n in store.nodes()), key=lambda n: n["id"])
    edges = sorted(({k: v for k, v in e.items() if k not in drop} for e in store.edges()),
                   key=lambda e: (e["source"], e["target"]))
    return nodes, edges


# -- blank texts, event types, times, numbering -----------------------------------------------------


def test_empty_descriptions_and_owner_names_are_absent_not_refused(store):
    result = ol.import_files(store, [DATA / "flink-empty-strings.ndjson"], actor="t")
    job = store.node(expected_id("job", "flink-jobs", "repairs_stream_enrich"))
    requests = store.node(expected_id("dataset", KAFKA, "repairs.requests"))
    assert "description" not in job and "owner" not in job and "owner_text" not in job
    assert "description" not in requests
    assert requests["schema"] == [{"name": "request_id", "type": "STRING", "description": ""},
                                  {"name": "property_ref", "type": "STRING"}]
    where = f"{DATA / 'flink-empty-strings.ndjson'}: event 1 (line 1)"
    assert result.warnings == [
        f"{where}: job.facets.documentation.description: empty, so taken as absent",
        f"{where}: job.facets.ownership.owners[0].name: empty, so taken as absent",
        f"{where}: inputs[0].facets.documentation.description: empty, so taken as absent"]
    assert "3 warnings" in str(result)


def test_an_empty_name_or_namespace_is_still_refused():
    with pytest.raises(ol.ValidationError, match="job.name: required"):
        ol.parse_event(run_event(job=""), "e")


def test_a_spec_1_run_event_with_a_stray_dataset_key_is_a_run_event(store):
    event = json.loads((DATA / "spec-1-full-event.json").read_text())
    parsed = ol.parse_event(event, "e")
    assert parsed.type == "RunEvent" and parsed.time == "2026-03-04T09:00:00.123000Z"
    ol.import_events(store, [parsed], actor="t", summary="t")
    job = expected_id("job", "northbridge-nightly", "benefits.reconcile")
    assert store.node(job)["kind"] == "process"
    assert expected_id("dataset", "leftover", "should-not-matter") not in {n["id"] for n in store.nodes()}
    # Without a schemaURL, run and job make a RunEvent all the same.
    del event["schemaURL"]
    assert ol.parse_event(event, "e").type == "RunEvent"


@pytest.mark.parametrize("time", ["2026-03-02t10:00:00z", "2026-03-02T10:00:00z", "2026-03-02t10:00:00.5Z"])
def test_lower_case_t_and_z_are_rfc_3339(time):
    assert ol.parse_event(run_event(time=time), "e").time.startswith("2026-03-02T10:00:00.")


def test_batch_problems_number_events_from_one_and_use_field(app, runner, tmp_path):
    events = [run_event(), run_event(job="second", inputs=[{"namespace": KAFKA}])]
    response = app.test_client().post("/api/v1/lineage/batch", json=events)
    assert response.status_code == 207
    rejected = response.json["results"][1]
    assert rejected["event"] == 2 and response.json["results"][0]["event"] == 1
    assert rejected["problems"] == [{"where": "event 2", "field": "inputs[0].name", "message": "required"}]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events))
    store = Store(tmp_path / "cli.db", create=True)
    store.close()
    result = run(runner, ["--db", tmp_path / "cli.db", "import-openlineage", path])
    assert result.exit_code == 1 and "event 2" in result.output and "inputs[0].name: required" in result.output


# -- long and strange names ------------------------------------------------------------------------


def test_a_very_long_name_still_gives_dot_that_graphviz_reads(store, tmp_path):
    import shutil
    import subprocess

    import pydot

    from lineage import io

    # The model keeps names to 500 characters and texts to 10,000: as UTF-8, with DOT's escapes,
    # that is far over the 16,384 bytes Graphviz reads in one quoted string.
    name = "住宅登録簿/" + "区画_\"年度\"/" * 120
    description = "「住宅」の\"記録\"" * 1000
    outputs = [{"namespace": "s3://bucket", "name": name,
                "facets": {"documentation": {"description": description}}}]
    import_(store, [run_event(outputs=outputs)])
    node_id = ol.node_id("dataset", "s3://bucket", name)
    path = io.export(store, "dot", tmp_path / "long.dot")[0]
    assert max(len(line.encode()) for line in path.read_text("utf-8").splitlines()) > 16_384
    done = subprocess.run([shutil.which("dot"), "-Tsvg", str(path)], capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[:300]
    nodes = {n.get_name(): n.get_attributes() for n in pydot.graph_from_dot_file(str(path))[0].get_nodes()}
    attributes = {k: unquote(v) for k, v in nodes[f'"{node_id}"'].items() if v.startswith('"')}
    assert len(attributes["label"]) < 150 and attributes["label"].startswith("住宅登録簿") and attributes["label"].endswith("…")
    assert attributes["tooltip"] == description
    assert json.loads(attributes['"lineage.openlineage"'])["name"] == name


def test_show_escapes_control_characters(runner, tmp_path):
    db = tmp_path / "show.db"
    store = Store(db, create=True)
    with store.change("t", "odd names") as change:
        change.add_node({"id": "odd", "kind": "dataset", "name": "Line one\nline two\tand \u202eevil"})
    store.conn.execute("UPDATE nodes SET name = ? WHERE id = 'older'", ("x",))
    store.close()
    result = run(runner, ["--db", db, "show", "odd"])
    assert result.exit_code == 0
    assert result.stdout == "odd\tdataset\tLine one\\nline two\\tand \\u202eevil\n"

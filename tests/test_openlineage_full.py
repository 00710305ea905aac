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

from lineage.errors import LineageError
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


# -- kept events -----------------------------------------------------------------------------------


def test_accepted_events_are_kept_once_and_bounded(store):
    from lineage.io import openlineage_kept as kept

    events = [run_event(time=f"2026-03-02T10:0{i}:00Z", run_id=f"r-{i}") for i in range(5)]
    ol.import_events(store, [ol.parse_event(e, "e") for e in events[:3]], actor="t", summary="t",
                     keeping=kept.Keeping(max_events=4))
    ol.import_events(store, [ol.parse_event(events[0], "e")], actor="t", summary="again",
                     keeping=kept.Keeping(max_events=4))  # the same event: kept once
    assert kept.kept_count(store)[0] == 3
    ol.import_events(store, [ol.parse_event(e, "e") for e in events[3:]], actor="t", summary="t",
                     keeping=kept.Keeping(max_events=4))
    assert [d["run"]["runId"] for _, d in kept.kept_events(store)] == ["r-1", "r-2", "r-3", "r-4"]  # oldest gone
    one = kept.kept_count(store)[1] // 4
    ol.import_events(store, [ol.parse_event(run_event(run_id="r-9"), "e")], actor="t", summary="t",
                     keeping=kept.Keeping(max_bytes=one * 2 + 10))
    assert [d["run"]["runId"] for _, d in kept.kept_events(store)] == ["r-4", "r-9"]
    ol.import_events(store, [ol.parse_event(run_event(run_id="r-10"), "e")], actor="t", summary="t",
                     keeping=kept.Keeping(max_events=0))
    assert kept.kept_count(store)[0] == 2  # keeping none leaves the log as it was


def test_a_bad_file_keeps_nothing(store, tmp_path):
    from lineage.io import openlineage_kept as kept

    path = tmp_path / "bad.ndjson"
    path.write_text(json.dumps(run_event()) + "\n" + json.dumps(run_event(job="")) + "\n")
    with pytest.raises(ol.ValidationError):
        ol.import_files(store, [path], actor="t")
    assert kept.kept_count(store) == (0, 0)


def test_keeping_is_configured_by_environment_and_app(monkeypatch, app):
    from lineage.io import openlineage_kept as kept

    monkeypatch.setenv("LINEAGE_OPENLINEAGE_KEEP_EVENTS", "7")
    monkeypatch.setenv("LINEAGE_OPENLINEAGE_KEEP_BYTES", "1000")
    assert kept.Keeping.configured() == kept.Keeping(7, 1000)
    assert kept.Keeping.configured({"LINEAGE_OPENLINEAGE_KEEP_EVENTS": 3}) == kept.Keeping(3, 1000)
    monkeypatch.setenv("LINEAGE_OPENLINEAGE_KEEP_EVENTS", "lots")
    with pytest.raises(LineageError, match="LINEAGE_OPENLINEAGE_KEEP_EVENTS must be a whole number"):
        kept.Keeping.configured()
    monkeypatch.delenv("LINEAGE_OPENLINEAGE_KEEP_EVENTS")
    app.config["LINEAGE_OPENLINEAGE_KEEP_EVENTS"] = 1
    client = app.test_client()
    for run_id in ("a", "b"):
        assert client.post("/api/v1/lineage", json=run_event(run_id=run_id)).status_code == 201
    store = Store(app.config["LINEAGE_DB"])
    assert [d["run"]["runId"] for _, d in kept.kept_events(store)] == ["b"]


def test_rederive_adds_what_an_older_version_read_past(store, runner, tmp_path, monkeypatch):
    """An older version that read no documentation facet: the kept event gives it back."""
    from lineage.io import openlineage_kept as kept

    event = run_event(job_facets={"documentation": {"description": "Builds the register nightly"}})
    monkeypatch.setattr(ol.Folded, "_common", lambda self, key, facets, time, slots: facets)  # the older version
    ol.import_events(store, [ol.parse_event(event, "e")], actor="t", summary="old")
    job = expected_id("job", "airflow", "housing.build_register")
    assert "description" not in store.node(job)
    monkeypatch.undo()
    store.close()
    result = run(runner, ["--db", store.path, "rederive-openlineage"])
    assert result.exit_code == 0, result.output
    assert "Re-derived 1 event: 0 nodes added, 1 changed" in result.output
    again = Store(store.path)
    assert again.node(job)["description"] == "Builds the register nightly"
    assert kept.rederive(again, actor="t").nodes_changed == 0  # nothing more to read


def test_upgrading_a_release_2_database_adds_the_kept_events(tmp_path):
    import gzip
    import shutil

    from lineage import migrations
    from lineage.io import openlineage_kept as kept

    path = tmp_path / "release-2.db"
    with gzip.open(Path(__file__).parent / "data" / "release-2.db.gz", "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    store = Store(path)
    assert store.schema_version == migrations.LATEST >= 11
    assert kept.kept_count(store) == (0, 0)
    ol.import_events(store, [ol.parse_event(run_event(), "e")], actor="t", summary="t")
    assert kept.kept_count(store)[0] == 1


# -- the parent run facet --------------------------------------------------------------------------


def test_airflow_tasks_are_part_of_their_dag(store):
    ol.import_files(store, [DATA / "airflow-dag.ndjson"], actor="t")
    dag = expected_id("job", "airflow", "housing_nightly")
    extract = expected_id("job", "airflow", "housing_nightly.extract_applications")
    build = expected_id("job", "airflow", "housing_nightly.build_register")
    edges = {(e["source"], e["target"]): e["kind"] for e in store.edges()}
    assert edges[(extract, dag)] == "part_of" and edges[(build, dag)] == "part_of"
    assert store.node(dag)["kind"] == "process"
    assert sum(1 for kind in edges.values() if kind == "part_of") == 2  # the DAG's own runs name no parent

    from lineage.graph import LineageGraph, traverse

    g = LineageGraph.from_store(store)
    applications = expected_id("dataset", "postgres://cms.northbridge.local:5432", "public.applications")
    reached = set(traverse(g, applications, direction="downstream").ids())
    assert build in reached and dag not in reached  # belonging to a DAG is not a data flow


def test_spark_jobs_are_part_of_their_application(store):
    ol.import_files(store, [DATA / "spark-application.ndjson"], actor="t")
    application = expected_id("job", "spark-northbridge", "benefits_etl")
    task = expected_id("job", "spark-northbridge",
                       "benefits_etl.execute_insert_into_hadoop_fs_relation_command.warehouse_benefits_claims")
    assert store.edge(task, application)["kind"] == "part_of"


def test_a_parent_facet_without_a_job_is_refused():
    event = run_event()
    event["run"]["facets"]["parent"] = {"run": {"runId": "x"}, "job": {"namespace": "airflow"}}
    with pytest.raises(ol.ValidationError, match=r"run.facets.parent.job.name: required"):
        ol.parse_event(event, "e")


@pytest.mark.parametrize("form", ["json", "csv", "graphml", "prov-json", "dot"])
def test_part_of_edges_in_every_export(store, tmp_path, form):
    from lineage import io

    ol.import_files(store, [DATA / "airflow-dag.ndjson"], actor="t")
    paths = io.export(store, form, tmp_path / f"out.{form}")
    text = "".join(Path(p).read_text("utf-8") for p in paths)
    assert "part_of" in text
    if form == "prov-json":
        started = json.loads(text)["wasStartedBy"]
        assert {r["prov:starter"] for r in started.values()} == {f"lineage:{expected_id('job', 'airflow', 'housing_nightly')}"}
    if form == "json":  # the round trip is exact
        again = Store(tmp_path / "again.db", create=True)
        again.load(io.read_files([str(paths[0])], again), actor="t", summary="t")
        assert io.export(again, "json", tmp_path / "again.json") and (tmp_path / "again.json").read_text() == text


# -- symlinks and lifecycle ------------------------------------------------------------------------

HIVE = "hive://metastore.northbridge.local:9083"
HDFS = "hdfs://namenode.northbridge.local:8020"
CLAIMS_PATH = expected_id("dataset", HDFS, "/warehouse/benefits.db/claims")


def test_a_symlinked_table_is_one_node_known_by_every_name(store):
    ol.import_files(store, [DATA / "spark-application.ndjson", DATA / "spark-lifecycle-dbt.ndjson"], actor="t")
    datasets = {n["id"] for n in store.nodes(kind="dataset")}
    assert CLAIMS_PATH in datasets and expected_id("dataset", HIVE, "benefits.claims") not in datasets
    node = store.node(CLAIMS_PATH)
    assert node["openlineage"]["aliases"] == [[HIVE, "benefits.claims"]]
    backlog = expected_id("job", "dbt-northbridge", "northbridge.repairs.repairs_backlog")
    assert store.edge(CLAIMS_PATH, backlog)["kind"] == "feeds"  # dbt named it by its table name
    from lineage.graph import LineageGraph, traverse

    g = LineageGraph.from_store(store)
    claims_source = expected_id("dataset", "postgres://benefits.northbridge.local:5432", "public.claims")
    assert claims_source in set(traverse(g, backlog, direction="upstream").ids())  # through the one node


def test_symlinks_resolve_whatever_order_events_come_in(tmp_path):
    """The dbt event first (the table by its hive name, a node of its own), the Spark one after: the
    Spark name joins the node that is there."""
    store = Store(tmp_path / "order.db", create=True)
    ol.import_files(store, [DATA / "spark-lifecycle-dbt.ndjson"], actor="t")
    hive_claims = expected_id("dataset", HIVE, "benefits.claims")
    assert store.node(hive_claims)
    ol.import_files(store, [DATA / "spark-application.ndjson"], actor="t")
    datasets = {n["id"] for n in store.nodes(kind="dataset")}
    assert hive_claims in datasets and CLAIMS_PATH not in datasets
    assert store.node(hive_claims)["openlineage"]["aliases"] == [[HDFS, "/warehouse/benefits.db/claims"]]
    writer = expected_id("job", "spark-northbridge",
                         "benefits_etl.execute_insert_into_hadoop_fs_relation_command.warehouse_benefits_claims")
    assert store.edge(writer, hive_claims)["kind"] == "derives"


def test_find_and_the_library_resolve_aliases(store):
    from lineage import find
    from lineage.io import openlineage_names

    ol.import_files(store, [DATA / "spark-application.ndjson"], actor="t")
    assert openlineage_names.node_named(store, "dataset", HIVE, "benefits.claims") == CLAIMS_PATH
    assert openlineage_names.node_named(store, "dataset", HIVE, "nothing") is None
    assert find.find(store, "benefits.claims").matches[0]["id"] == CLAIMS_PATH
    assert find.find(store, f"{HIVE}/benefits.claims").matches[0]["id"] == CLAIMS_PATH


def test_lifecycle_states(store):
    ol.import_files(store, [DATA / "spark-lifecycle-dbt.ndjson"], actor="t")
    dropped = expected_id("dataset", HIVE, "repairs.jobs_staging")
    dropper = expected_id("job", "spark-northbridge", "repairs_etl.drop_table.repairs_jobs_staging")
    assert store.node(dropped)["dropped"] == "2026-03-06"
    assert not [e for e in store.edges() if e["target"] == dropped]  # the dropping job did not produce it
    renamed = expected_id("dataset", HIVE, "repairs.jobs")
    assert store.node(renamed)["openlineage"]["aliases"] == [[HIVE, "repairs.jobs_v1"]]
    # The create and the rename are one table; dbt reads it by its old name and finds it.
    backlog = expected_id("job", "dbt-northbridge", "northbridge.repairs.repairs_backlog")
    assert store.edge(renamed, backlog)["kind"] == "feeds"
    assert store.node(expected_id("dataset", HIVE, "repairs.jobs_scratch"))["record_count"] == 0
    assert dropper in {n["id"] for n in store.nodes(kind="process")}


def test_a_table_created_again_is_no_longer_dropped(store):
    lc = "lifecycleStateChange"
    drop = run_event(time="2026-03-06T01:00:00Z", outputs=[{"namespace": HIVE, "name": "t", "facets": {lc: {lc: "DROP"}}}])
    create = run_event(time="2026-03-06T02:00:00Z", job="make", outputs=[
        {"namespace": HIVE, "name": "t", "facets": {lc: {lc: "CREATE"}}}])
    import_(store, [create, drop])  # order does not matter: the newest says
    table = expected_id("dataset", HIVE, "t")
    assert "dropped" not in store.node(table)
    assert store.edge(expected_id("job", "airflow", "make"), table)


def test_bad_lifecycle_and_symlinks_are_named():
    lc = "lifecycleStateChange"
    event = run_event(outputs=[{"namespace": HIVE, "name": "t", "facets": {
        lc: {lc: "VANISH"}, "symlinks": {"identifiers": [{"namespace": HIVE}]}}}])
    with pytest.raises(ol.ValidationError) as raised:
        ol.parse_event(event, "e")
    fields = {p.field for p in raised.value.problems}
    assert fields == {"outputs[0].facets.lifecycleStateChange.lifecycleStateChange",
                      "outputs[0].facets.symlinks.identifiers[0].name"}


def test_a_rename_in_a_later_import_renames_the_node(store):
    lc = "lifecycleStateChange"
    import_(store, [run_event(outputs=[{"namespace": HIVE, "name": "repairs.jobs_v1"}])])
    old = expected_id("dataset", HIVE, "repairs.jobs_v1")
    import_(store, [run_event(time="2026-03-03T10:00:00Z", job="rename", outputs=[
        {"namespace": HIVE, "name": "repairs.jobs", "facets": {lc: {lc: "RENAME", "previousIdentifier": {
            "namespace": HIVE, "name": "repairs.jobs_v1"}}}}])])
    node = store.node(old)  # ids never change
    assert node["name"] == "repairs.jobs"
    assert node["openlineage"] == {"namespace": HIVE, "name": "repairs.jobs", "aliases": [[HIVE, "repairs.jobs_v1"]]}
    assert expected_id("dataset", HIVE, "repairs.jobs") not in {n["id"] for n in store.nodes()}
    import_(store, [run_event(time="2026-03-04T10:00:00Z", job="reader", inputs=[
        {"namespace": HIVE, "name": "repairs.jobs_v1"}], outputs=[])])
    assert store.edge(old, expected_id("job", "airflow", "reader"))


# -- every fixture: HTTP and file give one graph, and it round-trips -------------------------------

FIXTURES = ["airflow-dag.ndjson", "spark-application.ndjson", "spark-lifecycle-dbt.ndjson", "flink-empty-strings.ndjson",
            "spec-1-full-event.json"]


def test_http_and_file_imports_give_identical_graphs(app, tmp_path, samples_db):
    from lineage import io

    paths = [DATA / name for name in FIXTURES]
    by_file = Store(copy_db(samples_db, tmp_path / "file.db"))
    ol.import_files(by_file, paths, actor="t")
    client = app.test_client()
    for path in paths:
        body = path.read_bytes()
        if path.suffix == ".json":
            assert client.post("/api/v1/lineage", data=body, content_type="application/json").status_code == 201
        else:
            response = client.post("/api/v1/lineage/batch", data=body, content_type="application/json")
            assert response.status_code == 200, response.json
    by_http = Store(app.config["LINEAGE_DB"])
    assert exported_graph(by_http) == exported_graph(by_file)
    first = io.export(by_file, "json", tmp_path / "first.json")[0]
    again = Store(tmp_path / "again.db", create=True)
    again.load(io.read_files([str(first)], again), actor="t", summary="t")
    second = io.export(again, "json", tmp_path / "second.json")[0]
    assert Path(first).read_bytes() == Path(second).read_bytes()


def test_a_dropped_dataset_says_so_on_its_page(app):
    client = app.test_client()
    body = (DATA / "spark-lifecycle-dbt.ndjson").read_bytes()
    assert client.post("/api/v1/lineage/batch", data=body, content_type="application/json").status_code == 200
    page = client.get(f"/nodes/{expected_id('dataset', HIVE, 'repairs.jobs_staging')}")
    assert page.status_code == 200
    assert "the table was dropped on 6 March 2026" in page.text and "Dropped (no longer exists) on" in page.text
    twin = client.get(f"/nodes/{expected_id('dataset', HIVE, 'repairs.jobs_staging')}.json")
    assert twin.json["node"]["dropped"] == "2026-03-06"


# -- Marquez's read API ----------------------------------------------------------------------------


@pytest.fixture
def marquez_client(app):
    client = app.test_client()
    for name in ("airflow-dag.ndjson", "spark-application.ndjson", "spark-lifecycle-dbt.ndjson"):
        body = (DATA / name).read_bytes()
        assert client.post("/api/v1/lineage/batch", data=body, content_type="application/json").status_code == 200
    return client


DW = "postgres://dw.northbridge.local:5432"


def test_marquez_namespaces(marquez_client):
    body = marquez_client.get("/api/v1/namespaces").json
    names = [n["name"] for n in body["namespaces"]]
    assert names == sorted(names) and {"airflow", "lineage", HIVE, DW} <= set(names)
    assert set(body["namespaces"][0]) == {"name", "createdAt", "updatedAt", "ownerName", "description", "isHidden"}


def test_marquez_lineage_graph(marquez_client):
    response = marquez_client.get(f"/api/v1/lineage?nodeId=dataset:{DW}:housing.register&depth=3")
    assert response.status_code == 200
    graph = {node["id"]: node for node in response.json["graph"]}
    build = "job:airflow:housing_nightly.build_register"
    assert {f"dataset:{DW}:housing.register", build, f"dataset:{DW}:staging.applications",
            "job:airflow:housing_nightly.extract_applications"} <= set(graph)
    assert graph[build]["type"] == "JOB" and graph[f"dataset:{DW}:housing.register"]["type"] == "DATASET"
    assert graph[build]["inEdges"] == [{"origin": f"dataset:{DW}:staging.applications", "destination": build}]
    assert graph[build]["outEdges"] == [{"origin": build, "destination": f"dataset:{DW}:housing.register"}]
    data = graph[build]["data"]
    assert data["id"] == {"namespace": "airflow", "name": "housing_nightly.build_register"}
    assert data["parentJobName"] == "housing_nightly" and data["simpleName"] == "build_register"
    assert data["inputs"] == [{"namespace": DW, "name": "staging.applications"}]
    assert "job:airflow:housing_nightly" not in graph  # a task's DAG is not data flow
    assert all(node["type"] in ("JOB", "DATASET") for node in graph.values())  # never people or decisions
    # A hand-drawn dataset is in the namespace "lineage", its id its name.
    drawn = marquez_client.get("/api/v1/lineage?nodeId=dataset:lineage:housing-register&depth=1").json["graph"]
    register = next(n for n in drawn if n["id"] == "dataset:lineage:housing-register")
    assert register["data"]["namespace"] == "lineage" and register["data"]["name"] == "housing-register"
    assert register["outEdges"]  # what it feeds, among the jobs and datasets


def test_marquez_node_ids_resolve_aliases_and_say_what_is_wrong(marquez_client):
    by_alias = marquez_client.get(f"/api/v1/lineage?nodeId=dataset:{HIVE}:benefits.claims&depth=0")
    assert by_alias.status_code == 200
    assert [n["id"] for n in by_alias.json["graph"]] == [f"dataset:{HDFS}:/warehouse/benefits.db/claims"]
    dropped = marquez_client.get(f"/api/v1/lineage?nodeId=dataset:{HIVE}:repairs.jobs_staging&depth=0").json
    assert dropped["graph"][0]["data"]["deleted"] is True and dropped["graph"][0]["data"]["lastLifecycleState"] == "DROP"
    missing = marquez_client.get(f"/api/v1/lineage?nodeId=dataset:{HIVE}:nothing")
    assert missing.status_code == 404 and "there is no dataset" in missing.json["error"]["message"]
    bad = marquez_client.get("/api/v1/lineage?nodeId=table:x:y")
    assert bad.status_code == 400 and "nodeId must be dataset:NAMESPACE:NAME" in bad.json["error"]["message"]
    assert marquez_client.get("/api/v1/lineage").status_code == 400
    assert marquez_client.get(f"/api/v1/lineage?nodeId=dataset:{DW}:housing.register&depth=99").status_code == 400


def test_marquez_column_lineage_gives_dataset_fields_and_their_links(app):
    client = app.test_client()
    body = (DATA / "spark-column-lineage-symlinks.json").read_bytes()
    assert client.post("/api/v1/lineage", data=body, content_type="application/json").status_code == 201
    out = f"datasetField:{HDFS}:/warehouse/repairs.db/trade_costs:total_cost"
    response = client.get(f"/api/v1/column-lineage?nodeId={out}&depth=1")
    assert response.status_code == 200
    graph = {n["id"]: n for n in response.json["graph"]}
    cost = f"datasetField:{HDFS}:/warehouse/repairs.db/completed_jobs:cost"
    assert {cost, out} <= set(graph) and all(n["type"] == "DATASET_FIELD" for n in graph.values())
    assert {"origin": cost, "destination": out} in graph[out]["inEdges"]
    assert graph[out]["data"]["inputFields"][0]["transformationType"] == "AGGREGATION"
    by_alias = client.get(f"/api/v1/column-lineage?nodeId=dataset:{HIVE}:repairs.completed_jobs&withDownstream=true")
    assert out in {n["id"] for n in by_alias.json["graph"]}
    assert client.get(f"/api/v1/column-lineage?nodeId=datasetField:{HDFS}:nothing").status_code == 404
    assert client.get("/api/v1/column-lineage?nodeId=datasetField:x").status_code == 400
    assert client.get(f"/api/v1/column-lineage?nodeId={out}&withDownstream=maybe").status_code == 400


def test_marquez_search(marquez_client):
    found = marquez_client.get("/api/v1/search?q=CLAIMS&filter=dataset").json
    assert {f"dataset:{HDFS}:/warehouse/benefits.db/claims",
            "dataset:postgres://benefits.northbridge.local:5432:public.claims"} <= {r["nodeId"] for r in found["results"]}
    assert all(r["type"] == "DATASET" for r in found["results"]) and found["totalCount"] == len(found["results"])
    assert set(found["results"][0]) == {"type", "name", "updatedAt", "namespace", "nodeId"}
    jobs = marquez_client.get("/api/v1/search?q=housing_nightly&filter=job").json["results"]
    assert {r["name"] for r in jobs} == {"housing_nightly", "housing_nightly.extract_applications",
                                         "housing_nightly.build_register"}
    by_alias = marquez_client.get("/api/v1/search?q=jobs_v1&filter=dataset").json["results"]
    assert [r["nodeId"] for r in by_alias] == [f"dataset:{HIVE}:repairs.jobs"]
    assert marquez_client.get("/api/v1/search?q=").status_code == 400
    assert marquez_client.get("/api/v1/search?q=x&filter=person").status_code == 400


def test_a_task_and_its_dag_name_each_other_on_their_pages(app):
    client = app.test_client()
    body = (DATA / "airflow-dag.ndjson").read_bytes()
    assert client.post("/api/v1/lineage/batch", data=body, content_type="application/json").status_code == 200
    task = client.get(f"/nodes/{expected_id('job', 'airflow', 'housing_nightly.build_register')}")
    assert "One step of a larger job: it runs as part of" in task.text and ">housing_nightly</a>" in task.text
    dag_id = expected_id("job", "airflow", "housing_nightly")
    page = client.get(f"/nodes/{dag_id}").text
    assert '<h2 class="govuk-heading-m" id="steps">Its steps</h2>' in page and "build_register</a>" in page
    dag = client.get(f"/nodes/{dag_id}.json").json
    assert {p["name"] for p in dag["family"]["parts"]} == {"housing_nightly.extract_applications",
                                                          "housing_nightly.build_register"}
    assert dag["family"]["part_of"] == [] and dag["family"]["more_parts"] is False
    dataset = client.get("/nodes/housing-register.json").json
    assert dataset["family"] is None


def test_a_name_too_long_to_keep_is_refused_naming_the_field():
    with pytest.raises(ol.ValidationError) as raised:
        ol.parse_event(run_event(inputs=[{"namespace": KAFKA, "name": "t" * 4001}]), "events.ndjson: event 2 (line 2)")
    assert str(raised.value.problems[0]) == ("events.ndjson: event 2 (line 2): inputs[0].name: "
                                             "expected at most 4,000 characters, got 4,001")


def test_many_long_other_names_all_find_the_node(store):
    from lineage.io import openlineage_names

    links = [{"namespace": HIVE, "name": f"alias_{i:02d}_" + "x" * 3000} for i in range(6)]
    import_(store, [run_event(outputs=[{"namespace": HDFS, "name": "/t", "facets": {"symlinks": {"identifiers": links}}}])])
    node = ol.node_id("dataset", HDFS, "/t")
    assert 1 <= len(store.node(node)["openlineage"]["aliases"]) < 6  # as many as fit on the node
    assert all(openlineage_names.node_named(store, "dataset", HIVE, link["name"]) == node for link in links)


def test_http_answers_say_what_was_read_past(app):
    event = json.loads((DATA / "flink-empty-strings.ndjson").read_text().splitlines()[0])
    response = app.test_client().post("/api/v1/lineage", json=event)
    assert response.status_code == 201
    assert response.json["warnings"][0] == "event: job.facets.documentation.description: empty, so taken as absent"


def test_a_dataset_page_lists_its_other_names(app):
    client = app.test_client()
    body = (DATA / "spark-application.ndjson").read_bytes()
    assert client.post("/api/v1/lineage/batch", data=body, content_type="application/json").status_code == 200
    page = client.get(f"/nodes/{CLAIMS_PATH}").text
    assert "Name in the pipelines (OpenLineage)" in page and f"{HDFS}//warehouse/benefits.db/claims" in page
    assert "Also known as:" in page and f"<li>{HIVE}/benefits.claims</li>" in page

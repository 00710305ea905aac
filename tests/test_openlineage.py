"""OpenLineage in: reading events, the mapping, merging in any order, bad input, the HTTP endpoint and
the real ``openlineage-python`` client against the app on loopback.

Expected nodes and edges are written out from the events by hand (ids from the hash rule recomputed
here with hashlib), not read back from the library.
"""
from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import random
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import waitress
from conftest import SAMPLES, copy_db, load_files, run, snapshot

from lineage import checks, io
from lineage.accounts import Accounts
from lineage.errors import ValidationError
from lineage.graph import LineageGraph
from lineage.io import openlineage as ol
from lineage.store import Store
from web import create_app

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
RUN_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
CMS, DW = "postgres://cms.northbridge.local:5432", "postgres://dw.northbridge.local:5432"


def expected_id(entity: str, namespace: str, name: str) -> str:
    """The documented id rule, computed here independently of the library."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")[:110].rstrip("-._")
    key = "\n".join((entity, namespace, name)).encode()
    return f"{slug}-{hashlib.sha1(key).hexdigest()[:8]}"


JOB = expected_id("job", "airflow", "housing.build_register")
APPLICATIONS = expected_id("dataset", CMS, "public.applications")
REGISTER = expected_id("dataset", DW, "housing.register")


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/X.json", **fields}


def run_event(state: str = "COMPLETE", time: str = "2026-03-02T10:00:00Z", *, run_id: str = "r-1",
              job: str = "housing.build_register", job_facets: dict | None = None,
              inputs: list[dict] | None = None, outputs: list[dict] | None = None, **extra: Any) -> dict[str, Any]:
    event = {"eventType": state, "eventTime": time, "producer": PRODUCER, "schemaURL": RUN_URL,
             "run": {"runId": run_id, "facets": {}},
             "job": {"namespace": "airflow", "name": job, "facets": job_facets or {}},
             "inputs": [{"namespace": CMS, "name": "public.applications", "facets": {}}] if inputs is None else inputs,
             "outputs": [{"namespace": DW, "name": "housing.register", "facets": {}}] if outputs is None else outputs}
    event.update(extra)
    return event


def write_events(path: Path, events: list[dict], form: str = "ndjson") -> Path:
    if form == "ndjson":
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    elif form == "array":
        path.write_text(json.dumps(events, indent=2), encoding="utf-8")
    else:
        assert len(events) == 1
        path.write_text(json.dumps(events[0], indent=2), encoding="utf-8")
    return path


def import_(store: Store, events: list[dict], owners: dict[str, str] | None = None) -> ol.ImportSummary:
    parsed = [ol.parse_event(e, f"event {i + 1}") for i, e in enumerate(events)]
    return ol.import_events(store, parsed, actor="tester", summary="test", owners=ol.Owners(store, owners))


def exported(store: Store) -> str:
    out = Path(store.path).with_suffix(".export.json")
    io.export(store, "json", out)
    return out.read_text("utf-8")


def edges_of(store: Store) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in store.edges()}


# -- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["ndjson", "array", "object"])
def test_every_file_form_imports_the_same_graph(tmp_path, form):
    events = [run_event()] if form == "object" else [run_event("START", "2026-03-02T09:59:00Z"), run_event()]
    path = write_events(tmp_path / f"events.{form}", events, form)
    store = Store(tmp_path / f"{form}.db", create=True)
    result = ol.import_files(store, [path], actor="tester")
    assert result.events == len(events)
    assert {n["id"]: n["kind"] for n in store.nodes()} == {JOB: "process", APPLICATIONS: "dataset", REGISTER: "dataset"}
    assert edges_of(store) == {(APPLICATIONS, JOB, "feeds"), (JOB, REGISTER, "derives")}
    assert store.edge(APPLICATIONS, JOB)["role"] == "input"
    assert store.node(REGISTER)["openlineage"] == {"namespace": DW, "name": "housing.register"}
    assert store.node(JOB)["name"] == "housing.build_register"


def test_ndjson_with_a_byte_order_mark_blank_lines_and_crlf(tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(run_event()).encode() + b"\r\n\r\n"
                     + json.dumps(run_event(time="2026-03-02T11:00:00Z")).encode() + b"\r\n")
    assert [e.where for e in ol.read_events([path])] == [f"{path}: event 1 (line 1)", f"{path}: event 2 (line 3)"]


def test_older_events_without_schema_url_and_every_event_type(store):
    old_run = run_event()
    del old_run["schemaURL"]
    job_event = {"eventTime": "2026-03-02T10:00:00Z", "producer": PRODUCER,
                 "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
                 "job": {"namespace": "dbt", "name": "register_model", "facets": {}},
                 "inputs": [{"namespace": DW, "name": "housing.register"}], "outputs": []}
    dataset_event = {"eventTime": "2026-03-02T10:00:00Z", "producer": PRODUCER,
                     "dataset": {"namespace": DW, "name": "housing.register", "facets": {
                         "documentation": facet(description="Households on the housing register")}}}
    parsed = [ol.parse_event(e, "e") for e in (old_run, job_event, dataset_event)]
    assert [e.type for e in parsed] == ["RunEvent", "JobEvent", "DatasetEvent"]
    ol.import_events(store, parsed, actor="t", summary="t")
    model_job = expected_id("job", "dbt", "register_model")
    assert (REGISTER, model_job, "feeds") in edges_of(store)
    assert store.node(REGISTER)["description"] == "Households on the housing register"


def test_spec_1_events_are_read_and_times_normalised():
    event = run_event(time="2026-03-02T11:00:00.123456789+01:00",
                      schemaURL="https://openlineage.io/spec/1-0-5/OpenLineage.json#/definitions/RunEvent")
    assert ol.parse_event(event, "e").time == "2026-03-02T10:00:00.123456Z"


# -- bad input ------------------------------------------------------------------------------------


def reject_file(store: Store, path: Path, *fragments: str) -> ValidationError:
    before, nodes_before = snapshot(store), list(store.nodes())
    with pytest.raises(ValidationError) as caught:
        ol.import_files(store, [path], actor="tester")
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))
    assert snapshot(store) == before and list(store.nodes()) == nodes_before
    return caught.value


def test_one_bad_event_imports_nothing_and_names_its_position_and_path(loaded_store, tmp_path):
    inputs = [{"namespace": CMS, "name": "a"}, {"namespace": CMS, "name": "b"}, {"namespace": CMS}]
    events = [run_event(), run_event(job="second"), run_event(job="third", inputs=inputs)]
    path = write_events(tmp_path / "events.ndjson", events)
    error = reject_file(loaded_store, path, f"{path}: event 3 (line 3): inputs[2].name: required")
    assert [(p.where, p.field, p.message) for p in error.problems] == [
        (f"{path}: event 3 (line 3)", "inputs[2].name", "required")]
    array = write_events(tmp_path / "events.json", events, "array")
    reject_file(loaded_store, array, f"{array}: event 3: inputs[2].name: required")


def nested_fields(depth: int) -> dict:
    field = {"name": "leaf"}
    for level in range(depth):
        field = {"name": f"level{level}", "type": "STRUCT", "fields": [field]}
    return field


@pytest.mark.parametrize("change, path, message", [
    (lambda e: e.pop("eventTime"), "eventTime", "required"),
    (lambda e: e.update(eventTime="last tuesday"), "eventTime", "expected an ISO 8601 date-time"),
    (lambda e: e.update(eventType="DONE"), "eventType", "expected one of: START, RUNNING, COMPLETE"),
    (lambda e: e.pop("producer"), "producer", "required"),
    (lambda e: e["run"].pop("runId"), "run.runId", "required"),
    (lambda e: e["job"].update(name=""), "job.name", "required (it is empty)"),
    (lambda e: e.update(inputs={"namespace": "x"}), "inputs", "expected a list"),
    (lambda e: e["outputs"].append("housing.register"), "outputs[1]", "expected an object"),
    (lambda e: e.update(schemaURL="https://openlineage.io/spec/3-0-0/OpenLineage.json#/$defs/RunEvent"),
     "schemaURL", "spec version 3-0-0 is not supported"),
    (lambda e: e["inputs"][0].update(inputFacets={"dataQualityAssertions": facet(assertions=[
        {"assertion": "not_null", "success": "yes"}])}),
     "inputs[0].inputFacets.dataQualityAssertions.assertions[0].success", 'expected true or false, got "yes"'),
    (lambda e: e["inputs"][0].update(inputFacets={"dataQualityMetrics": facet(rowCount=-3, columnMetrics={})}),
     "inputs[0].inputFacets.dataQualityMetrics.rowCount", "expected a whole number >= 0, got -3"),
    (lambda e: e["outputs"][0]["facets"].update(ownership=facet(owners=[{"type": "MAINTAINER"}])),
     "outputs[0].facets.ownership.owners[0].name", "required"),
    (lambda e: e["outputs"][0]["facets"].update(schema=facet(fields=[{"name": "id"}, {"name": 7}])),
     "outputs[0].facets.schema.fields[1].name", "expected text, got 7"),
    (lambda e: e["job"]["facets"].update(documentation=facet(description=None, _deleted="no")),
     "job.facets.documentation._deleted", 'expected true or false, got "no"'),
    (lambda e: e["outputs"][0]["facets"].update(schema=facet(fields=[nested_fields(40)])),
     "outputs[0].facets.schema.fields[0]" + ".fields[0]" * 31 + ".fields", "nested more than 32 levels deep"),
])
def test_malformed_events_name_the_json_path(change, path, message):
    event = run_event()
    change(event)
    with pytest.raises(ValidationError) as caught:
        ol.parse_event(event, "events.ndjson: event 1 (line 1)")
    assert f"events.ndjson: event 1 (line 1): {path}: {message}" in str(caught.value)


def test_files_that_are_not_events(loaded_store, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "eventTime": "2026-03-02T10:00:00Z",\n  "producer" "x"\n}\n', encoding="utf-8")
    reject_file(loaded_store, broken, f"{broken}: line 3, column", "is not valid JSON")
    lines = tmp_path / "lines.ndjson"
    lines.write_text(json.dumps(run_event()) + "\n{not json}\n", encoding="utf-8")
    reject_file(loaded_store, lines, f"{lines}: event 2 (line 2): is not valid JSON")
    empty = tmp_path / "empty.ndjson"
    empty.write_text("\n", encoding="utf-8")
    reject_file(loaded_store, empty, f"{empty}: is empty")
    number = tmp_path / "number.json"
    number.write_text("[42]", encoding="utf-8")
    reject_file(loaded_store, number, f"{number}: event 1: expected a JSON object (an OpenLineage event), got 42")


def test_cli_import_and_its_errors(runner, db_path, tmp_path):
    good = write_events(tmp_path / "good.ndjson", [run_event("START", "2026-03-02T09:00:00Z"), run_event()])
    result = run(runner, ["--db", db_path, "import-openlineage", good])
    assert result.exit_code == 0, result.output
    assert "Imported 2 events: 3 nodes added, 0 changed; 2 edges added; graph version 2" in result.output
    again = run(runner, ["--db", db_path, "import-openlineage", good])
    assert "0 nodes added, 0 changed; 0 edges added; graph version 2" in again.output
    bad = write_events(tmp_path / "bad.ndjson", [run_event(job="")])
    failed = run(runner, ["--db", db_path, "import-openlineage", good, bad])
    assert failed.exit_code == 1
    assert f"Error: {bad}: event 1 (line 1): job.name: required (it is empty)" in failed.output
    assert "Examples:" in run(runner, ["import-openlineage", "--help"]).output


# -- mapping --------------------------------------------------------------------------------------


def test_facets_set_description_owner_schema_and_quality(loaded_store):
    assertions = [{"assertion": "not_null", "success": True, "column": "id"},
                  {"assertion": "expect_column_values_to_not_be_null", "success": False, "column": "band"},
                  {"assertion": "unique", "success": True, "column": "id"},
                  {"assertion": "accepted_values", "success": False, "column": "band"},
                  {"assertion": "freshness", "success": True},
                  {"assertion": "relationships", "success": True, "column": "applicant_id"}]
    metrics = facet(rowCount=1000, columnMetrics={"id": {"nullCount": 0}, "band": {"nullCount": 30},
                                                  "notes": {"distinctCount": 5}})
    schema = facet(fields=[{"name": "id", "type": "INTEGER", "fields": []},
                           {"name": "address", "type": "STRUCT", "description": "Where they live",
                            "fields": [{"name": "postcode", "type": "VARCHAR"}]}])
    event = run_event(
        job_facets={"documentation": facet(description="Builds the register every night"),
                    "ownership": facet(owners=[{"name": "user:Jo.Fletcher@northbridge.gov.uk", "type": "MAINTAINER"}])},
        inputs=[{"namespace": CMS, "name": "public.applications",
                 "facets": {"schema": schema, "ownership": facet(owners=[{"name": "team:housing-allocations"}])},
                 "inputFacets": {"dataQualityAssertions": facet(assertions=assertions),
                                 "dataQualityMetrics": metrics}}])
    import_(loaded_store, [event])
    job = loaded_store.node(JOB)
    assert job["description"] == "Builds the register every night"
    assert job["owner"] == "owner-jo"  # by contact, ignoring case and the user: prefix
    applications = loaded_store.node(APPLICATIONS)
    assert applications["owner"] == "housing-allocations"  # a team, by id
    assert applications["record_count"] == 1000
    assert applications["schema"] == [{"name": "id", "type": "INTEGER"},
                                      {"name": "address", "type": "STRUCT", "description": "Where they live",
                                       "fields": [{"name": "postcode", "type": "VARCHAR"}]}]
    quality = applications["quality"]
    # completeness: assertions 1 of 2 = 0.5; metrics 1 - 30 / (1000 x 2) = 0.985; the lower wins.
    assert {d: q["score"] for d, q in quality.items()} == {
        "completeness": 0.5, "uniqueness": 1.0, "validity": 0.0, "timeliness": 1.0, "consistency": 1.0}
    assert all(q["as_of"] == "2026-03-02" for q in quality.values())
    assert quality["validity"]["note"] == "OpenLineage dataQualityAssertions: 0 of 1 passed: accepted_values(band)"
    assert "30 nulls in 2 columns of 1,000 rows" in quality["completeness"]["note"]
    g = LineageGraph.from_store(loaded_store)
    assert g.record(APPLICATIONS)["quality"] == quality  # what the decision views read


def test_metrics_alone_make_completeness():
    quality = ol.quality_from_facets({"dataQualityMetrics": {"rowCount": 50, "columnMetrics": {
        "a": {"nullCount": 5}, "b": {"nullCount": 0}, "c": {"nullCount": 0}, "d": {"nullCount": 10}}}}, "2026-01-01")
    assert quality == {"completeness": {"score": round(1 - 15 / 200, 4), "as_of": "2026-01-01",
                                        "note": "OpenLineage dataQualityMetrics: 15 nulls in 4 columns of 50 rows"}}
    assert ol.quality_from_facets({"dataQualityMetrics": {"rowCount": 0, "columnMetrics": {"a": {"nullCount": 0}}}},
                                  "2026-01-01") == {}


def test_unmapped_owners_are_kept_as_text_and_flagged_by_check(loaded_store, runner, tmp_path):
    owned = run_event(outputs=[{"namespace": DW, "name": "housing.register",
                                "facets": {"ownership": facet(owners=[{"name": "user:nobody@elsewhere.org"},
                                                                      {"name": "team:unknown"}])}}],
                      job_facets={"ownership": facet(owners=[{"name": "application:airflow"}])})
    import_(loaded_store, [owned])
    register = loaded_store.node(REGISTER)
    assert "owner" not in register and register["owner_text"] == "user:nobody@elsewhere.org, team:unknown"
    findings = {(f.check, f.node) for f in checks.check_graph(LineageGraph.from_store(loaded_store))}
    assert ("unmapped-owner", REGISTER) in findings and ("unmapped-owner", JOB) in findings
    assert ("ownerless", REGISTER) not in findings
    result = run(runner, ["--db", loaded_store.path, "check"])
    assert f"dataset '{REGISTER}' (housing.register) is owned, says OpenLineage, by 'user:nobody@elsewhere.org, " \
           "team:unknown', who is not a person or team in the graph" in result.output

    # Configured: an owners file maps the name; importing again maps it and the warning goes.
    owners = tmp_path / "owners.csv"
    owners.write_text("owner,node\nuser:nobody@elsewhere.org,owner-jo\napplication:airflow,housing-allocations\n")
    assert run(runner, ["--db", loaded_store.path, "import-openlineage", "--owners", owners,
                        write_events(tmp_path / "e.ndjson", [owned])]).exit_code == 0
    register = loaded_store.node(REGISTER)
    assert register["owner"] == "owner-jo" and "owner_text" not in register
    assert loaded_store.node(JOB)["owner"] == "housing-allocations"
    findings = {(f.check, f.node) for f in checks.check_graph(LineageGraph.from_store(loaded_store))}
    assert not {check for check, node in findings if node in (REGISTER, JOB)} & {"unmapped-owner", "unknown-owner"}


def test_owner_files_must_name_people_or_teams(loaded_store, tmp_path):
    bad = tmp_path / "owners.json"
    bad.write_text(json.dumps({"user:x": "housing-register"}))
    with pytest.raises(ValidationError, match="'housing-register' is not a person or team in the graph"):
        ol.read_owner_map(bad, loaded_store)
    good = tmp_path / "owners.csv"
    good.write_text("owner,node\nuser:x,owner-jo\nteam:allocations,housing-allocations\n")
    assert ol.read_owner_map(good, loaded_store) == {"user:x": "owner-jo", "team:allocations": "housing-allocations"}
    missing = tmp_path / "columns.csv"
    missing.write_text("name,id\nuser:x,owner-jo\n")
    with pytest.raises(ValidationError, match="expected the columns owner and node"):
        ol.read_owner_map(missing, loaded_store)


@pytest.mark.parametrize("job_facets", [
    {"tags": facet(tags=[{"key": "kind", "value": "ai_tool", "source": "USER"}])},
    {"tags": facet(tags=[{"key": "AI_TOOL", "value": "true"}])},
    {"lineage": facet(kind="ai_tool")},
])
def test_jobs_tagged_ai_tool_become_ai_tools_that_derive_their_outputs(store, job_facets):
    import_(store, [run_event(job_facets=job_facets)])
    assert store.node(JOB)["kind"] == "ai_tool"
    assert edges_of(store) == {(APPLICATIONS, JOB, "feeds"), (JOB, REGISTER, "derives")}


def test_dbt_models_are_not_ai_tools(store):
    import_(store, [run_event(job_facets={"jobType": facet(processingType="BATCH", integration="DBT",
                                                            jobType="MODEL")})])
    assert store.node(JOB)["kind"] == "process"


def test_a_job_tagged_later_changes_kind_and_keeps_its_edges(loaded_store):
    import_(loaded_store, [run_event(time="2026-03-02T10:00:00Z")])
    with loaded_store.change("someone", "this job informs allocations") as change:
        change.add_edge({"source": JOB, "target": "social-housing-allocations", "kind": "informs"})
    tagged = {"tags": facet(tags=[{"key": "ai_tool", "value": "true"}])}
    result = import_(loaded_store, [run_event(time="2026-03-03T10:00:00Z", run_id="r-2", job_facets=tagged)])
    assert result.kinds_changed == 1 and result.edges_added == 0
    assert loaded_store.node(JOB)["kind"] == "ai_tool"
    assert {(APPLICATIONS, JOB, "feeds"), (JOB, REGISTER, "derives"),
            (JOB, "social-housing-allocations", "informs")} <= edges_of(loaded_store)
    # An older event saying nothing about AI does not turn it back; a newer one without the tag does.
    import_(loaded_store, [run_event(time="2026-03-01T10:00:00Z", job_facets={"tags": facet(tags=[])})])
    assert loaded_store.node(JOB)["kind"] == "ai_tool"
    import_(loaded_store, [run_event(time="2026-03-04T10:00:00Z", job_facets={"tags": facet(_deleted=True)})])
    assert loaded_store.node(JOB)["kind"] == "process"


def test_a_kind_change_that_would_strand_an_edge_is_refused(loaded_store):
    import_(loaded_store, [run_event(), run_event(job="upstream", outputs=[], inputs=[])])
    with loaded_store.change("someone", "hand-drawn") as change:
        change.add_edge({"source": expected_id("job", "airflow", "upstream"), "target": JOB, "kind": "derives"})
    before = snapshot(loaded_store)
    tagged = run_event(time="2026-03-05T10:00:00Z", job_facets={"lineage": facet(kind="ai_tool")})
    with pytest.raises(ValidationError, match="change that edge first"):
        import_(loaded_store, [tagged])
    assert snapshot(loaded_store) == before


def test_a_node_drawn_by_hand_with_the_same_id_as_another_kind(loaded_store):
    with loaded_store.change("someone", "a decision") as change:
        change.add_node({"id": REGISTER, "kind": "decision", "name": "Not a dataset"})
    before = snapshot(loaded_store)
    with pytest.raises(ValidationError, match="exists already as a decision"):
        import_(loaded_store, [run_event()])
    assert snapshot(loaded_store) == before


def test_edges_drawn_by_hand_are_left_alone(loaded_store):
    import_(loaded_store, [run_event(inputs=[])])
    with loaded_store.change("someone", "hand-drawn") as change:
        change.add_node({"id": APPLICATIONS, "kind": "dataset", "name": "Applications"})
        change.add_edge({"source": APPLICATIONS, "target": JOB, "kind": "derives", "note": "by hand"})
    before = snapshot(loaded_store)
    import_(loaded_store, [run_event()])
    edge = loaded_store.edge(APPLICATIONS, JOB)
    assert edge["kind"] == "derives" and edge["note"] == "by hand"
    assert loaded_store.node(APPLICATIONS)["name"] == "Applications"  # names are kept once set
    assert snapshot(loaded_store)[1:3] == before[1:3]


# -- idempotent and order-tolerant ----------------------------------------------------------------


def test_the_same_events_twice_change_nothing(loaded_store, tmp_path):
    path = write_events(tmp_path / "events.ndjson", mixed_events(30, seed=3))
    first = ol.import_files(loaded_store, [path], actor="t")
    assert first.nodes_added > 0
    before, exported_before = snapshot(loaded_store), exported(loaded_store)
    second = ol.import_files(loaded_store, [path], actor="t")
    assert (second.nodes_added, second.nodes_changed, second.edges_added) == (0, 0, 0)
    assert snapshot(loaded_store) == before and exported(loaded_store) == exported_before


def test_start_and_complete_merge_in_either_order(tmp_path):
    start = run_event("START", "2026-03-02T09:00:00Z", outputs=[], inputs=[
        {"namespace": CMS, "name": "public.applications",
         "facets": {"schema": facet(fields=[{"name": "id", "type": "INTEGER"}])}}],
                      job_facets={"documentation": facet(description="Builds the register")})
    complete = run_event("COMPLETE", "2026-03-02T09:40:00Z", inputs=[
        {"namespace": CMS, "name": "public.applications",
         "inputFacets": {"dataQualityMetrics": facet(rowCount=100, columnMetrics={"id": {"nullCount": 1}})}}])
    results = []
    for order, together in (((start, complete), True), ((complete, start), True), ((start, complete), False),
                            ((complete, start), False)):
        store = Store(tmp_path / f"{len(results)}.db", create=True)
        if together:
            import_(store, list(order))
        else:
            for event in order:
                import_(store, [event])
        results.append(exported(store))
        store.close()
    assert len(set(results)) == 1
    merged = json.loads(results[0])
    applications = next(n for n in merged["nodes"] if n["id"] == APPLICATIONS)
    assert applications["schema"] == [{"name": "id", "type": "INTEGER"}]
    assert applications["quality"]["completeness"]["score"] == 0.99
    assert {(e["source"], e["target"]) for e in merged["edges"]} == {(APPLICATIONS, JOB), (JOB, REGISTER)}


def test_any_order_and_any_split_gives_the_same_graph(tmp_path):
    events = mixed_events(40, seed=11)
    exports = set()
    for attempt in range(4):
        shuffled = random.Random(attempt).sample(events, len(events))
        store = Store(tmp_path / f"{attempt}.db", create=True)
        cut = random.Random(attempt + 100).randrange(1, len(events))
        for part in (shuffled[:cut], shuffled[cut:]) if attempt % 2 else (shuffled,):
            import_(store, part)
        exports.add(exported(store))
        store.close()
    assert len(exports) == 1


def test_newer_values_win_older_ones_do_not(store):
    def documented(time: str, text: str) -> dict:
        return run_event(time=time, job_facets={"documentation": facet(description=text)})

    import_(store, [documented("2026-03-02T10:00:00Z", "v2")])
    import_(store, [documented("2026-03-01T10:00:00Z", "v1")])
    assert store.node(JOB)["description"] == "v2"
    import_(store, [documented("2026-03-03T10:00:00Z", "v3")])
    assert store.node(JOB)["description"] == "v3"
    assert ol.Registers(store).read([JOB])[JOB]["description"][0] == "2026-03-03T10:00:00.000000Z"

    # A newer event that repeats the value leaves the graph alone (no change, no new version) ...
    before = snapshot(store)
    import_(store, [documented("2026-03-05T10:00:00Z", "v3")])
    assert snapshot(store) == before
    # ... but is remembered: an event between the two no longer wins.
    import_(store, [documented("2026-03-04T10:00:00Z", "v4")])
    assert store.node(JOB)["description"] == "v3"


def test_values_that_come_and_go_end_at_the_newest_in_any_order(tmp_path):
    def documented(time: str, text: str) -> dict:
        return run_event(time=time, job_facets={"documentation": facet(description=text)})

    events = [documented("2026-03-01T10:00:00Z", "A"), documented("2026-03-02T10:00:00Z", "B"),
              documented("2026-03-03T10:00:00Z", "A"), run_event(time="2026-03-02T10:00:00Z", job_facets={
                  "documentation": facet(description="C")})]  # C ties with B: the greater digest wins
    finals = set()
    for number, order in enumerate(itertools.permutations(events)):
        store = Store(tmp_path / f"{number}.db", create=True)
        for event in order:
            import_(store, [event])
        finals.add(store.node(JOB)["description"])
        store.close()
    assert finals == {"A"}


def test_hand_edits_survive_replayed_events(store):
    event = run_event(job_facets={"documentation": facet(description="From Airflow")})
    import_(store, [event])
    with store.change("jo", "clearer words") as change:
        change.update_node(JOB, {"description": "Builds the housing register each night"})
    before = snapshot(store)
    import_(store, [event])
    assert store.node(JOB)["description"] == "Builds the housing register each night"
    assert snapshot(store) == before


def test_deleted_facets_remove_what_they_set_and_older_events_do_not_bring_it_back(loaded_store):
    full = run_event(time="2026-03-02T10:00:00Z",
                     job_facets={"documentation": facet(description="Builds it"),
                                 "ownership": facet(owners=[{"name": "user:owner-jo"}])},
                     outputs=[{"namespace": DW, "name": "housing.register", "facets": {
                         "documentation": facet(description="The register"),
                         "schema": facet(fields=[{"name": "id"}]),
                         "ownership": facet(owners=[{"name": "nobody-here"}]),
                         "dataQualityAssertions": facet(assertions=[{"assertion": "unique", "success": True}])}}])
    import_(loaded_store, [full])
    register = loaded_store.node(REGISTER)
    assert {"description", "schema", "owner_text", "quality"} <= set(register)
    assert loaded_store.node(JOB)["owner"] == "owner-jo"
    deleted = run_event(time="2026-03-03T10:00:00Z",
                        job_facets={"documentation": facet(_deleted=True), "ownership": facet(_deleted=True)},
                        outputs=[{"namespace": DW, "name": "housing.register", "facets": {
                            name: facet(_deleted=True)
                            for name in ("documentation", "schema", "ownership", "dataQualityAssertions")}}])
    import_(loaded_store, [deleted])
    register, job = loaded_store.node(REGISTER), loaded_store.node(JOB)
    assert not {"description", "schema", "owner_text", "owner", "quality"} & set(register)
    assert not {"description", "owner"} & set(job)
    before = snapshot(loaded_store)
    import_(loaded_store, [full])  # older than the deletions: changes nothing
    assert snapshot(loaded_store) == before
    # And a deletion that arrives before the values it deletes gives the same graph.
    other = Store(Path(loaded_store.path).with_name("other.db"), create=True)
    load_files(other, SAMPLES)
    import_(other, [deleted])
    import_(other, [full])
    assert exported(other) == exported(loaded_store)


def test_edges_of_every_run_are_a_union(store):
    import_(store, [run_event(run_id="a", outputs=[{"namespace": DW, "name": "one"}]),
                    run_event(run_id="b", time="2026-03-03T10:00:00Z", outputs=[{"namespace": DW, "name": "two"}])])
    assert {t for s, t, k in edges_of(store) if k == "derives"} == {expected_id("dataset", DW, "one"),
                                                                       expected_id("dataset", DW, "two")}


def mixed_events(count: int, seed: int) -> list[dict]:
    """A small realistic mix: a few jobs and datasets, START/COMPLETE pairs, facets that change."""
    from bench.openlineage import generate_events

    return list(itertools.islice(generate_events(count, jobs=6, datasets=10, seed=seed), count))


# -- HTTP ------------------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path, samples_db):
    return create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "web.db")), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def stored(app) -> Store:
    return Store(app.config["LINEAGE_DB"])


def test_one_event_over_http(app, client):
    response = client.post("/api/v1/lineage", json=run_event())
    assert response.status_code == 201, response.json
    assert response.json["accepted"] == 1 and response.json["nodes_added"] == 3
    store = stored(app)
    assert store.node(JOB)["kind"] == "process"
    assert store.history(limit=1)[0]["actor"] == "openlineage"  # nobody signed in: no accounts yet
    assert client.post("/api/v1/lineage", json=run_event()).json["nodes_added"] == 0


def test_gzip_bodies_as_the_client_sends_them(app, client):
    body = gzip.compress(json.dumps(run_event()).encode())
    response = client.post("/api/v1/lineage", data=body,
                           headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 201
    assert stored(app).node(REGISTER)["kind"] == "dataset"


def test_a_bad_event_over_http_says_where(client):
    event = run_event(inputs=[{"namespace": CMS, "name": "a"}, {"namespace": CMS, "name": "b"}, {"namespace": CMS}])
    response = client.post("/api/v1/lineage", json=event)
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400
    assert response.json["error"]["message"] == "inputs[2].name: required"
    assert response.json["error"]["problems"] == [{"where": "event", "field": "inputs[2].name", "message": "required"}]
    listed = client.post("/api/v1/lineage", json=[run_event()])
    assert listed.status_code == 400 and "/api/v1/lineage/batch" in listed.json["error"]["message"]
    broken = client.post("/api/v1/lineage", data="{nope", content_type="application/json")
    assert broken.status_code == 400 and "is not valid JSON" in broken.json["error"]["message"]
    text = client.post("/api/v1/lineage", data=json.dumps(run_event()), content_type="text/plain")
    assert text.status_code in (400, 415)  # a form-like body is refused (CSRF, or not JSON)


def test_batches_report_per_event(app, client):
    events = [run_event(), run_event(job="second", eventType="DONE"), run_event(job="third")]
    response = client.post("/api/v1/lineage/batch", json=events)
    assert response.status_code == 207
    body = response.json
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert body["results"][0] == {"event": 1, "status": "accepted"}
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["message"].startswith("eventType: expected one of: START")
    store = stored(app)
    assert store.node(expected_id("job", "airflow", "third"))
    assert expected_id("job", "airflow", "second") not in {n["id"] for n in store.nodes(kind="process")}
    assert store.history(limit=1)[0]["summary"] == "openlineage batch of 2 events"

    ndjson = "\n".join(json.dumps(e) for e in [run_event(job="fourth"), run_event(job="fifth")]) + "\n"
    all_good = client.post("/api/v1/lineage/batch", data=ndjson, content_type="application/json")
    assert all_good.status_code == 200 and all_good.json["accepted"] == 2
    none = client.post("/api/v1/lineage/batch", json=[{"eventTime": "x"}])
    assert none.status_code == 400 and none.json["error"]["results"][0]["status"] == "rejected"


def test_batch_events_that_break_the_model_are_named(app, client):
    with stored(app).change("someone", "a decision in the way") as change:
        change.add_node({"id": expected_id("dataset", DW, "clash"), "kind": "decision", "name": "Clash"})
    events = [run_event(), run_event(job="other", outputs=[{"namespace": DW, "name": "clash"}])]
    response = client.post("/api/v1/lineage/batch", json=events)
    assert response.status_code == 207
    assert [r["status"] for r in response.json["results"]] == ["accepted", "rejected"]
    assert "exists already as a decision" in response.json["results"][1]["message"]


def test_huge_bodies_are_refused_with_413(tmp_path, samples_db):
    app = create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "w.db")), "TESTING": True,
                      "LINEAGE_OPENLINEAGE_MAX_BYTES": 4096})
    client = app.test_client()
    big = run_event(job_facets={"documentation": facet(description="x" * 5000)})
    response = client.post("/api/v1/lineage", json=big)
    assert response.status_code == 413
    assert "accepts at most 4,096 bytes" in response.json["error"]["message"]
    bomb = gzip.compress(json.dumps(big).encode())
    assert len(bomb) < 4096
    inflated = client.post("/api/v1/lineage", data=bomb,
                           headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert inflated.status_code == 413
    assert client.post("/api/v1/lineage/batch", json=[big]).status_code == 413
    assert client.post("/api/v1/lineage", json=run_event()).status_code == 201


def test_with_accounts_events_need_an_owner_or_admin_token(app, client):
    store = stored(app)
    accounts = Accounts(store)
    accounts.add("jo", "a long password", role="owner", person="owner-jo", actor="test")
    accounts.add("ali", "another long password", role="contributor", person="officer-ali", actor="test")
    jo, ali = accounts.new_token("jo", "airflow", actor="test"), accounts.new_token("ali", "laptop", actor="test")
    assert client.post("/api/v1/lineage", json=run_event()).status_code == 401
    bad = client.post("/api/v1/lineage", json=run_event(), headers={"Authorization": "Bearer lin_not-a-token"})
    assert bad.status_code == 401
    contributor = client.post("/api/v1/lineage", json=run_event(), headers={"Authorization": f"Bearer {ali}"})
    assert contributor.status_code == 403
    response = client.post("/api/v1/lineage", json=run_event(), headers={"Authorization": f"Bearer {jo}"})
    assert response.status_code == 201
    assert store.history(limit=1)[0]["actor"] == "jo"


def test_the_owner_mapping_of_the_app(tmp_path, samples_db):
    owners = tmp_path / "owners.json"
    owners.write_text(json.dumps({"application:airflow": "housing-allocations"}))
    app = create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "w.db")), "TESTING": True,
                      "LINEAGE_OPENLINEAGE_OWNERS": str(owners)})
    event = run_event(job_facets={"ownership": facet(owners=[{"name": "application:airflow"}])})
    assert app.test_client().post("/api/v1/lineage", json=event).status_code == 201
    assert stored(app).node(JOB)["owner"] == "housing-allocations"


# -- the real client ----------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path, samples_db):
    """The app on a copy of the samples, served by waitress on loopback (as tests/browser/conftest.py)."""
    db = copy_db(samples_db, tmp_path / "served.db")
    store = Store(db)
    Accounts(store).add("jo", "a long password", role="owner", person="owner-jo", actor="test")
    token = Accounts(store).new_token("jo", "airflow", actor="test")
    store.close()
    server = waitress.create_server(create_app({"LINEAGE_DB": str(db)}), host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", token, db
    server.close()
    thread.join(timeout=5)


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_the_openlineage_python_client_sends_events_to_the_app(served, compression):
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset,
        documentation_job,
        ownership_dataset,
        schema_dataset,
    )
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    url, token, db = served
    config = HttpConfig.from_dict({"url": url, "auth": {"type": "api_key", "apiKey": token},
                                   "compression": compression, "retry": {"total": 0}, "timeout": 10})
    client = OpenLineageClient(transport=HttpTransport(config))
    run_id = str(uuid.uuid4())
    job = Job(namespace="airflow", name="housing.build_register",
              facets={"documentation": documentation_job.DocumentationJobFacet(description="Builds the register")})
    inputs = [InputDataset(
        namespace=CMS, name="public.applications",
        facets={"schema": schema_dataset.SchemaDatasetFacet(fields=[
                    schema_dataset.SchemaDatasetFacetFields(name="id", type="INTEGER")]),
                "ownership": ownership_dataset.OwnershipDatasetFacet(
                    owners=[ownership_dataset.Owner(name="user:jo.fletcher@northbridge.gov.uk")])},
        inputFacets={"dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
            assertions=[data_quality_assertions_dataset.Assertion(assertion="not_null", success=True, column="id"),
                        data_quality_assertions_dataset.Assertion(assertion="not_null", success=False,
                                                                  column="band")])})]
    outputs = [OutputDataset(namespace=DW, name="housing.register")]
    try:
        # COMPLETE first, then its START: the order events arrive in does not matter.
        for state, time in ((RunState.COMPLETE, "2026-03-02T10:30:00+00:00"),
                            (RunState.START, "2026-03-02T10:00:00+00:00")):
            client.emit(RunEvent(eventType=state, eventTime=time, run=Run(runId=run_id), job=job,
                                 inputs=inputs, outputs=outputs, producer=PRODUCER))
    finally:
        client.transport.close()
    store = Store(db)
    assert store.node(JOB)["description"] == "Builds the register"
    applications = store.node(APPLICATIONS)
    assert applications["owner"] == "owner-jo"
    assert applications["schema"] == [{"name": "id", "type": "INTEGER"}]
    assert applications["quality"]["completeness"]["score"] == 0.5
    assert edges_of(store) >= {(APPLICATIONS, JOB, "feeds"), (JOB, REGISTER, "derives")}
    history = store.history(limit=50)
    assert {entry["actor"] for entry in history if entry["change"] == history[0]["change"]} == {"jo"}
    assert len({entry["change"] for entry in history if entry["actor"] == "jo"}) == 1  # START changed nothing


# -- benchmark smoke --------------------------------------------------------------------------


def test_benchmark_smoke(tmp_path, capsys):
    from bench import openlineage as bench

    result = bench.main(["--events", "400", "--jobs", "20", "--datasets", "40", "--http-events", "30",
                         "--batch", "10", "--out", str(tmp_path)])
    assert result["file"]["events"] == 400 and result["file"]["events_per_s"] > 0
    assert result["file"]["nodes"] > 0 and result["file"]["edges"] > 0 and result["file"]["peak_rss_mib"] > 0
    assert result["file"]["repeat_changed"] == 0
    assert result["http"]["single"]["events"] == 30 and result["http"]["single"]["statuses"] == {"201": 30}
    assert result["http"]["batch"]["events"] == 30 and result["http"]["batch"]["statuses"] == {"200": 3}
    assert "events per second" in capsys.readouterr().out

"""dbt, SQL and ATRS importers, and the source (origin) of every node and edge (issue 19): the
library and the CLI, on fixtures written for the project (tests/data/dbt, sql, atrs)."""
from __future__ import annotations

import io as _io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lineage import importers, io, origin
from lineage.changeset import apply_changeset, parse_changeset, policy_targets, preview
from lineage.cli import cli
from lineage.errors import NotFoundError, ValidationError
from lineage.io import atrs, dbt, sql
from lineage.policy import Actor, decide
from lineage.store import Store

DATA = Path(__file__).parent / "data"
TARGET = DATA / "dbt" / "target"
SQL_FILE = DATA / "sql" / "warehouse.sql"
SCHEMA = DATA / "sql" / "schema.json"
ATRS_JSON = DATA / "atrs" / "housing-prioritisation-model.json"
ATRS_CSV = DATA / "atrs" / "atrs-v2.1.csv"
SAMPLE = Path(__file__).parent.parent / "sample_graphs" / "council_housing.json"


@pytest.fixture
def store():
    store = Store(":memory:", create=True)
    store.load(io.read_files([SAMPLE]), actor="test", summary="load")
    return store


def imported(store, what, name="upload"):
    changes = importers.changeset(store, what, name)
    return changes, apply_changeset(store, changes, actor="jo", summary=f"import {name}")


# -- dbt --------------------------------------------------------------------------------------


def test_dbt_models_sources_and_seeds_become_datasets_with_their_lineage(store):
    changes, _ = imported(store, dbt.read_target(TARGET))
    assert changes.notes == []
    register = store.node("staging.stg_applications")
    assert register["kind"] == "dataset" and register["name"] == "stg_applications"
    assert register["record_count"] == 8421
    assert register["origin"]["type"] == "dbt" and register["origin"]["name"] == "housing_warehouse"
    edges = {(e["source"], e["target"]): e for e in store.edges()}
    assert edges[("cms.applications", "staging.stg_applications")]["kind"] == "derives"
    assert edges[("reference.priority_bands", "marts.fct_allocations")]["kind"] == "derives"
    assert edges[("cms.applications", "staging.stg_applications")]["origin"]["name"] == "housing_warehouse"


def test_dbt_exposures_become_what_their_metadata_says(store):
    imported(store, dbt.read_target(TARGET))
    model = store.node("exposure.priority_model")
    board = store.node("exposure.allocations_board")
    assert model["kind"] == "ai_tool" and model["purpose"].startswith("Rank open") and model["human_review"] is True
    assert board["kind"] == "decision" and board["people_affected"] == 3400 and board["frequency"] == "weekly"
    assert store.edge("intermediate.int_priority_inputs", "exposure.priority_model")["kind"] == "feeds"
    assert store.edge("marts.fct_allocations", "exposure.allocations_board")["kind"] == "informs"


def test_dbt_owners_map_to_people_as_openlineage_owners_do(store):
    imported(store, dbt.read_target(TARGET))
    # meta.owner is Jo's e-mail, her contact; the exposure's owner e-mail too
    assert store.node("staging.stg_households")["owner"] == "owner-jo"
    assert store.node("exposure.priority_model")["owner"] == "owner-jo"
    # the group's owner is nobody in the graph: kept as text, as OpenLineage owners are
    applications = store.node("staging.stg_applications")
    assert "owner" not in applications and "housing-data@northbridge.gov.uk" in applications["owner_text"]


def test_dbt_tests_become_quality_dimensions_with_note_and_date(store):
    imported(store, dbt.read_target(TARGET))
    quality = store.node("staging.stg_applications")["quality"]
    assert {d: q["score"] for d, q in quality.items()} == {
        "completeness": 1.0, "uniqueness": 0.0, "validity": 1.0, "consistency": 1.0}
    assert quality["uniqueness"]["note"] == "dbt tests: 0 of 1 passed: unique(application_id)"
    assert quality["uniqueness"]["as_of"] == "2026-12-03"
    households = store.node("staging.stg_households")["quality"]
    assert households["completeness"]["score"] == 0.5  # not_null passed on one column, failed on the other
    assert store.node("cms.households")["quality"]["timeliness"]["score"] == 0.0  # freshness warned
    assert store.node("cms.applications")["quality"]["timeliness"]["score"] == 1.0
    assert dbt.TEST_DIMENSIONS == {"not_null": "completeness", "unique": "uniqueness", "relationships": "consistency",
                                   "accepted_values": "validity", "freshness": "timeliness"}


def test_dbt_catalog_columns_become_fields_linked_by_the_compiled_sql(store):
    imported(store, dbt.read_target(TARGET))
    fields = {f["name"]: f for f in store.node("intermediate.int_priority_inputs")["fields"]}
    assert fields["income"]["type"] == "numeric"
    assert fields["income"]["from"] == [{"node": "staging.stg_households", "field": "income", "type": "DIRECT",
                                         "subtype": "IDENTITY"}]
    assert fields["days_waiting"]["from"][0]["subtype"] == "TRANSFORMATION"
    wait = {f["name"]: f for f in store.node("marts.fct_allocations")["fields"]}["average_wait"]
    assert wait["from"][0] == {"node": "intermediate.int_priority_inputs", "field": "days_waiting",
                               "type": "DIRECT", "subtype": "AGGREGATION"}


def test_dbt_reimport_changes_nothing(store):
    imported(store, dbt.read_target(TARGET))
    version = store.version
    again = importers.changeset(store, dbt.read_target(TARGET), "target")
    assert preview(store, again).empty
    apply_changeset(store, again, actor="jo", summary="again")
    assert store.version == version


def test_reimport_keeps_what_people_added_to_an_imported_node(store):
    from lineage import fields

    imported(store, dbt.read_target(TARGET))
    node = store.node("staging.stg_applications")
    linked = fields.link_field(node, "status", [fields.field_source("cms.households", "household_id")])
    with store.change("jo", "by hand") as change:
        change.update_node(node["id"], {"fields": linked["fields"], "description": "Written by hand"})
    imported(store, dbt.read_target(TARGET))
    after = store.node("staging.stg_applications")
    status = {f["name"]: f for f in after["fields"]}["status"]
    assert {"node": "cms.households", "field": "household_id"} in status["from"]
    assert {"node": "cms.applications", "field": "status", "type": "DIRECT", "subtype": "TRANSFORMATION"} in status["from"]
    assert status["type"] == "text"
    assert after["description"] == "Applications, cleaned: one row per application."  # the project says it


def test_a_model_removed_from_the_project_is_reported_not_deleted(store, tmp_path):
    imported(store, dbt.read_target(TARGET))
    shutil.copytree(TARGET, tmp_path / "target")
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    del manifest["nodes"]["model.housing_warehouse.fct_allocations"]
    (tmp_path / "target" / "manifest.json").write_text(json.dumps(manifest))
    changes = importers.changeset(store, dbt.read_target(tmp_path / "target"), "target")
    assert any("fct_allocations (marts.fct_allocations)" in note and "no longer in it and was kept" in note
               for note in changes.notes), changes.notes
    assert preview(store, changes).counts()["nodes_removed"] == 0
    apply_changeset(store, changes, actor="jo", summary="again")
    assert store.node("marts.fct_allocations")


def test_a_zip_of_the_target_folder_reads_as_the_folder():
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in TARGET.iterdir():
            archive.write(path, f"target/{path.name}")
    from_zip, from_folder = dbt.read_zip(buffer.getvalue(), "target.zip"), dbt.read_target(TARGET)
    assert from_zip.nodes == from_folder.nodes and from_zip.edges == from_folder.edges


def test_a_manifest_from_another_dbt_version_is_refused_naming_the_file(tmp_path):
    shutil.copytree(TARGET, tmp_path / "target")
    path = tmp_path / "target" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v4.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValidationError) as error:
        dbt.read_target(tmp_path / "target")
    message = str(error.value.problems[0])
    assert "manifest.json" in message and "manifest v4" in message and "expected v7 to v12" in message


def test_a_truncated_manifest_says_where_and_what_was_expected(tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_bytes(TARGET.joinpath("manifest.json").read_bytes()[:5000])
    with pytest.raises(ValidationError) as error:
        dbt.read_target(tmp_path / "target")
    message = str(error.value.problems[0])
    assert "manifest.json: line" in message and "not valid JSON" in message and "a dbt manifest.json" in message


def test_a_folder_without_a_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(ValidationError, match="run dbt compile"):
        dbt.read_target(tmp_path)


def test_another_file_named_manifest_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text('{"nodes": {}}')
    with pytest.raises(ValidationError, match="expected a dbt manifest file"):
        dbt.read_target(tmp_path)


# -- SQL --------------------------------------------------------------------------------------


def test_sql_statements_become_table_lineage_across_two_schemas(store):
    changes, _ = imported(store, sql.read_sql_files([SQL_FILE], dialect="postgres", schema_path=SCHEMA))
    pairs = {(e["source"], e["target"]) for e in store.edges()
             if (e.get("origin") or {}).get("type") == "sql"}
    assert pairs == {("staging.applications", "reporting.open_applications"),
                     ("reporting.open_applications", "reporting.waiting_by_size"),
                     ("staging.households", "reporting.waiting_by_size"),
                     ("reporting.open_applications", "reporting.allocations_log"),
                     ("staging.bands", "reporting.allocations_log"),
                     ("staging.households", "reporting.households"),
                     ("staging.applications", "reporting.applications_copy")}
    assert store.node("reporting.open_applications")["origin"]["name"] == "warehouse.sql"


def test_statements_sqlglot_cannot_read_are_listed_with_file_and_line():
    found = sql.read_sql_files([SQL_FILE], dialect="postgres", schema_path=SCHEMA)
    unreadable = [note for note in found.notes if "could not be read" in note]
    assert [note.split(": this")[0] for note in unreadable] == [f"{SQL_FILE}: line 23", f"{SQL_FILE}: line 39"]
    assert any("2 statements with no lineage" in note and "line 4 (CREATE without a SELECT), 37 (GRANT)" in note
               for note in found.notes)


def test_column_lineage_as_plain_data():
    found = sql.statement_lineage(
        "INSERT INTO reporting.allocations_log (application_id, band) SELECT o.application_id, UPPER(b.band) "
        "FROM reporting.open_applications AS o JOIN staging.bands AS b ON b.household_id = o.household_id",
        dialect="postgres")
    assert found.target == "reporting.allocations_log"
    assert found.sources == ["reporting.open_applications", "staging.bands"]
    assert [c.as_dict() for c in found.columns] == [
        {"table": "reporting.allocations_log", "column": "application_id", "transformation": "identity",
         "inputs": ["reporting.open_applications.application_id"]},
        {"table": "reporting.allocations_log", "column": "band", "transformation": "transformation",
         "inputs": ["staging.bands.band"]}]
    merge = sql.statement_lineage("MERGE INTO r.h AS t USING s.h AS s ON t.id = s.id "
                                  "WHEN MATCHED THEN UPDATE SET size = s.size")
    assert (merge.target, merge.sources, [c.as_dict()["inputs"] for c in merge.columns]) == ("r.h", ["s.h"], [["s.h.size"]])
    with pytest.raises(sql.NoLineage):
        sql.statement_lineage("GRANT SELECT ON r.h TO analysts")


def test_a_schema_file_resolves_select_star():
    without = sql.read_sql_files([SQL_FILE], dialect="postgres")
    assert any("line 35: it selects *" in note for note in without.notes)
    assert not [c for c in without.columns if c.table == "reporting.applications_copy"]
    resolved = sql.read_sql_files([SQL_FILE], dialect="postgres", schema_path=SCHEMA)
    assert [c.column for c in resolved.columns if c.table == "reporting.applications_copy"] == [
        "application_id", "household_id", "status", "received_on"]


def test_sql_column_lineage_is_attached_as_field_links(store):
    imported(store, sql.read_sql_files([SQL_FILE], dialect="postgres", schema_path=SCHEMA))
    fields = {f["name"]: f for f in store.node("reporting.waiting_by_size")["fields"]}
    assert fields["household_size"]["from"] == [{"node": "staging.households", "field": "household_size",
                                                 "type": "DIRECT", "subtype": "IDENTITY"}]
    assert {f["name"] for f in store.node("staging.households")["fields"]} == {"household_id", "household_size"}


def test_sql_reimport_changes_nothing(store):
    imported(store, sql.read_sql_files([SQL_FILE], schema_path=SCHEMA))
    assert preview(store, importers.changeset(store, sql.read_sql_files([SQL_FILE], schema_path=SCHEMA), "x")).empty


def test_a_bad_schema_file_names_the_file(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text('{"staging.orders": ["id"]}')
    with pytest.raises(ValidationError, match="schema.json, field 'staging.orders': expected the columns"):
        sql.read_schema(path)


# -- ATRS -------------------------------------------------------------------------------------


def test_a_govuk_content_item_becomes_an_ai_tool():
    [record] = atrs.read_files([ATRS_JSON]).nodes
    assert record["kind"] == "ai_tool" and record["name"] == "Housing prioritisation model"
    assert record["organisation"] == "Northbridge Borough Council"
    assert record["purpose"].startswith("The model scores open housing applications")
    assert record["phase"] == "production" and record["human_review"] is True and record["third_party"] is True
    assert record["human_decisions"].startswith("An officer reads every application")
    assert record["appeals"].startswith("Applicants can ask for a review")
    assert len(record["risks"]) == 2 and record["risks"][0].startswith("Households who apply on paper")
    assert record["impact_assessments"] == ["Data protection impact assessment, completed March 2026",
                                            "Equality impact assessment, completed April 2026"]
    assert record["atrs_url"] == ("https://www.gov.uk/algorithmic-transparency-records/"
                                  "northbridge-borough-council-housing-prioritisation-model")
    assert record["atrs_version"] == "3.0"
    assert record["atrs"]["function"] == "housing" and record["atrs"]["capability"] == "classification and ranking"
    assert record["atrs"]["date_published"] == "2026-06-12"


def test_the_v21_csv_becomes_ai_tools():
    records = atrs.read_files([ATRS_CSV]).nodes
    assert [r["name"] for r in records] == ["Pothole report triage", "Council tax single person discount review"]
    potholes, tax = records
    assert potholes["phase"] == "beta-pilot" and potholes["third_party"] is False and potholes["atrs_version"] == "2.1"
    assert potholes["risks"][1] == "Photo quality - Dark photos score lower - Low-confidence scores are sent for review"
    assert len(tax["impact_assessments"]) == 2 and tax["third_party"] is True


def test_a_record_updates_the_tool_it_describes_matched_by_name_then_link(store):
    with store.change("jo", "a tool drawn by hand") as change:
        change.add_node({"id": "pothole-model", "kind": "ai_tool", "name": "POTHOLE report triage",
                         "description": "Drawn by hand"})
    imported(store, atrs.read_files([ATRS_CSV]))
    tool = store.node("pothole-model")
    assert tool["phase"] == "beta-pilot" and tool["description"] == "Drawn by hand"  # what it does not say stays
    assert "origin" not in tool  # added by hand before: the record did not add it
    with store.change("jo", "renamed") as change:
        change.update_node("pothole-model", {"name": "Road defect triage"})
    changes = importers.changeset(store, atrs.read_files([ATRS_CSV]), "atrs.csv")
    assert [n["id"] for n in changes.data.nodes][0] == "pothole-model"  # the same link


def test_atrs_reimport_changes_nothing(store):
    imported(store, atrs.read_files([ATRS_JSON, ATRS_CSV]))
    assert preview(store, importers.changeset(store, atrs.read_files([ATRS_JSON, ATRS_CSV]), "x")).empty


def test_an_atrs_csv_with_a_missing_column_says_which(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text("name,description,phase\nTriage,Sorts reports,Production\n")
    with pytest.raises(ValidationError) as error:
        atrs.read_files([path])
    assert str(error.value.problems[0]).startswith(f"{path}: line 1: missing the column organisation")


def test_an_atrs_csv_row_without_a_name_names_its_line(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text("name,description,organisation\nTriage,Sorts reports,Northbridge\n,Something,Northbridge\n")
    with pytest.raises(ValidationError) as error:
        atrs.read_files([path])
    assert str(error.value.problems[0]) == f"{path}: line 3, field 'name': required; the ATRS v2.1 standard asks for it"


def test_truncated_atrs_json_says_where(tmp_path):
    path = tmp_path / "record.json"
    path.write_bytes(ATRS_JSON.read_bytes()[:300])
    with pytest.raises(ValidationError, match="record.json: line .*not valid JSON"):
        atrs.read_files([path])


# -- the source of every node and edge ---------------------------------------------------------


def test_sources_list_what_each_added(store):
    imported(store, dbt.read_target(TARGET))
    imported(store, sql.read_sql_files([SQL_FILE], schema_path=SCHEMA))
    found = {item["key"]: item for item in origin.sources(store)}
    assert found["dbt:housing_warehouse"]["nodes"] == 9 and found["dbt:housing_warehouse"]["edges"] == 8
    assert found["dbt:housing_warehouse"]["words"].startswith("the dbt project housing_warehouse, imported ")
    assert found["sql:warehouse.sql"]["edges"] == 7


def test_removing_a_source_is_one_change_and_undo_brings_it_back(store):
    before = store.counts()
    imported(store, dbt.read_target(TARGET))
    # a link drawn by hand to a dbt model goes with it, and the preview counts it
    with store.change("jo", "by hand") as change:
        change.add_edge({"source": "marts.fct_allocations", "target": "social-housing-allocations", "kind": "informs"})
    changes = origin.removal(store, "dbt:housing_warehouse")
    counts = preview(store, changes).counts()
    assert counts["nodes_removed"] == 9 and counts["edges_removed"] == 9
    removal = apply_changeset(store, changes, actor="jo", summary="remove dbt")
    assert store.counts() == before
    store.undo(removal, actor="jo")
    assert store.node("marts.fct_allocations")["origin"]["type"] == "dbt"
    assert store.edge("marts.fct_allocations", "social-housing-allocations")


def test_removing_a_source_nothing_came_from_says_so(store):
    with pytest.raises(NotFoundError, match="nothing in the graph came from dbt:elsewhere"):
        origin.removal(store, "dbt:elsewhere")
    with pytest.raises(ValidationError, match="expected a source as TYPE:NAME"):
        origin.removal(store, "somewhere")


def test_an_owner_removes_a_source_only_when_they_own_what_it_added(store):
    imported(store, atrs.read_files([ATRS_CSV]))
    changes = origin.removal(store, "atrs:atrs-v2.1.csv")
    jo, admin = Actor("jo", "owner", "owner-jo"), Actor("admin", "admin")
    assert not decide(jo, "bulk_change", policy_targets(store, changes))
    assert decide(admin, "bulk_change", policy_targets(store, changes))
    with store.change("admin", "give jo the tools") as change:
        for node_id in changes.remove_nodes:
            change.update_node(node_id, {"owner": "owner-jo"})
    assert decide(jo, "bulk_change", policy_targets(store, origin.removal(store, "atrs:atrs-v2.1.csv")))


def test_uploads_of_spreadsheets_and_lineage_files_record_their_source(store):
    content = b"id,kind,name\nnew-register,dataset,New register\nhousing-register,dataset,Housing register\n"
    changes = parse_changeset(content, "registers.csv", store)
    apply_changeset(store, changes, actor="jo", summary="upload")
    assert store.node("new-register")["origin"]["type"] == "spreadsheet"
    assert store.node("new-register")["origin"]["name"] == "registers.csv"
    assert "origin" not in store.node("housing-register")  # it was there before the spreadsheet
    document = {"format": "lineage-graph/1", "nodes": [{"id": "j", "kind": "dataset", "name": "J"}], "edges": []}
    changes = parse_changeset(json.dumps(document).encode(), "j.json", store)
    apply_changeset(store, changes, actor="jo", summary="upload")
    assert origin.describe(store.node("j")["origin"]).startswith("lineage file j.json, imported ")


def test_origin_is_exported_and_loads_back(store, tmp_path):
    imported(store, dbt.read_target(TARGET))
    io.export(store, "json", tmp_path / "out.json")
    node = next(n for n in json.loads((tmp_path / "out.json").read_text())["nodes"] if n["id"] == "cms.households")
    assert node["origin"]["type"] == "dbt"
    io.export(store, "csv", tmp_path / "csv")
    assert '"type": "dbt"' in (tmp_path / "csv" / "nodes.csv").read_text().replace('""', '"')


def test_openlineage_records_its_source(store):
    from lineage.io import openlineage

    event = {"eventType": "COMPLETE", "eventTime": "2026-03-02T10:00:00Z", "producer": "https://example.org",
             "run": {"runId": "0195f9a4-6f0e-7a43-9bd5-5c3c2b1d0a11"}, "job": {"namespace": "airflow", "name": "build"},
             "inputs": [{"namespace": "postgres://cms", "name": "public.applications"}]}
    openlineage.import_events(store, [openlineage.parse_event(event, "e")], actor="airflow", summary="e")
    job = openlineage.node_id("job", "airflow", "build")
    assert store.node(job)["origin"]["type"] == "openlineage" and store.node(job)["origin"]["name"] == "airflow"
    assert origin.key_of(next(store.edges(touching=job))) == "openlineage:airflow"


# -- the CLI ----------------------------------------------------------------------------------


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def test_cli_imports_dry_run_idempotence_and_removal(tmp_path):
    db = tmp_path / "l.db"
    assert run(db, "load", str(SAMPLE)).exit_code == 0
    dry = run(db, "import-dbt", str(TARGET), "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith("Would change: 9 nodes added")
    assert Store(db).version == 1
    first = run(db, "import-dbt", str(TARGET), "--json")
    assert json.loads(first.stdout[:first.stdout.rindex("}") + 1])["counts"]["edges_added"] == 8
    again = run(db, "import-dbt", str(TARGET))
    assert again.output.startswith("Nothing to change: 0 nodes added") and "17 unchanged" in again.output
    sql_run = run(db, "import-sql", str(SQL_FILE), "--dialect", "postgres", "--schema", str(SCHEMA))
    assert sql_run.exit_code == 0 and f"Note: {SQL_FILE}: line 23: this statement could not be read" in sql_run.stderr
    assert run(db, "import-atrs", str(ATRS_JSON), str(ATRS_CSV)).exit_code == 0
    listed = run(db, "sources")
    assert "dbt:housing_warehouse\t9 nodes, 8 edges\tthe dbt project housing_warehouse, imported" in listed.output
    removed = run(db, "remove-source", "dbt:housing_warehouse")
    assert removed.exit_code == 0 and "9 nodes removed" in removed.output
    missing = run(db, "remove-source", "dbt:housing_warehouse")
    assert missing.exit_code == 1 and "nothing in the graph came from dbt:housing_warehouse" in missing.output


def test_cli_bad_input_changes_nothing(tmp_path):
    db = tmp_path / "l.db"
    run(db, "load", str(SAMPLE))
    bad = tmp_path / "records.csv"
    bad.write_text("name,description\nTriage,Sorts\n")
    result = run(db, "import-atrs", str(bad))
    assert result.exit_code == 1 and "missing the column organisation" in result.output
    assert Store(db).version == 1


def test_a_spreadsheet_origin_cell_must_be_a_json_object(tmp_path):
    path = tmp_path / "nodes.csv"
    path.write_text('id,kind,name,origin\nreg,dataset,Register,dbt project\n')
    with pytest.raises(ValidationError) as error:
        io.read_csv(path, None)
    assert str(error.value.problems[0]).startswith(f"{path}: line 2, field 'origin': expected a JSON object")

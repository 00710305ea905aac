"""The `lineage` command, through click's CliRunner: every command, its success and its errors."""
from __future__ import annotations

import json

import networkx as nx
import pytest

from conftest import SAMPLE_DIR, SAMPLES, run, snapshot, write_graph
from lineage.cli import cli
from lineage.store import Store

COMMANDS = sorted(cli.commands)


def state(path):
    s = Store(path)
    try:
        return snapshot(s), list(s.nodes())
    finally:
        s.close()


# -- help --------------------------------------------------------------------------------------------------


def test_every_command_is_known():
    assert COMMANDS == ["backup", "check", "digest", "draw", "export", "fields", "flags", "impact", "import-atrs",
                        "import-csv", "import-dbt", "import-openlineage", "import-sql", "init", "load", "path-to-green",
                        "provenance", "rederive-openlineage", "remove-source", "search", "serve", "show", "sources",
                        "update", "user"]


@pytest.mark.parametrize("command", [None] + COMMANDS)
def test_help_shows_an_example(runner, command):
    args = ["--help"] if command is None else [command, "--help"]
    result = run(runner, args)
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "lineage " in result.output.split("Example", 1)[1]
    assert "Usage:" in result.output


def test_version(runner):
    result = run(runner, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == "lineage, version 0.1.0"


# -- init and load -----------------------------------------------------------------------------------------


def test_init_is_idempotent(runner, tmp_path):
    path = tmp_path / "sub" / "new.db"
    first = run(runner, ["--db", path, "init"])
    assert first.exit_code == 0
    assert first.output == f"Lineage database ready at {path} (graph version 0).\n"
    second = run(runner, ["--db", path, "init"])
    assert second.exit_code == 0 and second.output == first.output
    assert state(path)[0][0] == 0


def test_init_keeps_existing_data(runner, db_path):
    before = state(db_path)
    result = run(runner, ["--db", db_path, "init"])
    assert result.exit_code == 0 and "(graph version 1)" in result.output
    assert state(db_path) == before


def test_load_and_load_again(runner, tmp_path, samples):
    nodes, edges = samples
    path = tmp_path / "l.db"
    first = run(runner, ["--db", path, "load", *SAMPLES])
    assert first.exit_code == 0
    assert f"Loaded 4 files: {len(nodes)} nodes added, 0 changed; {len(edges)} edges added, 0 changed; " \
           f"0 unchanged; graph version 1" in first.output
    second = run(runner, ["--db", path, "load", *SAMPLES])
    assert second.exit_code == 0
    assert f"0 nodes added, 0 changed; 0 edges added, 0 changed; {len(nodes) + len(edges)} unchanged; " \
           "graph version 1" in second.output
    s = Store(path)
    assert sum(s.counts().values()) == len(nodes) and s.edge_count() == len(edges)
    assert s.history(limit=1)[0]["summary"] == "load " + ", ".join(p.name for p in SAMPLES)
    s.close()


def test_load_with_env_database(runner, tmp_path):
    path = tmp_path / "env.db"
    result = run(runner, ["load", SAMPLES[0]], env={"LINEAGE_DB": str(path)})
    assert result.exit_code == 0 and "Loaded 1 file:" in result.output
    assert path.exists() and state(path)[0][0] == 1


def test_load_of_the_schema_file_is_refused_by_name(runner, tmp_path):
    # sample_graphs/ also holds schema.json, which a glob would pass to load: it must be named, not loaded.
    files = sorted(SAMPLE_DIR.glob("*.json"))
    result = run(runner, ["--db", tmp_path / "glob.db", "load", *files])
    assert result.exit_code == 1
    assert "schema.json, field 'format'" in result.output
    assert "Traceback" not in result.output


def test_load_bad_file_changes_nothing(runner, db_path, tmp_path):
    bad = write_graph(tmp_path / "bad.json", [{"id": "q", "kind": "dataset", "name": "Q",
                                               "quality": {"timeliness": 1.7}}], [])
    before = state(db_path)
    result = run(runner, ["--db", db_path, "load", SAMPLES[0], bad])
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}: nodes[0] (id 'q'), field 'quality.timeliness': " \
                            "expected a number from 0 to 1, got 1.7\n"
    assert state(db_path) == before


def test_load_several_problems_listed(runner, db_path, tmp_path):
    bad = write_graph(tmp_path / "bad.json", [{"id": "a", "kind": "robot", "name": "A"},
                                              {"id": "b", "kind": "dataset", "name": "B", "record_count": -1}], [])
    result = run(runner, ["--db", db_path, "load", bad])
    assert result.exit_code == 1
    lines = result.output.rstrip("\n").split("\n")
    assert lines[0].startswith(f"Error: {bad}: nodes[0] (id 'a'), field 'kind'")
    assert lines[1].startswith(f"  {bad}: nodes[1] (id 'b'), field 'record_count'")


def test_load_missing_file(runner, tmp_path):
    result = run(runner, ["--db", tmp_path / "x.db", "load", tmp_path / "nope.json"])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not (tmp_path / "x.db").exists()


def test_load_junk_file_fails_fast(runner, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00\xff" * (2 * 1024 * 1024))
    result = run(runner, ["--db", tmp_path / "x.db", "load", junk])
    assert result.exit_code == 1
    assert result.output == f"Error: {junk}: is not UTF-8 text (byte 1)\n"


# -- import-csv and export ---------------------------------------------------------------------------------


def test_export_json_and_csv_then_import(runner, db_path, tmp_path):
    out = tmp_path / "estate.json"
    result = run(runner, ["--db", db_path, "export", out])
    assert result.exit_code == 0 and result.output == f"Wrote {out}\n"
    document = json.loads(out.read_text("utf-8"))
    assert document["format"] == "lineage-graph/1" and len(document["nodes"]) == sum(state(db_path)[0][1].values())

    folder = tmp_path / "csv"
    result = run(runner, ["--db", db_path, "export", "--format", "csv", folder])
    assert result.exit_code == 0
    assert result.output == f"Wrote {folder / 'nodes.csv'}, {folder / 'edges.csv'}\n"

    fresh = tmp_path / "fresh.db"
    result = run(runner, ["--db", fresh, "import-csv", folder / "nodes.csv", folder / "edges.csv"])
    assert result.exit_code == 0
    assert result.output.startswith(f"Imported: {len(document['nodes'])} nodes added, 0 changed; "
                                    f"{len(document['edges'])} edges added")
    again = tmp_path / "again.json"
    assert run(runner, ["--db", fresh, "export", again]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_import_nodes_only(runner, tmp_path):
    nodes_csv = tmp_path / "nodes.csv"
    nodes_csv.write_text("id,kind,name,record_count\nreg,dataset,Register,12\n", encoding="utf-8")
    result = run(runner, ["--db", tmp_path / "n.db", "import-csv", nodes_csv])
    assert result.exit_code == 0 and "1 nodes added" in result.output
    s = Store(tmp_path / "n.db")
    assert s.node("reg")["record_count"] == 12
    s.close()


def test_import_csv_errors_change_nothing(runner, db_path, tmp_path):
    nodes_csv = tmp_path / "nodes.csv"
    nodes_csv.write_text("id,kind,name\nnew-one,person,New\n", encoding="utf-8")
    edges_csv = tmp_path / "edges.csv"
    edges_csv.write_text("source,target,kind,records\nnew-one,housing-cms,enters,many\n", encoding="utf-8")
    before = state(db_path)
    result = run(runner, ["--db", db_path, "import-csv", nodes_csv, edges_csv])
    assert result.exit_code == 1
    assert result.output == f"Error: {edges_csv}: line 2, field 'records': expected a whole number, got 'many'\n"
    assert state(db_path) == before
    nodes_csv.write_text("id,name\nx,X\n", encoding="utf-8")
    result = run(runner, ["--db", db_path, "import-csv", nodes_csv])
    assert result.exit_code == 1 and f"{nodes_csv}: line 1: missing column kind" in result.output
    assert state(db_path) == before


def test_export_errors(runner, db_path, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "out.json"
    result = run(runner, ["--db", db_path, "export", target])
    assert result.exit_code == 1 and result.output == f"Error: {target}: No such file or directory\n"
    result = run(runner, ["--db", db_path, "export", "--format", "xml", tmp_path / "x"])
    assert result.exit_code == 2 and "'xml' is not one of 'json', 'csv'" in result.output


# -- impact and provenance ---------------------------------------------------------------------------------


def test_impact_text(runner, db_path, nx_flow, nodes_by_id):
    result = run(runner, ["--db", db_path, "impact", "officer-ali"])
    assert result.exit_code == 0
    text = result.output
    assert text.startswith("Ali Khan entered 1,240 records (87 with issues) into Housing case management system.")
    decisions = [i for i in nx.descendants(nx_flow, "officer-ali") if nodes_by_id[i]["kind"] == "decision"]
    largest = max(decisions, key=lambda d: nodes_by_id[d]["people_affected"])
    people = nodes_by_id[largest]["people_affected"]
    assert (f"Those records feed {len(decisions)} decisions, through 2 AI tools. The largest, "
            f"{nodes_by_id[largest]['name']}, affects about {float(f'{people:.2g}'):,.0f} people") in text
    total = sum(nodes_by_id[d]["people_affected"] for d in decisions)
    assert f"{total:,}" not in text  # overlapping populations are never added up
    for decision in decisions:
        assert nodes_by_id[decision]["name"] in text
    # the budget's AI tool lies on a path longer than the ones printed: it is named all the same
    budget = text[text.index("1. Housing General Fund budget"):text.index("\n2. ")]
    assert "AI tools your records pass through: Temporary accommodation demand forecast" in budget
    assert "AI tools behind earlier decisions whose outcomes feed it: Housing need prioritisation model" in budget


def test_impact_json(runner, db_path, nx_flow, nodes_by_id):
    result = run(runner, ["--db", db_path, "impact", "--json", "officer-ali"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    expected = {i for i in nx.descendants(nx_flow, "officer-ali") if nodes_by_id[i]["kind"] == "decision"}
    assert {d["id"] for d in data["decisions"]} == expected
    assert data["decision_count"] == len(expected) and data["records"] == 1240
    assert data["subject"] == "officer-ali" and data["people"] == 1
    for decision in data["decisions"]:
        assert decision["name"] == nodes_by_id[decision["id"]]["name"]
        assert all(path[0] == "officer-ali" and path[-1] == decision["id"] for path in decision["paths"])


def test_impact_limit_and_team(runner, db_path):
    result = run(runner, ["--db", db_path, "impact", "--limit", "2", "officer-ali"])
    assert result.exit_code == 0
    assert "\n3. " not in result.output and "... and 4 more decisions." in result.output
    team = run(runner, ["--db", db_path, "impact", "housing-options"])
    assert team.exit_code == 0 and team.output.startswith("The 6 people in Housing Options and Homelessness Prevention")


def test_impact_errors(runner, db_path):
    result = run(runner, ["--db", db_path, "impact", "nobody"])
    assert result.exit_code == 1 and result.output == "Error: no node with id 'nobody'\n"
    result = run(runner, ["--db", db_path, "impact", "housing-register"])
    assert result.exit_code == 1
    assert result.output == "Error: 'housing-register' is a dataset; impact is for a person or a team\n"
    result = run(runner, ["--db", db_path, "impact", "--limit", "0", "officer-ali"])
    assert result.exit_code == 2 and "--limit" in result.output


def test_provenance_text(runner, db_path):
    result = run(runner, ["--db", db_path, "provenance", "social-housing-allocations"])
    assert result.exit_code == 0
    text = result.output
    assert text.startswith("Social housing allocations (service decision) rests on 25 upstream nodes.")
    assert ("\nAmber: the data behind this decision can be trusted only in part, because Housing register's "
            "timeliness is 0.71.\n") in text
    assert "People: 9 people in 3 teams" in text


def test_provenance_json(runner, db_path, nx_flow, nodes_by_id):
    result = run(runner, ["--db", db_path, "provenance", "--json", "social-housing-allocations"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    ancestors = nx.ancestors(nx_flow, "social-housing-allocations")
    assert set(data["datasets"]) == {a for a in ancestors if nodes_by_id[a]["kind"] == "dataset"}
    assert set(data["ai_tools"]) == {a for a in ancestors if nodes_by_id[a]["kind"] == "ai_tool"}
    assert data["people_count"] == sum(nodes_by_id[a]["kind"] == "person" for a in ancestors)
    assert data["confidence"]["band"] == "amber"
    assert data["confidence"]["link"] == {"dataset": "housing-register", "dimension": "timeliness", "score": 0.71,
                                          "rag": "amber"}
    assert data["upstream_count"] == len(ancestors)


def test_texts_for_empty_results(runner, db_path):
    result = run(runner, ["--db", db_path, "provenance", "dcrg-devolution-deadline"])
    assert result.exit_code == 0
    assert result.output.split("\n")[:2] == [
        "Devolution framework consultation: deadline extension (operational decision) rests on 0 upstream nodes.",
        "Unknown: none of the data this decision mainly rests on has a quality assessment."]
    result = run(runner, ["--db", db_path, "impact", "owner-jo"])
    assert result.exit_code == 0
    assert result.output == "Jo Fletcher has no records entered into any system or dataset yet.\n"
    result = run(runner, ["--db", db_path, "show", "tag:nothing-tagged-so"])
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == "0 nodes.\n"


def test_provenance_errors(runner, db_path):
    result = run(runner, ["--db", db_path, "provenance", "officer-ali"])
    assert result.exit_code == 1
    assert result.output == "Error: 'officer-ali' is a person; provenance is for a decision\n"
    result = run(runner, ["--db", db_path, "provenance", "nothing-here"])
    assert result.exit_code == 1 and result.output == "Error: no node with id 'nothing-here'\n"


# -- show and search ---------------------------------------------------------------------------------------


def test_show(runner, db_path, nx_flow, nodes_by_id):
    result = run(runner, ["--db", db_path, "show", "social-housing-allocations+"])
    assert result.exit_code == 0
    expected = {"social-housing-allocations"} | nx.descendants(nx_flow, "social-housing-allocations")
    assert result.stdout.splitlines() == [f"{i}\t{nodes_by_id[i]['kind']}\t{nodes_by_id[i]['name']}"
                                          for i in sorted(expected)]
    assert result.stderr == f"{len(expected)} nodes.\n"


def test_show_words_form_one_selector(runner, db_path, nodes_by_id):
    result = run(runner, ["--db", db_path, "show", "--json", "kind:ai_tool", "kind:decision,owner:owner-jo"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    expected = {i for i, n in nodes_by_id.items()
                if n["kind"] == "ai_tool" or (n["kind"] == "decision" and n.get("owner") == "owner-jo")}
    assert data["count"] == len(expected) and {row["id"] for row in data["nodes"]} == expected


def test_show_bad_selector(runner, db_path):
    result = run(runner, ["--db", db_path, "show", "kind:robot"])
    assert result.exit_code == 1
    assert result.output == ("Error: unknown kind 'robot'; expected one of: person, team, system, dataset, process, "
                             "ai_tool, decision\n  kind:robot\n       ^\n")
    result = run(runner, ["--db", db_path, "show", "officer-ali", "no-such-node+"])
    assert result.exit_code == 1
    lines = result.output.rstrip("\n").split("\n")
    assert lines == ["Error: no node with id 'no-such-node'", "  officer-ali no-such-node+", "              ^"]


def test_search(runner, db_path):
    result = run(runner, ["--db", db_path, "search", "hous", "reg"])
    assert result.exit_code == 0
    assert "housing-register\tdataset\tHousing register" in result.stdout.splitlines()
    data = json.loads(run(runner, ["--db", db_path, "search", "--json", "--limit", "2", "housing"]).stdout)
    assert data["count"] == 2 and len(data["results"]) == 2
    assert set(data["results"][0]) == {"id", "kind", "name", "description"}


def test_search_no_matches_and_quotes(runner, db_path):
    result = run(runner, ["--db", db_path, "search", '"""'])
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == "No matches.\n"
    result = run(runner, ["--db", db_path, "search", 'housing"', "(register"])
    assert result.exit_code == 0 and "housing-register" in result.stdout


# -- backup ------------------------------------------------------------------------------------------------


def test_backup(runner, db_path, tmp_path):
    target = tmp_path / "copy.db"
    result = run(runner, ["--db", db_path, "backup", target])
    assert result.exit_code == 0 and result.output == f"Backed up to {target}.\n"
    assert state(target) == state(db_path)


def test_backup_to_unwritable_place(runner, db_path, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "copy.db"
    result = run(runner, ["--db", db_path, "backup", target])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and str(target) in result.output


# -- database errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["impact", "officer-ali"], ["provenance", "x"], ["show", "kind:dataset"], ["search", "housing"],
    ["export", "out.json"], ["backup", "copy.db"], ["check"],
])
def test_missing_database(runner, tmp_path, args):
    path = tmp_path / "missing.db"
    args = [str(tmp_path / a) if a.endswith((".json", ".db")) else a for a in args]
    result = run(runner, ["--db", path, *args])
    assert result.exit_code == 1
    assert result.output == f"Error: no lineage database at {path}: run 'lineage init' or 'lineage load' first\n"
    assert not path.exists()


def test_database_that_is_not_lineage(runner, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("just some notes\n" * 100, encoding="utf-8")
    result = run(runner, ["--db", path, "impact", "officer-ali"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path} is not a usable lineage database")
    assert path.read_text("utf-8") == "just some notes\n" * 100


def test_check_empty_database(runner, tmp_path):
    path = tmp_path / "empty.db"
    assert run(runner, ["--db", path, "init"]).exit_code == 0
    result = run(runner, ["--db", path, "check"])
    assert result.exit_code == 0 and result.output == "0 errors, 0 warnings.\n"


def test_check_json_on_database(runner, db_path):
    result = run(runner, ["--db", db_path, "check", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["errors"] == 0 and data["warnings"] == len(data["findings"]) > 0
    assert {f["check"] for f in data["findings"]} >= {"ownerless", "no-human-review", "no-transparency-record",
                                                       "no-quality-assessment", "cycle", "no-data-upstream"}


def test_unknown_command(runner):
    result = run(runner, ["frobnicate"])
    assert result.exit_code == 2 and "No such command 'frobnicate'" in result.output


def test_provenance_names_single_points_of_failure(runner, db_path):
    from lineage.graph import LineageGraph, single_points_of_failure
    from lineage.store import Store

    g = LineageGraph.from_store(Store(db_path))
    decision = next(g.ids[i] for i in g.of_kind("decision").tolist() if single_points_of_failure(g, g.ids[i]))
    expected = single_points_of_failure(g, decision)
    result = run(runner, ["--db", db_path, "provenance", decision, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["single_points_of_failure"] == expected
    text = run(runner, ["--db", db_path, "provenance", decision]).output
    assert "Single points of failure" in text
    assert g.record(expected[0])["name"] in text


def test_serve_builds_the_engine_then_hands_the_app_to_waitress(runner, db_path, samples, monkeypatch):
    served = {}

    class Server:
        effective_port = 5999

        def run(self):
            served["ran"] = True

    def create_server(app, **options):
        served.update(app=app, **options)
        return Server()

    monkeypatch.setattr("waitress.create_server", create_server)
    result = run(runner, ["--db", db_path, "serve", "--port", "0", "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert f"Query engine ready: {len(samples[0])} nodes" in result.output
    assert "Serving lineage on http://127.0.0.1:5999/" in result.output
    assert (served["host"], served["port"], served["threads"], served["ran"]) == ("127.0.0.1", 0, 2, True)
    assert served["app"].test_client().get("/people/officer-ali").status_code == 200


def test_serve_without_a_database_says_what_to_do(runner, tmp_path, monkeypatch):
    monkeypatch.setattr("waitress.create_server", lambda app, **options: pytest.fail("served without a database"))
    result = run(runner, ["--db", tmp_path / "absent.db", "serve"])
    assert result.exit_code == 1 and "no lineage database" in result.output

"""Fields and field-level lineage: the shapes, validation that names the field, the queries
(downstream, upstream, what a decision rests on, what a person fills in), storage with history and
undo. Expectations are worked out by hand from the small estate below."""
from __future__ import annotations

import json

import pytest
from conftest import load_files, run, snapshot, write_graph

from lineage import fields as lf
from lineage.errors import NotFoundError, Problem, ValidationError
from lineage.graph import LineageGraph
from lineage.store import Store


def estate() -> tuple[list[dict], list[dict]]:
    """Ali fills in a case system; the register copies two fields and hashes a third; a job builds
    model features from it (keeping only some incomes); the model takes one feature."""
    nodes = [
        {"id": "ali", "kind": "person", "name": "Ali"},
        lf.attach_fields({"id": "cms", "kind": "system", "name": "Case system"}, [
            lf.field("household_size", type="integer", completeness=0.92),
            lf.field("income", type="decimal"), lf.field("email")]),
        lf.attach_fields({"id": "reg", "kind": "dataset", "name": "Register"}, [
            lf.field("household_size", sources=[lf.field_source("cms", "household_size", type="DIRECT",
                                                                subtype="IDENTITY")]),
            lf.field("income_band", sources=[lf.field_source("cms", "income", type="DIRECT",
                                                             subtype="TRANSFORMATION")]),
            lf.field("email_hash", sources=[lf.field_source("cms", "email", masking=True)])]),
        {"id": "job", "kind": "process", "name": "Feature job"},
        lf.link_all_fields(lf.link_field({"id": "features", "kind": "dataset", "name": "Features"}, "hh",
                                         [lf.field_source("reg", "household_size")]),
                           [lf.field_source("reg", "income_band", type="INDIRECT", subtype="FILTER")]),
        lf.link_field({"id": "model", "kind": "ai_tool", "name": "Model"}, "household size",
                      [lf.field_source("features", "hh")]),
        {"id": "homes", "kind": "decision", "name": "Who gets a home", "people_affected": 3400},
        {"id": "report", "kind": "decision", "name": "Annual report"},
    ]
    edges = [
        {"source": "ali", "target": "cms", "kind": "enters", "records": 100,
         "fields": ["household_size", {"field": "income", "missing": 10}]},
        {"source": "cms", "target": "reg", "kind": "supplies"},
        {"source": "reg", "target": "job", "kind": "feeds"},
        {"source": "job", "target": "features", "kind": "derives"},
        {"source": "features", "target": "model", "kind": "feeds"},
        {"source": "model", "target": "homes", "kind": "informs"},
        {"source": "reg", "target": "report", "kind": "informs"},
    ]
    return nodes, edges


@pytest.fixture
def g() -> LineageGraph:
    return LineageGraph.from_records(*estate())


def edge_lookup(source: str, target: str) -> dict:
    return next(e for e in estate()[1] if (e["source"], e["target"]) == (source, target))


# -- shapes -----------------------------------------------------------------------------------------


def test_attach_fields_merges_by_name_and_keeps_links_once():
    record = lf.attach_fields({"id": "r", "kind": "dataset", "name": "R"},
                              [lf.field("a", sources=[lf.field_source("x", "a")])])
    again = lf.attach_fields(record, [lf.field("a", type="int", sources=[lf.field_source("x", "a"),
                                                                         lf.field_source("y", "b")])])
    assert again["fields"] == [{"name": "a", "type": "int", "from": [{"node": "x", "field": "a"},
                                                                      {"node": "y", "field": "b"}]}]
    assert record["fields"][0] == {"name": "a", "from": [{"node": "x", "field": "a"}]}  # the input is not changed


def test_entered_fields_and_completeness():
    assert lf.entered_fields(estate()[1][0]) == [("household_size", None), ("income", 10)]
    assert lf.completeness(lf.field("a", completeness=0.5, completeness_note="half")) == 0.5
    assert lf.completeness(lf.field("a")) is None


# -- validation -------------------------------------------------------------------------------------


def test_every_sample_shape_validates(tmp_path):
    nodes, edges = estate()
    store = Store(tmp_path / "s.db", create=True)
    load_files(store, [write_graph(tmp_path / "e.json", nodes, edges)])
    assert store.node("reg")["fields"][2] == {"name": "email_hash", "from": [{"node": "cms", "field": "email",
                                                                              "masking": True}]}


@pytest.mark.parametrize("change, fragments", [
    (lambda n: n[2]["fields"][0].update(name=""), ["nodes[2]", "fields[0].name"]),
    (lambda n: n[2]["fields"].append({"name": "household_size"}), ["fields[3].name", "name used once"]),
    (lambda n: n[2]["fields"][0]["from"][0].update(type="SIDEWAYS"), ["fields[0].from[0].type",
                                                                      "DIRECT, INDIRECT"]),
    (lambda n: n[2]["fields"][0]["from"][0].update(subtype="MAGIC"), ["fields[0].from[0].subtype", "IDENTITY"]),
    (lambda n: n[2]["fields"][0]["from"][0].update(node="nowhere"), ["fields[0].from[0].node",
                                                                     "'nowhere', which does not exist"]),
    (lambda n: n[2]["fields"][0]["from"][0].update(node="ali"), ["fields[0].from[0].node", "a person"]),
    (lambda n: n[2]["fields"][0]["from"][0].update(field="shoe_size"), ["fields[0].from[0].field",
                                                                        "'shoe_size' of 'cms'"]),
    (lambda n: n[2]["fields"][0].update(colour="red"), ["fields[0]", "colour"]),
    (lambda n: n[1]["fields"][0].update(quality={"completeness": 1.5}), ["fields[0].quality.completeness"]),
])
def test_bad_fields_are_refused_naming_the_field_and_change_nothing(tmp_path, change, fragments):
    nodes, edges = estate()
    change(nodes)
    store = Store(tmp_path / "s.db", create=True)
    before = snapshot(store)
    with pytest.raises(ValidationError) as caught:
        load_files(store, [write_graph(tmp_path / "bad.json", nodes, edges)])
    message = str(caught.value)
    assert "bad.json" in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert snapshot(store) == before


def test_a_bad_entered_field_is_refused(tmp_path):
    nodes, edges = estate()
    edges[0]["fields"].append({"missing": 3})
    with pytest.raises(ValidationError, match=r"edges\[0\].*fields\[2\]"):
        load_files(Store(tmp_path / "s.db", create=True), [write_graph(tmp_path / "bad.json", nodes, edges)])


def test_links_may_name_nodes_already_stored(tmp_path):
    nodes, edges = estate()
    store = Store(tmp_path / "s.db", create=True)
    load_files(store, [write_graph(tmp_path / "a.json", nodes[:2], [])])
    load_files(store, [write_graph(tmp_path / "b.json", nodes[2:], edges)])
    assert store.node("reg")["fields"][0]["from"][0]["node"] == "cms"


def test_plain_problem_names_the_field_in_words():
    record = {"fields": [{"name": "a"}, {"name": "household_size", "from": [{"node": "x", "type": "NO"}]}]}
    problem = Problem("form", "expected one of: DIRECT, INDIRECT", "fields[1].from[0].type")
    assert lf.plain_problem(problem, record) == ("Field 2 (household_size), where it comes from type: "
                                                 "expected one of: DIRECT, INDIRECT")


# -- queries ----------------------------------------------------------------------------------------


def test_downstream_follows_links_through_a_job_to_the_model_and_decisions(g):
    reach = lf.field_downstream(g, "cms", "household_size")
    assert reach.fields == [("reg", "household_size"), ("features", "hh"), ("model", "household size")]
    assert reach.decisions == ["report", "homes"]
    assert reach.models == {"model": ["household size"]}
    assert reach.routes["homes"] == [("cms", "household_size"), ("reg", "household_size"), ("job", None),
                                     ("features", "hh"), ("model", "household size"), ("homes", None)]
    assert not reach.truncated


def test_a_field_no_link_carries_on_stops_where_the_links_say(g):
    reach = lf.field_downstream(g, "cms", "email")
    assert reach.fields == [("reg", "email_hash")]
    assert reach.decisions == ["report"]  # the register informs the report whole
    assert reach.models == {}


def test_a_dataset_wide_link_carries_a_filter_field_to_every_field(g):
    reach = lf.field_downstream(g, "cms", "income")
    assert ("reg", "income_band") in reach.fields and ("model", "household size") in reach.fields
    assert reach.decisions == ["report", "homes"]


def test_upstream_follows_links_and_dataset_wide_links(g):
    reach = lf.field_upstream(g, "model", "household size")
    assert reach.fields == [("features", "hh"), ("reg", "household_size"), ("reg", "income_band"),
                            ("cms", "household_size"), ("cms", "income")]
    assert reach.nodes == ["features", "reg", "cms"]


def test_unknown_fields_and_nodes_are_errors_that_say_what_exists(g):
    with pytest.raises(lf.FieldNotFoundError, match="'cms' has no field 'shoe' .its fields: household_size, income"):
        lf.field_downstream(g, "cms", "shoe")
    with pytest.raises(NotFoundError):
        lf.field_upstream(g, "nowhere", "x")


def test_decision_fields_rank_nearest_first(g):
    rows = lf.decision_fields(g, "homes")
    assert [(r.node, r.field, r.depth) for r in rows] == [
        ("model", "household size", 0), ("features", "hh", 1), ("reg", "household_size", 2),
        ("reg", "income_band", 2), ("cms", "household_size", 3), ("cms", "income", 3)]
    report = lf.decision_fields(g, "report", limit=3)
    assert [(r.node, r.field) for r in report] == [("reg", "email_hash"), ("reg", "household_size"),
                                                   ("reg", "income_band")]
    with pytest.raises(Exception, match="not a decision"):
        lf.decision_fields(g, "reg")


def test_decision_fields_count_the_inputs_a_field_reaches():
    nodes, edges = estate()
    edges.append({"source": "reg", "target": "homes", "kind": "informs"})
    rows = lf.decision_fields(LineageGraph.from_records(nodes, edges), "homes")
    top = rows[0]
    assert (top.node, top.field, top.routes) == ("reg", "household_size", 2)


def test_person_fields_most_often_blank_first(g):
    rows = lf.person_fields(g, "ali", edge_lookup)
    assert [(r.node, r.field, r.missing, r.missing_from) for r in rows] == [
        ("cms", "income", 0.1, "your records"), ("cms", "household_size", 0.08, "all records")]
    assert rows[1].reach.decisions == ["report", "homes"]
    assert json.dumps([r.as_dict() for r in rows])


def test_node_fields_list_each_field_with_where_it_goes(g):
    rows = lf.node_fields(g, "reg")
    assert [r.name for r in rows] == ["household_size", "income_band", "email_hash"]
    assert rows[0].reach.decisions == ["report", "homes"] and rows[2].sources[0]["masking"] is True
    assert rows[0].as_dict()["goes_to"]["models"] == [{"node": "model", "fields": ["household size"]}]


def test_cycles_end(g):
    nodes, edges = estate()
    nodes[2] = lf.link_field(nodes[2], "household_size", [lf.field_source("features", "hh")])
    edges.append({"source": "homes", "target": "reg", "kind": "records_outcome"})
    cyclic = LineageGraph.from_records(nodes, edges)
    assert lf.field_downstream(cyclic, "cms", "household_size").decisions == ["report", "homes"]
    assert lf.field_upstream(cyclic, "reg", "household_size").fields == [
        ("cms", "household_size"), ("features", "hh"), ("reg", "income_band"), ("cms", "income")]


def test_check_links_reports_a_link_no_edge_supports(g):
    nodes, edges = estate()
    nodes[5] = lf.link_field(nodes[5], "email", [lf.field_source("cms", "email")])
    far = LineageGraph.from_records(nodes, edges)
    assert lf.check_links(g, "model") == []
    assert "'cms', which does not feed this node" in str(lf.check_links(far, "model")[0])


def test_the_index_is_one_per_graph_and_reads_lazily(g):
    index = lf.field_index(g)
    assert lf.field_index(g) is index and index._info == {}
    lf.field_upstream(g, "reg", "household_size")
    assert 0 < len(index._info) < len(g)


# -- stored, versioned, audited, undoable -------------------------------------------------------------


def test_fields_are_versioned_audited_and_undone(tmp_path):
    nodes, edges = estate()
    store = Store(tmp_path / "s.db", create=True)
    load_files(store, [write_graph(tmp_path / "e.json", nodes, edges)])
    before = store.node("reg")
    with store.change("jo", "add a field") as change:
        change.update_node("reg", {"fields": before["fields"] + [lf.field("tenure")]})
    after = store.node("reg")
    assert after["version"] == before["version"] + 1 and after["fields"][-1] == {"name": "tenure"}
    history = store.history("reg")
    assert history[0]["after"]["fields"][-1] == {"name": "tenure"}
    store.undo(history[0]["change"], actor="jo")
    assert store.node("reg")["fields"] == before["fields"]


# -- the command line -------------------------------------------------------------------------------


def test_cli_lists_fields_and_follows_one(runner, db_path):
    listed = run(runner, ["--db", db_path, "fields", "list", "housing-register"])
    assert listed.exit_code == 0
    assert "household_size (whole number, 3% left blank): Copied from household size in Housing case management " \
           "system. Feeds Housing need prioritisation model (as household size)" in listed.output
    down = run(runner, ["--db", db_path, "fields", "downstream", "--json", "housing-cms", "household_size"])
    assert "social-housing-allocations" in json.loads(down.output)["decisions"]
    up = run(runner, ["--db", db_path, "fields", "upstream", "housing-need-model", "household size"])
    assert up.output.splitlines() == ["Housing register: household_size", "Housing case management system: household_size"]
    decision = run(runner, ["--db", db_path, "fields", "decision", "social-housing-allocations", "--limit", "1"])
    assert decision.output.startswith("Children ages in Housing case management system (9% left blank)")
    person = run(runner, ["--db", db_path, "fields", "person", "officer-ali"])
    assert person.output.startswith("3% of your records leave household size blank; it feeds Housing need "
                                    "prioritisation model, which informs Social housing allocations.")
    assert json.loads(run(runner, ["--db", db_path, "fields", "person", "--json", "officer-ali"]).output)[0][
        "missing"] == pytest.approx(40 / 1240)


def test_cli_errors_name_what_exists(runner, db_path):
    missing = run(runner, ["--db", db_path, "fields", "downstream", "housing-cms", "shoe_size"])
    assert missing.exit_code == 1 and "'housing-cms' has no field 'shoe_size' (its fields: application_id" in missing.output
    assert run(runner, ["--db", db_path, "fields", "decision", "housing-register"]).exit_code == 1
    assert "no node" in run(runner, ["--db", db_path, "fields", "list", "nowhere"]).output


# -- every format -----------------------------------------------------------------------------------


@pytest.fixture
def estate_store(tmp_path) -> Store:
    store = Store(tmp_path / "estate.db", create=True)
    load_files(store, [write_graph(tmp_path / "estate.json", *estate())])
    return store


def test_json_and_csv_round_trips_keep_fields_to_the_byte(estate_store, tmp_path):
    from lineage import io

    first = io.export(estate_store, "json", tmp_path / "first.json")[0]
    fresh = Store(tmp_path / "fresh.db", create=True)
    fresh.load(io.read_files([first], fresh), actor="t", summary="json")
    assert io.export(fresh, "json", tmp_path / "second.json")[0].read_bytes() == first.read_bytes()
    csv_first = io.export(estate_store, "csv", tmp_path / "csv1")
    again = Store(tmp_path / "again.db", create=True)
    again.load(io.read_csv(*csv_first), actor="t", summary="csv")
    assert [p.read_bytes() for p in io.export(again, "csv", tmp_path / "csv2")] == [p.read_bytes() for p in csv_first]
    assert again.node("reg")["fields"] == estate_store.node("reg")["fields"]
    assert again.edge("ali", "cms")["fields"] == ["household_size", {"field": "income", "missing": 10}]


def test_graphml_and_prov_carry_fields(estate_store, tmp_path):
    import networkx as nx
    from prov.model import ProvDocument

    from lineage import io

    graph = nx.read_graphml(io.export(estate_store, "graphml", tmp_path / "e.graphml")[0])
    assert json.loads(graph.nodes["reg"]["fields"]) == estate_store.node("reg")["fields"]
    assert json.loads(graph.nodes["features"]["all_fields_from"])[0]["subtype"] == "FILTER"
    assert json.loads(graph.edges["ali", "cms"]["fields"])[1] == {"field": "income", "missing": 10}
    path = io.export(estate_store, "prov-json", tmp_path / "e.prov.json")[0]
    document = ProvDocument.deserialize(str(path), format="json")
    register = next(r for r in document.get_records() if str(r.identifier).endswith(":reg"))
    fields = next(v for k, v in register.attributes if str(k).endswith("fields"))
    assert json.loads(fields) == estate_store.node("reg")["fields"]


def test_check_reports_field_links_that_no_longer_resolve(estate_store):
    from lineage import checks

    with estate_store.change("jo", "delete the system") as change:
        change.delete_node("cms")
    found = [f for f in checks.check_graph(LineageGraph.from_store(estate_store)) if f.check == "field-link"]
    assert found and all(f.severity == "warning" and f.node == "reg" for f in found)
    assert "names node 'cms', which does not exist" in found[0].message


def test_node_fields_share_the_way_of_unlinked_fields_and_agree_with_field_downstream(g):
    for node in ("cms", "reg", "features", "model"):
        for row in lf.node_fields(g, node):
            alone = lf.field_downstream(g, node, row.name)
            assert row.reach.as_dict() == alone.as_dict(), (node, row.name)

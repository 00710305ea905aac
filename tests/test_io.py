"""Reading and writing native JSON and CSV: clear errors that change nothing, exact round trips."""
from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pytest

from conftest import SAMPLES, load_files, snapshot, write_graph
from lineage import io
from lineage.errors import ValidationError
from lineage.store import Store

GOOD_NODES = [
    {"id": "ali", "kind": "person", "name": "Ali Khan"},
    {"id": "cms", "kind": "system", "name": "Housing CMS"},
    {"id": "register", "kind": "dataset", "name": "Housing register", "record_count": 10},
    {"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 30},
]
GOOD_EDGES = [
    {"source": "ali", "target": "cms", "kind": "enters", "records": 5},
    {"source": "cms", "target": "register", "kind": "supplies"},
    {"source": "register", "target": "alloc", "kind": "informs"},
]


def reject(store: Store, paths: list[Path], *fragments: str) -> ValidationError:
    """Loading ``paths`` fails with a ValidationError whose message holds every fragment; nothing changes."""
    before = snapshot(store)
    nodes_before = list(store.nodes())
    with pytest.raises(ValidationError) as caught:
        load_files(store, paths)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert snapshot(store) == before
    assert list(store.nodes()) == nodes_before
    return caught.value


def with_nodes(*extra: dict, edges: list[dict] | None = None) -> tuple[list[dict], list[dict]]:
    return [dict(n) for n in GOOD_NODES] + list(extra), [dict(e) for e in GOOD_EDGES] + list(edges or [])


# -- bad native input -------------------------------------------------------------------------------------


def test_malformed_json_names_line_and_column(loaded_store, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "lineage-graph/1",\n "nodes": [\n  {"id": "a", "kind": "person" "name": "A"}\n ],'
                    '\n "edges": []}\n', encoding="utf-8")
    reject(loaded_store, [path], f"{path}: line 3, column", "is not valid JSON")


def test_unknown_kind(loaded_store, tmp_path):
    nodes, edges = with_nodes({"id": "ship", "kind": "spaceship", "name": "Ship"})
    path = write_graph(tmp_path / "kinds.json", nodes, edges)
    error = reject(loaded_store, [path], f"{path}: nodes[4] (id 'ship'), field 'kind'", "spaceship")
    assert error.problems[0].field == "kind"


def test_edge_to_missing_node(loaded_store, tmp_path):
    nodes, edges = with_nodes(edges=[{"source": "register", "target": "ghost", "kind": "informs"}])
    path = write_graph(tmp_path / "dangling.json", nodes, edges)
    reject(loaded_store, [path], f"{path}: edges[3] (source 'register'), field 'target'", "no node 'ghost'")


def test_disallowed_pair(loaded_store, tmp_path):
    nodes, edges = with_nodes(edges=[{"source": "alloc", "target": "ali", "kind": "enters"}])
    path = write_graph(tmp_path / "pair.json", nodes, edges)
    reject(loaded_store, [path], f"{path}: edges[3] (source 'alloc'), field 'kind'", "decision -> person",
           "person -> dataset or system")


def test_negative_record_counts(loaded_store, tmp_path):
    nodes, edges = with_nodes({"id": "neg", "kind": "dataset", "name": "Neg", "record_count": -5},
                              edges=[{"source": "ali", "target": "register", "kind": "enters", "records": -1}])
    path = write_graph(tmp_path / "negative.json", nodes, edges)
    error = reject(loaded_store, [path], f"{path}: nodes[4] (id 'neg'), field 'record_count'", "-5")
    assert [(p.where, p.field) for p in error.problems] == [
        (f"{path}: nodes[4] (id 'neg')", "record_count"), (f"{path}: edges[3] (source 'ali')", "records")]
    assert "(and 1 more problem)" in str(error)


def test_quality_score_out_of_range(loaded_store, tmp_path):
    nodes, edges = with_nodes({"id": "q", "kind": "dataset", "name": "Q", "quality": {"timeliness": 1.7}})
    path = write_graph(tmp_path / "quality.json", nodes, edges)
    reject(loaded_store, [path], f"{path}: nodes[4] (id 'q'), field 'quality.timeliness'", "1.7")


def test_records_with_issues_above_records(loaded_store, tmp_path):
    nodes, edges = with_nodes(edges=[{"source": "ali", "target": "register", "kind": "enters", "records": 3,
                                      "records_with_issues": 4}])
    path = write_graph(tmp_path / "issues.json", nodes, edges)
    reject(loaded_store, [path], f"{path}: edges[3] (source 'ali'), field 'records_with_issues'")


def test_duplicate_ids(loaded_store, tmp_path):
    nodes, edges = with_nodes({"id": "cms", "kind": "system", "name": "Second CMS"})
    path = write_graph(tmp_path / "dupes.json", nodes, edges)
    reject(loaded_store, [path], f"{path}: nodes[4] (id 'cms'), field 'id'", "duplicate id 'cms'",
           f"first defined at {path}: nodes[1]")


def test_duplicate_edge(loaded_store, tmp_path):
    nodes, edges = with_nodes(edges=[{"source": "cms", "target": "register", "kind": "supplies"}])
    path = write_graph(tmp_path / "twice.json", nodes, edges)
    reject(loaded_store, [path], f"{path}: edges[3] (source 'cms')", "a second edge cms -> register")


def test_kind_of_stored_node_cannot_change(loaded_store, tmp_path):
    path = write_graph(tmp_path / "rekind.json", [{"id": "housing-register", "kind": "process", "name": "X"}], [])
    reject(loaded_store, [path], f"{path}: nodes[0] (id 'housing-register'), field 'kind'", "exists already as a dataset")


def test_wrong_document_shape(loaded_store, tmp_path):
    path = tmp_path / "shape.json"
    path.write_text(json.dumps({"format": "lineage-graph/2", "nodes": {}, "edges": []}), encoding="utf-8")
    error = reject(loaded_store, [path], f"{path}, field 'format'", "lineage-graph/1")
    assert [p.field for p in error.problems] == ["format", "nodes"]
    path.write_text("[1, 2, 3]", encoding="utf-8")
    reject(loaded_store, [path], str(path), "expected a JSON object")


def test_non_utf8_bytes(loaded_store, tmp_path):
    path = tmp_path / "latin1.json"
    text = json.dumps({"format": "lineage-graph/1", "nodes": [{"id": "a", "kind": "person", "name": "Zoë"}],
                       "edges": []}, ensure_ascii=False)
    path.write_bytes(text.encode("latin-1"))
    offset = text.encode("latin-1").index("ë".encode("latin-1"))
    reject(loaded_store, [path], str(path), f"is not UTF-8 text (byte {offset})")


def test_fifty_megabytes_of_junk_fail_fast(loaded_store, tmp_path):
    size = 50 * 1024 * 1024
    junk = tmp_path / "junk.json"
    try:
        junk.write_bytes((b"lorem ipsum <junk> 12,34 ;; \n" * (size // 29 + 1))[:size])
        started = time.perf_counter()
        error = reject(loaded_store, [junk], f"{junk}: line 1, column 1", "is not valid JSON")
        assert time.perf_counter() - started < 5
        assert len(str(error)) < 300  # one clear line, not a dump of the file

        junk.write_bytes(os.urandom(1024) * (size // 1024))
        started = time.perf_counter()
        error = reject(loaded_store, [junk], str(junk), "is not UTF-8 text")
        assert time.perf_counter() - started < 5
        assert len(str(error)) < 300
    finally:
        junk.unlink(missing_ok=True)  # do not leave 50 MB behind in pytest's kept temp folders


def test_deeply_nested_json(loaded_store, tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 1_000_000)
    reject(loaded_store, [path], str(path), "nested too deeply")


def test_many_problems_are_capped(tmp_path, store):
    nodes = [{"id": f"n{i}", "kind": "spaceship", "name": "X"} for i in range(5000)]
    path = write_graph(tmp_path / "many.json", nodes, [])
    error = reject(store, [path], f"{path}: nodes[0] (id 'n0'), field 'kind'")
    assert len(error.problems) <= 201
    assert "stopped after this many problems" in str(error.problems[-1])


@pytest.mark.parametrize("field,literal", [("value_gbp", "Infinity"), ("value_gbp", "1e999"), ("colour", "NaN"),
                                           ("colour", "-Infinity")])
def test_non_finite_numbers_are_rejected(loaded_store, tmp_path, field, literal):
    # Python's json reads NaN/Infinity (and 1e999 as inf); SQLite's JSON functions do not, so storing one
    # would make every later graph query fail with "malformed JSON".
    path = tmp_path / "nonfinite.json"
    path.write_text('{"format": "lineage-graph/1", "nodes": [\n'
                    ' {"id": "x", "kind": "decision", "name": "X", "%s": %s}\n], "edges": []}\n' % (field, literal),
                    encoding="utf-8")
    reject(loaded_store, [path], f"{path}: nodes[0] (id 'x'), field '{field}'")


def test_non_finite_number_in_csv_is_rejected(loaded_store, tmp_path):
    nodes_csv = tmp_path / "nodes.csv"
    nodes_csv.write_text("id,kind,name,value_gbp\nx,decision,X,inf\n", encoding="utf-8")
    before = snapshot(loaded_store)
    with pytest.raises(ValidationError) as caught:
        loaded_store.load(io.read_csv(nodes_csv, None, existing_kinds=loaded_store.kinds_of), actor="t", summary="csv")
    assert f"{nodes_csv}: line 2, field 'value_gbp'" in str(caught.value)
    assert snapshot(loaded_store) == before


# -- multiple files ----------------------------------------------------------------------------------------


def test_multi_file_load_is_all_or_nothing(store, tmp_path):
    good = write_graph(tmp_path / "good.json", GOOD_NODES, GOOD_EDGES)
    nodes, edges = with_nodes({"id": "q", "kind": "dataset", "name": "Q", "quality": {"timeliness": 1.7}})
    bad = write_graph(tmp_path / "bad.json", [n for n in nodes if n["id"] == "q"], [])
    reject(store, [good, bad], f"{bad}: nodes[0] (id 'q'), field 'quality.timeliness'")
    assert store.version == 0 and store.kinds_of(["ali", "cms", "register", "alloc"]) == {}


def test_multi_file_load_all_or_nothing_on_loaded_store(loaded_store, tmp_path):
    good = write_graph(tmp_path / "good.json", GOOD_NODES, GOOD_EDGES)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    reject(loaded_store, [good, bad], f"{bad}: line 1")
    assert loaded_store.kinds_of(["ali", "cms"]) == {}


def test_references_may_cross_files(store, tmp_path):
    first = write_graph(tmp_path / "nodes.json", GOOD_NODES, [])
    second = write_graph(tmp_path / "edges.json", [], GOOD_EDGES)
    summary = load_files(store, [first, second])
    assert (summary.nodes_added, summary.edges_added) == (4, 3)
    assert store.version == 1


def test_file_organisation_given_to_nodes_without_one(store, tmp_path):
    nodes = [dict(GOOD_NODES[0]), {**GOOD_NODES[1], "organisation": "Other Org"}]
    path = write_graph(tmp_path / "org.json", nodes, [], organisation="Northbridge Borough Council")
    load_files(store, [path])
    assert store.node("ali")["organisation"] == "Northbridge Borough Council"
    assert store.node("cms")["organisation"] == "Other Org"


# -- names are user data -----------------------------------------------------------------------------------

AWKWARD_NAMES = {
    "quotes": 'He said "hello", then \'goodbye\'',
    "newline": "First line\nSecond line",
    "crlf": "Windows line\r\nnext\rold Mac",
    "html": "<script>alert('x')</script> & <b>bold</b>",
    "arabic": "سجل الإسكان",
    "chinese": "住房登记册",
    "welsh": "Gwasanaeth Tŵr a Chŷn",
    "commas": "a, b; c\tand d",
    "backslash": "C:\\data\\register",
    "emoji": "Register 🏠",
}


def awkward_graph(tmp_path: Path) -> Path:
    nodes = [{"id": node_id, "kind": "dataset", "name": name, "description": f"About: {name}"}
             for node_id, name in AWKWARD_NAMES.items()]
    nodes.append({"id": "person", "kind": "person", "name": AWKWARD_NAMES["welsh"], "role": AWKWARD_NAMES["html"]})
    edges = [{"source": "person", "target": "arabic", "kind": "enters", "period": AWKWARD_NAMES["chinese"]}]
    return write_graph(tmp_path / "awkward.json", nodes, edges)


def test_awkward_names_kept_exactly_through_json(store, tmp_path):
    load_files(store, [awkward_graph(tmp_path)])
    for node_id, name in AWKWARD_NAMES.items():
        record = store.node(node_id)
        assert record["name"] == name and record["description"] == f"About: {name}"
    io.export(store, "json", tmp_path / "out.json")
    exported = json.loads((tmp_path / "out.json").read_text("utf-8"))
    names = {n["id"]: n["name"] for n in exported["nodes"]}
    assert names == {**AWKWARD_NAMES, "person": AWKWARD_NAMES["welsh"]}
    assert exported["edges"][0]["period"] == AWKWARD_NAMES["chinese"]
    assert "سجل الإسكان" in (tmp_path / "out.json").read_text("utf-8")  # written as text, not \u escapes


def test_awkward_names_kept_exactly_through_csv(store, tmp_path):
    load_files(store, [awkward_graph(tmp_path)])
    io.export(store, "json", tmp_path / "first.json")
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    fresh = Store(tmp_path / "fresh.db", create=True)
    fresh.load(io.read_csv(nodes_csv, edges_csv), actor="t", summary="csv")
    for node_id, name in AWKWARD_NAMES.items():
        assert fresh.node(node_id)["name"] == name
    assert fresh.node("person")["role"] == AWKWARD_NAMES["html"]
    io.export(fresh, "json", tmp_path / "second.json")
    assert (tmp_path / "second.json").read_bytes() == (tmp_path / "first.json").read_bytes()
    fresh.close()


@pytest.mark.parametrize("separator", ["\u2028", "\x85"])
def test_unicode_line_separators_in_names_survive_csv(store, tmp_path, separator):
    # JSON allows these characters in names; a CSV round trip must not split the row at them.
    # (C0 control characters such as \x1e are refused on the way in: tests/test_reliability.py.)
    name = f"Housing{separator}register"
    path = write_graph(tmp_path / "sep.json", [{"id": "reg", "kind": "dataset", "name": name,
                                                "description": f"a{separator}b"}], [])
    load_files(store, [path])
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    data = io.read_csv(nodes_csv, edges_csv)
    assert [(n["id"], n["name"], n["description"]) for n in data.nodes] == [("reg", name, f"a{separator}b")]


# -- CSV formula injection --------------------------------------------------------------------------------


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_formula_in_attribute_is_escaped_and_read_back(store, tmp_path):
    nodes = [{"id": "p", "kind": "person", "name": "Pat", "role": "=HYPERLINK(\"http://x\")",
              "contact": "+44 20 7946 0000", "description": "@SUM(A1)", "colour": "-teal"}]
    load_files(store, [write_graph(tmp_path / "f.json", nodes, [])])
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    row = csv_rows(nodes_csv)[0]
    assert row["role"] == "'=HYPERLINK(\"http://x\")"
    assert row["contact"] == "'+44 20 7946 0000"
    assert row["description"] == "'@SUM(A1)"
    assert row["colour"] == "'-teal"
    back = io.read_csv(nodes_csv, edges_csv).nodes[0]
    for key in ("role", "contact", "description", "colour"):
        assert back[key] == nodes[0][key]


def test_formula_in_name_is_escaped_and_read_back(store, tmp_path):
    nodes = [{"id": "p", "kind": "person", "name": "=1+2"}, {"id": "q", "kind": "dataset", "name": "@cmd|' /C calc'!A0"}]
    load_files(store, [write_graph(tmp_path / "f.json", nodes, [])])
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    rows = {row["id"]: row for row in csv_rows(nodes_csv)}
    assert rows["p"]["name"] == "'=1+2"
    assert rows["q"]["name"] == "'@cmd|' /C calc'!A0"
    back = {n["id"]: n["name"] for n in io.read_csv(nodes_csv, edges_csv).nodes}
    assert back == {"p": "=1+2", "q": "@cmd|' /C calc'!A0"}


def test_formula_in_first_list_item_is_read_back_as_a_list(store, tmp_path):
    nodes = [{"id": "p", "kind": "dataset", "name": "P", "tags": ["=cmd", "housing"]}]
    load_files(store, [write_graph(tmp_path / "f.json", nodes, [])])
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    assert csv_rows(nodes_csv)[0]["tags"].startswith("'=")
    assert io.read_csv(nodes_csv, edges_csv).nodes[0]["tags"] == ["=cmd", "housing"]


def test_escaped_text_that_looks_like_a_number_stays_text(store, tmp_path):
    # "-12" is text in the file; the export guards it as '-12, and the import must give back the text.
    nodes = [{"id": "p", "kind": "person", "name": "Pat", "balance": "-12", "code": "-1.5e3", "count": -3}]
    load_files(store, [write_graph(tmp_path / "f.json", nodes, [])])
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    row = csv_rows(nodes_csv)[0]
    assert (row["balance"], row["code"], row["count"]) == ("'-12", "'-1.5e3", "-3")
    back = io.read_csv(nodes_csv, edges_csv).nodes[0]
    assert (back["balance"], back["code"], back["count"]) == ("-12", "-1.5e3", -3)


def test_text_already_starting_with_apostrophe_and_formula_character(store, tmp_path):
    # The guard must be reversible: text that itself starts with ' and then =, +, - or @ comes back unchanged.
    nodes = [{"id": "p", "kind": "person", "name": "'=not a formula", "role": "'+44 is the code", "colour": "'@x"}]
    load_files(store, [write_graph(tmp_path / "f.json", nodes, [])])
    nodes_csv, edges_csv = io.export(store, "csv", tmp_path / "csv")
    row = csv_rows(nodes_csv)[0]
    assert not row["name"].startswith(("=", "+", "-", "@"))
    back = io.read_csv(nodes_csv, edges_csv).nodes[0]
    assert (back["name"], back["role"], back["colour"]) == ("'=not a formula", "'+44 is the code", "'@x")


# -- CSV reading -------------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def reject_csv(store: Store, nodes_csv: Path, edges_csv: Path | None, *fragments: str) -> ValidationError:
    before = snapshot(store)
    with pytest.raises(ValidationError) as caught:
        store.load(io.read_csv(nodes_csv, edges_csv, existing_kinds=store.kinds_of), actor="t", summary="csv")
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))
    assert snapshot(store) == before
    return caught.value


def test_csv_missing_column(loaded_store, tmp_path):
    nodes_csv = write_text(tmp_path / "nodes.csv", "id,name,owner\nx,X,owner-jo\n")
    reject_csv(loaded_store, nodes_csv, None, f"{nodes_csv}: line 1", "missing column kind")
    good_nodes = write_text(tmp_path / "good-nodes.csv", "id,kind,name\nzz,person,Z\n")
    edges_csv = write_text(tmp_path / "edges.csv", "from,to,kind\na,b,enters\n")
    reject_csv(loaded_store, good_nodes, edges_csv, f"{edges_csv}: line 1", "missing columns source, target")


def test_csv_bad_cells_name_line_and_field(loaded_store, tmp_path):
    nodes_csv = write_text(tmp_path / "nodes.csv",
                           "id,kind,name,record_count,shared,quality.timeliness\n"
                           "good,dataset,Good,10,yes,0.5\n"
                           "bad,dataset,Bad,lots,yes,0.5\n"
                           "worse,dataset,Worse,3,perhaps,high\n")
    error = reject_csv(loaded_store, nodes_csv, None, f"{nodes_csv}: line 3, field 'record_count'", "lots")
    assert [(p.where, p.field) for p in error.problems] == [
        (f"{nodes_csv}: line 3", "record_count"), (f"{nodes_csv}: line 4", "shared"),
        (f"{nodes_csv}: line 4", "quality.timeliness")]


def test_csv_validation_problems_name_line(loaded_store, tmp_path):
    nodes_csv = write_text(tmp_path / "nodes.csv", "id,kind,name,quality.timeliness\nq,dataset,Q,1.7\n")
    edges_csv = write_text(tmp_path / "edges.csv", "source,target,kind\nsocial-housing-allocations,officer-ali,enters\n")
    error = reject_csv(loaded_store, nodes_csv, edges_csv, f"{nodes_csv}: line 2, field 'quality.timeliness'")
    assert (str(error.problems[1].where), error.problems[1].field) == (f"{edges_csv}: line 2", "kind")
    assert "decision -> person" in error.problems[1].message


def test_csv_duplicate_ids_and_extra_cells(loaded_store, tmp_path):
    nodes_csv = write_text(tmp_path / "nodes.csv", "id,kind,name\na,person,A\na,person,Again\n")
    reject_csv(loaded_store, nodes_csv, None, f"{nodes_csv}: line 3, field 'id'", "duplicate id 'a'")
    nodes_csv = write_text(tmp_path / "nodes.csv", "id,kind,name\na,person,A,extra\n")
    reject_csv(loaded_store, nodes_csv, None, f"{nodes_csv}: line 2", "has 4 cells")


def test_csv_empty_and_non_utf8(loaded_store, tmp_path):
    empty = write_text(tmp_path / "empty.csv", "")
    reject_csv(loaded_store, empty, None, f"{empty}: line 1", "is empty")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,kind,name\na,person,Zoë\n".encode("latin-1"))
    reject_csv(loaded_store, latin, None, str(latin), "is not UTF-8 text (byte 24)")


def test_csv_values_converted_by_schema_type(store, tmp_path):
    nodes_csv = write_text(tmp_path / "nodes.csv",
                           "\ufeffid,kind,name,record_count,shared,tags,quality.timeliness,quality.timeliness.rag,"
                           "quality.validity.rag,colour,size,postcode\n"
                           "reg,dataset,Register,8421,Yes,housing; personal-data,0.71,amber,green,teal,12,01234\n"
                           "\n"
                           "ali,person,Ali,,,,,,,,,\n")
    edges_csv = write_text(tmp_path / "edges.csv", "source,target,kind,records,period\nali,reg,enters,1240,2026-Q3\n")
    data = io.read_csv(nodes_csv, edges_csv)
    by_id = {n["id"]: n for n in data.nodes}
    assert by_id["reg"] == {"id": "reg", "kind": "dataset", "name": "Register", "record_count": 8421, "shared": True,
                            "tags": ["housing", "personal-data"],
                            "quality": {"timeliness": {"score": 0.71, "rag": "amber"}, "validity": {"rag": "green"}},
                            "colour": "teal", "size": 12, "postcode": "01234"}
    assert by_id["ali"] == {"id": "ali", "kind": "person", "name": "Ali"}
    assert data.edges == [{"source": "ali", "target": "reg", "kind": "enters", "records": 1240, "period": "2026-Q3"}]


# -- exports and round trips ------------------------------------------------------------------------------


def test_export_json_is_ordered_and_loadable(loaded_store, tmp_path, samples):
    nodes, edges = samples
    io.export(loaded_store, "json", tmp_path / "out.json")
    document = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert document["format"] == "lineage-graph/1"
    assert [n["id"] for n in document["nodes"]] == sorted(n["id"] for n in nodes)
    assert [(e["source"], e["target"]) for e in document["edges"]] == sorted((e["source"], e["target"]) for e in edges)
    assert all(list(n)[:3] == ["id", "kind", "name"] for n in document["nodes"])
    assert all(list(e)[:3] == ["source", "target", "kind"] for e in document["edges"])
    assert not any({"created", "updated", "version"} & set(n) for n in document["nodes"])
    assert {n["id"]: n for n in document["nodes"]} == {n["id"]: n for n in nodes}


def test_json_round_trip_is_byte_identical(loaded_store, tmp_path):
    first = tmp_path / "first.json"
    io.export(loaded_store, "json", first)
    fresh = Store(tmp_path / "fresh.db", create=True)
    summary = load_files(fresh, [first])
    assert summary.nodes_added == sum(loaded_store.counts().values())
    second = tmp_path / "second.json"
    io.export(fresh, "json", second)
    assert second.read_bytes() == first.read_bytes()
    fresh.close()


def test_csv_round_trip_equals_json_export(loaded_store, tmp_path):
    original = tmp_path / "original.json"
    io.export(loaded_store, "json", original)
    nodes_csv, edges_csv = io.export(loaded_store, "csv", tmp_path / "csv")
    assert [p.name for p in (nodes_csv, edges_csv)] == ["nodes.csv", "edges.csv"]
    header = nodes_csv.read_text("utf-8").splitlines()[0].split(",")
    assert header[:3] == ["id", "kind", "name"] and "quality.timeliness" in header
    fresh = Store(tmp_path / "fresh.db", create=True)
    fresh.load(io.read_csv(nodes_csv, edges_csv, existing_kinds=fresh.kinds_of), actor="t", summary="csv")
    again = tmp_path / "again.json"
    io.export(fresh, "json", again)
    assert again.read_text("utf-8") == original.read_text("utf-8")
    fresh.close()


def test_export_unknown_format(loaded_store, tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        io.export(loaded_store, "xml", tmp_path / "x.xml")


def test_export_empty_store_round_trips(store, tmp_path):
    io.export(store, "json", tmp_path / "empty.json")
    document = json.loads((tmp_path / "empty.json").read_text("utf-8"))
    assert document == {"format": "lineage-graph/1", "nodes": [], "edges": []}
    summary = load_files(store, [tmp_path / "empty.json"])
    assert (summary.nodes_added, summary.edges_added, store.version) == (0, 0, 0)


def test_sample_files_parse(samples):
    nodes, edges = samples
    total_nodes = total_edges = 0
    for path in SAMPLES:
        data = io.read_native(path)
        total_nodes += len(data.nodes)
        total_edges += len(data.edges)
    assert (total_nodes, total_edges) == (len(nodes), len(edges))

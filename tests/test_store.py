"""The SQLite store: pragmas, versioned and audited changes, conflicts, search, backup, loading."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import SAMPLES, load_files, sample_records, snapshot
from lineage import io
from lineage.errors import ConflictError, NotFoundError, StoreError, ValidationError
from lineage import model
from lineage.store import SCHEMA_VERSION, Store


def add_basics(store: Store) -> None:
    with store.change("jo", "basics") as change:
        change.add_node({"id": "ali", "kind": "person", "name": "Ali Khan"})
        change.add_node({"id": "cms", "kind": "system", "name": "Housing CMS"})
        change.add_node({"id": "register", "kind": "dataset", "name": "Housing register", "record_count": 10})
        change.add_node({"id": "alloc", "kind": "decision", "name": "Allocations", "people_affected": 30})
        change.add_edge({"source": "ali", "target": "cms", "kind": "enters", "records": 5})
        change.add_edge({"source": "cms", "target": "register", "kind": "supplies"})
        change.add_edge({"source": "register", "target": "alloc", "kind": "informs"})


# -- opening -------------------------------------------------------------------------------------------


def test_pragmas_and_schema(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    assert store.version == 0
    assert store.counts() == {k: 0 for k in ("person", "team", "system", "dataset", "process", "ai_tool",
                                              "decision")}


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("INSERT INTO edges (source, target, kind) VALUES (998, 999, 'enters')")
    assert store.edge_count() == 0


def test_reopen_keeps_data_and_version(tmp_path):
    path = tmp_path / "a.db"
    first = Store(path, create=True)
    add_basics(first)
    first.close()
    again = Store(path)
    assert again.version == 1
    assert again.node("register")["record_count"] == 10
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_missing_file_without_create(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(StoreError, match="no lineage database at"):
        Store(path)
    assert not path.exists()


def test_non_lineage_sqlite_file(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a lineage database"):
        Store(path)
    with pytest.raises(StoreError, match="not a lineage database"):
        Store(path, create=True)


def test_not_an_sqlite_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a usable lineage database"):
        Store(path)


def test_wrong_schema_version(tmp_path):
    path = tmp_path / "future.db"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        Store(path)


# -- changes, versions and audit ------------------------------------------------------------------------


def test_change_bumps_version_once_and_audits_each_write(store):
    add_basics(store)
    assert store.version == 1  # seven writes, one change
    changes = store.conn.execute("SELECT version, actor, summary FROM changes").fetchall()
    assert changes == [(1, "jo", "basics")]
    history = store.history()
    assert len(history) == 7
    assert {(h["entity"], h["ref"], h["action"]) for h in history} == {
        ("node", "ali", "create"), ("node", "cms", "create"), ("node", "register", "create"),
        ("node", "alloc", "create"), ("edge", "ali -> cms", "create"), ("edge", "cms -> register", "create"),
        ("edge", "register -> alloc", "create")}
    assert all(h["actor"] == "jo" and h["version"] == 1 and h["before"] is None for h in history)
    created = next(h for h in history if h["ref"] == "register")
    assert created["after"] == {"id": "register", "kind": "dataset", "name": "Housing register", "record_count": 10}

    with store.change("sam", "rename") as change:
        change.update_node("register", {"name": "Register of applicants"})
    assert store.version == 2
    latest = store.history(limit=1)[0]
    assert (latest["actor"], latest["action"], latest["version"]) == ("sam", "update", 2)
    assert latest["before"]["name"] == "Housing register"
    assert latest["after"]["name"] == "Register of applicants"


def test_change_that_writes_nothing_leaves_no_trace(store):
    add_basics(store)
    before = snapshot(store)
    with store.change("jo", "looked only"):
        pass
    assert snapshot(store) == before


def test_exception_rolls_back_everything(store):
    add_basics(store)
    before = snapshot(store)
    history = store.history()
    with pytest.raises(RuntimeError, match="boom"):
        with store.change("jo", "half done") as change:
            change.add_node({"id": "new-one", "kind": "dataset", "name": "New"})
            change.update_node("register", {"name": "Changed"})
            change.delete_node("alloc")
            raise RuntimeError("boom")
    assert snapshot(store) == before
    assert store.history() == history
    assert store.node("register")["name"] == "Housing register"
    assert store.node("alloc")["kind"] == "decision"
    with pytest.raises(NotFoundError):
        store.node("new-one")


def test_invalid_write_rolls_back_the_change(store):
    add_basics(store)
    before = snapshot(store)
    with pytest.raises(ValidationError) as caught:
        with store.change("jo", "bad") as change:
            change.add_node({"id": "ok-node", "kind": "dataset", "name": "Fine"})
            change.add_node({"id": "bad", "kind": "dataset", "name": "Bad", "quality": {"timeliness": 1.7}})
    assert caught.value.problems[0].field == "quality.timeliness"
    assert snapshot(store) == before
    assert store.kinds_of(["ok-node"]) == {}


def test_update_node_versions(store):
    add_basics(store)
    assert store.node("register")["version"] == 1
    with store.change("jo", "edit") as change:
        updated = change.update_node("register", {"record_count": 12, "colour": "teal"}, expected_version=1)
    assert updated["version"] == 2 and updated["record_count"] == 12 and updated["colour"] == "teal"
    with store.change("jo", "remove") as change:
        change.update_node("register", {"colour": None}, expected_version=2)
    record = store.node("register")
    assert "colour" not in record and record["version"] == 3


def test_update_node_stale_version_conflicts_and_changes_nothing(store):
    add_basics(store)
    with store.change("sam", "first edit") as change:
        change.update_node("register", {"name": "Sam's name"}, expected_version=1)
    before = snapshot(store)
    record = store.node("register")
    with pytest.raises(ConflictError) as caught:
        with store.change("jo", "stale edit") as change:
            change.update_node("register", {"name": "Jo's name"}, expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert "node 'register'" in str(caught.value) and "version 1" in str(caught.value)
    assert store.node("register") == record
    assert snapshot(store) == before


def test_concurrent_editors_never_overwrite_each_other(tmp_path):
    path = tmp_path / "shared.db"
    first = Store(path, create=True)
    add_basics(first)
    second = Store(path)
    seen_by_first = first.node("register")["version"]
    seen_by_second = second.node("register")["version"]
    with second.change("sam", "sam edits") as change:
        change.update_node("register", {"name": "Sam's edit"}, expected_version=seen_by_second)
    with pytest.raises(ConflictError):
        with first.change("jo", "jo edits") as change:
            change.update_node("register", {"name": "Jo's edit"}, expected_version=seen_by_first)
    assert first.node("register")["name"] == second.node("register")["name"] == "Sam's edit"
    assert first.version == second.version == 2
    first.close()
    second.close()


def test_update_edge_stale_version_conflicts(store):
    add_basics(store)
    with store.change("sam", "edit edge") as change:
        edge = change.update_edge("ali", "cms", {"records": 7}, expected_version=1)
    assert edge["records"] == 7 and edge["version"] == 2
    before = snapshot(store)
    with pytest.raises(ConflictError):
        with store.change("jo", "stale") as change:
            change.update_edge("ali", "cms", {"records": 9}, expected_version=1)
    assert store.edge("ali", "cms")["records"] == 7
    assert snapshot(store) == before


def test_update_cannot_change_id_or_kind(store):
    add_basics(store)
    before = snapshot(store)
    for changes, fixed in (({"kind": "process"}, "kind"), ({"id": "other"}, "id")):
        with pytest.raises(ValidationError) as caught:
            with store.change("jo", "x") as change:
                change.update_node("register", changes)
        assert caught.value.problems[0].field == fixed
    with pytest.raises(ValidationError):
        with store.change("jo", "x") as change:
            change.update_edge("cms", "register", {"kind": "derives"})
    assert snapshot(store) == before


def test_delete_node_removes_and_audits_its_edges(store):
    add_basics(store)
    with store.change("jo", "remove cms") as change:
        change.delete_node("cms", expected_version=1)
    assert store.version == 2
    with pytest.raises(NotFoundError):
        store.node("cms")
    assert [(e["source"], e["target"]) for e in store.edges()] == [("register", "alloc")]
    latest = [h for h in store.history() if h["version"] == 2]
    assert {(h["entity"], h["ref"], h["action"]) for h in latest} == {
        ("edge", "ali -> cms", "delete"), ("edge", "cms -> register", "delete"), ("node", "cms", "delete")}
    deleted_edge = next(h for h in latest if h["ref"] == "ali -> cms")
    assert deleted_edge["before"] == {"source": "ali", "target": "cms", "kind": "enters", "records": 5}
    assert deleted_edge["after"] is None
    assert store.search("Housing CMS") == []  # full-text index follows deletes


def test_add_edge_rules(store):
    add_basics(store)
    before = snapshot(store)
    with pytest.raises(ValidationError) as caught:
        with store.change("jo", "x") as change:
            change.add_edge({"source": "alloc", "target": "ali", "kind": "enters"})
    problem = caught.value.problems[0]
    assert problem.field == "kind" and "decision -> person" in problem.message
    with pytest.raises(ValidationError, match="already exists"):
        with store.change("jo", "x") as change:
            change.add_edge({"source": "cms", "target": "register", "kind": "supplies"})
    with pytest.raises(NotFoundError, match="no node with id 'ghost'"):
        with store.change("jo", "x") as change:
            change.add_edge({"source": "ghost", "target": "register", "kind": "supplies"})
    with pytest.raises(ValidationError, match="already exists"):
        with store.change("jo", "x") as change:
            change.add_node({"id": "ali", "kind": "person", "name": "Another Ali"})
    assert snapshot(store) == before


def test_unknown_node_and_edge(store):
    with pytest.raises(NotFoundError, match="no node with id 'nobody'"):
        store.node("nobody")
    with pytest.raises(NotFoundError, match="no edge a -> b"):
        store.edge("a", "b")


def test_history_of_one_node_is_exact(store):
    # Ids may contain '_' (a LIKE wildcard): history of 'a_b' must not include the edges of 'axb'.
    with store.change("jo", "x") as change:
        change.add_node({"id": "a_b", "kind": "person", "name": "A B"})
        change.add_node({"id": "axb", "kind": "person", "name": "A X B"})
        change.add_node({"id": "t", "kind": "dataset", "name": "T"})
        change.add_edge({"source": "axb", "target": "t", "kind": "enters"})
        change.add_edge({"source": "a_b", "target": "t", "kind": "enters"})
    assert sorted(h["ref"] for h in store.history("a_b")) == ["a_b", "a_b -> t"]
    assert sorted(h["ref"] for h in store.history("t")) == ["a_b -> t", "axb -> t", "t"]


# -- reading --------------------------------------------------------------------------------------------


def test_loaded_counts_match_files(loaded_store, samples):
    nodes, edges = samples
    counts = loaded_store.counts()
    for kind in counts:
        assert counts[kind] == sum(n["kind"] == kind for n in nodes)
    assert loaded_store.edge_count() == len(edges)
    assert [n["id"] for n in loaded_store.nodes()] == sorted(n["id"] for n in nodes)
    assert [n["id"] for n in loaded_store.nodes(kind="ai_tool")] == sorted(
        n["id"] for n in nodes if n["kind"] == "ai_tool")
    assert [n["id"] for n in loaded_store.nodes(owner="owner-jo")] == sorted(
        n["id"] for n in nodes if n.get("owner") == "owner-jo")
    assert loaded_store.organisations() == sorted({n["organisation"] for n in nodes})


def test_stored_records_equal_file_records(loaded_store, samples):
    nodes, edges = samples
    managed = {"created", "updated", "version"}
    stored = {n["id"]: {k: v for k, v in n.items() if k not in managed} for n in loaded_store.nodes()}
    assert stored == {n["id"]: n for n in nodes}
    stored_edges = {(e["source"], e["target"]): {k: v for k, v in e.items() if k != "version"}
                    for e in loaded_store.edges()}
    assert stored_edges == {(e["source"], e["target"]): e for e in edges}


def test_ids_where(loaded_store, samples):
    nodes, _ = samples
    assert loaded_store.ids_where("tag", "housing") == sorted(n["id"] for n in nodes if "housing" in n.get("tags", []))
    assert loaded_store.ids_where("owner", "owner-jo") == sorted(n["id"] for n in nodes if n.get("owner") == "owner-jo")
    org = "Rural Land Agency"
    assert loaded_store.ids_where("organisation", org) == sorted(n["id"] for n in nodes if n["organisation"] == org)
    with pytest.raises(ValueError):
        loaded_store.ids_where("name", "x")


def test_edges_touching(loaded_store, samples):
    _, edges = samples
    expected = sorted((e["source"], e["target"]) for e in edges if "housing-register" in (e["source"], e["target"]))
    assert [(e["source"], e["target"]) for e in loaded_store.edges(touching="housing-register")] == expected


# -- search ---------------------------------------------------------------------------------------------


def test_search_prefix_words(loaded_store):
    ids = [r["id"] for r in loaded_store.search("hous reg")]
    assert "housing-register" in ids
    for row in loaded_store.search("hous reg"):
        text = (row["name"] + " " + (row["description"] or "")).lower()
        assert "hous" in text and "reg" in text
    assert [r["id"] for r in loaded_store.search("Housing register", kind="dataset")][0] == "housing-register"
    assert all(r["kind"] == "dataset" for r in loaded_store.search("housing", kind="dataset"))
    assert len(loaded_store.search("housing", limit=3)) == 3


def test_search_quotes_and_operators_do_not_crash(loaded_store):
    for text in ['"', '""', "'", 'housing"', '"hous', "AND", "OR NOT", "NEAR(", "col:x", "*", "-", "(", "^", ""]:
        results = loaded_store.search(text)
        assert isinstance(results, list)
    assert "housing-register" in [r["id"] for r in loaded_store.search('"housing" "register"')]
    assert loaded_store.search('"""') == []


def test_search_non_latin_text(store):
    names = {"arabic": "سجل الإسكان", "chinese": "住房登记册", "welsh": "Gwasanaeth Tŵr Cymru",
             "html": 'Housing "register" <script>alert(1)</script>'}
    with store.change("jo", "names") as change:
        for node_id, name in names.items():
            change.add_node({"id": node_id, "kind": "dataset", "name": name})
    assert [r["id"] for r in store.search("الإسكان")] == ["arabic"]
    assert [r["id"] for r in store.search("住房")] == ["chinese"]
    assert [r["id"] for r in store.search("tŵr")] == ["welsh"]
    assert [r["id"] for r in store.search("twr")] == ["welsh"]  # diacritics folded
    assert [r["id"] for r in store.search("<script>")] == ["html"]
    assert store.search("住房")[0]["name"] == names["chinese"]


# -- backup ---------------------------------------------------------------------------------------------


def test_backup_is_a_readable_copy(loaded_store, tmp_path):
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    loaded_store.backup(target)
    copy = Store(target)
    assert copy.version == loaded_store.version == 1
    assert copy.counts() == loaded_store.counts()
    assert copy.edge_count() == loaded_store.edge_count()
    assert list(copy.nodes()) == list(loaded_store.nodes())
    assert list(copy.edges()) == list(loaded_store.edges())
    assert copy.search("hous reg") == loaded_store.search("hous reg")
    copy.close()


# -- loading --------------------------------------------------------------------------------------------


def test_load_summary_and_idempotence(store, samples):
    nodes, edges = samples
    first = load_files(store, SAMPLES)
    assert (first.nodes_added, first.nodes_changed, first.edges_added, first.edges_changed) == (
        len(nodes), 0, len(edges), 0)
    assert first.version == store.version == 1
    before = snapshot(store)
    second = load_files(store, SAMPLES)
    assert (second.nodes_added, second.nodes_changed, second.edges_added, second.edges_changed) == (0, 0, 0, 0)
    assert second.unchanged == len(nodes) + len(edges)
    assert second.version == 1
    assert snapshot(store) == before
    assert str(second).startswith("0 nodes added, 0 changed; 0 edges added, 0 changed;")


def test_load_replaces_changed_records(loaded_store, tmp_path):
    from conftest import write_graph

    register = loaded_store.node("housing-register")
    changed = {k: v for k, v in register.items() if k not in ("created", "updated", "version")}
    changed["record_count"] = 1
    path = write_graph(tmp_path / "edit.json", [changed],
                       [{"source": "housing-cms", "target": "housing-register", "kind": "supplies", "note": "nightly"}])
    summary = load_files(loaded_store, [path])
    assert (summary.nodes_added, summary.nodes_changed, summary.edges_added, summary.edges_changed) == (0, 1, 0, 1)
    assert loaded_store.version == 2
    assert loaded_store.node("housing-register")["record_count"] == 1
    assert loaded_store.node("housing-register")["version"] == register["version"] + 1
    assert loaded_store.edge("housing-cms", "housing-register")["note"] == "nightly"
    update = [h for h in loaded_store.history("housing-register") if h["version"] == 2 and h["entity"] == "node"][0]
    assert update["before"]["record_count"] == register["record_count"] and update["after"]["record_count"] == 1


def test_compiled_graph_carries_the_store_version(loaded_store):
    from lineage.graph import LineageGraph

    assert LineageGraph.from_store(loaded_store).version == loaded_store.version == 1
    with loaded_store.change("jo", "edit") as change:
        change.update_node("housing-register", {"record_count": 1})
    assert LineageGraph.from_store(loaded_store).version == 2


def _topology_edges(topology) -> set[tuple]:
    return {(topology.ids[s], topology.ids[t], model.EDGE_KINDS[k], int(r), int(i)) for s, t, k, r, i in
            zip(topology.sources, topology.targets, topology.edge_kinds, topology.edge_records, topology.edge_issues)}


def _expected_edges(edges) -> set[tuple]:
    return {(e["source"], e["target"], e["kind"], e.get("records", 0) if e["kind"] == "enters" else 0,
             e.get("records_with_issues", 0) if e["kind"] == "enters" else 0) for e in edges}


def test_topology_is_consistent(loaded_store):
    nodes, edges = sample_records()
    topology = loaded_store.topology()
    assert sorted(topology.ids) == sorted(n["id"] for n in nodes)
    by_id = {n["id"]: n for n in nodes}
    assert [model.NODE_KINDS[k] for k in topology.kind_codes] == [by_id[i]["kind"] for i in topology.ids]
    assert _topology_edges(topology) == _expected_edges(edges)
    people = {i: p for i, p in zip(topology.ids, topology.people_affected) if p == p}
    assert people == {n["id"]: n["people_affected"] for n in nodes if "people_affected" in n}
    assert topology.version == loaded_store.version


def test_topology_after_deletes_maps_keys_to_positions(loaded_store):
    # Deleting nodes leaves gaps in the keys: positions must then come from the keys, not key - 1.
    with loaded_store.change("t", "delete") as change:
        change.delete_node("officer-ali")
        change.delete_node("housing-register")
    topology = loaded_store.topology()
    nodes, edges = sample_records()
    gone = {"officer-ali", "housing-register"}
    assert sorted(topology.ids) == sorted(n["id"] for n in nodes if n["id"] not in gone)
    assert _topology_edges(topology) == _expected_edges(
        [e for e in edges if e["source"] not in gone and e["target"] not in gone])


def test_read_files_with_store_resolves_references_to_stored_nodes(loaded_store, tmp_path):
    from conftest import write_graph

    path = write_graph(tmp_path / "more.json", [{"id": "new-person", "kind": "person", "name": "New"}],
                       [{"source": "new-person", "target": "housing-cms", "kind": "enters", "records": 3}])
    data = io.read_files([path], loaded_store)
    assert [n["id"] for n in data.nodes] == ["new-person"]
    summary = loaded_store.load(data, actor="t", summary="more")
    assert (summary.nodes_added, summary.edges_added) == (1, 1)
    assert loaded_store.edge("new-person", "housing-cms")["records"] == 3


def test_engine_copies_follow_every_write(loaded_store):
    # The columns the query engine reads (people affected, £, weakest quality, record counts) are
    # copies the store keeps: an update through the store must show in the next topology.
    with loaded_store.change("t", "edit") as change:
        change.update_node("social-housing-allocations", {"people_affected": 4000, "value_gbp": None})
        change.update_node("housing-register", {"quality": {"accuracy": 0.42, "timeliness": {"rag": "green"}}})
        change.update_edge("officer-ali", "housing-cms", {"records": 2000, "records_with_issues": 9})
    topology = loaded_store.topology()
    at = {node_id: i for i, node_id in enumerate(topology.ids)}
    decision = at["social-housing-allocations"]
    assert topology.people_affected[decision] == 4000
    assert topology.value_gbp[decision] != topology.value_gbp[decision]  # removed: NaN
    register = at["housing-register"]
    assert (model.QUALITY_DIMENSIONS[topology.quality_dimension[register]], topology.quality_score[register],
            model.RAGS[topology.quality_rag[register]]) == ("accuracy", 0.42, "red")
    edges = _topology_edges(topology)
    assert ("officer-ali", "housing-cms", "enters", 2000, 9) in edges


def test_recent_changes_touching_some_ids(loaded_store):
    with loaded_store.change("jo", "register refreshed") as change:
        change.update_node("housing-register", {"refresh": "hourly"})
    with loaded_store.change("sam", "elsewhere") as change:
        change.update_node("nhs-ed-attendances", {"refresh": "hourly"})
    with loaded_store.change("jo", "new feed") as change:
        change.add_node({"id": "new-mart", "kind": "dataset", "name": "New mart"})
        change.add_edge({"source": "housing-register", "target": "new-mart", "kind": "derives"})
    found = loaded_store.recent_changes(["housing-register"], limit=10)
    assert [c["summary"] for c in found] == ["new feed", "register refreshed", "load " + ", ".join(
        p.name for p in SAMPLES)]
    # Items carry what they touched and its kind, for the reader's view of people (PeopleRule).
    assert found[0]["items"] == [{"entity": "edge", "ref": "housing-register -> new-mart", "action": "create",
                                  "kind": "derives"}]
    assert found[1]["items"] == [{"entity": "node", "ref": "housing-register", "action": "update",
                                  "kind": "dataset"}] and found[1]["actor"] == "jo"
    assert found[2]["touched"] > 1  # the load created the node and its edges
    assert [c["summary"] for c in loaded_store.recent_changes(["housing-register"], limit=1)] == ["new feed"]
    assert loaded_store.recent_changes(["no-such-node"]) == []


def test_list_nodes_filters_sorts_and_pages():
    store = Store(":memory:", create=True)
    with store.change("t", "a small estate") as change:
        change.add_node({"id": "jo", "kind": "person", "name": "Jo"})
        change.add_node({"id": "reg", "kind": "dataset", "name": "Register", "owner": "jo", "organisation": "Council",
                         "quality": {"timeliness": 0.55}})
        change.add_node({"id": "arch", "kind": "dataset", "name": "Archive", "organisation": "Trust"})
        change.add_node({"id": "bid", "kind": "decision", "name": "Bid", "owner": "jo", "organisation": "Council"})
    assert store.list_nodes() == (4, [("arch", None), ("bid", "Jo"), ("jo", None), ("reg", "Jo")])
    assert store.list_nodes(owner="jo", sort="name", descending=True) == (2, [("reg", "Jo"), ("bid", "Jo")])
    assert store.list_nodes(owner="none", without=["person"]) == (1, [("arch", None)])
    assert store.list_nodes(quality="red")[1] == [("reg", "Jo")]
    assert store.list_nodes(quality="unassessed")[1] == [("arch", None)]  # datasets only
    assert store.list_nodes(organisation="Council", limit=1, offset=1) == (2, [("reg", "Jo")])
    assert store.list_nodes(owner="jo", owner_names=False) == (2, [("bid", None), ("reg", None)])
    with pytest.raises(ValueError, match="sort must be one of"):
        store.list_nodes(sort="size")
    assert store.owners() == [{"id": "jo", "name": "Jo"}]
    assert store.owners_among(["jo", "reg", "nobody"]) == {"jo"}

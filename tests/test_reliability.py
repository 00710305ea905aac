"""Issue 17, the reliability half: each problem found by the attacker and the operator, reproduced.

Bad input is a 4xx that says what was expected; no name breaks a picture or a CSV row; the engine
answers a deleted record as not found; edge look-ups use the indexes; a full disk, a read-only
database and a busy one are named plainly; the store owns every table and upgrades a release-2
database without losing anything.
"""
from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from conftest import SAMPLES, copy_db, load_files, run, snapshot, write_graph
from lineage import accounts, io, loop, materialised, migrations, model, store as store_module
from lineage.errors import (BusyError, DiskFullError, NotFoundError, ReadOnlyError, StoreError, ValidationError)
from lineage.graph import LineageGraph
from lineage.policy import Actor
from lineage.insights import write_csv
from lineage.io.csv import csv_writer
from lineage.render import dot_string, node_label, picture, to_dot, view
from lineage.store import Store
from web import create_app

DATA = Path(__file__).parent / "data"
LIBRARY = Path(__file__).parent.parent / "lineage"


def _app_with_admin(path: Path):
    """An app on ``path`` and a client that sends an admin's API token with every request."""
    store = Store(path)
    token = accounts.Accounts(store).add("admin", "a long admin password", role="admin", actor="test") and \
        accounts.Accounts(store).new_token("admin", "tests", actor="test")
    store.close()
    app = create_app({"LINEAGE_DB": str(path), "TESTING": True})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return app, client


@pytest.fixture
def app_and_client(tmp_path, samples_db):
    return _app_with_admin(copy_db(samples_db, tmp_path / "web.db"))


@pytest.fixture
def app(app_and_client):
    return app_and_client[0]


@pytest.fixture
def client(app_and_client):
    return app_and_client[1]


def dataset(**attributes):
    return {"id": "reg", "kind": "dataset", "name": "Register", **attributes}


# -- bad input: control characters, surrogates, bounds, unknown attributes ---------------------------


@pytest.mark.parametrize("text, code", [("a\x00b", "U+0000"), ("bell\x07", "U+0007"), ("esc\x1b[31m", "U+001B"),
                                        ("half \ud800 pair", "U+D800"), ("del\x7f", "U+007F")])
@pytest.mark.parametrize("field", ["name", "description", "colour"])
def test_control_characters_and_lone_surrogates_are_refused_in_any_text(text, code, field):
    problems = model.validate_node(dataset(**{field: text}), "f.json: nodes[0]")
    assert [p.field for p in problems] == [field]
    assert code in problems[0].message and "control characters or lone surrogates" in problems[0].message


def test_text_inside_lists_and_objects_and_names_is_checked():
    problems = model.validate_node(dataset(tags=["ok", "b\x00d"], notes={"k\x01": "v"}, **{"n\x02": 1}), "here")
    assert sorted(p.field for p in problems) == ["n\\u0002", "notes", "tags[1]"]


def test_tabs_and_line_breaks_are_text():
    assert model.validate_node(dataset(description="line one\r\nline two\ttabbed"), "x") == []


@pytest.mark.parametrize("record, field, bound", [
    ({"id": "d", "kind": "decision", "name": "D", "people_affected": 10**30}, "people_affected", "10,000,000,000"),
    ({"id": "d", "kind": "decision", "name": "D", "value_gbp": 1e14}, "value_gbp", "10,000,000,000,000"),
    (dataset(record_count=2**63), "record_count", "1,000,000,000,000,000"),
])
def test_numbers_have_bounds(record, field, bound):
    problems = model.validate_node(record, "x")
    assert [p.field for p in problems] == [field] and bound in problems[0].message


def test_edge_record_counts_have_bounds():
    problems = model.validate_edge({"source": "a", "target": "b", "kind": "enters", "records": 2**63}, "e")
    assert [p.field for p in problems] == ["records"] and "1,000,000,000,000,000" in problems[0].message


@pytest.mark.parametrize("extra, message", [
    ({"big": "x" * (model.MAX_ATTRIBUTE_SIZE + 1)}, "at most 10,000 characters"),
    ({"big": ["x" * 100] * 200}, "at most 10,000 characters (as JSON)"),
    ({"n" * 101: 1}, "names of at most 100 characters"),
    ({"deep": json.loads("[" * 40 + "]" * 40)}, "nested at most 32 levels"),
])
def test_unknown_attributes_are_limited(extra, message):
    problems = model.validate_node(dataset(**extra), "x")
    assert len(problems) == 1 and message in problems[0].message


def test_unknown_attributes_within_limits_are_kept(store):
    record = dataset(big="x" * model.MAX_ATTRIBUTE_SIZE, deep=json.loads("[" * 32 + "]" * 32))
    with store.change("t", "limits") as change:
        change.add_node(record)
    assert store.node("reg")["big"] == record["big"]


def test_a_load_names_file_record_field_and_what_was_expected(runner, tmp_path):
    path = write_graph(tmp_path / "bad.json", [dataset(name="Reg\x00ister")], [])
    result = run(runner, ["--db", tmp_path / "l.db", "load", path])
    assert result.exit_code == 1
    assert "bad.json" in result.output and "nodes[0]" in result.output and "'name'" in result.output
    assert "expected text without control characters" in result.output


def test_loop_texts_refuse_control_characters(loaded_store):
    with pytest.raises(ValidationError, match="control characters"):
        loop.post_update(loaded_store, "prevention-grant-bid", actor=Actor("admin", "admin"), text="done\x00")


# -- bad input on the web ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/changes/99999999999999999999", "/changes/99999999999999999999.json",
                                 "/updates/99999999999999999999", "/flags/" + "9" * 5000])
def test_oversized_ids_in_routes_are_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/api/nodes?limit=99999999999999999999999", "/api/nodes?offset=" + "9" * 1000,
                                 "/api/lineage/housing-register?depth=99999999999999999999"])
def test_oversized_query_numbers_are_400(client, url):
    response = client.get(url)
    assert response.status_code == 400 and "whole number" in response.get_json()["error"]["message"]


def _post(client, body: str, path: str = "/api/nodes"):
    return client.post(path, data=body, headers={"Content-Type": "application/json"})


def test_json_nested_100000_deep_is_a_400(client):
    response = _post(client, '{"id": "x", "kind": "dataset", "name": "X", "a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert response.status_code == 400 and "nest" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ('{"id": "x", "kind": "dataset", "name": "X\\ud800"}', "name"),
    ('{"id": "x", "kind": "dataset", "name": "X", "description": "a\\u0000b"}', "description"),
    ('{"id": "x", "kind": "decision", "name": "X", "people_affected": 1000000000000000000000000000000}',
     "people_affected"),
])
def test_hostile_values_in_the_api_are_400_with_the_field(client, body, field):
    response = _post(client, body)
    assert response.status_code == 400
    assert [p["field"] for p in response.get_json()["error"]["problems"]] == [field]


def test_an_edge_with_records_beyond_64_bits_is_a_400(client):
    body = json.dumps({"source": "officer-ali", "target": "housing-register", "kind": "enters", "records": 2**63})
    response = _post(client, body, "/api/edges")
    assert response.status_code == 400


def test_a_huge_version_is_a_400_not_a_500(client):
    response = client.patch("/api/nodes/housing-register", data=json.dumps({"version": "9" * 400, "name": "X"}),
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/", "/nodes/housing-register", "/insights"])
def test_an_invalid_bearer_token_on_a_page_is_a_401_page(client, path):
    response = client.get(path, headers={"Authorization": "Bearer lin_not-a-token"})
    assert response.status_code == 401
    assert "API token is not valid" in response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_error_pages_keep_allow_on_405(client):
    response = client.delete("/")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


# -- pictures and CSV ---------------------------------------------------------------------------------


def test_a_control_character_already_stored_does_not_break_pictures(loaded_store):
    # A database written before control characters were refused may hold them.
    loaded_store.conn.execute("UPDATE nodes SET name = ?, description = ? WHERE id = 'housing-register'",
                              ("Housing\x00register\x1b", "a\x00b"))
    g = LineageGraph.from_store(loaded_store)
    dot = to_dot(view(g, "housing-register", depth=1)).to_string()
    assert "\x00" not in dot and "\x1b" not in dot and "Housing\ufffdregister" in dot
    svg = picture(g, "housing-register", "svg")
    assert svg.startswith(b"<?xml") or b"<svg" in svg[:500]


def test_dot_strings_never_hold_control_characters():
    assert dot_string("a\x00b\x07c\ud800d") == '"a\ufffdb\ufffdc\ufffdd"'


def test_very_long_names_wrap_to_a_few_lines(loaded_store):
    with loaded_store.change("t", "long") as change:
        change.update_node("housing-register", {"name": "word " * 99})
    g = LineageGraph.from_store(loaded_store)
    box = next(b for b in view(g, "housing-register", depth=0).nodes if b.node_id == "housing-register")
    label = node_label(box)
    assert len(label.splitlines()) <= 5 and "…" in label


def test_csv_writer_quotes_carriage_returns():
    from io import StringIO
    out = StringIO()
    writer = csv_writer(out)
    writer.writerow(["id", "name"])
    writer.writerow(["x", "one\rtwo"])
    import csv
    assert list(csv.reader(StringIO(out.getvalue(), newline=""))) == [["id", "name"], ["x", "one\rtwo"]]


def test_every_csv_writer_is_the_shared_one():
    users = [path for path in [*LIBRARY.rglob("*.py"), *(LIBRARY.parent / "web").rglob("*.py"),
                               *(LIBRARY.parent / "bench").rglob("*.py")]
             if "csv.writer(" in path.read_text("utf-8") and path.name != "csv.py"]
    assert users == []


def test_a_carriage_return_survives_the_csv_round_trip(loaded_store, tmp_path):
    with loaded_store.change("t", "cr") as change:
        change.update_node("housing-register", {"description": "line one\rline two", "note": "=1+1\r"})
    nodes_csv, edges_csv = io.export(loaded_store, "csv", tmp_path / "csv")
    back = {n["id"]: n for n in io.read_csv(nodes_csv, edges_csv).nodes}
    assert back["housing-register"]["description"] == "line one\rline two"
    assert back["housing-register"]["note"] == "=1+1\r"


def test_leader_csv_quotes_carriage_returns():
    from io import StringIO
    out = StringIO()
    write_csv([{"a": "x\ry", "b": 1}], ["a", "b"], out)
    assert out.getvalue().splitlines()[1].startswith('"x')


# -- a stale engine: records deleted since the topology was built --------------------------------------


def test_a_record_deleted_since_the_graph_was_built_is_not_found(loaded_store):
    g = LineageGraph.from_store(loaded_store)
    with loaded_store.change("t", "delete") as change:
        change.delete_node("void-properties")
    assert "void-properties" in g  # the topology is of the earlier version
    with pytest.raises(NotFoundError, match="void-properties"):
        g.record("void-properties")
    with pytest.raises(NotFoundError):
        g.records(["housing-register", "void-properties"])


def test_pages_of_a_node_deleted_behind_a_stale_engine_are_404(app, client):
    explore = "/explore.json?select=void-properties&depth=1"
    assert client.get("/nodes/void-properties.json").status_code == 200  # builds the engine
    assert "void-properties" in {n["id"] for n in client.get(explore).get_json()["nodes"]}
    writer = Store(app.config["LINEAGE_DB"])
    with writer.change("t", "delete") as change:
        change.delete_node("void-properties")
    engine = app.extensions["lineage_engine"]
    with engine.lock:  # another request is rebuilding the engine: this one is served the old one
        assert engine.graph is not None and "void-properties" in engine.graph
        response = client.get("/nodes/void-properties.json")
        assert response.status_code == 404 and "void-properties" in response.get_json()["error"]["message"]
        response = client.get(explore)
        assert response.status_code == 404 and "reload" in response.get_json()["error"]["message"]
    assert client.get(explore).status_code == 400  # the engine caught up: the selector names no node


def test_reads_during_concurrent_deletes_are_found_or_not_found(tmp_path, samples_db):
    """Readers of one engine built before the deletes, and writers deleting, at once: every read
    is either the record or NotFoundError, never a KeyError. Bounded: a fixed number of rounds."""
    path = copy_db(samples_db, tmp_path / "race.db")
    reader_store = Store(path)
    g = LineageGraph.from_store(reader_store, lock=threading.Lock())
    doomed = [i for i in g.ids if g.kind(i) in ("dataset", "process")][:40]
    start = threading.Barrier(4)
    failures: list[BaseException] = []
    outcomes = {"found": 0, "not found": 0}
    count_lock = threading.Lock()

    def delete(ids: list[str]) -> None:
        writer = Store(path)
        start.wait()
        try:
            for node_id in ids:
                with writer.change("t", f"delete {node_id}") as change:
                    change.delete_node(node_id)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            writer.close()

    def read() -> None:
        start.wait()
        try:
            for _ in range(30):
                for node_id in doomed:
                    try:
                        g.record(node_id)
                        key = "found"
                    except NotFoundError:
                        key = "not found"
                    with count_lock:
                        outcomes[key] += 1
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=delete, args=(doomed[::2],)), threading.Thread(target=delete, args=(doomed[1::2],)),
               threading.Thread(target=read), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert outcomes["found"] + outcomes["not found"] == 2 * 30 * len(doomed)
    for node_id in doomed:  # and after the deletes, every one is not found
        with pytest.raises(NotFoundError):
            g.record(node_id)


# -- edge look-ups by either end use the indexes -----------------------------------------------------


def test_edges_touching_a_node_use_two_indexed_lookups(loaded_store):
    statements: list[str] = []
    loaded_store.conn.set_trace_callback(statements.append)
    edges = list(loaded_store.edges(touching="housing-register"))
    loaded_store.conn.set_trace_callback(None)
    expected = sorted((e for e in loaded_store.edges() if "housing-register" in (e["source"], e["target"])),
                      key=lambda e: (e["source"], e["target"]))
    assert edges == expected and edges
    query = next(s for s in statements if "UNION ALL" in s)
    plan = " | ".join(row[3] for row in loaded_store.conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "SCAN e" not in plan and "SCAN edges" not in plan, plan
    assert "SEARCH e USING" in plan, plan


def test_a_loop_edge_is_listed_once(store):
    with store.change("t", "loop") as change:
        change.add_node({"id": "d", "kind": "dataset", "name": "D"})
        change.add_edge({"source": "d", "target": "d", "kind": "derives"})
    assert [(e["source"], e["target"]) for e in store.edges(touching="d")] == [("d", "d")]
    assert list(store.edges(touching="missing")) == []


# -- disk full, read-only, busy -----------------------------------------------------------------------


def _fill(store: Store) -> None:
    """Make the database file full: no page may be added (as on a full disk)."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")


def _big_change(store: Store) -> None:
    with store.change("t", "a lot") as change:
        for i in range(300):
            change.add_node({"id": f"n{i}", "kind": "dataset", "name": f"Node {i}", "description": "x" * 2000})


def test_a_full_disk_is_named_and_nothing_is_written(loaded_store):
    before = snapshot(loaded_store)
    _fill(loaded_store)
    with pytest.raises(DiskFullError, match="^the disk is full: nothing was written"):
        _big_change(loaded_store)
    assert not loaded_store.conn.in_transaction
    assert snapshot(loaded_store) == before
    loaded_store.conn.execute("PRAGMA max_page_count = 1073741823")
    _big_change(loaded_store)  # space again: the store carries on
    assert loaded_store.version == before[0] + 1


def test_the_cli_says_the_disk_is_full(runner, db_path, tmp_path, monkeypatch):
    opened = Store.__init__

    def full(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        _fill(self)

    monkeypatch.setattr(Store, "__init__", full)
    nodes = [{"id": f"n{i}", "kind": "dataset", "name": f"Node {i}", "description": "x" * 2000} for i in range(300)]
    result = run(runner, ["--db", db_path, "load", write_graph(tmp_path / "big.json", nodes, [])])
    assert result.exit_code == 1
    assert "the disk is full: nothing was written" in result.output
    assert "cannot rollback" not in result.output


def test_the_app_says_the_disk_is_full_with_a_503(app, client, monkeypatch):
    from web import db as web_db
    original = web_db.get_store

    def full_store():
        store = original()
        _fill(store)
        return store

    monkeypatch.setattr("web.api.get_store", full_store)
    monkeypatch.setattr("web.writes.get_store", full_store, raising=False)
    body = json.dumps({"id": "big", "kind": "dataset", "name": "Big", "description": "x" * 9000,
                       **{f"a{i}": "y" * 9000 for i in range(40)}})
    response = client.post("/api/nodes", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"]["message"].startswith("the disk is full: nothing was written")


def test_a_disk_full_error_is_not_hidden_by_a_second_rollback(loaded_store):
    # SQLite rolls back some failed transactions itself; a second ROLLBACK then fails with
    # "cannot rollback - no transaction is active", which used to replace the real error.
    with pytest.raises(DiskFullError):
        with loaded_store.transaction() as conn:
            conn.execute("ROLLBACK")  # as SQLite does on some errors
            raise sqlite3.OperationalError("database or disk is full")


def test_storage_errors_by_code_and_message():
    assert isinstance(store_module.storage_error(sqlite3.OperationalError("database or disk is full")), DiskFullError)
    assert isinstance(store_module.storage_error(sqlite3.OperationalError("attempt to write a readonly database")),
                      ReadOnlyError)
    assert isinstance(store_module.storage_error(sqlite3.OperationalError("database is locked")), BusyError)
    assert store_module.storage_error(sqlite3.OperationalError("no such table: x")) is None


def test_a_busy_database_is_named(loaded_store, samples_db):
    other = Store(loaded_store.path)
    other.conn.execute("PRAGMA busy_timeout = 0")
    loaded_store.conn.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BusyError, match="busy with another write: nothing was written"):
            with other.change("t", "blocked") as change:
                change.add_node(dataset())
    finally:
        loaded_store.conn.execute("ROLLBACK")
        other.close()


@pytest.fixture
def read_only(monkeypatch):
    """This process may not write the database (tests run as root, which ignores file modes)."""
    monkeypatch.setattr(store_module, "_writable", lambda path: False)


def test_a_read_only_database_opens_read_only_and_can_be_read_and_exported(db_path, tmp_path, read_only):
    store = Store(db_path)
    assert store.read_only
    assert store.node("housing-register")["name"]
    LineageGraph.from_store(store)
    io.export(store, "json", tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text())["nodes"]
    with pytest.raises(ReadOnlyError, match="read-only: nothing was written"):
        with store.change("t", "try") as change:
            change.add_node(dataset())


def test_the_cli_exports_a_read_only_database(runner, db_path, tmp_path, read_only):
    result = run(runner, ["--db", db_path, "export", "--format", "json", tmp_path / "x.json"])
    assert result.exit_code == 0, result.output
    result = run(runner, ["--db", db_path, "load", SAMPLES[0]])
    assert result.exit_code == 1 and "read-only: nothing was written" in result.output


def test_the_app_serves_a_read_only_database_and_refuses_writes_with_a_503(tmp_path, samples_db, monkeypatch):
    _, client = _app_with_admin(copy_db(samples_db, tmp_path / "ro.db"))
    monkeypatch.setattr(store_module, "_writable", lambda path: False)
    assert client.get("/nodes/housing-register").status_code == 200
    response = _post(client, json.dumps(dataset(id="new")))
    assert response.status_code == 503 and "read-only" in response.get_json()["error"]["message"]


_READ_ONLY_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[2])
from lineage import io
from lineage.errors import ReadOnlyError
from lineage.graph import LineageGraph
from lineage.store import Store
store = Store(sys.argv[1])
graph = LineageGraph.from_store(store)
io.export(store, "json", sys.argv[3])
try:
    with store.change("t", "try") as change:
        change.add_node({"id": "new", "kind": "dataset", "name": "New"})
    written = "written"
except ReadOnlyError as error:
    written = str(error)
print(json.dumps({"read_only": store.read_only, "nodes": len(graph), "written": written}))
"""


def test_a_truly_read_only_folder_and_file_can_be_read_and_exported(samples_db):
    """No stand-in: the file and its folder are not writable by the process (as ``nobody`` when
    the tests run as root, who may write anything), and there is no ``-shm`` file beside it."""
    import os
    import subprocess
    import sys
    import tempfile

    import stat

    root = os.geteuid() == 0
    # nobody must reach the code and its packages (a checkout in a 0700 folder, say): let it pass
    # through the folders on the way, for this test only.
    opened = []
    if root:
        for start in {*sys.path, str(LIBRARY.parent)}:
            for folder in [Path(start), *Path(start).parents]:
                if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
                    opened.append((folder, folder.stat().st_mode))
                    os.chmod(folder, folder.stat().st_mode | stat.S_IXOTH)
    folder = Path(tempfile.mkdtemp(prefix="lineage-read-only-"))
    out = Path(tempfile.mkdtemp(prefix="lineage-export-"))
    try:
        db = copy_db(samples_db, folder / "lineage.db")
        os.chmod(db, 0o444)
        os.chmod(folder, 0o555)
        os.chmod(out, 0o777)
        script = folder.parent / f"{folder.name}.py"
        script.write_text(_READ_ONLY_SCRIPT)
        os.chmod(script, 0o644)
        python = [sys.executable]
        if root:  # nobody may not reach this interpreter (under /root, say): a system one of the same version
            version = f"{sys.version_info[0]}.{sys.version_info[1]}"
            system = shutil.which(f"python{version}", path="/usr/local/bin:/usr/bin") or sys.executable
            python = ["runuser", "-u", "nobody", "--", "env", f"PYTHONPATH={os.pathsep.join(sys.path)}", system]
        done = subprocess.run([*python, str(script), str(db), str(LIBRARY.parent), str(out / "export.json")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["read_only"] and result["nodes"] > 100
        assert "read-only: nothing was written" in result["written"]
        assert json.loads((out / "export.json").read_text())["nodes"]
        assert sorted(p.name for p in folder.iterdir()) == ["lineage.db"]
    finally:
        for path, mode in reversed(opened):
            os.chmod(path, mode)
        os.chmod(folder, 0o755)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        (folder.parent / f"{folder.name}.py").unlink(missing_ok=True)


class _FailingBackup:
    """A connection whose backup fails half way, as on a full disk."""

    def __init__(self, conn):
        self._conn = conn

    def backup(self, target, **kwargs):
        target.execute("CREATE TABLE partial (x)")
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_failed_backup_leaves_no_file_and_keeps_an_earlier_one(loaded_store, tmp_path):
    earlier = tmp_path / "backup.db"
    loaded_store.backup(earlier)
    good = earlier.read_bytes()
    real = loaded_store.conn
    loaded_store.conn = _FailingBackup(real)
    try:
        with pytest.raises(DiskFullError, match="cannot back up"):
            loaded_store.backup(earlier)
        with pytest.raises(DiskFullError):
            loaded_store.backup(tmp_path / "new.db")
    finally:
        loaded_store.conn = real
    assert earlier.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name or "new" in p.name) == ["backup.db"]


# -- schema and upgrades -------------------------------------------------------------------------------


def _tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'nodes_fts%' AND name NOT LIKE 'sqlite_%'")]
    return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


@pytest.fixture
def release_2(tmp_path) -> Path:
    path = tmp_path / "release-2.db"
    with gzip.open(DATA / "release-2.db.gz", "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def test_upgrading_a_release_2_database_loses_nothing(release_2):
    raw = sqlite3.connect(release_2)
    before = _tables(raw)
    raw.close()
    assert before["meta"] == [("graph_version", "7"), ("schema_version", "2")]

    store = Store(release_2)
    assert store.schema_version == migrations.LATEST
    after = _tables(store.conn)
    for name, rows in before.items():
        if name in ("meta", "materialised", "materialised_decisions"):
            continue
        # every row whole; columns added since (users.sessions, tokens.expires) come last
        assert [row[:len(rows[0])] for row in after[name]] == rows if rows else after[name] == rows, name
    assert dict(after["meta"])["graph_version"] == "7"
    # The graph reads as it did: search, history and undo still work on it.
    assert store.node("housing-register")["description"] == "Updated in release 2"
    assert store.search("housing register")
    assert len(store.changes(limit=50)) == 7
    token = (DATA / "release-2.token").read_text().strip()
    assert accounts.Accounts(store).user_for_token(token)["name"] == "jo"
    assert loop.list_flags(store)


def test_an_upgrade_recomputes_the_leader_views(release_2):
    store = Store(release_2)
    stored = materialised.stored(store)
    assert stored is not None and stored.version == store.version
    fresh = Store(":memory:", create=True)
    fresh.load(io.read_files([str(p) for p in SAMPLES[:2]], fresh), actor="t", summary="t")
    # the decisions table holds a row per decision, computed by today's definitions
    count = store.conn.execute("SELECT count(*) FROM materialised_decisions").fetchone()[0]
    assert count == store.counts()["decision"]


def test_an_upgrade_gives_accounts_sessions_and_token_expiry(release_2):
    store = Store(release_2)
    people = accounts.Accounts(store)
    token = (DATA / "release-2.token").read_text().strip()
    assert people.user_for_token(token)["name"] == "jo"  # an old token never expires
    assert people.tokens("jo")[0]["expires"] is None
    assert people.in_session("jo", 0)["name"] == "jo"
    assert people.end_sessions("jo", actor="t") == 1
    assert people.in_session("jo", 0) is None and people.in_session("jo", 1)["name"] == "jo"


def test_an_upgrade_lets_admins_disable_accounts_and_make_set_password_links(release_2):
    store = Store(release_2)
    people = accounts.Accounts(store)
    token = (DATA / "release-2.token").read_text().strip()
    assert people.get("jo")["disabled"] is False  # accounts from release 2 stay enabled
    secret = people.new_password_link("jo", actor="admin")
    assert people.use_password_link(secret, "a new long passphrase")["name"] == "jo"
    assert people.link_user(secret) is None  # once only
    people.set_disabled("jo", True, actor="admin")
    assert people.user_for_token(token) is None and people.verify("jo", "a new long passphrase") is None
    people.set_disabled("jo", False, actor="admin")
    assert people.user_for_token(token)["name"] == "jo"


def test_an_upgrade_runs_once(release_2):
    Store(release_2).close()
    raw = sqlite3.connect(release_2)
    assert migrations.pending(raw, "x") == []
    assert migrations.migrate(sqlite3.connect(release_2, isolation_level=None), "x") == []


def test_a_database_from_a_newer_lineage_is_refused(release_2):
    raw = sqlite3.connect(release_2)
    raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(migrations.LATEST + 1),))
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="newer lineage"):
        Store(release_2)


def test_a_read_only_old_database_says_it_needs_upgrading(release_2, read_only):
    with pytest.raises(StoreError, match="needs upgrading"):
        Store(release_2)


def test_a_new_database_has_every_table(store):
    tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"nodes", "edges", "changes", "audit", "meta", "nodes_fts", "users", "tokens", "account_log",
            "outcome_updates", "update_revisions", "flags", "flag_events", "last_visits", "materialised",
            "materialised_decisions", "openlineage_registers"} <= tables


def test_only_the_migrations_create_tables():
    creators = [path.relative_to(LIBRARY).as_posix() for path in LIBRARY.rglob("*.py")
                if re.search(r"CREATE (TABLE|VIRTUAL TABLE|INDEX)", path.read_text("utf-8"))
                and path.name != "migrations.py"]
    # The SQL importer and the commands and upload kinds that name what it reads: they parse CREATE
    # TABLE statements from people's files with sqlglot, and never run SQL of their own.
    readers = {"io/sql.py", "importers.py", "cli_imports.py"}
    assert not any(re.search(r"\bexecute(script|many)?\(", (LIBRARY / path).read_text("utf-8")) for path in readers)
    creators = [path for path in creators if path not in readers]
    # Only indexes outside: the store rebuilds those a bulk load drops (named in migrations.INDEXES),
    # and the leader views theirs after a first fill.
    assert sorted(creators) == ["materialised.py", "store.py"]
    for path in creators:
        assert not re.search(r"CREATE (TABLE|VIRTUAL TABLE)", (LIBRARY / path).read_text("utf-8")), path
    for path in ("loop.py", "accounts.py", "io/openlineage.py"):
        assert "executescript" not in (LIBRARY / path).read_text("utf-8")


def test_the_leader_views_table_has_a_column_per_decision_row_field(store):
    columns = [row[1] for row in store.conn.execute("PRAGMA table_info(materialised_decisions)")]
    assert columns == [*materialised.COLUMNS, "digest"], (
        "lineage.insights.DecisionRow changed: add a step to lineage.migrations that creates "
        "materialised_decisions again (see LEADER_VIEW_TABLES)")


def test_steps_are_numbered_in_order():
    assert [step.number for step in migrations.STEPS] == list(range(1, migrations.LATEST + 1))

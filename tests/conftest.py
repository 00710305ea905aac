"""Shared fixtures and helpers for the lineage test suite.

Expectations are computed independently of the library wherever a test compares against one:
from the raw sample JSON files and networkx, not from the store or the compiled graph.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner, Result

from lineage import io
from lineage.graph import LineageGraph, to_networkx
from lineage.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_graphs"
# sample_graphs/ also holds schema.json (the JSON Schema); the graphs are the other files.
SAMPLES = sorted(p for p in SAMPLE_DIR.glob("*.json") if p.name != "schema.json")
SAMPLE_NAMES = ("consultation_analysis.json", "council_housing.json", "crop_map.json", "nhs_trust.json")
FORMAT = "lineage-graph/1"


# ---------------------------------------------------------------------------------------------
# Independent views of the sample data (straight from the files)


def sample_documents() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in SAMPLES]


def sample_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All sample nodes and edges as plain dicts, the file organisation given to every node."""
    nodes, edges = [], []
    for document in sample_documents():
        for node in document["nodes"]:
            node = dict(node)
            if document.get("organisation"):
                node.setdefault("organisation", document["organisation"])
            nodes.append(node)
        edges += [dict(edge) for edge in document["edges"]]
    return nodes, edges


def flow_graph(nodes: list[dict], edges: list[dict]) -> nx.DiGraph:
    """networkx graph of the records without membership edges (what lineage traversal follows)."""
    graph = to_networkx(nodes, edges)
    graph.remove_edges_from([(s, t) for s, t, kind in graph.edges(data="kind") if kind == "member_of"])
    return graph


def write_graph(path: Path, nodes: list[dict], edges: list[dict], **top: Any) -> Path:
    """Write a native lineage file."""
    document = {"format": FORMAT, **top, "nodes": nodes, "edges": edges}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def load_files(store: Store, paths: list[Path]):
    """What ``lineage load`` does: read and validate every file, then write in one change."""
    data = io.read_files(list(paths), store)
    return store.load(data, actor="tester", summary="load " + ", ".join(Path(p).name for p in paths))


def snapshot(store: Store) -> tuple[int, dict[str, int], int, int]:
    """Graph version, node counts, edge count and number of change rows: "nothing changed" means equal."""
    changes = store.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    return store.version, store.counts(), store.edge_count(), changes


def run(runner: CliRunner, args: list[str], **kwargs: Any) -> Result:
    """Invoke the CLI and check it never escaped with a Python exception or printed a traceback."""
    from lineage.cli import cli

    result = runner.invoke(cli, [str(a) for a in args], **kwargs)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}")
    return result


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def samples() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(nodes, edges) of the four sample graphs, read straight from the files."""
    assert [p.name for p in SAMPLES] == list(SAMPLE_NAMES)
    return sample_records()


@pytest.fixture(scope="session")
def nodes_by_id(samples) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in samples[0]}


@pytest.fixture(scope="session")
def nx_flow(samples) -> nx.DiGraph:
    """The samples as a networkx data-flow graph (member_of edges removed)."""
    return flow_graph(*samples)


@pytest.fixture(scope="session")
def samples_db(tmp_path_factory) -> Path:
    """A database with the four samples loaded the way ``lineage load`` does it, built once and then copied.

    Copying a closed SQLite file is 30 times faster than loading the samples again in every test.
    """
    path = tmp_path_factory.mktemp("template") / "samples.db"
    s = Store(path, create=True)
    load_files(s, SAMPLES)
    s.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def copy_db(template: Path, path: Path) -> Path:
    shutil.copyfile(template, path)
    return path


def with_demo_accounts(path: Path) -> Path:
    """The database at ``path`` with the demo accounts (one per role) added."""
    from lineage.accounts import Accounts, ensure_demo_accounts

    store = Store(path)
    ensure_demo_accounts(Accounts(store), actor="test")
    store.close()
    return path


@pytest.fixture
def db(tmp_path, samples_db) -> Path:
    """A copy of the samples' database with the demo accounts (a module may define its own)."""
    return with_demo_accounts(copy_db(samples_db, tmp_path / "web.db"))


@pytest.fixture
def app(db):
    """The web app over :func:`db`."""
    from web import create_app

    return create_app({"LINEAGE_DB": str(db), "TESTING": True})


def client_as(app, name: str | None):
    """A test client of ``app`` signed in as a demo account (None: nobody)."""
    client = app.test_client()
    if name:
        with client.session_transaction() as session:
            session["user"] = name
    return client


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "lineage.db", create=True)
    yield s
    s.close()


@pytest.fixture
def loaded_store(tmp_path, samples_db) -> Store:
    """A Store in tmp_path holding the four sample graphs (graph version 1, one load change)."""
    s = Store(copy_db(samples_db, tmp_path / "lineage.db"))
    yield s
    s.close()


@pytest.fixture
def graph(loaded_store) -> LineageGraph:
    return LineageGraph.from_store(loaded_store)


@pytest.fixture(scope="session")
def session_graph(samples_db, tmp_path_factory) -> LineageGraph:
    """A read-only compiled graph of the samples, shared by the heavier per-node comparisons."""
    s = Store(copy_db(samples_db, tmp_path_factory.mktemp("session") / "lineage.db"))
    return LineageGraph.from_store(s)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def db_path(tmp_path, samples_db) -> Path:
    """A database file with the four samples loaded, for CLI tests."""
    return copy_db(samples_db, tmp_path / "cli.db")

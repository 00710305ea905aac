"""The benchmark smoke size: the generator makes a valid estate and the runner reports figures."""
from __future__ import annotations

from bench import run
from bench.generate import HUBS, generate
from lineage import checks
from lineage.graph import LineageGraph
from lineage.validate import Batch, validate_records


def test_generated_estate_is_valid_and_has_its_hubs():
    document = generate(3000, seed=7)
    data = validate_records([Batch(document["nodes"], "nodes[{}]".format)],
                            [Batch(document["edges"], "edges[{}]".format)])
    g = LineageGraph.from_records(data.nodes, data.edges)
    assert len(g) == 3000
    assert all(hub in g for ids in HUBS.values() for hub in ids)
    assert not [f for f in checks.check_graph(g) if f.severity == "error"]
    assert generate(3000, seed=7) == document


def test_runner_reports_every_figure(tmp_path):
    result = run.bench_size(2000, samples=10, folder=tmp_path)
    assert result["load"]["nodes"] == 2000
    assert result["startup"]["nodes"] == 2000
    assert result["queries"]["impact"]["n"] >= 10
    assert result["people_impact_rows"] > 0
    assert set(result["pictures"]) == {"people", "datasets", "hubs", "decisions"}
    assert all(group["cached"]["n"] == group["uncached"]["n"] > 0 for group in result["pictures"].values())
    table = run.table([result])
    assert "engine start-up (s)" in table and "2,000 nodes" in table
    assert "picture of hubs, uncached p50 / p99 (ms)" in table


def test_editing_benchmark_reports_every_figure(tmp_path):
    from bench import editing

    result = editing.bench_editing(2000, tmp_path, samples=3)
    assert all(result[key]["n"] > 0 for _, key in editing.ROWS)
    assert result["rebuild_s"] > 0
    assert "| undo of one edit |" in editing.table([result])


def test_edges_benchmark_reports_every_figure(tmp_path):
    from bench import edges

    result = edges.bench_edges(2000, tmp_path, samples=10, deletes=3, old_samples=2)
    assert all(result[key]["n"] > 0 for _, key in edges.ROWS)
    assert "| GET /api/nodes/<id> (node and its edges) |" in edges.table([result])


def test_owner_benchmark_reports_every_figure(tmp_path):
    from bench import owner

    result = owner.bench_owner(2000, tmp_path, samples=3)
    assert all(result[key]["n"] > 0 for _, key in owner.ROWS)
    assert result["csv_rows"] > 0 and result["most_owned"] > 0
    assert "| Your data (one owner's page) |" in owner.table([result])


def test_fields_benchmark_reports_every_figure(tmp_path):
    from bench import fields
    from bench.generate import build, with_fields

    document = with_fields(build(2000, seed=7), 5).document()
    data = validate_records([Batch(document["nodes"], "nodes[{}]".format)],
                            [Batch(document["edges"], "edges[{}]".format)])
    assert all(len(n["fields"]) == 5 for n in data.nodes if n["kind"] == "dataset")
    result = fields.bench_fields(2000, tmp_path, per_dataset=5, samples=10)
    assert result["impact"]["n"] >= 10 and result["decision_fields"]["n"] > 0
    assert "field impact p50 / p99 (ms)" in fields.table([result])


def test_importers_benchmark_reports_every_figure(tmp_path):
    from bench import importers

    result = importers.bench_models(200, tmp_path, None)
    assert result["reimport_changes"] == 0 and result["field_links"] > 0
    assert all(result[key] > 0 for key in ("read_s", "changeset_s", "apply_s", "sql_read_s", "sources_s",
                                           "removal_preview_s"))

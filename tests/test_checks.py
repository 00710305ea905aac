"""Gap checks: on the samples against independent expectations, ordering, and `lineage check FILE`."""
from __future__ import annotations

import json

import networkx as nx
import pytest

from conftest import SAMPLES, run, write_graph
from lineage import io
from lineage.checks import check_graph, cycles, findings_from_validation
from lineage.errors import ValidationError
from lineage.graph import LineageGraph


def by_check(findings, check):
    return sorted(f.node for f in findings if f.check == check)


@pytest.fixture(scope="module")
def sample_findings(session_graph):
    return check_graph(session_graph)


def test_samples_have_no_errors(sample_findings):
    assert [f for f in sample_findings if f.severity == "error"] == []
    assert all(f.severity == "warning" for f in sample_findings)


def test_ownerless_assets(sample_findings, nodes_by_id):
    expected = sorted(i for i, n in nodes_by_id.items()
                      if n["kind"] in ("dataset", "ai_tool", "decision") and not n.get("owner"))
    assert "ha-nominations" in expected
    assert by_check(sample_findings, "ownerless") == expected
    finding = next(f for f in sample_findings if f.node == "ha-nominations" and f.check == "ownerless")
    assert finding.message == "dataset 'ha-nominations' (Housing association nominations) has no owner"


def test_owners_who_are_not_people(sample_findings, nodes_by_id):
    people = {i for i, n in nodes_by_id.items() if n["kind"] == "person"}
    expected = sorted(i for i, n in nodes_by_id.items() if n["kind"] in ("dataset", "ai_tool", "decision")
                      and n.get("owner") and n["owner"] not in people)
    assert by_check(sample_findings, "unknown-owner") == expected


def test_ai_tools_without_human_review_or_transparency_record(sample_findings, nodes_by_id):
    tools = {i: n for i, n in nodes_by_id.items() if n["kind"] == "ai_tool"}
    no_review = sorted(i for i, n in tools.items() if n.get("human_review") is not True)
    no_atrs = sorted(i for i, n in tools.items() if not n.get("atrs_url"))
    assert {"ta-demand-forecast", "nhs-bed-demand-forecast"} <= set(no_review)
    assert "ctr-risk-scoring" in no_atrs
    assert by_check(sample_findings, "no-human-review") == no_review
    assert by_check(sample_findings, "no-transparency-record") == no_atrs


def test_datasets_without_quality(sample_findings, nodes_by_id):
    expected = sorted(i for i, n in nodes_by_id.items() if n["kind"] == "dataset" and not n.get("quality"))
    assert "ctr-housing-match" in expected
    assert by_check(sample_findings, "no-quality-assessment") == expected


def test_decisions_without_data_upstream(sample_findings, nodes_by_id, nx_flow):
    expected = sorted(i for i, n in nodes_by_id.items() if n["kind"] == "decision"
                      and not any(nodes_by_id[a]["kind"] == "dataset" for a in nx.ancestors(nx_flow, i)))
    assert expected == ["dcrg-devolution-deadline"]
    assert by_check(sample_findings, "no-data-upstream") == expected


def test_cycles_match_strongly_connected_components(session_graph, sample_findings, nx_flow):
    expected = sorted((sorted(c) for c in nx.strongly_connected_components(nx_flow) if len(c) > 1),
                      key=lambda members: (-len(members), members[0]))
    assert len(expected) == 9
    assert cycles(session_graph) == expected
    cycle_findings = [f for f in sample_findings if f.check == "cycle"]
    assert [f.node for f in cycle_findings] == [members[0] for members in expected]
    for finding, members in zip(cycle_findings, expected):
        assert f"cycle through {len(members)} nodes: {', '.join(members)}" in finding.message


def test_long_cycles_are_abbreviated():
    ids = [f"d{i:03d}" for i in range(60)]
    nodes = [{"id": i, "kind": "dataset", "name": i, "owner": "o", "quality": {"validity": 1}} for i in ids]
    nodes.append({"id": "o", "kind": "person", "name": "O"})
    edges = [{"source": a, "target": b, "kind": "derives"} for a, b in zip(ids, ids[1:] + ids[:1])]
    findings = check_graph(LineageGraph.from_records(nodes, edges))
    assert [f.check for f in findings] == ["cycle"]
    assert "cycle through 60 nodes" in findings[0].message and "and 10 more" in findings[0].message


def test_errors_sort_before_warnings():
    nodes = [
        {"id": "ali", "kind": "person", "name": "Ali"},
        {"id": "reg", "kind": "dataset", "name": "Register"},
        {"id": "tool", "kind": "ai_tool", "name": "Tool", "owner": "ali"},
        {"id": "alloc", "kind": "decision", "name": "Allocations", "owner": "ali"},
    ]
    edges = [
        {"source": "ali", "target": "reg", "kind": "enters"},
        {"source": "reg", "target": "tool", "kind": "feeds"},
        {"source": "tool", "target": "alloc", "kind": "informs"},
        {"source": "alloc", "target": "ali", "kind": "enters"},  # disallowed: graphs from records are not validated
    ]
    findings = check_graph(LineageGraph.from_records(nodes, edges))
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert findings[0].severity == "error" and findings[0].check == "disallowed-edge"
    assert findings[0].message == ("alloc -> ali: an 'enters' edge cannot join decision -> person; "
                                   "it joins person -> dataset or system")
    assert str(findings[0]).startswith("error: alloc -> ali")
    assert {f.check for f in findings[1:]} == {"ownerless", "no-quality-assessment", "no-human-review",
                                               "no-transparency-record", "cycle"}
    assert findings[0].as_dict() == {"severity": "error", "check": "disallowed-edge", "node": "alloc",
                                     "message": findings[0].message}


def test_a_clean_graph_has_no_findings():
    nodes = [{"id": "ali", "kind": "person", "name": "Ali"},
             {"id": "reg", "kind": "dataset", "name": "Register", "owner": "ali", "quality": {"validity": 0.9}},
             {"id": "alloc", "kind": "decision", "name": "Allocations", "owner": "ali"}]
    edges = [{"source": "ali", "target": "reg", "kind": "enters"}, {"source": "reg", "target": "alloc",
                                                                    "kind": "informs"}]
    assert check_graph(LineageGraph.from_records(nodes, edges)) == []


def test_findings_from_validation(tmp_path):
    path = write_graph(tmp_path / "bad.json", [{"id": "x", "kind": "decision", "name": "X"},
                                               {"id": "p", "kind": "person", "name": "P"}],
                       [{"source": "x", "target": "p", "kind": "enters"}])
    with pytest.raises(ValidationError) as caught:
        io.read_files([path])
    findings = findings_from_validation(caught.value)
    assert [(f.severity, f.check) for f in findings] == [("error", "invalid")]
    assert findings[0].message == (f"{path}: edges[0] (source 'x'), field 'kind': an 'enters' edge cannot join "
                                   "decision -> person; it joins person -> dataset or system")


# -- through the CLI ----------------------------------------------------------------------------------------


def test_cli_check_file_with_disallowed_edge(runner, tmp_path):
    path = write_graph(tmp_path / "bad.json", [{"id": "x", "kind": "decision", "name": "X"},
                                               {"id": "p", "kind": "person", "name": "P"}],
                       [{"source": "x", "target": "p", "kind": "enters"}])
    result = run(runner, ["--db", tmp_path / "unused.db", "check", path])
    assert result.exit_code == 1
    lines = result.output.strip().split("\n")
    assert lines[0].startswith(f"error: {path}: edges[0] (source 'x'), field 'kind'")
    assert "decision -> person" in lines[0]
    assert lines[-1] == "1 error, 0 warnings."
    assert not (tmp_path / "unused.db").exists()  # checking a file never touches the database


def test_cli_check_file_json_output(runner, tmp_path):
    path = write_graph(tmp_path / "bad.json", [{"id": "x", "kind": "decision", "name": "X"},
                                               {"id": "p", "kind": "person", "name": "P"}],
                       [{"source": "x", "target": "p", "kind": "enters"}])
    result = run(runner, ["--db", tmp_path / "unused.db", "check", "--json", path])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["errors"], report["warnings"]) == (1, 0)
    assert report["findings"][0]["severity"] == "error" and "decision -> person" in report["findings"][0]["message"]


def test_cli_check_sample_file_has_only_warnings(runner, tmp_path, session_graph):
    path = next(p for p in SAMPLES if p.name == "council_housing.json")
    result = run(runner, ["--db", tmp_path / "unused.db", "check", path])
    assert result.exit_code == 0
    lines = result.output.strip().split("\n")
    assert all(line.startswith("warning: ") for line in lines[:-1])
    assert lines[-1] == f"0 errors, {len(lines) - 1} warnings."
    assert "warning: dataset 'ha-nominations' (Housing association nominations) has no owner" in lines


def test_cli_check_database(runner, db_path, sample_findings):
    result = run(runner, ["--db", db_path, "check"])
    assert result.exit_code == 0
    lines = result.output.strip().split("\n")
    assert lines[:-1] == [str(f) for f in sample_findings]
    assert lines[-1] == f"0 errors, {len(sample_findings)} warnings."


def test_cli_check_malformed_file(runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{\n  nope\n}", encoding="utf-8")
    result = run(runner, ["--db", tmp_path / "unused.db", "check", path])
    assert result.exit_code == 1
    assert f"error: {path}: line 2, column 3: is not valid JSON" in result.output

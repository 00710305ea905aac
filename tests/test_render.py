"""Pictures: the view (what is drawn), the pydot graph (without Graphviz), and SVG/PNG (with it)."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run

from lineage import describe, render
from lineage.graph import LineageGraph
from lineage.render import RenderError, dot_string, to_dot, view

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def graph(nodes, edges) -> LineageGraph:
    return LineageGraph.from_records([{"name": n["id"], **n} for n in nodes], edges)


def chain(fan: int = 1):
    """A team of three people -> a system -> a register -> `fan` datasets -> a model -> a decision."""
    nodes = [{"id": "team", "kind": "team", "name": "Housing options"},
             {"id": "cms", "kind": "system"}, {"id": "register", "kind": "dataset", "quality": {"timeliness": 0.71}},
             {"id": "model", "kind": "ai_tool", "human_review": True},
             {"id": "alloc", "kind": "decision", "decision_type": "service", "people_affected": 3400}]
    edges = [{"source": "cms", "target": "register", "kind": "supplies"},
             {"source": "model", "target": "alloc", "kind": "informs"}]
    for i in range(3):
        nodes.append({"id": f"p{i}", "kind": "person"})
        edges += [{"source": f"p{i}", "target": "team", "kind": "member_of"},
                  {"source": f"p{i}", "target": "cms", "kind": "enters", "records": 100 * (i + 1)}]
    for i in range(fan):
        nodes.append({"id": f"d{i:03d}", "kind": "dataset"})
        edges += [{"source": "register", "target": f"d{i:03d}", "kind": "derives"},
                  {"source": f"d{i:03d}", "target": "model", "kind": "feeds"}]
    return nodes, edges


def dot_nodes(dot) -> dict[str, dict]:
    return {n.get_name(): n.get_attributes() for n in dot.get_nodes() if n.get_name() not in ("node", "edge")}


def test_people_are_drawn_as_their_team_with_summed_records():
    g = graph(*chain())
    v = view(g, "register", depth=3)
    team = next(n for n in v.nodes if n.kind == "team")
    assert (team.name, sorted(team.members)) == ("Housing options", ["p0", "p1", "p2"])
    into_cms = next(e for e in v.edges if e.source == team.key)
    assert into_cms.records == 600
    assert "3 people" in render.node_label(team)
    assert not any(n.kind == "person" for n in v.nodes)


def test_pydot_graph_has_one_node_per_box_and_flows_left_to_right():
    g = graph(*chain(fan=2))
    v = view(g, "register", depth=3)
    dot = to_dot(v)
    assert dot.get_rankdir() == "LR"
    assert set(dot_nodes(dot)) == {n.key for n in v.nodes}
    assert len(dot.get_edges()) == len(v.edges) == 7  # team->cms, cms->register, 2x2 via d*, model->alloc
    shapes = {n.kind: dot_nodes(dot)[n.key]["shape"] for n in v.nodes}
    assert len(set(shapes.values())) == len(shapes)  # each kind its own shape, not colour alone


def test_labels_say_what_matters_about_each_kind():
    g = graph(*chain())
    v = view(g, "register", depth=3)
    labels = {n.node_id: render.node_label(n) for n in v.nodes}
    assert "timeliness: fair (0.71)" in labels["register"]  # words first, the number second
    assert labels["model"].startswith("AI tool") and "a person checks it" in labels["model"]
    assert "service decision, 3,400 people" in labels["alloc"]
    edge_labels = [e.get_attributes().get("label") for e in to_dot(v).get_edges()]
    assert '"600 records"' in edge_labels


def test_focus_and_paths_through_it_are_bold():
    nodes, edges = chain()
    nodes.append({"id": "side", "kind": "dataset"})
    edges.append({"source": "side", "target": "model", "kind": "feeds"})  # joins downstream, not from the focus
    g = graph(nodes, edges)
    v = view(g, "register", depth=3)
    attributes = dot_nodes(to_dot(v))
    focus = next(n for n in v.nodes if n.node_id == "register")
    assert attributes[focus.key]["penwidth"] == "3"
    on_path = {(v.node(e.source).name, v.node(e.target).name): e.on_path for e in v.edges}
    assert on_path[("register", "d000")] and on_path[("d000", "model")] and on_path[("cms", "register")]


def test_collapse_keeps_the_picture_within_the_limit_and_counts_what_it_folds():
    g = graph(*chain(fan=60))
    v = view(g, "register", depth=3, max_nodes=20)
    assert len(v.nodes) <= 20
    group = next(n for n in v.nodes if n.group)
    assert group.name == f"+ {len(group.members)} more datasets"
    assert v.hidden == len(group.members)
    shown = [n for n in v.nodes if n.kind == "dataset" and n.distance == 1 and not n.group]
    assert len(shown) + len(group.members) == 60
    assert render.node_link(group, v.focus) == f"/nodes/register?expand={group.key}"
    expanded = view(g, "register", depth=3, max_nodes=20, expand=(group.key,))
    assert len([n for n in expanded.nodes if n.kind == "dataset" and n.distance == 1]) == 60
    # Edges into and out of the group are drawn once each.
    assert len([e for e in v.edges if group.key in (e.source, e.target)]) == 2


def test_the_same_graph_and_options_give_the_same_picture():
    first = to_dot(view(graph(*chain(fan=40)), "register", depth=3, max_nodes=25)).to_string()
    again = to_dot(view(graph(*chain(fan=40)), "register", depth=3, max_nodes=25)).to_string()
    assert first == again


def test_a_hostile_name_adds_no_nodes_or_edges():
    evil = 'x" ]; evil -> y [label="'
    nodes = [{"id": "a", "kind": "dataset", "name": evil, "description": '<script>alert("x")</script>'},
             {"id": "b", "kind": "decision", "name": "line one\nline two\\ and a backslash"}]
    edges = [{"source": "a", "target": "b", "kind": "informs"}]
    dot = to_dot(view(graph(nodes, edges), "a"))
    text = dot.to_string()
    assert len(dot_nodes(dot)) == 2 and len(dot.get_edges()) == 1
    assert "evil -> y" in text and "evil" not in [n.get_name() for n in dot.get_nodes()]
    svg = render.render(dot, "svg")
    root = ET.fromstring(svg)
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]) == 2
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]) == 1
    assert not list(root.iter(f"{SVG}script"))
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert 'x" ]; evil' in texts


def test_svg_links_are_relative_to_the_app():
    g = graph(*chain(fan=30))
    root = ET.fromstring(render.render(to_dot(view(g, "register", depth=3, max_nodes=20)), "svg"))
    links = [a.get(f"{XLINK}href") for a in root.iter(f"{SVG}a") if a.get(f"{XLINK}href")]
    assert links and all(link.startswith("/nodes/") for link in links)
    assert not any(link.lower().startswith("javascript:") for link in links)


def test_png_is_a_png():
    assert render.render(to_dot(view(graph(*chain()), "register")), "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_graphviz_failure_and_absence_are_clear_errors():
    dot = to_dot(view(graph(*chain()), "register"))
    with pytest.raises(RenderError, match="Graphviz could not draw"):
        render.render(dot, "svg", command="false")
    with pytest.raises(RenderError, match="not installed"):
        render.render(dot, "svg", command="no-such-graphviz")
    with pytest.raises(RenderError, match="unknown picture format"):
        render.render(dot, "gif")


def test_graphviz_past_its_timeout_is_stopped(tmp_path):
    # A stand-in for dot that never answers: the render must give up at the timeout, not hang.
    stuck = tmp_path / "stuck-dot"
    stuck.write_text(f"#!{sys.executable}\nimport sys\nsys.stdin.read()\nwhile True:\n    pass\n")
    stuck.chmod(0o755)
    with pytest.raises(RenderError, match="longer than 0.5 s"):
        render.render(to_dot(view(graph(*chain()), "register")), "svg", timeout=0.5, command=str(stuck))


def test_bad_options_are_errors():
    g = graph(*chain())
    with pytest.raises(Exception, match="max_nodes must be"):
        view(g, "register", max_nodes=1)
    with pytest.raises(Exception, match="depth must be"):
        view(g, "register", depth=-1)
    with pytest.raises(Exception, match="no node with id"):
        view(g, "nope")


def test_dot_string_escapes_quotes_backslashes_and_line_breaks():
    assert dot_string('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


def test_text_twin_has_a_sentence_per_path_and_a_table(session_graph):
    v = view(session_graph, "officer-ali", depth=6, direction="downstream")
    text = describe.view_text(session_graph, v)
    sentences = [line for line in text.splitlines() if line.startswith("Ali Khan's 1,240 records")]
    decisions = [n.name for n in v.nodes if n.kind == "decision"]
    assert all(any(f"informs {name}, " in s for s in sentences) for name in decisions)
    assert all(s.endswith("people.") for s in sentences)
    assert "Housing need prioritisation model (AI, human review: yes)" in text
    table = text.split("From | To | How | Records\n", 1)[1].splitlines()
    assert len(table) == len(v.edges)
    assert any(row.endswith("| enters | 1,240") for row in table)


def test_picture_cache_returns_the_same_bytes(session_graph):
    first = render.picture(session_graph, "officer-ali", "svg", depth=2)
    assert render.picture(session_graph, "officer-ali", "svg", depth=2) is first


def test_cli_draw_writes_each_format_and_describes_by_default(runner, db_path, tmp_path):
    for suffix, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("dot", b"digraph")):
        out = tmp_path / f"ali.{suffix}"
        result = run(runner, ["--db", db_path, "draw", "officer-ali", "--depth", "4", "-o", out])
        assert result.exit_code == 0, result.output
        assert Path(out).read_bytes().lstrip()[:len(magic)] == magic
    text = run(runner, ["--db", db_path, "draw", "officer-ali", "--direction", "downstream", "--depth", "6"])
    assert text.exit_code == 0 and "Ali Khan's 1,240 records" in text.output
    bad = run(runner, ["--db", db_path, "draw", "officer-ali", "-o", tmp_path / "x.gif"])
    assert bad.exit_code == 1 and "expected .svg, .png, .dot" in bad.output
    few = run(runner, ["--db", db_path, "draw", "kind:dataset", "--max-nodes", "20"])
    assert few.exit_code == 1 and "pick fewer nodes" in few.output


def test_a_focused_team_is_drawn_as_one_box_for_its_members():
    g = graph(*chain())
    v = view(g, "team", depth=5, direction="downstream")
    assert v.starts == ["p0", "p1", "p2"]
    focus = [n for n in v.nodes if n.focus]
    assert [(n.kind, n.node_id, sorted(n.members)) for n in focus] == [("team", "team", ["p0", "p1", "p2"])]
    assert not any(n.kind == "person" for n in v.nodes)
    assert next(e for e in v.edges if e.source == focus[0].key).records == 600
    twin = describe.view_twin(g, v)
    assert twin.sentences[0].startswith("Housing options's 600 records are entered into cms")
    assert not any(name in " ".join(twin.sentences) for name in ("p0", "p1", "p2"))


def test_text_twin_rows_link_to_the_app(session_graph):
    v = view(session_graph, "housing-register", depth=1)
    twin = describe.view_twin(session_graph, v)
    assert twin.rows and all(r.source_link.startswith("/nodes/") and r.target_link.startswith("/nodes/")
                             for r in twin.rows)
    assert {"source", "source_link", "target", "target_link", "how", "records"} == set(twin.rows[0].as_dict())


def test_a_dense_view_draws_at_most_two_arrows_per_node_and_its_twin_lists_them_all():
    # Twenty sources each feeding every one of twenty datasets: 400 arrows among 41 boxes.
    nodes = [{"id": "hub", "kind": "system"}] + [{"id": f"s{i:02d}", "kind": "dataset"} for i in range(20)] + [
        {"id": f"t{i:02d}", "kind": "dataset"} for i in range(20)]
    edges = [{"source": "hub", "target": f"s{i:02d}", "kind": "supplies"} for i in range(20)]
    edges += [{"source": f"s{i:02d}", "target": f"t{j:02d}", "kind": "derives"} for i in range(20) for j in range(20)]
    g = graph(nodes, edges)
    v = view(g, "hub", depth=2, direction="downstream", max_nodes=50)
    drawn = [e for e in v.edges if e.drawn]
    assert len(v.edges) == 420 and len(drawn) == 100 and v.hidden_edges == 320
    dot = to_dot(v)
    assert len(dot.get_edges()) == 100 and dot.get("nslimit") is None  # 100 arrows: the full layout
    assert len(describe.view_twin(g, v).rows) == 420
    dense = to_dot(view(g, "hub", depth=2, direction="downstream", max_nodes=100))
    assert len(dense.get_edges()) == 200 and dense.get("nslimit") == "1"


def test_arrows_off_the_paths_from_the_focus_are_left_out_first():
    nodes = [{"id": "hub", "kind": "system"}] + [{"id": f"s{i:02d}", "kind": "dataset"} for i in range(20)]
    edges = [{"source": "hub", "target": f"s{i:02d}", "kind": "supplies"} for i in range(20)]
    edges += [{"source": f"s{i:02d}", "target": f"s{j:02d}", "kind": "derives"}
              for i in range(20) for j in range(i + 1, 20)]
    v = view(graph(nodes, edges), "hub", depth=1, direction="downstream", max_nodes=25)
    assert sum(e.on_path for e in v.edges) == 20 and len(v.edges) == 210
    assert all(e.drawn for e in v.edges if e.on_path)
    assert sum(e.drawn for e in v.edges) == 50 and v.hidden_edges == 160


def test_twin_of_a_picture_with_arrows_but_no_decision_says_so():
    from lineage import describe, render
    from lineage.graph import LineageGraph

    g = LineageGraph.from_records(
        [{"id": "d", "kind": "dataset", "name": "Raw"}, {"id": "p", "kind": "process", "name": "Clean"},
         {"id": "alone", "kind": "dataset", "name": "Alone"}],
        [{"source": "d", "target": "p", "kind": "feeds"}])
    twin = describe.view_twin(g, render.view(g, "d"))
    assert twin.sentences == ["No path from Raw reaches a decision within 2 steps; the table lists every arrow "
                              "around it."] and len(twin.rows) == 1
    assert describe.view_twin(g, render.view(g, "alone")).sentences == ["Nothing flows to or from Alone within 2 steps."]

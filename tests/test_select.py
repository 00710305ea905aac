"""Selectors (dbt style): every syntax form against independently computed sets, and clear errors."""
from __future__ import annotations

import networkx as nx
import pytest

from lineage.errors import SelectorError
from lineage.graph import LineageGraph
from lineage.select import evaluate, parse
from lineage.store import Store


def within(graph: nx.DiGraph, node: str, depth: int | None) -> set[str]:
    return set(nx.single_source_shortest_path_length(graph, node, cutoff=depth)) - {node}


@pytest.fixture(scope="module")
def reverse(nx_flow):
    return nx_flow.reverse(copy=True)


def ids_where(nodes_by_id, **conditions):
    def keep(node):
        for key, value in conditions.items():
            if key == "tag":
                if value not in node.get("tags", []):
                    return False
            elif node.get(key) != value:
                return False
        return True
    return {i for i, n in nodes_by_id.items() if keep(n)}


# -- every form ------------------------------------------------------------------------------------------


def test_plain_id(graph):
    assert evaluate(graph, "housing-register") == ["housing-register"]


def test_downstream_all(graph, nx_flow):
    assert set(evaluate(graph, "housing-register+")) == {"housing-register"} | nx.descendants(nx_flow,
                                                                                              "housing-register")


def test_upstream_all(graph, nx_flow):
    expected = {"social-housing-allocations"} | nx.ancestors(nx_flow, "social-housing-allocations")
    assert set(evaluate(graph, "+social-housing-allocations")) == expected


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_upstream_with_depth(graph, reverse, depth):
    expected = {"social-housing-allocations"} | within(reverse, "social-housing-allocations", depth)
    assert set(evaluate(graph, f"{depth}+social-housing-allocations")) == expected


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_downstream_with_depth(graph, nx_flow, depth):
    assert set(evaluate(graph, f"officer-ali+{depth}")) == {"officer-ali"} | within(nx_flow, "officer-ali", depth)


def test_both_ways(graph, nx_flow):
    node = "housing-need-model"
    expected = {node} | nx.ancestors(nx_flow, node) | nx.descendants(nx_flow, node)
    assert set(evaluate(graph, f"+{node}+")) == expected


def test_both_ways_with_depths(graph, nx_flow, reverse):
    node = "housing-register"
    expected = {node} | within(reverse, node, 2) | within(nx_flow, node, 3)
    assert set(evaluate(graph, f"2+{node}+3")) == expected


@pytest.mark.parametrize("kind", ["person", "team", "system", "dataset", "process", "ai_tool", "decision"])
def test_kind(graph, nodes_by_id, kind):
    assert set(evaluate(graph, f"kind:{kind}")) == ids_where(nodes_by_id, kind=kind)


def test_owner(graph, nodes_by_id):
    expected = ids_where(nodes_by_id, owner="owner-jo")
    assert expected and set(evaluate(graph, "owner:owner-jo")) == expected


def test_tag(graph, nodes_by_id):
    expected = ids_where(nodes_by_id, tag="personal-data")
    assert len(expected) > 1 and set(evaluate(graph, "tag:personal-data")) == expected
    assert evaluate(graph, "tag:no-such-tag") == []


def test_organisation_without_spaces(tmp_path):
    store = Store(tmp_path / "org.db", create=True)
    with store.change("t", "x") as change:
        change.add_node({"id": "a", "kind": "person", "name": "A", "organisation": "northbridge"})
        change.add_node({"id": "b", "kind": "dataset", "name": "B", "organisation": "northbridge"})
        change.add_node({"id": "c", "kind": "dataset", "name": "C", "organisation": "riverside"})
        change.add_edge({"source": "a", "target": "c", "kind": "enters"})
    g = LineageGraph.from_store(store)
    assert evaluate(g, "organisation:northbridge") == ["a", "b"]
    assert evaluate(g, "organisation:northbridge+") == ["a", "b", "c"]
    assert evaluate(g, "organisation:riverside") == ["c"]
    store.close()


def test_organisation_with_spaces_can_be_selected(graph, nodes_by_id):
    # Every sample organisation has spaces in its name; quoting the value must select it.
    expected = ids_where(nodes_by_id, organisation="Northbridge Borough Council")
    assert len(expected) > 50
    assert set(evaluate(graph, 'organisation:"Northbridge Borough Council"')) == expected


def test_quoted_values_with_graph_operators_and_intersection(graph, nodes_by_id, nx_flow):
    org = "Northbridge Borough Council"
    members = ids_where(nodes_by_id, organisation=org)
    assert set(evaluate(graph, f'organisation:"{org}",kind:ai_tool')) == ids_where(nodes_by_id, organisation=org,
                                                                                 kind="ai_tool")
    downstream = set(members)
    for node in members:
        downstream |= nx.descendants(nx_flow, node)
    assert set(evaluate(graph, f'organisation:"{org}"+,kind:decision')) == {
        i for i in downstream if nodes_by_id[i]["kind"] == "decision"}
    assert set(evaluate(graph, f'organisation:"{org}" kind:team')) == members | ids_where(nodes_by_id, kind="team")
    assert set(evaluate(graph, 'tag:"housing"')) == ids_where(nodes_by_id, tag="housing")


@pytest.mark.parametrize("text", ['organisation:"Northbridge Borough', 'kind:ai_tool "', '"officer-ali'])
def test_unbalanced_quote_is_an_error(graph, text):
    with pytest.raises(SelectorError) as caught:
        evaluate(graph, text)
    lines = str(caught.value).split("\n")
    assert lines[-2] == "  " + text and lines[-1].strip() == "^"


def test_union_by_space(graph, nodes_by_id, nx_flow):
    expected = ids_where(nodes_by_id, kind="ai_tool") | ids_where(nodes_by_id, kind="decision") | {"officer-ali"}
    assert set(evaluate(graph, "kind:ai_tool kind:decision officer-ali")) == expected
    assert set(evaluate(graph, "  kind:ai_tool   kind:decision\tofficer-ali ")) == expected


def test_intersection_by_comma(graph, nodes_by_id, nx_flow):
    assert set(evaluate(graph, "owner:owner-jo,kind:dataset")) == ids_where(nodes_by_id, owner="owner-jo",
                                                                          kind="dataset")
    decisions_downstream = {i for i in nx.descendants(nx_flow, "officer-ali") if nodes_by_id[i]["kind"] == "decision"}
    assert set(evaluate(graph, "officer-ali+,kind:decision")) == decisions_downstream
    assert evaluate(graph, "kind:person,kind:dataset") == []


def test_union_of_intersections(graph, nodes_by_id, nx_flow):
    upstream_datasets = {i for i in nx.ancestors(nx_flow, "social-housing-allocations")
                         if nodes_by_id[i]["kind"] == "dataset"}
    expected = upstream_datasets | ids_where(nodes_by_id, kind="ai_tool", tag="forecasting")
    assert set(evaluate(graph, "+social-housing-allocations,kind:dataset kind:ai_tool,tag:forecasting")) == expected


def test_method_with_graph_operators(graph, nodes_by_id, nx_flow):
    tools = ids_where(nodes_by_id, kind="ai_tool")
    expected = set(tools)
    for tool in tools:
        expected |= nx.ancestors(nx_flow, tool)
    assert set(evaluate(graph, "+kind:ai_tool")) == expected


def test_result_is_sorted_and_unique(graph):
    result = evaluate(graph, "housing-register+ housing-register kind:decision")
    assert result == sorted(set(result))


def test_parse_structure():
    selector = parse("2+allocations+ kind:ai_tool,owner:jo")
    first, second = selector.terms
    atom = first.atoms[0]
    assert (atom.method, atom.value, atom.upstream, atom.upstream_depth, atom.downstream, atom.downstream_depth) == (
        "id", "allocations", True, 2, True, None)
    assert [(a.method, a.value, a.position) for a in second.atoms] == [("kind", "ai_tool", 15), ("owner", "jo", 28)]


def test_evaluate_a_parsed_selector(graph, nodes_by_id):
    assert set(evaluate(graph, parse("kind:ai_tool"))) == ids_where(nodes_by_id, kind="ai_tool")


# -- errors point at the offending part --------------------------------------------------------------------


def caret_at(message: str, text: str) -> int:
    """The column the caret points at, checking the message's last two lines show the selector and a caret."""
    lines = message.split("\n")
    assert lines[-2] == "  " + text, message
    assert lines[-1].strip() == "^", message
    return len(lines[-1]) - 3  # two spaces of indent, then the caret


@pytest.mark.parametrize("text,position,words", [
    ("foo bar,,x", 8, "empty part"),
    (",x", 0, "empty part"),
    ("kind:robot", 5, "unknown kind 'robot'"),
    ("officer-ali colour:red", 12, "unknown method 'colour'"),
    ("owner:", 6, "'owner:' needs a value"),
    ("officer-ali BAD", 12, "'BAD' is not a node id"),
    ("2+Bad", 2, "'Bad' is not a node id"),
    ("+x y,+Bad+", 6, "'Bad' is not a node id"),
    ("a+b+c", 0, "cannot read 'a+b+c'"),
    ("1001+officer-ali", 0, "depth 1001 is too deep"),
    ("kind:dataset,officer-ali+5000", 13, "depth 5000 is too deep"),
])
def test_parse_errors_point_at_the_part(text, position, words):
    with pytest.raises(SelectorError) as caught:
        parse(text)
    message = str(caught.value)
    assert words in message.split("\n")[0]
    assert caret_at(message, text) == position


@pytest.mark.parametrize("text,position", [("no-such-node", 0), ("kind:dataset no-such-node+", 13),
                                           ("kind:dataset,no-such-node", 13)])
def test_unknown_node_points_at_it(graph, text, position):
    with pytest.raises(SelectorError) as caught:
        evaluate(graph, text)
    message = str(caught.value)
    assert "no node with id 'no-such-node'" in message
    assert caret_at(message, text) == position


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_empty_selector(graph, text):
    with pytest.raises(SelectorError, match="empty selector"):
        evaluate(graph, text)


def test_too_long_selector():
    with pytest.raises(SelectorError, match="at most 2000 characters, got 2001"):
        parse("a" * 2001)

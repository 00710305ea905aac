"""The domain model: edge rules, record validation and data-quality ratings."""
from __future__ import annotations

import itertools

import pytest

from lineage import model
from lineage.errors import Problem, ValidationError

# The edge table of DESIGN.md section 3, written out by hand (not read from the library), with the
# OpenLineage issue's one addition: an AI tool job derives its outputs (ai_tool -> dataset, process).
DESIGN_EDGES = {
    "enters": ({"person"}, {"system", "dataset"}),
    "member_of": ({"person"}, {"team"}),
    "supplies": ({"system"}, {"dataset"}),
    "derives": ({"dataset", "process", "ai_tool"}, {"dataset", "process"}),
    "feeds": ({"dataset"}, {"ai_tool", "process"}),
    "informs": ({"dataset", "ai_tool", "process"}, {"decision"}),
    "records_outcome": ({"decision"}, {"dataset"}),
}
KINDS = ("person", "team", "system", "dataset", "process", "ai_tool", "decision")
WHERE = "f.json: nodes[0]"


def fields(problems: list[Problem]) -> list[str | None]:
    return [p.field for p in problems]


# -- kinds and edge rules -----------------------------------------------------------------------


def test_kinds_match_design():
    assert model.NODE_KINDS == KINDS
    assert set(model.EDGE_KINDS) == set(DESIGN_EDGES)
    assert model.FLOW_EDGE_KINDS == frozenset(DESIGN_EDGES) - {"member_of"}
    assert model.QUALITY_DIMENSIONS == ("completeness", "uniqueness", "consistency", "timeliness", "validity",
                                        "accuracy")


@pytest.mark.parametrize("edge_kind", sorted(DESIGN_EDGES))
def test_every_pair_is_allowed_exactly_as_designed(edge_kind):
    sources, targets = DESIGN_EDGES[edge_kind]
    allowed_seen = 0
    for source, target in itertools.product(KINDS, KINDS):
        expected = source in sources and target in targets
        assert model.allowed_edge(edge_kind, source, target) is expected, (edge_kind, source, target)
        message = model.edge_rule_problem(source, target, edge_kind)
        if expected:
            allowed_seen += 1
            assert message is None
        else:
            # The message names the edge kind, the rejected pair and every allowed kind.
            assert f"'{edge_kind}'" in message
            assert f"{source} -> {target}" in message
            allowed_part = message.split("it joins", 1)[1]
            for kind in sources | targets:
                assert kind in allowed_part, (message, kind)
    assert allowed_seen == len(sources) * len(targets)


def test_disallowed_pair_message_is_exact():
    assert model.edge_rule_problem("decision", "person", "enters") == (
        "an 'enters' edge cannot join decision -> person; it joins person -> dataset or system")
    assert model.edge_rule_problem("person", "decision", "informs") == (
        "an 'informs' edge cannot join person -> decision; it joins ai_tool or dataset or process -> decision")


def test_allowed_pairs_from_design_examples():
    assert model.allowed_edge("enters", "person", "dataset")
    assert model.allowed_edge("records_outcome", "decision", "dataset")
    assert not model.allowed_edge("records_outcome", "decision", "person")
    assert not model.allowed_edge("supplies", "dataset", "dataset")
    assert not model.allowed_edge("member_of", "team", "person")


# -- node validation -------------------------------------------------------------------------------


def test_quality_out_of_range_names_nested_field():
    problems = model.validate_node({"id": "r", "kind": "dataset", "name": "R", "quality": {"timeliness": 1.7}}, WHERE)
    assert fields(problems) == ["quality.timeliness"]
    assert problems[0].where == WHERE
    assert "1.7" in problems[0].message and "0 to 1" in problems[0].message
    assert str(problems[0]) == f"{WHERE}, field 'quality.timeliness': {problems[0].message}"


def test_quality_assessment_object_problems_name_sub_fields():
    node = {"id": "r", "kind": "dataset", "name": "R",
            "quality": {"timeliness": {"rag": "purple"}, "validity": {"score": 0.5, "colour": "x"},
                        "freshness": 0.3}}
    problems = model.validate_node(node, WHERE)
    assert sorted(fields(problems)) == ["quality.freshness", "quality.timeliness.rag", "quality.validity.colour"]
    by_field = {p.field: p.message for p in problems}
    assert "red, amber, green" in by_field["quality.timeliness.rag"] and "purple" in by_field["quality.timeliness.rag"]


def test_valid_quality_forms_pass():
    node = {"id": "r", "kind": "dataset", "name": "R",
            "quality": {"completeness": 0.94, "timeliness": {"score": 0.71, "rag": "amber", "note": "late",
                                                             "as_of": "2026-09-30"},
                        "accuracy": {"rag": "red"}, "validity": 0, "uniqueness": 1}}
    assert model.validate_node(node, WHERE) == []


def test_negative_record_count():
    problems = model.validate_node({"id": "r", "kind": "dataset", "name": "R", "record_count": -3}, WHERE)
    assert fields(problems) == ["record_count"]
    assert "-3" in problems[0].message and "from 0 to" in problems[0].message


def test_unknown_kind_names_kind_and_allowed_kinds():
    problems = model.validate_node({"id": "r", "kind": "spaceship", "name": "R"}, WHERE)
    assert fields(problems) == ["kind"]
    assert "spaceship" in problems[0].message
    for kind in KINDS:
        assert kind in problems[0].message


def test_missing_core_fields_each_reported():
    problems = model.validate_node({"kind": "person"}, WHERE)
    assert fields(problems) == ["id", "name"]
    assert all(p.message == "is required" for p in problems)


def test_non_object_record():
    problems = model.validate_node("junk", WHERE)
    assert len(problems) == 1 and problems[0].field is None
    assert "junk" in problems[0].message


def test_bad_id_and_empty_name():
    problems = model.validate_node({"id": "Not A Slug", "kind": "person", "name": ""}, WHERE)
    assert fields(problems) == ["id", "name"]
    assert "Not A Slug" in problems[0].message


@pytest.mark.parametrize("attribute,value", [
    ("phase", "live"), ("human_review", "yes"), ("atrs_url", "ftp://example.org/x"), ("risks", "one risk"),
])
def test_ai_tool_attribute_types(attribute, value):
    problems = model.validate_node({"id": "t", "kind": "ai_tool", "name": "T", attribute: value}, WHERE)
    assert fields(problems) == [attribute]


@pytest.mark.parametrize("attribute,value", [
    ("decision_type", "whim"), ("people_affected", -1), ("people_affected", 2.5), ("value_gbp", -10),
    ("human_in_loop", "no"),
])
def test_decision_attribute_types(attribute, value):
    problems = model.validate_node({"id": "x", "kind": "decision", "name": "X", attribute: value}, WHERE)
    assert fields(problems) == [attribute]


def test_unknown_attributes_are_accepted():
    node = {"id": "x", "kind": "decision", "name": "X", "colour": "teal", "value_basis": "budget", "n": 3}
    assert model.validate_node(node, WHERE) == []


def test_attribute_of_another_kind_is_not_checked_against_it():
    # record_count is a dataset attribute; on a person it is simply an unknown attribute.
    assert model.validate_node({"id": "p", "kind": "person", "name": "P", "record_count": "lots"}, WHERE) == []


def test_every_sample_record_is_valid(samples):
    nodes, edges = samples
    for index, node in enumerate(nodes):
        assert model.validate_node(node, f"nodes[{index}]") == []
    for index, edge in enumerate(edges):
        assert model.validate_edge(edge, f"edges[{index}]") == []


# -- edge validation -------------------------------------------------------------------------------


def test_records_with_issues_above_records():
    problems = model.validate_edge({"source": "a", "target": "b", "kind": "enters", "records": 10,
                                    "records_with_issues": 11}, "e")
    assert fields(problems) == ["records_with_issues"]
    assert "10" in problems[0].message and "11" in problems[0].message


def test_records_with_issues_equal_to_records_is_fine():
    assert model.validate_edge({"source": "a", "target": "b", "kind": "enters", "records": 10,
                                "records_with_issues": 10}, "e") == []


def test_negative_records_on_enters_edge():
    problems = model.validate_edge({"source": "a", "target": "b", "kind": "enters", "records": -1}, "e")
    assert fields(problems) == ["records"]


def test_unknown_edge_kind_and_enums():
    assert fields(model.validate_edge({"source": "a", "target": "b", "kind": "flows"}, "e")) == ["kind"]
    assert fields(model.validate_edge({"source": "a", "target": "b", "kind": "feeds", "role": "x"}, "e")) == ["role"]
    assert fields(model.validate_edge({"source": "a", "target": "b", "kind": "informs", "influence": "x"},
                                      "e")) == ["influence"]
    assert fields(model.validate_edge({"source": "a", "kind": "enters"}, "e")) == ["target"]


def test_validation_error_message_lists_first_and_counts_rest():
    error = ValidationError([Problem("f.json: nodes[0]", "bad", "kind"), Problem("f.json: nodes[1]", "worse"),
                             Problem("f.json: nodes[2]", "worst")])
    assert str(error) == "f.json: nodes[0], field 'kind': bad (and 2 more problems)"
    assert str(ValidationError(Problem("f", "x"))) == "f: x"


# -- quality ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("score,rag", [
    (1.0, "green"), (0.9, "green"), (0.8999, "amber"), (0.7, "amber"), (0.6999, "red"), (0.0, "red"),
])
def test_rag_thresholds(score, rag):
    assert model.rag_for_score(score) == rag


def test_quality_rag_and_score_forms():
    assert model.quality_rag(0.95) == "green"
    assert model.quality_rag({"score": 0.95, "rag": "red"}) == "red"  # a given rating wins
    assert model.quality_rag({"rag": "amber"}) == "amber"
    assert model.quality_rag({"note": "none"}) is None
    assert model.quality_score({"score": 0.5}) == 0.5
    assert model.quality_score(True) is None


def test_weakest_dimension_by_score():
    assert model.weakest_dimension({"completeness": 0.94, "timeliness": 0.71, "validity": 0.88}) == (
        "timeliness", 0.71, "amber")
    assert model.weakest_dimension({"accuracy": {"score": 0.3, "rag": "red", "note": "x"}, "validity": 0.5}) == (
        "accuracy", 0.3, "red")


def test_weakest_dimension_rag_only_ranks_at_band_floor():
    # amber ranks at 0.7, so a score of 0.69 is weaker; a red rating ranks at 0.0.
    assert model.weakest_dimension({"timeliness": {"rag": "amber"}, "validity": 0.69}) == ("validity", 0.69, "red")
    assert model.weakest_dimension({"timeliness": {"rag": "amber"}, "validity": 0.71}) == ("timeliness", None, "amber")
    assert model.weakest_dimension({"timeliness": {"rag": "red"}, "validity": 0.01}) == ("timeliness", None, "red")


def test_weakest_dimension_ties_go_to_framework_order():
    assert model.weakest_dimension({"accuracy": 0.5, "completeness": 0.5, "timeliness": 0.5}) == (
        "completeness", 0.5, "red")


def test_weakest_dimension_nothing_assessed():
    assert model.weakest_dimension(None) is None
    assert model.weakest_dimension({}) is None
    assert model.weakest_dimension({"timeliness": {"note": "not yet"}}) is None


def test_attribute_types_from_schema():
    assert model.attribute_type("dataset", "record_count") == "integer"
    assert model.attribute_type("system", "ai_ready") == "boolean"
    assert model.attribute_type("decision", "value_gbp") == "number"
    assert model.attribute_type("dataset", "colour") is None
    assert model.attributes_of_type("array") == frozenset({"all_fields_from", "fields", "issues", "risks", "tags"})

"""Fields on pages and in JSON twins: a dataset's fields and where each goes, one field's way to the
decisions, the fields a decision rests on, My impact's fields with the ask; error paths; no
people named. Expectations come from the council housing sample as written by hand."""
from __future__ import annotations

import pytest
from conftest import client_as



@pytest.fixture
def ali(app):
    return client_as(app, "ali")


def test_a_dataset_page_lists_its_fields_and_where_each_goes(ali):
    page = ali.get("/nodes/housing-register")
    assert page.status_code == 200
    assert 'id="fields-table"' in page.text and "Household size" in page.text
    assert "Copied from household size in Housing case management system." in page.text
    assert "Feeds Housing need prioritisation model (as household size)" in page.text
    twin = ali.get("/nodes/housing-register.json").json
    household = next(f for f in twin["fields"] if f["name"] == "household_size")
    assert household["completeness"] == 0.97
    assert household["from"] == [{"node": "housing-cms", "field": "household_size", "type": "DIRECT",
                                  "subtype": "IDENTITY"}]
    assert "social-housing-allocations" in household["goes_to"]["decisions"]


def test_a_system_page_says_what_each_form_field_feeds(ali):
    twin = ali.get("/nodes/housing-cms/fields.json").json
    assert twin["field_count"] == 11
    income = next(f for f in twin["fields"] if f["name"] == "weekly_income")
    assert income["goes_to"]["fields"] == [{"node": "housing-register", "field": "income_band"}]
    page = ali.get("/nodes/housing-cms/fields")
    assert page.status_code == 200 and "Fields of Housing case management system" in page.text
    assert "83% of records" in page.text


def test_one_field_from_form_to_decision(ali):
    page = ali.get("/nodes/housing-cms/field?name=household_size")
    assert page.status_code == 200
    assert "<h1 class=\"govuk-heading-xl\">Household size</h1>" in page.text
    assert "Social housing allocations" in page.text and "Housing register" in page.text
    twin = ali.get("/nodes/housing-cms/field.json?name=household_size").json
    assert {"node": "housing-need-model", "field": "household size"} in twin["downstream"]["fields"]
    assert "social-housing-allocations" in twin["downstream"]["decisions"]
    upstream = ali.get("/nodes/housing-need-model/field.json?name=household size").json["upstream"]["fields"]
    assert upstream == [{"node": "housing-register", "field": "household_size"},
                        {"node": "housing-cms", "field": "household_size"}]


def test_a_decision_names_the_fields_it_rests_on(ali):
    page = ali.get("/nodes/social-housing-allocations")
    assert page.status_code == 200 and 'id="resting-fields"' in page.text
    assert "Household size in Housing case management system (3% left blank)" in page.text
    rests_on = ali.get("/nodes/social-housing-allocations.json").json["rests_on_fields"]
    assert {"node": "housing-need-model", "field": "household size"} in [
        {"node": r["node"], "field": r["field"]} for r in rests_on] or rests_on[0]["routes"] >= 2
    full = ali.get("/nodes/social-housing-allocations/fields.json?limit=100").json["rests_on"]
    assert {"housing-need-model", "housing-register", "housing-cms"} <= {r["node"] for r in full}


def test_my_impact_has_the_fields_you_fill_in_with_the_ask(ali):
    page = ali.get("/people/officer-ali")
    assert page.status_code == 200 and 'id="your-fields"' in page.text
    assert ("3% of your records leave household size blank; it feeds Housing need prioritisation model, which "
            "informs Social housing allocations.") in page.text
    assert "The field you fill in that matters most" in page.text
    twin = ali.get("/people/officer-ali.json").json["fields_you_fill_in"]
    assert len(twin) == 1 and twin[0]["field"] == "household_size" and twin[0]["missing"] == pytest.approx(40 / 1240)
    assert "social-housing-allocations" in twin[0]["decisions"]
    assert "fields_you_fill_in" in ali.get("/teams/housing-options.json").json  # a team's page names none
    assert ali.get("/teams/housing-options.json").json["fields_you_fill_in"] == []
    assert twin[0]["missing_from"] == "your records"


@pytest.mark.parametrize("url, status, message", [
    ("/nodes/nowhere/fields.json", 404, "no node with the id 'nowhere'"),
    ("/nodes/officer-dev/fields.json", 404, "only systems, datasets, processes and AI tools have fields"),
    ("/nodes/officer-dev/field.json?name=x", 404, "only systems, datasets"),
    ("/nodes/housing-cms/field.json", 404, "say which field"),
    ("/nodes/housing-cms/field.json?name=shoe_size", 404, "has no field 'shoe_size'"),
    ("/nodes/housing-cms/field.json?name=" + "x" * 501, 400, "at most 500 characters"),
    ("/nodes/social-housing-allocations/fields.json?limit=0", 400, "limit"),
])
def test_error_paths(ali, url, status, message):
    response = ali.get(url)
    assert response.status_code == status, response.text
    assert message in response.text
    assert "Dev" not in response.text  # another person's name never shows, not even in an error


def test_nobody_signed_in_is_sent_to_sign_in(app):
    assert client_as(app, None).get("/nodes/housing-cms/fields").status_code in (302, 401)


def test_a_picture_opens_a_dataset_into_its_fields(ali):
    page = ali.get("/nodes/housing-register/fields")
    assert page.status_code == 200 and 'class="app-fields-picture"' in page.text and "<svg" in page.text
    assert 'href="/nodes/housing-register/field?name=household_size"' in page.text  # rows link to their fields
    dot = ali.get("/nodes/housing-register/fields/picture.dot")
    assert dot.status_code == 200 and dot.mimetype.startswith("text/vnd.graphviz")
    assert "n1:f1:e -> n0:f1:w" in dot.text  # household size in the system -> household size in the register
    assert dot.headers["Content-Security-Policy"].startswith("default-src 'none'")
    svg = ali.get("/nodes/housing-register/fields/picture.svg")
    assert svg.status_code == 200 and b'font-size="14.00"' in svg.data
    assert ali.get("/nodes/housing-register/fields/picture.gif").status_code == 404
    assert ali.get("/nodes/social-housing-allocations/fields/picture.svg").status_code == 404


def test_field_names_cannot_break_out_of_the_picture(app, tmp_path):
    from lineage import fields as lf
    from lineage.graph import LineageGraph
    from lineage.render import render
    from lineage.render_fields import fields_dot

    evil = 'x"> </TD></TR></TABLE>> ]; evil -> y [label="<b>&amp;'
    g = LineageGraph.from_records([lf.attach_fields({"id": "d", "kind": "dataset", "name": evil}, [lf.field(evil)])], [])
    svg = render(fields_dot(g, "d"), "svg").decode()
    assert "&lt;/TABLE&gt;&gt; ]; evil &#45;&gt; y [label=&quot;&lt;b&gt;&amp;amp;" in svg and "<b>" not in svg
    assert [n.get_name() for n in fields_dot(g, "d").get_nodes()] == ["node", "edge", "n0"]


def test_editing_a_dataset_in_the_form_keeps_its_fields(app):
    from test_editing import form_values

    from lineage.store import Store

    jo = client_as(app, "jo")
    before = Store(app.config["LINEAGE_DB"]).node("housing-register")["fields"]
    values = form_values(jo.get("/nodes/housing-register/edit").text)
    assert "fields" not in values and "all_fields_from" not in values
    values.update(refresh="hourly")
    assert jo.post("/nodes/housing-register/edit", data=values).status_code == 302
    after = Store(app.config["LINEAGE_DB"]).node("housing-register")
    assert after["refresh"] == "hourly" and after["fields"] == before


def test_column_lineage_over_http_shows_on_the_dataset_decision_and_my_impact_pages(app, ali):
    """The issue's end to end: a column-lineage event sent over HTTP gives field links, shown on the
    dataset's page, the page of a decision it informs, and My impact of someone who fills it in."""
    import json

    from conftest import ROOT
    from test_openlineage_columns import INPUTS, REGISTER

    from lineage.store import Store

    admin = client_as(app, "admin")
    events = ROOT / "tests" / "data" / "openlineage" / "airflow-column-lineage-1-1-0.ndjson"
    for line in events.read_text("utf-8").splitlines():
        response = admin.post("/api/v1/lineage", json=json.loads(line))
        assert response.status_code == 201, response.text[:300]
    store = Store(app.config["LINEAGE_DB"])
    with store.change("admin", "wire the imported tables to a decision and to Ali") as change:
        change.add_edge({"source": INPUTS, "target": "social-housing-allocations", "kind": "informs",
                         "influence": "supporting"})
        change.add_edge({"source": "officer-ali", "target": REGISTER, "kind": "enters", "records": 200,
                         "fields": [{"field": "household_size", "missing": 30}]})
    page = ali.get(f"/nodes/{INPUTS}")
    assert "Copied from household size in dw.housing.register." in page.text
    assert "Worked out from points and application id in dw.housing.medical." in page.text
    decision = ali.get("/nodes/social-housing-allocations/fields.json?limit=1000").json["rests_on"]
    assert {"node": INPUTS, "field": "medical_points"} in [{"node": r["node"], "field": r["field"]} for r in decision]
    impact = ali.get("/people/officer-ali")
    # Through the decision's recorded outcomes, which flow back to the register the model reads.
    assert ("15% of your records leave household size blank; it feeds Housing need prioritisation model, which "
            "informs Social housing allocations.") in impact.text

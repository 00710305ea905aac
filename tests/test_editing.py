"""Accounts, the policy on every route, and the owner's journey: forms, conflicts, deletes,
history and undo, bulk uploads and API writes, through Flask's test client with CSRF on."""
from __future__ import annotations

import io as stdio
import json
import re

import pytest
from conftest import client_as, copy_db, snapshot

from lineage.accounts import DEMO_ACCOUNTS, Accounts
from lineage.store import Store
from web import create_app, writes
from web.bulk import MAX_UPLOAD

PASSWORDS = {name: password for name, _, _, password in DEMO_ACCOUNTS}
SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def jo(app):
    return client_as(app, "jo")


def state(db):
    store = Store(db)
    try:
        return snapshot(store), store.node("housing-register")
    finally:
        store.close()


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)


def form_values(page: str) -> dict[str, str]:
    """The values a browser would submit from a page's form (inputs, checked radios, selects, textareas)."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag or ('type="radio"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = value.group(1).replace("&#34;", '"').replace("&amp;", "&") if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = body.strip()
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = chosen.group(1) if chosen else ""
    return values


def someone_elses_dataset(nodes_by_id) -> str:
    return next(i for i, n in sorted(nodes_by_id.items()) if n["kind"] == "dataset" and n.get("owner")
                and n["owner"] != "owner-jo")


# -- signing in -------------------------------------------------------------------------------


def test_sign_in_and_out(app):
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    wrong = client.post("/sign-in", data={"csrf_token": token, "name": "jo", "password": "not the password"})
    assert wrong.status_code == 401 and "The account name or password is not right" in wrong.text
    assert "not the password" not in wrong.text and "govuk-error-summary" in wrong.text
    right = client.post("/sign-in?next=/history", data={"csrf_token": token, "name": "JO",
                                                         "password": PASSWORDS["jo"]})
    assert right.status_code == 302 and right.location == "/history"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").location == "/your-data"  # an owner's front door (issue 15)
    home = client.get("/", follow_redirects=True)
    assert "Signed in as <strong>jo</strong> (owner)" in home.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert "Signed in as" not in client.get("/").text


def test_sign_in_goes_only_to_this_site(app):
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        client = app.test_client()
        token = csrf_token(client, "/sign-in")
        page = client.post(f"/sign-in?next={target}", data={"csrf_token": token, "name": "jo",
                                                            "password": PASSWORDS["jo"]})
        assert page.location == "/"


def test_sign_in_attempts_are_rate_limited(app):
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    statuses = [client.post("/sign-in", data={"csrf_token": token, "name": "jo", "password": "guess number x"})
                .status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    refused = client.post("/sign-in", data={"csrf_token": token, "name": "jo", "password": PASSWORDS["jo"]})
    assert refused.status_code == 429 and "Too many sign-in attempts" in refused.text
    assert refused.headers["Retry-After"].isdigit()


def test_pages_need_signing_in_once_accounts_exist(app):
    client = app.test_client()
    assert client.get("/").status_code == 200
    page = client.get("/nodes/housing-register")
    assert page.status_code == 302 and page.location == "/sign-in?next=/nodes/housing-register"
    api = client.get("/api/nodes")
    assert api.status_code == 401 and api.json["error"]["message"] == "sign in to see this"


def test_without_accounts_everyone_reads_and_nobody_edits(tmp_path, samples_db):
    app = create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "open.db")), "TESTING": True})
    client = app.test_client()
    assert client.get("/nodes/housing-register").status_code == 200
    refused = client.get("/nodes/housing-register/edit")
    assert refused.status_code == 403 and "lineage user add" in refused.text


def test_trusted_single_sign_on_header(db):
    app = create_app({"LINEAGE_DB": str(db), "TESTING": True, "LINEAGE_TRUSTED_HEADER": "X-Remote-User"})
    client = app.test_client()
    assert "Signed in as <strong>rob</strong>" in client.get("/", headers={"X-Remote-User": "rob"},
                                                                follow_redirects=True).text
    assert client.get("/nodes/housing-register", headers={"X-Remote-User": "stranger"}).status_code == 302
    assert client.get("/nodes/housing-register").status_code == 302


def test_account_page_makes_and_revokes_tokens(app):
    client = client_as(app, "ali")
    token = csrf_token(client, "/account")
    made = client.post("/account", data={"csrf_token": token, "label": "my script", "expires": "never"})
    secret = re.search(r'id="new-token">([^<]+)<', made.text).group(1)
    assert client_as(app, None).get("/api/nodes", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    token_id = re.search(r'/account/tokens/(\d+)/revoke', made.text).group(1)
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert client_as(app, None).get("/api/nodes", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


# -- one policy on every route ----------------------------------------------------------------

# A URL for every endpoint; {other} is a dataset someone else owns.
URLS = {
    "home.index": "/", "home.index_json": "/index.json", "home.search": "/search?q=housing",
    "home.search_json": "/search.json?q=housing", "home.accessibility": "/accessibility",
    "account.sign_in": "/sign-in", "account.sign_out": "POST /sign-out", "account.account": "/account",
    "account.revoke_token": "POST /account/tokens/1/revoke", "account.password": "/account/password",
    "contributor.person": "/people/officer-ali", "contributor.person_json": "/people/officer-ali.json",
    "contributor.team": "/teams/housing-options", "contributor.team_json": "/teams/housing-options.json",
    "nodes.node": "/nodes/housing-register", "nodes.node_json": "/nodes/housing-register.json",
    "nodes.picture_file": "/nodes/housing-register/picture.dot", "nodes.node_list": "/nodes?kind=dataset",
    "nodes.node_list_json": "/nodes.json?kind=dataset",
    "edit.new_node": "/nodes/new?kind=dataset", "edit.edit_node": "/nodes/housing-register/edit",
    "edit.delete_node": "/nodes/housing-register/delete", "edit.new_edge": "/edges/new?source=housing-register",
    "edit.edit_edge": "/edges/housing-register/allocations-training-set/edit",
    "edit.delete_edge": "/edges/housing-register/allocations-training-set/delete",
    "edit.history": "/history", "edit.history_json": "/history.json", "edit.change": "/changes/1",
    "edit.change_json": "/changes/1.json", "edit.undo": "POST /changes/1/undo",
    "bulk.upload": "/bulk", "bulk.preview_page": "/bulk/aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "bulk.preview_page_json": "/bulk/aaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
    "bulk.apply": "POST /bulk/aaaaaaaaaaaaaaaaaaaaaaaaaaaa/apply",
    "bulk.cancel": "POST /bulk/aaaaaaaaaaaaaaaaaaaaaaaaaaaa/cancel",
    "api.nodes": "/api/nodes", "api.node": "/api/nodes/housing-register",
    "api.lineage": "/api/lineage/housing-register", "api.create_node": "POST /api/nodes",
    "api.update_node": "PATCH /api/nodes/housing-register", "api.delete_node": "DELETE /api/nodes/housing-register",
    "api.create_edge": "POST /api/edges",
    "api.update_edge": "PATCH /api/edges/housing-register/allocations-training-set",
    "api.delete_edge": "DELETE /api/edges/housing-register/allocations-training-set",
    "api.undo": "POST /api/changes/1/undo",
    "openlineage.lineage": "POST /api/v1/lineage", "openlineage.batch": "POST /api/v1/lineage/batch",
    "openlineage.namespaces": "/api/v1/namespaces", "openlineage.search": "/api/v1/search?q=housing",
    "openlineage.read_lineage": "/api/v1/lineage?nodeId=dataset:lineage:housing-register&depth=2",
    "openlineage.column_lineage": "/api/v1/column-lineage?nodeId=dataset:lineage:housing-register",
    "leader.decisions": "/decisions", "leader.decisions_json": "/decisions.json",
    "leader.decisions_csv": "/decisions.csv", "leader.decision": "/decisions/social-housing-allocations",
    "leader.decision_json": "/decisions/social-housing-allocations.json", "leader.insights_page": "/insights",
    "leader.insights_page_json": "/insights.json", "leader.explore": "/explore?select=housing-register",
    "leader.explore_json": "/explore.json?select=housing-register",
    "leader.explore_csv": "/explore.csv?select=housing-register",
    "leader.explore_picture": "/explore/picture.dot?select=housing-register",
    "leader.what_if_page": "/what-if", "leader.what_if_page_json": "/what-if.json",
    "leader.home": "/leader", "leader.home_json": "/leader.json", "leader.home_csv": "/leader.csv",
    "find.find_json": "/find.json?q=housing",
    "fields.node_fields": "/nodes/housing-cms/fields", "fields.node_fields_json": "/nodes/housing-cms/fields.json",
    "fields.field": "/nodes/housing-cms/field?name=household_size",
    "fields.field_json": "/nodes/housing-cms/field.json?name=household_size",
    # where things came from (tests/test_importers_web.py): nothing in this database records a source yet
    "sources.source_list": "/sources", "sources.source_list_json": "/sources.json",
    "sources.remove_preview": "/sources/remove?source=dbt:housing_warehouse",
    "sources.remove_preview_json": "/sources/remove.json?source=dbt:housing_warehouse",
    "sources.remove": "POST /sources/remove?source=dbt:housing_warehouse",
    "fields.fields_picture": "/nodes/housing-register/fields/picture.dot",
    # closing the loop (tests/test_loop_web.py); update 1 and flag 1 come from the loop_records fixture
    "loop.new_update": "/nodes/social-housing-allocations/updates/new", "loop.update": "/updates/1",
    "loop.update_json": "/updates/1.json", "loop.edit_update": "/updates/1/edit",
    "loop.new_flag": "/nodes/housing-register/flag", "loop.flag": "/flags/1", "loop.flag_json": "/flags/1.json",
    "loop.answer_flag": "POST /flags/1/answer", "loop.flags_raised": "/flags", "loop.flags_raised_json": "/flags.json",
    "loop.inbox": "/inbox", "loop.inbox_json": "/inbox.json", "loop.digest": "/digest",
    "loop.digest_json": "/digest.json",
    # owners and admins (issue 15)
    "owner.your_data": "/your-data", "owner.your_data_json": "/your-data.json",
    "nodes.node_list_csv": "/nodes.csv?kind=dataset",
    "admin.accounts": "/admin/accounts", "admin.accounts_json": "/admin/accounts.json",
    "admin.new_account": "/admin/accounts/new", "admin.account": "/admin/accounts/ali",
    "admin.account_json": "/admin/accounts/ali.json", "admin.change_role": "POST /admin/accounts/ali/role",
    "admin.link_person": "POST /admin/accounts/ali/person", "admin.reset_password": "POST /admin/accounts/ali/reset",
    "admin.disable": "POST /admin/accounts/ali/disable", "admin.enable": "POST /admin/accounts/ali/enable",
    "admin.set_password": "/set-password/not-a-real-link",
}
# Who gets past the policy on each endpoint (by the roles in the issue, written out by hand).
EVERYONE = {None, "ali", "jo", "rob", "admin"}
SIGNED_IN = {"ali", "jo", "rob", "admin"}
EDITORS = {"jo", "admin"}  # housing-register and its edges are jo's
ALLOWED = {
    **{endpoint: SIGNED_IN for endpoint in URLS},
    **{endpoint: EVERYONE for endpoint in ("home.index", "home.index_json", "home.accessibility",
                                           "account.sign_in", "account.sign_out")},
    **{endpoint: EDITORS for endpoint in URLS if endpoint.startswith(("edit.", "bulk.", "api."))
       and not endpoint.startswith(("edit.history", "edit.change"))},
    "contributor.person": {"ali", "rob", "admin"}, "contributor.person_json": {"ali", "rob", "admin"},
    "api.nodes": SIGNED_IN, "api.node": SIGNED_IN, "api.lineage": SIGNED_IN,
    "openlineage.lineage": EDITORS, "openlineage.batch": EDITORS,  # owners' and admins' tokens
    **{endpoint: {"rob", "admin"} for endpoint in URLS if endpoint.startswith("leader.")},  # the estate pages
    "leader.decision": SIGNED_IN, "leader.decision_json": SIGNED_IN,  # a decision's provenance: teams, no names
    # social-housing-allocations and housing-register are jo's: jo and admins post and answer
    "loop.new_update": EDITORS, "loop.edit_update": EDITORS, "loop.answer_flag": EDITORS,
    "loop.inbox": EDITORS, "loop.inbox_json": EDITORS,  # the flags on one's data: owners and admins
    "owner.your_data": EDITORS, "owner.your_data_json": EDITORS,
    **{endpoint: {"admin"} for endpoint in URLS if endpoint.startswith("admin.")},  # accounts: admins only
    "admin.set_password": EVERYONE,  # the link is the secret
    **{endpoint: EDITORS for endpoint in URLS if endpoint.startswith("sources.remove")},  # a bulk change
}


def test_every_endpoint_is_in_the_route_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints <= set(URLS), f"add to URLS: {sorted(endpoints - set(URLS))}"


@pytest.fixture
def loop_records(db):
    """Update 1 (jo's, on social-housing-allocations) and flag 1 (ali's, on housing-register)."""
    from lineage import loop
    from lineage.graph import LineageGraph
    from lineage.policy import Actor

    store = Store(db)
    loop.post_update(store, "social-housing-allocations", actor=Actor("jo", "owner", "owner-jo"), text="Done")
    loop.raise_flag(LineageGraph.from_store(store), store, "housing-register",
                    actor=Actor("ali", "contributor", "officer-ali"), text="Late end dates")
    store.close()


PEOPLE_OF = {"ali": "officer-ali", "jo": "owner-jo"}
"""The person each demo account that may not see others by name is linked to."""


def unnamed_people(nodes_by_id, me: str) -> dict[str, str]:
    """The people a contributor or owner must never see named, by id: everyone but themselves and
    those accountable for something (an owner is named on what they own)."""
    owners = {n.get("owner") for n in nodes_by_id.values()}
    return {i: n["name"] for i, n in nodes_by_id.items() if n["kind"] == "person" and i != me and i not in owners}


def names_in(text: str, people: dict[str, str]) -> list[str]:
    """The ids and names of ``people`` that ``text`` contains (whole words: 'officer-al' is not 'officer-ali')."""
    return [found for person, name in people.items() for found in (person, name)
            if re.search(rf"(?<![\w-]){re.escape(found)}(?![\w-])", text)]


@pytest.mark.parametrize("who", [None, "ali", "jo", "rob", "admin"])
def test_route_matrix(app, db, loop_records, nodes_by_id, who):
    """Every role on every route, pages and JSON alike: allowed ones get past the policy, the
    others get a sign-in (nobody) or a 403. Writes are sent without a CSRF token, so an allowed
    one stops at the CSRF check (400) and nothing changes. Contributors and owners never find
    another person's name or id in any response body (issue 17)."""
    client = client_as(app, who)
    before = state(db)
    hidden = unnamed_people(nodes_by_id, PEOPLE_OF[who]) if who in PEOPLE_OF else {}
    for endpoint, url in URLS.items():
        method, _, path = url.rpartition(" ")
        response = client.open(path, method=method or "GET")
        assert not names_in(response.get_data(as_text=True), hidden), (who, url, names_in(response.text, hidden))
        allowed = who in ALLOWED[endpoint]
        if allowed:
            assert response.status_code not in (401, 403), (who, url, response.status_code)
            assert not (response.status_code == 302 and "/sign-in" in response.location), (who, url)
        elif who is None:
            assert response.status_code in (302, 401), (who, url, response.status_code)
        else:
            assert response.status_code == 403, (who, url, response.status_code)
        if method:
            assert response.status_code in (302, 400, 401, 403, 404, 428), (who, url, response.status_code)
    assert state(db) == before


# -- editing a node ---------------------------------------------------------------------------


def test_owner_edits_a_dataset_and_sees_it_everywhere(app, jo, db):
    page = jo.get("/nodes/housing-register/edit")
    assert page.status_code == 200 and "Data quality" in page.text
    values = form_values(page.text)
    assert values["quality_timeliness"] == "0.71" and values["owner"] == "Jo Fletcher"  # owners by name
    values.update(quality_timeliness="0.4", refresh="hourly")
    saved = jo.post("/nodes/housing-register/edit", data=values)
    assert saved.status_code == 302 and saved.location == "/nodes/housing-register"
    node = Store(db).node("housing-register")
    assert node["quality"]["timeliness"] == 0.4 and node["refresh"] == "hourly"
    assert node["quality"]["completeness"] == 0.94  # the rest as it was
    shown = jo.get("/nodes/housing-register")
    assert "which you can undo" in shown.text and "0.40" in shown.text
    change = re.search(r'href="/changes/(\d+)"', shown.text).group(1)
    detail = jo.get(f"/changes/{change}")
    assert "Timeliness" in detail.text and "<del>0.71</del>" in detail.text and "<ins>0.4</ins>" in detail.text
    assert jo.get(f"/changes/{change}.json").json["entries"][0]["differences"] == [
        ["quality.timeliness", 0.71, 0.4], ["refresh", "nightly", "hourly"]]
    token = csrf_token(jo, f"/changes/{change}")
    undone = jo.post(f"/changes/{change}/undo", data={"csrf_token": token})
    assert undone.status_code == 302
    assert Store(db).node("housing-register")["quality"]["timeliness"] == 0.71
    history = jo.get("/history.json").json["changes"]
    assert history[0]["summary"] == f"undo change {change}: edit dataset 'housing-register'"


def test_invalid_form_keeps_what_was_typed_and_changes_nothing(jo, db):
    values = form_values(jo.get("/nodes/housing-register/edit").text)
    values.update(quality_timeliness="about half", record_count="lots", name="")
    before = state(db)
    page = jo.post("/nodes/housing-register/edit", data=values)
    assert page.status_code == 400 and "govuk-error-summary" in page.text
    assert "Enter a score for timeliness from 0 to 1, like 0.85" in page.text
    assert "Enter number of records as a whole number" in page.text
    assert 'value="about half"' in page.text and 'value="lots"' in page.text
    assert state(db) == before


def test_stale_save_gets_the_conflict_page_and_nothing_is_overwritten(app, jo, db):
    mine = form_values(jo.get("/nodes/housing-register/edit").text)
    admin = client_as(app, "admin")
    theirs = form_values(admin.get("/nodes/housing-register/edit").text)
    theirs["refresh"] = "weekly"
    assert admin.post("/nodes/housing-register/edit", data=theirs).status_code == 302
    mine["refresh"] = "hourly"
    conflict = jo.post("/nodes/housing-register/edit", data=mine)
    assert conflict.status_code == 409 and "Someone else changed this first" in conflict.text
    assert re.search(r"weekly</td>\s*<td class=\"govuk-table__cell\">hourly", conflict.text)
    assert Store(db).node("housing-register")["refresh"] == "weekly"
    again = form_values(conflict.text)  # "Save my version over theirs": a choice, at the new version
    assert jo.post("/nodes/housing-register/edit", data=again).status_code == 302
    assert Store(db).node("housing-register")["refresh"] == "hourly"


def test_owner_cannot_edit_someone_elses_dataset(jo, db, nodes_by_id):
    other = someone_elses_dataset(nodes_by_id)
    assert jo.get(f"/nodes/{other}/edit").status_code == 403
    before = state(db)
    refused = jo.post(f"/nodes/{other}/edit", data={"name": "Mine now"})
    assert refused.status_code == 403 and "You can only edit what you own" in refused.text
    assert jo.patch(f"/api/nodes/{other}", json={"name": "x", "version": 1}).status_code == 403
    assert state(db) == before


def test_contributor_posting_to_edit_routes_is_refused(app, db):
    ali = client_as(app, "ali")
    before = state(db)
    for url in ("/nodes/housing-register/edit", "/nodes/housing-register/delete", "/nodes/new?kind=dataset",
                "/bulk", "/changes/1/undo"):
        assert ali.post(url, data={"name": "x"}).status_code == 403, url
    assert state(db) == before


def test_missing_csrf_token_is_refused(jo, db):
    values = form_values(jo.get("/nodes/housing-register/edit").text)
    del values["csrf_token"]
    values["refresh"] = "hourly"
    before = state(db)
    refused = jo.post("/nodes/housing-register/edit", data=values)
    assert refused.status_code == 400 and "CSRF" in refused.text
    assert state(db) == before


def test_script_in_every_text_field_is_escaped_everywhere(app, jo, db):
    values = form_values(jo.get("/nodes/housing-register/edit").text)
    for field in ("name", "description", "organisation", "tags", "refresh", "sensitivity"):
        values[field] = SCRIPT
    assert jo.post("/nodes/housing-register/edit", data=values).status_code == 302
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    for url in ("/nodes/housing-register", "/history", "/changes/2", "/search?q=alert",
                "/nodes/housing-register/edit", "/people/officer-ali"):
        page = client_as(app, "rob").get(url)
        assert SCRIPT not in page.text, url
    assert escaped in client_as(app, "rob").get("/nodes/housing-register").text
    assert client_as(app, "rob").get("/nodes/housing-register.json").json["node"]["name"] == SCRIPT


def test_new_node_form(jo, db):
    page = jo.get("/nodes/new?kind=ai_tool")
    assert page.status_code == 200 and 'value="Jo Fletcher"' in page.text
    values = form_values(page.text)
    values.update(id="rent-arrears-model", name="Rent arrears model", phase="beta-pilot", human_review="yes",
                  atrs_url="https://example.org/atrs/1", risks="bias against new tenants\nstale data")
    saved = jo.post("/nodes/new?kind=ai_tool", data=values)
    assert saved.status_code == 302 and saved.location == "/nodes/rent-arrears-model"
    node = Store(db).node("rent-arrears-model")
    assert (node["phase"], node["human_review"], node["risks"]) == (
        "beta-pilot", True, ["bias against new tenants", "stale data"])
    values.update(id="Bad Id", owner="someone-else")
    refused = jo.post("/nodes/new?kind=ai_tool", data=values)
    assert refused.status_code == 400 and "No person is called “someone-else”" in refused.text
    assert jo.get("/nodes/new").status_code == 200
    assert jo.get("/nodes/new?kind=wizard").status_code == 400


# -- edges and deletes ------------------------------------------------------------------------


def test_edge_choices_follow_the_model(app, jo):
    kinds = jo.get("/edges/new?target=housing-register")
    offered = re.findall(r'name="kind" type="radio" value="([a-z_]+)"', kinds.text)
    assert offered == ["enters", "supplies", "derives", "records_outcome"]
    enters = jo.get("/edges/new?target=housing-register&kind=enters")
    assert 'data-find-kinds="person"' in enters.text  # an enters edge offers only people, by name
    values = form_values(enters.text)
    values["other"] = "Housing register"  # a dataset, not a person
    refused = jo.post("/edges/new?target=housing-register&kind=enters", data=values)
    assert refused.status_code == 400 and "No person is called “Housing register”" in refused.text
    # An owner sees other people only counted (issue 17): a person who owns nothing is not offered by name
    assert jo.get("/find.json?q=ali+khan&kinds=person&for=pick").json["matches"] == []
    assert client_as(app, "admin").get("/find.json?q=ali+khan&kinds=person&for=pick").json["matches"]
    assert jo.get("/edges/new?source=housing-register&kind=enters").status_code == 400


def test_owner_adds_and_edits_an_edge(jo, db):
    page = jo.get("/edges/new?source=housing-register&kind=informs")
    values = form_values(page.text)
    values.update(other="prevention-grant-bid", influence="supporting")  # an id is found too
    saved = jo.post("/edges/new?source=housing-register&kind=informs", data=values)
    assert saved.status_code == 302
    edge = Store(db).edge("housing-register", values["other"])
    assert (edge["kind"], edge["influence"]) == ("informs", "supporting")
    edit = form_values(jo.get(f"/edges/housing-register/{values['other']}/edit").text)
    edit["influence"] = "primary"
    assert jo.post(f"/edges/housing-register/{values['other']}/edit", data=edit).status_code == 302
    assert Store(db).edge("housing-register", values["other"])["influence"] == "primary"


def test_delete_shows_what_it_disconnects_then_deletes_and_undoes(app, db):
    admin = client_as(app, "admin")
    preview = admin.get("/nodes/housing-register/delete")
    assert preview.status_code == 200
    sentence = re.search(r'id="consequence">([^<]+)<', preview.text).group(1)
    assert sentence.startswith("Removing this node and its ") and "decision" in sentence
    assert "Social housing allocations" in preview.text
    values = form_values(preview.text)
    deleted = admin.post("/nodes/housing-register/delete", data=values)
    assert deleted.status_code == 302
    change = re.search(r'/changes/(\d+)', admin.get(deleted.location).text).group(1)
    assert admin.get("/nodes/housing-register").status_code == 404
    token = csrf_token(admin, f"/changes/{change}")
    assert admin.post(f"/changes/{change}/undo", data={"csrf_token": token}).status_code == 302
    assert admin.get("/nodes/housing-register").status_code == 200


def test_delete_with_a_stale_version_is_a_conflict(app, jo, db):
    values = form_values(jo.get("/nodes/housing-register/delete").text)
    values["version"] = str(int(values["version"]) + 1)
    before = state(db)
    refused = jo.post("/nodes/housing-register/delete", data=values)
    assert refused.status_code == 409 and state(db) == before


# -- bulk -------------------------------------------------------------------------------------


def upload(client, name: str, content: bytes):
    token = csrf_token(client, "/bulk")
    return client.post("/bulk", data={"csrf_token": token, "file": (stdio.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_bulk_upload_preview_then_apply(jo, db):
    document = {"format": "lineage-graph/1", "edges": [],
                "nodes": [{"id": "housing-register", "kind": "dataset", "name": "Housing register",
                           "owner": "owner-jo", "quality": {"timeliness": 0.5}},
                          {"id": "arrears", "kind": "dataset", "name": "Rent arrears", "owner": "owner-jo"}]}
    before = state(db)
    uploaded = upload(jo, "changes.json", json.dumps(document).encode())
    assert uploaded.status_code == 302 and state(db) == before  # a dry run: nothing yet
    preview = jo.get(uploaded.location)
    assert "add 1 node and 0 edges" in " ".join(preview.text.split())
    assert jo.get(uploaded.location + ".json").json["counts"]["nodes_changed"] == 1
    token = re.search(r'name="csrf_token" value="([^"]+)"', preview.text).group(1)
    applied = jo.post(uploaded.location + "/apply", data={"csrf_token": token})
    assert applied.status_code == 302
    assert Store(db).node("arrears")["name"] == "Rent arrears"
    assert jo.get(uploaded.location).status_code == 404  # applied once, then gone


def test_bulk_upload_refuses_bad_files_others_nodes_and_big_ones(jo, db, nodes_by_id):
    before = state(db)
    bad = upload(jo, "nodes.csv", b"id,kind,name,quality.timeliness\nhousing-register,dataset,H,7\n")
    assert bad.status_code == 400 and "nodes.csv: line 2" in bad.text and "nothing was changed" in bad.text
    other = someone_elses_dataset(nodes_by_id)
    theirs = upload(jo, "nodes.csv", f"id,kind,name\n{other},dataset,Mine now\n".encode())
    assert theirs.status_code == 403
    big = upload(jo, "big.json", b" " * (MAX_UPLOAD + 10))
    assert big.status_code == 413 and "larger than 5 MB" in big.text
    assert state(db) == before


# -- the JSON API -----------------------------------------------------------------------------


@pytest.fixture
def token(db):
    return Accounts(Store(db)).new_token("jo", "tests", actor="test")


def test_api_writes_with_a_token(app, db, token):
    api = client_as(app, None)
    auth = {"Authorization": f"Bearer {token}"}
    record = {"id": "arrears", "kind": "dataset", "name": "Rent arrears", "owner": "owner-jo"}
    created = api.post("/api/nodes", json=record, headers=auth)
    assert created.status_code == 201 and created.json["node"]["version"] == 1
    assert api.patch("/api/nodes/arrears", json={"refresh": "daily"}, headers=auth).status_code == 428
    changed = api.patch("/api/nodes/arrears", json={"refresh": "daily", "version": 1}, headers=auth)
    assert changed.status_code == 200 and changed.json["node"]["refresh"] == "daily"
    before = state(db)
    stale = api.patch("/api/nodes/arrears", json={"refresh": "weekly", "version": 1}, headers=auth)
    assert stale.status_code == 409 and "changed by someone else" in stale.json["error"]["message"]
    assert state(db) == before
    edge = api.post("/api/edges", json={"source": "arrears", "target": "housing-register", "kind": "derives"},
                    headers=auth)
    assert edge.status_code == 201
    removed = api.delete("/api/edges/arrears/housing-register", headers={**auth, "If-Match": "1"})
    assert removed.status_code == 200
    undone = api.post(f"/api/changes/{removed.json['change']}/undo", headers=auth)
    assert undone.status_code == 201 and Store(db).edge("arrears", "housing-register")
    invalid = api.post("/api/nodes", json={"id": "x", "kind": "dataset", "name": "X",
                                           "quality": {"timeliness": 2}}, headers=auth)
    assert invalid.status_code == 400
    assert invalid.json["error"]["problems"][0]["field"] == "quality.timeliness"
    assert api.post("/api/nodes", data="id=x", headers=auth).status_code == 415
    assert api.post("/api/nodes", json=record, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_writes_are_rate_limited(app, db, token, monkeypatch):
    monkeypatch.setattr(writes, "WRITES_PER_MINUTE", 3)
    api = client_as(app, None)
    auth = {"Authorization": f"Bearer {token}"}
    statuses = [api.post("/api/nodes", json={"id": f"n{i}", "kind": "dataset", "name": "N", "owner": "owner-jo"},
                         headers=auth).status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]


# -- contributors see other people only by team -----------------------------------------------


def test_contributor_sees_no_other_names(app, nodes_by_id):
    """Only the people accountable for something (owners, named on what they own) are named."""
    ali = client_as(app, "ali")
    owners = {n.get("owner") for n in nodes_by_id.values()}
    people = {i: n["name"] for i, n in nodes_by_id.items()
              if n["kind"] == "person" and i != "officer-ali" and i not in owners}
    assert ali.get("/people/officer-ali").status_code == 200
    assert ali.get("/people/owner-jo").status_code == 403
    assert ali.get("/nodes?kind=person").status_code == 403
    assert ali.get("/api/nodes?kind=person").status_code == 403
    for url in ("/nodes/housing-cms", "/nodes/housing-register", "/search?q=officer", "/teams/housing-options",
                "/api/lineage/housing-cms?direction=upstream", "/api/nodes/housing-cms"):
        text = ali.get(url).text
        leaked = [name for name in people.values() if re.search(rf"\b{re.escape(name)}\b", text)]
        assert not leaked, (url, leaked)
    assert [p["id"] for p in ali.get("/search.json?q=khan").json["groups"]["person"]] == ["officer-ali"]
    colleague = sorted(people.values())[0]
    assert "person" not in ali.get(f"/search.json?q={colleague}").json["groups"]
    assert client_as(app, "rob").get(f"/search.json?q={colleague}").json["groups"]["person"]


def test_readers_keep_the_previous_engine_while_a_write_rebuilds_it(app, db):
    from web.db import get_graph, refresh_graph

    with app.app_context():
        old = get_graph()
        with Store(db).change("test", "edit") as change:
            change.update_node("housing-register", {"refresh": "hourly"})
        engine = app.extensions["lineage_engine"]
        with engine.lock:  # a writer is rebuilding
            assert get_graph() is old
        new = refresh_graph()
        assert new is not old and new.version == old.version + 1 and get_graph() is new

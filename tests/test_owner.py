"""Owners and admins (issue 15), through Flask's test client with CSRF on: Your data, lists people
can use, forms to the GOV.UK standard, merging CSV uploads, accounts in the app."""
from __future__ import annotations

import csv
import io as stdio
import re
from datetime import date, timedelta

import pytest
from test_editing import PASSWORDS, client_as, csrf_token, form_values, jo, state  # noqa: F401 (jo is a fixture)

from lineage import loop, owned
from lineage.accounts import Accounts
from lineage.graph import LineageGraph, traverse
from lineage.policy import Actor
from lineage.store import Store


def post_form(client, url: str, **changes):
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={**form_values(page.text), **changes})


def summary(page: str) -> list[tuple[str, str]]:
    """The error summary's (link, message) pairs, in order."""
    box = page[page.index("govuk-error-summary"):]
    box = box[:box.index("</ul>")]
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', box)


def banner(client, url: str) -> str:
    return re.search(r'govuk-notification-banner__heading">(.*?)</p>', client.get(url).text, re.S).group(1)


# -- Your data ------------------------------------------------------------------------------------


def test_your_data_lists_what_jo_owns_by_kind_with_figures_from_the_library(app, jo, db):
    page = jo.get("/your-data")
    assert page.status_code == 200 and "<h1 class=\"govuk-heading-xl\">Your data</h1>" in page.text
    data = jo.get("/your-data.json").json
    store = Store(db)
    owned_ids = {n["id"] for n in store.nodes(owner="owner-jo")}
    assert {item["id"] for items in data["groups"].values() for item in items} == owned_ids
    headings = re.findall(r'<h2 class="govuk-heading-l" id="kind-([a-z_]+)">', page.text)
    assert headings == [k for k in ("person", "team", "system", "dataset", "process", "ai_tool", "decision")
                        if k in data["groups"]]
    register = next(i for i in data["groups"]["dataset"] if i["id"] == "housing-register")
    assert register["quality_words"] == "fair (0.71): records are entered or updated late"
    g = LineageGraph.from_store(store)
    expected = owned.decisions_fed(g, "housing-register")
    assert (register["decisions"], register["largest_people_affected"]) == (
        expected["decisions"], expected["largest_people_affected"])
    reached = [d for d in traverse(g, "housing-register").ids() if g.kind(d) == "decision"]
    people = [g.record(d)["people_affected"] for d in reached if g.record(d).get("people_affected")]
    assert register["decisions"] == len(reached) and register["largest_people_affected"] == max(people)  # never a sum
    for link in ("/nodes/new", "/bulk", "/history", "/social-housing-allocations/updates/new"):
        assert f'{link}"' in page.text
    # the first thing to do: fair data that feeds many decisions
    assert data["attention"][0]["id"] == "housing-register" and "feeds" in data["attention"][0]["text"]


def test_open_flags_and_old_assessments_come_first(app, jo, db):
    store = Store(db)
    loop.raise_flag(LineageGraph.from_store(store), store, "lettings-outcomes",
                    actor=Actor("ali", "contributor", "officer-ali"), text="Offers missing")
    old = (date.today() - timedelta(days=400)).isoformat()
    with store.change("test", "an old assessment") as change:
        change.update_node("void-properties", {"quality": {"accuracy": {"score": 0.93, "as_of": old},
                                                           "completeness": 0.96, "timeliness": 0.9}})
    store.close()
    data = jo.get("/your-data.json").json
    reasons = [(a["id"], a["reason"]) for a in data["attention"]]
    assert reasons[0] == ("lettings-outcomes", "flags")
    assert ("void-properties", "stale") in reasons
    assert reasons.index(("void-properties", "stale")) < reasons.index(("housing-register", "fair"))
    page = jo.get("/your-data").text
    assert "1 open flag" in page and "assessed 400 days ago" in page.replace("Quality last", "quality last")


def test_your_data_for_an_account_without_a_person_and_for_admins(app, db):
    admin = client_as(app, "admin")
    assert "not linked to a person" in admin.get("/your-data").text
    assert admin.get("/your-data.json?person=owner-jo").json["person"]["name"] == "Jo Fletcher"


def test_sign_in_lands_each_role_at_its_front_door(app):
    for name, landing in (("jo", "/your-data"), ("admin", "/admin/accounts"), ("ali", "/people/officer-ali")):
        client = app.test_client()
        token = csrf_token(client, "/sign-in")
        signed = client.post("/sign-in", data={"csrf_token": token, "name": name, "password": PASSWORDS[name]})
        assert signed.status_code == 302 and signed.location == landing, name
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    back = client.post("/sign-in?next=/history", data={"csrf_token": token, "name": "jo", "password": PASSWORDS["jo"]})
    assert back.location == "/history"  # a page to go back to wins


# -- lists people can use -------------------------------------------------------------------------


def test_node_list_filters_sorts_pages_and_downloads(app, jo, db):
    mine = jo.get("/nodes.json?owner=mine").json
    assert {r["id"] for r in mine["rows"]} == {n["id"] for n in Store(db).nodes(owner="owner-jo")}
    assert all(r["owner_name"] == "Jo Fletcher" for r in mine["rows"])
    red = jo.get("/nodes.json?kind=dataset&quality=red").json["rows"]
    assert red and all(r["quality"] == "red" for r in red)
    organisation = "Northbridge Borough Council"
    inside = jo.get(f"/nodes.json?kind=dataset&organisation={organisation}").json
    assert inside["total"] == sum(1 for n in Store(db).nodes(kind="dataset") if n.get("organisation") == organisation)
    by_decisions = jo.get("/nodes.json?kind=dataset&sort=decisions&order=desc").json["rows"]
    counts = [r["decisions"] for r in by_decisions]
    assert counts == sorted(counts, reverse=True)
    by_name = jo.get("/nodes.json?kind=dataset").json
    assert [r["name"].lower() for r in by_name["rows"]] == sorted(r["name"].lower() for r in by_name["rows"])
    assert by_name["pages"] > 1 and jo.get(f"/nodes.json?kind=dataset&page={by_name['pages']}").status_code == 200
    assert jo.get(f"/nodes?kind=dataset&page={by_name['pages'] + 1}").status_code == 404
    page = jo.get("/nodes?kind=dataset&owner=mine").text
    assert "Decisions it feeds" in page and 'aria-sort="ascending"' in page and "Fair</strong> 0.71" in page
    download = jo.get("/nodes.csv?kind=dataset&owner=mine")
    rows = list(csv.DictReader(stdio.StringIO(download.text)))
    assert download.mimetype == "text/csv" and {r["id"] for r in rows} >= {"housing-register"}
    assert list(rows[0]) == list(owned.NODE_CSV_COLUMNS)


@pytest.mark.parametrize("query", ["owner=Not%20An%20Id", "quality=purple", "sort=colour", "order=up",
                                   "organisation=Nowhere", "kind=wizard", "page=0"])
def test_node_list_refuses_what_it_cannot_do(jo, query):
    refused = jo.get(f"/nodes.json?{query}")
    assert refused.status_code == 400 and refused.json["error"]["message"]


def test_node_list_hides_people_from_those_who_see_them_only_by_team(app):
    ali = client_as(app, "ali")
    kinds = {r["kind"] for r in ali.get("/nodes.json?sort=kind&page=1").json["rows"]}
    assert "person" not in kinds
    assert ali.get("/nodes.json?kind=person").status_code == 403
    assert client_as(app, "rob").get("/nodes.json?kind=person").status_code == 200
    assert client_as(app, "admin").get("/nodes.json?owner=mine").status_code == 400  # not linked to a person


def test_pickers_find_by_name_and_leave_out_the_node_itself(jo, app):
    found = jo.get("/find.json?q=bed&kinds=ai_tool,process&for=pick").json
    assert found["matches"] and all(m["kind"] in ("ai_tool", "process") and m["organisation"]
                                    for m in found["matches"])
    first = found["matches"][0]["id"]
    assert first not in [m["id"] for m in jo.get(f"/find.json?q=bed&kinds=ai_tool,process&exclude={first}").json["matches"]]
    people = jo.get("/find.json?q=jo&kinds=person&for=pick").json["matches"]
    assert any(m["id"] == "owner-jo" for m in people)
    assert jo.get("/find.json?q=x&kinds=wizard").status_code == 400
    assert jo.get("/find.json?q=x&for=everything").status_code == 400
    # for=pick widens nothing for those who may not edit: a contributor still sees only themselves
    assert client_as(app, "ali").get("/find.json?q=jo+fletcher&kinds=person&for=pick").json["matches"] == []


def test_forms_pick_names_ids_and_say_when_ambiguous(app, db):
    from web.find import pick
    with app.test_request_context():
        from flask import g
        g.actor = Actor("jo", "owner", "owner-jo")
        assert pick("owner-jo", ["person"], what="person")["id"] == "owner-jo"
        assert pick("jo fletcher", ["person"], what="person")["id"] == "owner-jo"
        with pytest.raises(ValueError, match="No decision is called “Jo Fletcher”"):
            pick("Jo Fletcher", ["decision"], what="decision")
        with pytest.raises(ValueError, match="Type more of the name") as ambiguous:
            pick("bed", ["ai_tool", "process"], what="AI tool or process")
        assert "(" in str(ambiguous.value)  # each match named with its organisation
        with pytest.raises(ValueError, match="Enter the name of the person"):
            pick("  ", ["person"], what="person")


# -- forms to the GOV.UK standard -----------------------------------------------------------------


def test_every_error_at_once_in_page_order_in_plain_words(jo, db):
    before = state(db)
    page = post_form(jo, "/nodes/housing-register/edit", name="", record_count="lots", quality_accuracy="1.7",
                     quality_timeliness_as_of_day="31", quality_timeliness_as_of_month="2",
                     quality_timeliness_as_of_year="2026", owner="Nobody At All")
    assert page.status_code == 400
    assert summary(page.text) == [
        ("#name", "Enter a name"),
        ("#owner", "No person is called “Nobody At All”: check the spelling, or type part of the name"),
        ("#record_count", "Enter number of records as a whole number, like 1,240"),
        ("#quality_timeliness_as_of_day", "Enter a real date, like 3 10 2026"),
        ("#quality_accuracy", "Enter a score for accuracy from 0 to 1, like 0.85"),
    ]
    assert "Is required" not in page.text and "expected" not in page.text.lower().split("<main")[1]
    assert state(db) == before


def test_quality_note_and_date_assessed_are_edited_and_the_banner_names_the_change(jo, db):
    saved = post_form(jo, "/nodes/housing-register/edit", quality_timeliness="0.8",
                      quality_timeliness_note="Backlog cleared", quality_timeliness_as_of_day="3 October 2026",
                      quality_timeliness_as_of_month="", quality_timeliness_as_of_year="")
    assert saved.status_code == 302
    assert Store(db).node("housing-register")["quality"]["timeliness"] == {
        "score": 0.8, "note": "Backlog cleared", "as_of": "2026-10-03"}
    assert Store(db).node("housing-register")["quality"]["accuracy"]["note"].startswith("Annual")  # kept
    said = banner(jo, saved.location)
    assert said.startswith("Housing register is saved (timeliness changed).") and "which you can undo" in said
    values = form_values(jo.get("/nodes/housing-register/edit").text)
    assert (values["quality_timeliness_as_of_day"], values["quality_timeliness_as_of_month"]) == ("3", "10")
    future = post_form(jo, "/nodes/housing-register/edit", quality_timeliness_as_of_day="1",
                       quality_timeliness_as_of_month="1", quality_timeliness_as_of_year="2999")
    assert ("#quality_timeliness_as_of_day", "The date assessed must be today or in the past") in summary(future.text)


def test_money_owner_by_name_and_radios_not_chosen_for_you(app, db):
    admin = client_as(app, "admin")
    new = admin.get("/nodes/new?kind=decision")
    assert 'type="radio"' in new.text and " checked" not in new.text  # nothing pre-selected
    saved = post_form(admin, "/nodes/new?kind=decision", id="rent-policy", name="Rent policy", value_gbp="£1.2m",
                      owner="Jo Fletcher")
    assert saved.status_code == 302
    node = Store(db).node("rent-policy")
    assert (node["value_gbp"], node["owner"], node.get("human_in_loop")) == (1_200_000, "owner-jo", None)
    again = post_form(admin, "/nodes/rent-policy/edit", value_gbp="1,500,000")
    assert again.status_code == 302 and Store(db).node("rent-policy")["value_gbp"] == 1_500_000
    bad = post_form(admin, "/nodes/rent-policy/edit", value_gbp="a lot")
    assert ("#value_gbp", "Enter an amount in pounds, like £1.2m or 1,200,000") in summary(bad.text)
    chosen = admin.get("/nodes/new")
    assert " checked" not in chosen.text
    unchosen = admin.get("/nodes/new?submit=Continue")
    assert unchosen.status_code == 400 and "Choose what you want to add" in unchosen.text


def test_edge_kinds_in_plain_words_from_the_nodes_side(jo):
    page = jo.get("/edges/new?source=housing-register")
    assert "Where does this data go next?" in page.text and " checked" not in page.text
    assert "A decision it informs" in page.text and "An AI tool or process that uses it" in page.text
    assert "Where does this data come from?" in jo.get("/edges/new?target=housing-register").text
    unchosen = jo.get("/edges/new?source=housing-register&asked=1")
    assert unchosen.status_code == 400 and "Choose one of the answers" in unchosen.text


def test_edge_added_by_name_and_a_cross_organisation_edge_asks_first(jo, db):
    url = "/edges/new?source=housing-register&kind=informs"
    empty = post_form(jo, url)
    assert summary(empty.text)[0] == ("#other", "Enter the name of the decision the data goes to")
    vague = post_form(jo, url, other="bed")
    assert vague.status_code == 400 and "Type more of the name" in vague.text
    added = post_form(jo, url, other="Homelessness Prevention Grant bid 2027/28")
    assert added.status_code == 302, summary(added.text)
    assert Store(db).edge("housing-register", "prevention-grant-bid")["kind"] == "informs"
    assert "Housing register now informs Homelessness Prevention Grant bid 2027/28" in banner(jo, added.location)
    before = state(db)
    cross_url = "/edges/new?source=housing-register&kind=feeds"
    other = "Emergency admissions and bed demand forecast"
    asked = post_form(jo, cross_url, other=other)
    assert asked.status_code == 400 and "This joins two organisations" in asked.text
    assert summary(asked.text) == [("#confirm_cross", "Confirm that data goes from Northbridge Borough Council to "
                                                      "Riverside University Hospitals NHS Foundation Trust")]
    assert state(db) == before
    confirmed = post_form(jo, cross_url, other=other, confirm_cross="yes")
    assert confirmed.status_code == 302


# -- bulk uploads merge ---------------------------------------------------------------------------


def upload(client, content: str, name: str = "changes.csv", blanks: str | None = None):
    token = csrf_token(client, "/bulk")
    data = {"csrf_token": token, "file": (stdio.BytesIO(content.encode()), name)}
    if blanks:
        data["blanks"] = blanks
    return client.post("/bulk", data=data, content_type="multipart/form-data")


def test_a_csv_row_changes_only_its_columns_and_blanks_keep(jo, db):
    sheet = "id,quality.timeliness,refresh\nhousing-register,0.8,\n"
    sent = upload(jo, sheet)
    assert sent.status_code == 302
    preview = jo.get(sent.location)
    assert "Blank cells and columns the file does not have leave what is stored as it is" in preview.text
    assert "Timeliness: 0.71 → 0.8" in preview.text and "refreshed" not in preview.text.split("Nodes changed")[1]
    token = csrf_token(jo, sent.location)
    assert jo.post(sent.location + "/apply", data={"csrf_token": token}).status_code == 302
    node = Store(db).node("housing-register")
    assert node["quality"]["timeliness"] == 0.8 and node["refresh"] == "nightly" and node["name"] == "Housing register"
    assert node["quality"]["accuracy"]["note"].startswith("Annual")  # other dimensions as they were


def test_an_upload_that_asks_for_blanks_to_clear(jo, db):
    sent = upload(jo, "id,refresh,quality.accuracy.note\nhousing-register,,\n", blanks="clear")
    preview = jo.get(sent.location)
    assert "Blank cells clear what is stored in their column" in preview.text
    assert "How often it is refreshed: nightly → (cleared)" in preview.text
    assert "Accuracy: note: Annual re-registration overdue for 1,106 households. → (cleared)" in preview.text
    token = csrf_token(jo, sent.location)
    jo.post(sent.location + "/apply", data={"csrf_token": token})
    node = Store(db).node("housing-register")
    assert "refresh" not in node and "note" not in node["quality"]["accuracy"]
    assert node["quality"]["accuracy"]["score"] == 0.79


def test_upload_messages_name_the_file_never_a_server_path(jo, db):
    bad = upload(jo, "id,quality.timeliness\nhousing-register,lots\n", name="mine.csv")
    assert bad.status_code == 400 and "mine.csv: line 2" in bad.text
    assert "/tmp" not in bad.text and "tmp" not in re.sub(r"<[^>]+>", "", bad.text).split("Upload changes")[1][:2000]
    new = upload(jo, "id,name\nbrand-new,Brand new\n")  # a new node needs its kind
    assert new.status_code == 400 and "kind" in new.text


# -- accounts in the app --------------------------------------------------------------------------


def test_admin_adds_an_account_with_a_set_password_link(app, db):
    admin = client_as(app, "admin")
    page = post_form(admin, "/admin/accounts/new", name="sandra", role="owner", person="Sandra Bell", how="link")
    assert page.status_code == 200 and "Give sandra this link" in page.text
    link = re.search(r'id="set-password-link">([^<]+)<', page.text).group(1)
    assert 'data-module="app-copy"' in page.text and "govuk-!-text-break-word" in page.text
    path = link.split("localhost", 1)[1]
    visitor = app.test_client()
    mismatch = post_form(visitor, path, password="correct horse battery", again="correct horse")
    assert mismatch.status_code == 400 and "Enter the same password twice" in mismatch.text
    short = post_form(visitor, path, password="short", again="short")
    assert short.status_code == 400 and "at least 12 characters" in short.text
    common = post_form(visitor, path, password="111111111111", again="111111111111")
    assert common.status_code == 400 and "one of the most common ones" in common.text
    done = post_form(visitor, path, password="correct horse battery", again="correct horse battery")
    assert done.status_code == 302 and done.location == "/sign-in"
    assert visitor.get(path).status_code == 404  # once only
    user = Accounts(Store(db)).verify("sandra", "correct horse battery")
    assert user["role"] == "owner" and user["person"] == "revs-manager-sandra"
    log = [entry["action"] for entry in Accounts(Store(db)).log(user="sandra")]
    assert log[-1] == "added as owner" and "password set with a set-password link; every session ended" in log


def test_admin_add_account_errors_all_at_once(app, db):
    admin = client_as(app, "admin")
    empty = post_form(admin, "/admin/accounts/new")
    assert [href for href, _ in summary(empty.text)] == ["#name", "#role", "#how"]
    assert "checked" not in admin.get("/admin/accounts/new").text
    taken = post_form(admin, "/admin/accounts/new", name="jo", role="owner", person="Nobody At All", how="password",
                      password="short")
    assert [href for href, _ in summary(taken.text)] == ["#name", "#person", "#password"]
    assert "There is already an account called jo" in taken.text
    common = post_form(admin, "/admin/accounts/new", name="kim", role="leader", how="password",
                       password="000000000000")
    assert [href for href, _ in summary(common.text)] == ["#password"] and "most common ones" in common.text
    made = post_form(admin, "/admin/accounts/new", name="kim", role="leader", how="password",
                     password="a long first password")
    assert made.status_code == 302 and Accounts(Store(db)).verify("kim", "a long first password")


def test_admin_changes_role_links_person_resets_and_disables(app, db):
    admin = client_as(app, "admin")
    assert "Who can do what" in admin.get("/admin/accounts").text
    assert admin.get("/admin/accounts.json").json["accounts"][0]["name"]
    assert admin.get("/admin/accounts/nobody").status_code == 404
    url = "/admin/accounts/ali"
    token = csrf_token(admin, url)
    assert admin.post(f"{url}/role", data={"csrf_token": token, "role": "owner"}).status_code == 302
    assert admin.post(f"{url}/role", data={"csrf_token": token, "role": "king"}).status_code == 400
    refused = admin.post("/admin/accounts/admin/role", data={"csrf_token": token, "role": "leader"})
    assert refused.status_code == 400 and "You cannot take away your own admin role" in refused.text
    assert admin.post(f"{url}/person", data={"csrf_token": token, "person": "Jo Fletcher"}).status_code == 302
    unknown = admin.post(f"{url}/person", data={"csrf_token": token, "person": "Nobody At All"})
    assert unknown.status_code == 400 and "No person is called" in unknown.text
    accounts = Accounts(Store(db))
    assert (accounts.get("ali")["role"], accounts.get("ali")["person"]) == ("owner", "owner-jo")
    reset = admin.post(f"{url}/reset", data={"csrf_token": token})
    assert reset.status_code == 200 and "/set-password/" in reset.text
    ali = client_as(app, "ali")
    secret = ali.post("/account", data={"csrf_token": csrf_token(ali, "/account"), "label": "script", "expires": "never"})
    secret = re.search(r'id="new-token">([^<]+)<', secret.text).group(1)
    assert admin.post(f"{url}/disable", data={"csrf_token": token}).status_code == 302
    assert ali.get("/nodes/housing-register").status_code == 302  # the session ends
    assert app.test_client().get("/api/nodes", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert Accounts(Store(db)).verify("ali", PASSWORDS["ali"]) is None
    assert admin.post("/admin/accounts/admin/disable", data={"csrf_token": token}).status_code == 302
    assert not Accounts(Store(db)).get("admin")["disabled"]  # not oneself
    assert admin.post(f"{url}/enable", data={"csrf_token": token}).status_code == 302
    assert Accounts(Store(db)).verify("ali", PASSWORDS["ali"])["name"] == "ali"
    actions = [entry["action"] for entry in Accounts(Store(db)).log(user="ali")]
    for action in ("role set to owner", "linked to owner-jo", "disabled; every session ended", "enabled"):
        assert action in actions


def test_revoking_a_token_asks_first(app):
    ali = client_as(app, "ali")
    token = csrf_token(ali, "/account")
    unchosen = ali.post("/account", data={"csrf_token": token, "label": "my script"})
    assert unchosen.status_code == 400 and "Choose when the token stops working" in unchosen.text
    assert 'value="never" checked' not in ali.get("/account").text  # no radio chosen for you
    made = ali.post("/account", data={"csrf_token": token, "label": "my script", "expires": "never"})
    token_id = re.search(r'/account/tokens/(\d+)/revoke', made.text).group(1)
    ask = ali.get(f"/account/tokens/{token_id}/revoke")
    assert ask.status_code == 200 and "Yes, revoke it" in ask.text and "No, keep it" in ask.text
    assert ali.get("/account/tokens/999/revoke").status_code == 404
    done = ali.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302 and "The token for my script is revoked" in banner(ali, "/account")


def test_set_password_links_expire(db):
    accounts = Accounts(Store(db))
    secret = accounts.new_password_link("ali", actor="admin", hours=0)
    assert accounts.link_user(secret) is None
    with pytest.raises(Exception, match="expired or was already used"):
        accounts.use_password_link(secret, "a long new password")


def test_cli_disables_enables_and_makes_password_links(db):
    from click.testing import CliRunner

    from lineage.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "user", "disable", "ali"]).output == "ali is disabled.\n"
    assert "(disabled)" in runner.invoke(cli, ["--db", str(db), "user", "list"]).output
    assert Accounts(Store(db)).verify("ali", PASSWORDS["ali"]) is None
    assert runner.invoke(cli, ["--db", str(db), "user", "enable", "ali"]).exit_code == 0
    link = runner.invoke(cli, ["--db", str(db), "user", "password-link", "ali", "--base-url", "https://x.gov.uk/"])
    secret = link.output.strip().removeprefix("https://x.gov.uk/set-password/")
    assert Accounts(Store(db)).link_user(secret)["name"] == "ali"
    refused = runner.invoke(cli, ["--db", str(db), "user", "disable", "nobody"])
    assert refused.exit_code == 1 and "there is no account called 'nobody'" in refused.output


def test_decision_counts_for_sorting_agree_with_each_nodes_own_count(db):
    store = Store(db)
    g = LineageGraph.from_store(store)
    counts = owned.decision_counts(g)
    for node_id in g.ids:
        if g.kind(node_id) in ("system", "dataset", "process", "ai_tool", "decision"):
            assert counts[node_id] == owned.decisions_fed(g, node_id)["decisions"], node_id
    assert owned.decision_counts(g) is counts  # kept for the graph's life


def test_an_owner_left_as_it_was_stays_even_when_another_has_the_same_name(jo, db):
    store = Store(db)
    with store.change("test", "a namesake") as change:
        change.add_node({"id": "another-jo", "kind": "person", "name": "Jo Fletcher"})
    store.close()
    assert post_form(jo, "/nodes/housing-register/edit", refresh="weekly").status_code == 302
    assert Store(db).node("housing-register")["owner"] == "owner-jo"
    other = post_form(jo, "/nodes/lettings-outcomes/edit", owner="jo fletcher x")
    assert other.status_code == 400

"""Issue 14 through Flask's test client: a front door for each role, My impact answer first, record
issues people can act on (JSON, CSV, forms, the API), plain words, no link that ends in a 403, one
"What happened next" feed with who posted each update, and future outcome dates refused."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from test_editing import client_as, form_values

from lineage import words
from lineage.errors import ValidationError
from lineage.io.csv import read_csv, write_csv
from lineage.store import Store
from web import create_app

DECISION = "social-housing-allocations"  # jo's; officer-ali's records reach it


@pytest.fixture
def app(db):
    return create_app({"LINEAGE_DB": str(db), "TESTING": True})


def post_form(client, url: str, **changes):
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={**form_values(page.text), **changes})


def main_of(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.links.append(href.split("#")[0])


def links_of(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return sorted(set(link for link in parser.links if link))


# -- front doors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who, door", [("ali", "/people/officer-ali"), ("jo", "/your-data"), ("rob", "/leader"),
                                       ("admin", "/admin/accounts")])
def test_each_role_has_a_front_door(app, who, door):
    client = client_as(app, who)
    assert client.get("/").location == door
    assert client.get(door).status_code == 200
    assert client.get("/index.json").status_code == 200  # the JSON twin stays the estate's figures


def test_signing_in_as_a_contributor_lands_on_my_impact(app):
    client = app.test_client()
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    signed = client.post("/sign-in", data={"csrf_token": token, "name": "ali", "password": "contributor-demo"},
                         follow_redirects=True)
    assert signed.request.path == "/people/officer-ali"
    assert "Decisions your records feed" in signed.text


def test_a_contributor_account_linked_to_no_person_gets_the_home_page(db):
    store = Store(db)
    from lineage.accounts import Accounts
    Accounts(store).add("newbie", "newbie-password-1", role="contributor", person=None, actor="test")
    store.close()
    app = create_app({"LINEAGE_DB": str(db), "TESTING": True})
    page = client_as(app, "newbie").get("/")
    assert page.status_code == 200 and "Find yourself" in page.text


def test_contributor_navigation_has_my_impact_and_their_team(app):
    nav = client_as(app, "ali").get("/people/officer-ali").text
    header = nav[nav.index('class="govuk-service-navigation"'):nav.index("</section>")]
    header = re.sub(r"\s+", " ", header)
    assert 'href="/people/officer-ali"' in header and "My impact" in header
    assert 'href="/teams/housing-options"' in header and "> Your team <" in header
    assert "Find yourself" not in header


def test_anonymous_visitors_are_told_to_sign_in_not_given_a_search(app):
    home = client_as(app, None).get("/")
    assert home.status_code == 200
    assert 'id="sign-in-prompt"' in home.text and 'href="/sign-in"' in home.text
    assert 'id="search-q"' not in home.text and "Find yourself" not in home.text
    assert client_as(app, None).get("/search?q=ali").status_code == 302  # to sign in, never a silent nothing


def test_an_open_database_still_offers_the_search(tmp_path, samples_db):
    from conftest import copy_db
    app = create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "open.db")), "TESTING": True})
    home = app.test_client().get("/")
    assert home.status_code == 200 and 'id="search-q"' in home.text and 'id="sign-in-prompt"' not in home.text


# -- no dead ends ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/people/officer-ali", "/teams/housing-options", f"/nodes/{DECISION}",
                                  "/nodes/housing-register", "/account"])
def test_a_contributor_is_never_offered_a_link_that_ends_in_a_403(app, path):
    ali = client_as(app, "ali")
    page = ali.get(path)
    assert page.status_code == 200
    refused = [link for link in links_of(page.text)
               if not link.startswith(("/static/", "/sign-out")) and ali.get(link).status_code == 403]
    assert not refused, f"{path} links to pages Ali may not see: {refused}"


def test_no_people_breadcrumb_or_people_count_link_for_contributors(app):
    page = client_as(app, "ali").get("/people/officer-ali").text
    assert 'href="/nodes?kind=person"' not in page
    assert 'href="/people/owner-jo"' not in page and "Jo Fletcher" in page  # named as the owner, not linked


# -- My impact, answer first -----------------------------------------------------------------------


def test_my_impact_puts_the_decisions_first_and_folds_the_details(app):
    page = main_of(client_as(app, "ali").get("/people/officer-ali").text)
    order = [page.index(f'id="{section}"') for section in
             ("decisions", "what-happened-next", "help", "issues", "picture-heading", "details-heading")]
    assert order == sorted(order)
    assert page.index('id="flag-first"') < page.index('id="decisions"')
    for folded in ("quality", "twin", "changes"):
        assert re.search(rf'<details class="govuk-details" id="{folded}">', page)
    assert 'class="app-contents"' in page


PLAIN_WORDS_BANNED = ["downstream", "upstream", "Downstream", "Upstream", " node", " edge", "derives", "supplies",
                      "Ai tool", "Atrs url", "Version 1", "Steps to follow", "AMBER", "RED", "GREEN"]


@pytest.mark.parametrize("path", ["/people/officer-ali", "/teams/housing-options"])
def test_contributor_pages_speak_plain_words(app, path):
    page = main_of(client_as(app, "ali").get(path).text)
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", page, flags=re.S))
    for word in PLAIN_WORDS_BANNED:
        assert word not in text, f"{path} says {word!r}"
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text), "an ISO timestamp"
    assert "feeds edge" not in text and "by cli" not in text


def test_times_are_uk_local_time_in_words():
    assert words.uk_time("2026-07-01T13:05:00+00:00") == "1 July 2026, 14:05"  # British Summer Time
    assert words.uk_time("2026-12-01T13:05:00+00:00") == "1 December 2026, 13:05"
    assert words.uk_time("not a time") == "not a time"
    assert words.uk_date("2026-10-03") == "3 October 2026"


def test_quality_has_plain_names_and_scores_in_words():
    assert {d: words.dimension_name(d) for d in ("completeness", "timeliness")} == {
        "completeness": "Records are missing details", "timeliness": "Records are entered or updated late"}
    assert words.score_text(0.71) == "fair (0.71)" and words.score_text(None, "red") == "poor"
    assert words.dimension_label("uniqueness") == "The same person or case is recorded twice (uniqueness)"


def test_change_lines_name_things_instead_of_ids():
    assert words.change_line("add feeds edge housing-register -> nhs-bed-demand-forecast by cli", [],
                             {"housing-register": "Housing register", "nhs-bed-demand-forecast": "Bed demand"}) \
        == "A new link: Housing register now goes into Bed demand"
    assert words.change_line("load 4 files", [], {}) == "The map of the data was updated from a file"


# -- What happened next ----------------------------------------------------------------------------


def test_what_happened_next_is_one_feed_with_who_said_it(app):
    jo = client_as(app, "jo")
    posted = post_form(jo, f"/nodes/{DECISION}/updates/new", text="2,300 households re-banded",
                       date="2026-10-03")
    assert posted.status_code == 302
    page = client_as(app, "ali").get("/people/officer-ali")
    feed = page.text[page.text.index('id="what-happened-next"'):page.text.index('id="help"')]
    assert "No outcome updates yet" not in feed
    assert "2,300 households re-banded" in feed and "Posted by Jo Fletcher" in feed
    assert "1,412 homes let" in feed and "Recorded on the decision by Jo Fletcher" in feed
    data = client_as(app, "ali").get("/people/officer-ali.json").get_json()["what_happened_next"]
    assert [item["kind"] for item in data][:1] == ["update"] and {i["kind"] for i in data} == {"update", "outcome"}
    cards = client_as(app, "ali").get("/people/officer-ali.json").get_json()["decisions"]
    outcomes = {c["id"] for c in cards if c["outcome"]}
    assert outcomes == {i["subject"] for i in data if i["kind"] == "outcome"}  # the cards and the feed agree


def test_an_outcome_dated_in_the_future_is_refused(app):
    jo = client_as(app, "jo")
    ahead = (date.today() + timedelta(days=150)).isoformat()
    refused = post_form(jo, f"/nodes/{DECISION}/updates/new", text="Looking ahead", date=ahead)
    assert refused.status_code == 400 and "The date it happened must be today or in the past" in refused.text
    assert "govuk-error-summary" in refused.text
    today = post_form(jo, f"/nodes/{DECISION}/updates/new", text="Today", date=date.today().isoformat())
    assert today.status_code == 302


# -- record issues people can act on -----------------------------------------------------------------


def test_issue_short_form_round_trips():
    text = "[completeness] Household size missing: 40; [uniqueness] Same applicant twice: 1,200; Something else"
    issues = words.parse_issues(text)
    assert issues == [{"note": "Household size missing", "count": 40, "dimension": "completeness"},
                      {"note": "Same applicant twice", "count": 1200, "dimension": "uniqueness"},
                      {"note": "Something else"}]
    assert words.parse_issues(words.issues_short(issues)) == issues


def test_csv_carries_issues_in_their_short_form(tmp_path):
    (tmp_path / "nodes.csv").write_text("id,kind,name,issues\nali,person,Ali,\n"
                                        "reg,dataset,Register,[timeliness] End dates late: 12\n")
    (tmp_path / "edges.csv").write_text("source,target,kind,records,records_with_issues,issues\n"
                                        "ali,reg,enters,100,52,[completeness] Household size missing: 40; "
                                        "[uniqueness] Same applicant recorded twice: 12\n")
    data = read_csv(tmp_path / "nodes.csv", tmp_path / "edges.csv")
    edge = data.edges[0]
    assert edge["issues"] == [{"note": "Household size missing", "count": 40, "dimension": "completeness"},
                              {"note": "Same applicant recorded twice", "count": 12, "dimension": "uniqueness"}]
    assert next(n for n in data.nodes if n["id"] == "reg")["issues"][0]["count"] == 12
    out = tmp_path / "out"
    write_csv(data.nodes, data.edges, out)
    assert "[completeness] Household size missing: 40; [uniqueness] Same applicant recorded twice: 12" in \
        (out / "edges.csv").read_text()
    again = read_csv(out / "nodes.csv", out / "edges.csv")
    assert again.edges[0]["issues"] == edge["issues"]


@pytest.mark.parametrize("cell, field", [("[speed] Too slow: 4", "issues[0].dimension"), (": 4", "issues[0].note")])
def test_bad_issues_in_csv_are_named(tmp_path, cell, field):
    (tmp_path / "nodes.csv").write_text("id,kind,name\nali,person,Ali\nreg,dataset,Register\n")
    (tmp_path / "edges.csv").write_text(f"source,target,kind,issues\nali,reg,enters,{cell}\n")
    with pytest.raises(ValidationError) as caught:
        read_csv(tmp_path / "nodes.csv", tmp_path / "edges.csv")
    assert any(p.field == field and "line 2" in p.where for p in caught.value.problems), caught.value.problems


def test_the_api_and_the_page_twin_carry_issues(app):
    ali = client_as(app, "ali")
    edges = ali.get("/api/nodes/officer-ali").get_json()["edges"]
    entered = next(e for e in edges if e["kind"] == "enters" and e["target"] == "housing-cms")
    assert entered["issues"][0] == {"note": "Household size missing", "count": 40, "dimension": "completeness"}
    data = ali.get("/people/officer-ali.json").get_json()
    assert data["record_issues"][0]["issues"][0] == entered["issues"][0]
    assert data["record_issues"][0]["flag"]["kind"] == "dataset"


def test_the_api_refuses_bad_issues_and_changes_nothing(app, db):
    admin = client_as(app, "admin")
    version = admin.get("/api/nodes/officer-ali").get_json()["edges"]
    edge = next(e for e in version if e["target"] == "housing-cms")
    bad = admin.patch("/api/edges/officer-ali/housing-cms", json={"version": edge["version"],
                                                                  "issues": [{"count": -1, "dimension": "speed"}]})
    assert bad.status_code == 400 and "issues[0]" in bad.text
    good = admin.patch("/api/edges/officer-ali/housing-cms", json={
        "version": edge["version"], "issues": [{"note": "Household size missing", "count": 41,
                                                "dimension": "completeness"}]})
    assert good.status_code == 200, good.text
    assert admin.get("/people/officer-ali.json").get_json()["record_issues"][0]["issues"][0]["count"] == 41


def test_owners_edit_issues_in_the_edge_form_with_errors_against_the_field(app, db):
    admin = client_as(app, "admin")
    url = "/edges/officer-ali/housing-cms/edit"
    page = admin.get(url)
    assert page.status_code == 200 and "What the issues are" in page.text
    values = form_values(page.text)
    assert "[completeness] Household size missing: 40" in values["issues"]
    bad = admin.post(url, data={**values, "issues": "[speed] Too slow: 4"})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.text
    saved = admin.post(url, data={**values, "issues": "[validity] Postcode not a postcode: 9\nDate of birth missing"})
    assert saved.status_code == 302
    store = Store(db)
    try:
        assert store.edge("officer-ali", "housing-cms")["issues"] == [
            {"note": "Postcode not a postcode", "count": 9, "dimension": "validity"}, {"note": "Date of birth missing"}]
    finally:
        store.close()


def test_every_sample_issue_list_adds_up():
    from conftest import sample_records
    nodes, edges = sample_records()
    entering = [e for e in edges if e["kind"] == "enters" and e.get("records_with_issues")]
    assert entering and all(sum(i["count"] for i in e["issues"]) == e["records_with_issues"] for e in entering)
    assert any(n.get("issues") for n in nodes if n["kind"] == "dataset")

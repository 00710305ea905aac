"""Closing the loop in the app: outcome updates on My impact, flags, the owner's inbox, the digest
and stale flags on Insights, through Flask's test client with CSRF on, for every role."""
from __future__ import annotations

import re

import networkx as nx
import pytest
from conftest import flow_graph, sample_records
from test_editing import SCRIPT, client_as, csrf_token, form_values

from lineage import loop
from lineage.accounts import Accounts
from lineage.graph import LineageGraph
from lineage.policy import Actor
from lineage.store import Store
from web import create_app

DECISION = "social-housing-allocations"  # jo's; officer-ali's records reach it
DATASET = "housing-register"  # jo's
ALI = Actor("ali", "contributor", "officer-ali")
JO = Actor("jo", "owner", "owner-jo")


@pytest.fixture
def app(db):
    store = Store(db)
    # a contributor whose records do not reach the decision
    Accounts(store).add("amara", "amara-password-1", role="contributor", person="nhs-ward-nurse-amara", actor="test")
    store.close()
    return create_app({"LINEAGE_DB": str(db), "TESTING": True})


@pytest.fixture(scope="module")
def flow():
    return flow_graph(*sample_records())


def post_form(client, url: str, **changes):
    """Fill the form at ``url`` as a browser would, change some fields, and send it."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    values = {**form_values(page.text), **changes}
    return client.post(url, data=values)


def post_update(db, text="The allocations policy review is done", **figures):
    store = Store(db)
    try:
        return loop.post_update(store, DECISION, actor=JO, text=text, figures=figures, date="2026-10-03")
    finally:
        store.close()


def raise_flag(db, text="End dates are entered weeks late", dimension="timeliness"):
    store = Store(db)
    try:
        return loop.raise_flag(LineageGraph.from_store(store), store, DATASET, actor=ALI, text=text,
                               dimension=dimension, records=40)
    finally:
        store.close()


# -- outcome updates ------------------------------------------------------------------------------


def test_only_the_owner_and_admins_are_offered_and_may_post(app):
    for who, offered in (("jo", True), ("admin", True), ("ali", False), ("rob", False)):
        page = client_as(app, who).get(f"/nodes/{DECISION}").text
        assert ("Post an update" in page) is offered, who
        status = client_as(app, who).get(f"/nodes/{DECISION}/updates/new").status_code
        assert status == (200 if offered else 403), who
    assert client_as(app, None).get(f"/decisions/{DECISION}/updates/new").status_code == 302
    assert client_as(app, "jo").get(f"/decisions/{DECISION}/updates/new").status_code == 200
    assert client_as(app, "jo").get(f"/nodes/{DATASET}/updates/new").status_code == 404  # not a decision
    assert client_as(app, "jo").get("/nodes/housing-need-model/updates/new").status_code == 403  # not jo's
    assert client_as(app, "admin").get("/nodes/housing-need-model/updates/new").status_code == 200  # an AI tool


def test_owner_posts_an_update_and_a_contributor_whose_records_reach_it_sees_it_new(app, db, flow):
    assert nx.has_path(flow, "officer-ali", DECISION) and not nx.has_path(flow, "nhs-ward-nurse-amara", DECISION)
    ali = client_as(app, "ali")
    first = ali.get("/people/officer-ali").text  # a first visit: only the outcomes recorded on the decisions
    assert "Posted by" not in first and ">New</strong>" not in first
    assert "1,412 homes let" in first[first.index('id="what-happened-next"'):first.index('id="help"')]
    jo = client_as(app, "jo")
    posted = post_form(jo, f"/nodes/{DECISION}/updates/new", text=f"Allocations reviewed {SCRIPT}",
                       date="2026-10-03", people_helped="2,300", gbp_secured="£1200000", days_saved="")
    assert posted.status_code == 302 and posted.location == "/updates/1"
    shown = jo.get("/updates/1")
    assert SCRIPT not in shown.text and "&lt;script&gt;" in shown.text
    assert "2,300 people helped, £1.2m secured" in shown.text and "is posted" in shown.text
    assert jo.get("/updates/1.json").json["update"]["figures"] == {"people_helped": 2300, "gbp_secured": 1200000}

    page = ali.get("/people/officer-ali").text
    section = page[page.index('id="what-happened-next"'):page.index('id="help"')]
    assert "Allocations reviewed" in section and ">New</strong>" in section and "1 is new since your last visit" in section
    # one feed: the update, who posted it (the decision's owner, named as owners are) and when, in UK
    # time, then the outcome recorded on the decision, which the decision's card shows too
    assert "Posted by Jo Fletcher" in section and "the outcome dates from 3 October 2026" in section
    assert section.index("Allocations reviewed") < section.index("1,412 homes let")
    assert "1,412 homes let" in page[page.index('id="decisions"'):page.index('id="what-happened-next"')]
    assert SCRIPT not in page and "&lt;script&gt;" in section
    twin = client_as(app, "ali").get("/people/officer-ali.json").json["updates"]
    assert [(u["id"], u["new"]) for u in twin] == [(1, False)]  # the page view above was a visit
    path = twin[0]["path"]
    assert path[0] == "officer-ali" and path[-1] == DECISION and nx.is_path(flow, path)
    assert ">New</strong>" not in ali.get("/people/officer-ali").text  # seen now

    # the team page shows it, paths from the team; the decision's own page lists it
    team = client_as(app, "ali").get("/teams/housing-options.json").json["updates"]
    assert team[0]["id"] == 1 and team[0]["path"][0] == "housing-options"
    assert "Allocations reviewed" in ali.get(f"/nodes/{DECISION}").text
    # someone whose records do not reach it does not see it
    amara = client_as(app, "amara").get("/people/nhs-ward-nurse-amara")
    assert amara.status_code == 200 and "Allocations reviewed" not in amara.text
    assert client_as(app, "amara").get("/people/nhs-ward-nurse-amara.json").json["updates"] == []


def test_update_form_errors_are_shown_against_their_fields(app):
    jo = client_as(app, "jo")
    empty = post_form(jo, f"/nodes/{DECISION}/updates/new", text="  ", people_helped="lots")
    assert empty.status_code == 400 and "govuk-error-summary" in empty.text
    assert "Enter people helped as a number" in empty.text and "Write 1 to 2000 characters" in empty.text
    bad_date = post_form(jo, f"/nodes/{DECISION}/updates/new", text=SCRIPT, date="3rd October")
    assert bad_date.status_code == 400 and "Enter the date as day, month and year" in bad_date.text
    future = post_form(jo, f"/nodes/{DECISION}/updates/new", text="Soon", date="", date_day="1", date_month="1",
                       date_year="2999")
    assert future.status_code == 400 and "The date it happened must be today or in the past" in future.text
    unreal = post_form(jo, f"/nodes/{DECISION}/updates/new", text="x", date="", date_day="31", date_month="2",
                       date_year="2026")
    assert unreal.status_code == 400 and "Enter a real date, like 3 10 2026" in unreal.text
    named = post_form(jo, f"/nodes/{DECISION}/updates/new", text="Done", date="", date_day="3", date_month="October",
                      date_year="2026", gbp_secured="£1.2m")
    assert named.status_code == 302
    assert jo.get(named.location + ".json").json["update"]["date"] == "2026-10-03"
    assert jo.get(named.location + ".json").json["update"]["figures"] == {"gbp_secured": 1200000}
    assert SCRIPT not in bad_date.text and "&lt;script&gt;" in bad_date.text  # what was typed, escaped
    too_long = post_form(jo, f"/nodes/{DECISION}/updates/new", text="x" * 2001)
    assert too_long.status_code == 400 and "At most 2000 characters" in too_long.text


def test_editing_an_update_keeps_its_history_and_guards_against_stale_forms(app, db):
    post_update(db, text="First words", people_helped=10)
    for who, status in (("ali", 403), ("rob", 403), ("amara", 403), ("admin", 200), ("jo", 200)):
        assert client_as(app, who).get("/updates/1/edit").status_code == status, who
    assert client_as(app, None).get("/updates/1/edit").status_code == 302
    assert client_as(app, None).get("/updates/99/edit").status_code == 302  # nobody learns what exists
    assert client_as(app, "jo").get("/updates/99/edit").status_code == 404
    jo = client_as(app, "jo")
    page = jo.get("/updates/1/edit")
    values = form_values(page.text)
    assert values["text"] == "First words" and values["people_helped"] == "10" and values["version"] == "1"
    saved = jo.post("/updates/1/edit", data={**values, "text": "Better words", "people_helped": ""})
    assert saved.status_code == 302
    stale = jo.post("/updates/1/edit", data={**values, "text": "From an old tab"})
    assert stale.status_code == 400 and "changed by someone else" in stale.text
    view = client_as(app, "ali").get("/updates/1")
    assert "Better words" in view.text and "First words" in view.text and "Edit 1" in view.text and "Version" not in view.text
    assert "Edit this update" not in view.text and "Edit this update" in jo.get("/updates/1").text
    history = jo.get("/updates/1.json").json["history"]
    assert [(h["version"], h["text"], h["figures"]) for h in history] == [
        (1, "First words", {"people_helped": 10}), (2, "Better words", {})]
    assert client_as(app, "ali").get("/updates/99").status_code == 404


# -- flags ------------------------------------------------------------------------------------------


def test_a_contributor_flags_a_problem_and_sees_the_decisions_it_may_affect(app, db, flow):
    ali = client_as(app, "ali")
    impact = ali.get("/people/officer-ali").text
    assert f'href="/nodes/{DATASET}/flag"' in impact and "Flag a problem" in impact
    assert 'id="flag-link"' in ali.get(f"/nodes/{DATASET}").text
    form = ali.get(f"/nodes/{DATASET}/flag")
    downstream = {n for n in nx.descendants(flow, DATASET) if flow.nodes[n]["kind"] == "decision"}
    assert f"This dataset reaches {len(downstream)} decision" in form.text
    sent = post_form(ali, f"/nodes/{DATASET}/flag", dimension="timeliness", text=f"Late {SCRIPT}", records="40")
    assert sent.status_code == 302 and sent.location == "/flags/1"
    page = ali.get("/flags/1")
    assert SCRIPT not in page.text and "Late &lt;script&gt;" in page.text and "is with the owner" in page.text
    assert "Answer it" not in page.text  # only the owner answers
    twin = ali.get("/flags/1.json").json
    assert twin["flag"]["status"] == "open" and twin["flag"]["records"] == 40
    assert twin["decision_count"] == len(downstream) and {d["id"] for d in twin["decisions"]} <= downstream
    assert [f["id"] for f in ali.get("/flags.json").json["flags"]] == [1]
    assert "Late &lt;script&gt;" in ali.get("/flags").text

    assert client_as(app, "jo").get("/flags/1").status_code == 200  # the owner
    assert client_as(app, "rob").get("/flags/1").status_code == 200  # a leader
    assert client_as(app, "amara").get("/flags/1").status_code == 403  # another contributor
    assert client_as(app, "amara").get("/flags.json").json["flags"] == []
    assert client_as(app, None).get(f"/nodes/{DATASET}/flag").status_code == 302
    assert client_as(app, "ali").get(f"/nodes/{DECISION}/flag").status_code == 404  # not a dataset


def test_flag_form_errors(app):
    ali = client_as(app, "ali")
    empty = post_form(ali, f"/nodes/{DATASET}/flag", text="", records="many")
    assert empty.status_code == 400 and "govuk-error-summary" in empty.text
    assert "Enter the number of records as a whole number" in empty.text
    blank = post_form(ali, f"/nodes/{DATASET}/flag", text=" ")
    assert blank.status_code == 400 and "Write 1 to 2000 characters" in blank.text


def test_the_owner_answers_in_the_inbox_and_the_flagger_sees_the_reply(app, db):
    raise_flag(db, text=f"Wrong {SCRIPT}")
    jo = client_as(app, "jo")
    assert 'href="/inbox"' in jo.get("/your-data").text and 'href="/inbox"' not in client_as(app, "ali").get("/").text
    inbox = jo.get("/inbox")
    assert "Flag 1" in inbox.text and "Wrong &lt;script&gt;" in inbox.text and SCRIPT not in inbox.text
    assert jo.get("/inbox.json").json["counts"] == {"open": 1, "acknowledged": 0, "fixed": 0, "wont_fix": 0}
    assert jo.get("/inbox.json?status=fixed").json["flags"] == []
    assert jo.get("/inbox?status=nonsense").status_code == 400
    assert client_as(app, "ali").get("/inbox.json").status_code == 403  # the inbox is for owners and admins
    assert [f["id"] for f in client_as(app, "admin").get("/inbox.json").json["flags"]] == [1]

    page = jo.get("/flags/1")
    assert "Answer it" in page.text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    for who in ("ali", "rob", "amara"):
        refused = client_as(app, who).post("/flags/1/answer", data={"csrf_token": token, "status": "fixed"})
        assert refused.status_code == 403, who
    answered = jo.post("/flags/1/answer", data={"csrf_token": token, "status": "acknowledged",
                                                "reply": f"Looking into it {SCRIPT}"})
    assert answered.status_code == 302 and answered.location == "/flags/1"
    seen = client_as(app, "ali").get("/flags/1")
    assert "Looking into it &lt;script&gt;" in seen.text and SCRIPT not in seen.text and "Acknowledged" in seen.text
    mine = client_as(app, "ali").get("/flags.json").json["flags"][0]
    assert (mine["status"], mine["reply"]) == ("acknowledged", f"Looking into it {SCRIPT}")
    events = client_as(app, "ali").get("/flags/1.json").json["events"]
    assert [(e["actor"], e["status_from"], e["status_to"]) for e in events] == [
        ("ali", None, "open"), ("jo", "open", "acknowledged")]
    same = jo.post("/flags/1/answer", data={"csrf_token": token, "status": "acknowledged"})
    assert same.status_code == 400 and "acknowledged already" in same.text


def test_a_fix_records_a_new_score_as_an_undoable_change(app, db):
    raise_flag(db)
    jo = client_as(app, "jo")
    token = csrf_token(jo, "/flags/1")
    wrong = jo.post("/flags/1/answer", data={"csrf_token": token, "status": "acknowledged", "new_score": "0.9"})
    assert wrong.status_code == 400 and "recorded with a fix" in wrong.text
    high = jo.post("/flags/1/answer", data={"csrf_token": token, "status": "fixed", "new_score": "2"})
    assert high.status_code == 400 and "from 0 to 1" in high.text
    version = Store(db).version
    fixed = jo.post("/flags/1/answer", data={"csrf_token": token, "status": "fixed", "reply": "Backlog cleared",
                                             "new_score": "0.9"})
    assert fixed.status_code == 302
    store = Store(db)
    assert store.node(DATASET)["quality"]["timeliness"]["score"] == 0.9 and store.version == version + 1
    store.close()
    page = jo.get("/flags/1")
    assert "which you can undo" in page.text and f'href="/changes/{version + 1}"' in page.text
    node = jo.get(f"/nodes/{DATASET}.json").json["node"]  # the engine has moved on with the write
    assert node["quality"]["timeliness"]["score"] == 0.9


def test_writes_need_a_csrf_token(app, db):
    post_update(db)
    raise_flag(db)
    jo = client_as(app, "jo")
    for url, data in ((f"/nodes/{DECISION}/updates/new", {"text": "x"}), ("/updates/1/edit", {"text": "x"}),
                      (f"/nodes/{DATASET}/flag", {"text": "x"}), ("/flags/1/answer", {"status": "fixed"})):
        assert jo.post(url, data=data).status_code == 400, url
    assert loop.get_flag(Store(db), 1)["status"] == "open"
    assert loop.get_update(Store(db), 1)["version"] == 1


def test_flags_are_rate_limited_with_retry_after(app, db):
    store = Store(db)
    g = LineageGraph.from_store(store)
    for n in range(loop.FLAG_LIMIT):
        loop.raise_flag(g, store, DATASET, actor=ALI, text=f"flag {n}")
    store.close()
    ali = client_as(app, "ali")
    refused = post_form(ali, f"/nodes/{DATASET}/flag", text="one more")
    assert refused.status_code == 429 and "try again in" in refused.text
    assert int(refused.headers["Retry-After"]) > 0


# -- the digest and Insights ----------------------------------------------------------------------


def test_the_digest_shows_updates_and_answers_since_the_last_one(app, db):
    raise_flag(db)
    post_update(db, text=f"Reviewed {SCRIPT}")
    store = Store(db)
    loop.set_flag_status(store, 1, "acknowledged", actor=JO, reply="On it")
    store.close()
    ali = client_as(app, "ali")
    page = ali.get("/digest")
    assert page.status_code == 200 and "Reviewed &lt;script&gt;" in page.text and SCRIPT not in page.text
    assert "Answers to your flags" in page.text and "On it" in page.text and "See it as the email" in page.text
    assert ali.get("/digest").text.count("Nothing new this time") >= 1  # since the visit just made
    earlier = ali.get("/digest.json?since=2020-01-01").json
    assert [u["id"] for u in earlier["updates"]] == [1] and earlier["flag_replies"][0]["reply"] == "On it"
    owner = client_as(app, "jo").get("/digest.json?since=2020-01-01").json
    assert [f["id"] for f in owner["new_flags"]] == [1]
    assert client_as(app, "amara").get("/digest.json?since=2020-01-01").json["updates"] == []
    assert client_as(app, None).get("/digest").status_code == 302
    assert client_as(app, "ali").get("/digest?since=yesterday").status_code == 400


def test_insights_highlights_flags_open_too_long(app, db, monkeypatch):
    raise_flag(db, text="Old problem")
    rob = client_as(app, "rob")
    assert "No flag has been open that long" in rob.get("/insights").text
    monkeypatch.setenv("LINEAGE_FLAG_STALE_DAYS", "0")
    page = rob.get("/insights").text
    assert 'id="stale-flags"' in page and "Old problem" in page and 'href="/flags/1"' in page
    stale = rob.get("/insights.json").json["stale_flags"]
    assert stale["days"] == 0 and [f["id"] for f in stale["flags"]] == [1]
    assert client_as(app, "ali").get("/insights").status_code == 403


def test_account_page_links_to_flags_digest_and_inbox(app):
    assert 'href="/inbox"' in client_as(app, "jo").get("/account").text
    ali = client_as(app, "ali").get("/account").text
    assert 'href="/flags"' in ali and 'href="/digest"' in ali and 'href="/inbox"' not in ali


def test_without_accounts_nothing_is_offered(tmp_path, samples_db):
    from conftest import copy_db
    app = create_app({"LINEAGE_DB": str(copy_db(samples_db, tmp_path / "open.db")), "TESTING": True})
    client = app.test_client()
    assert "Flag a problem" not in client.get(f"/nodes/{DATASET}").text
    assert "Post an update" not in client.get(f"/nodes/{DECISION}").text
    assert client.get(f"/nodes/{DATASET}/flag").status_code == 403
    assert client.get("/digest").status_code == 403
    assert client.get("/people/officer-ali.json").json["updates"] == []

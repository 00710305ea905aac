"""Issue 16 through the library and Flask's test client: the leader's home (and its JSON and CSV),
changes of band recorded at each refresh and shown since the last visit, leaders landing on their
home, find by name (/find.json, Explore and What-if by name, with their error paths), the decisions
table's filters, the decision page's AI warning, Insights as actions, and leaders' digests."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from markupsafe import escape

from conftest import client_as

from lineage import board as boards
from lineage import digest, find, loop, materialised, model
from lineage.accounts import Accounts, ensure_demo_accounts
from lineage.confidence import BAND_FLOORS
from lineage.graph import LineageGraph
from lineage.insights import decision_provenance
from lineage.store import Store
from web import leader

SANDRA = "Ask Sandra Bell to add a transparency record for Council Tax Reduction claim risk scoring."


@pytest.fixture
def rob(app):
    return client_as(app, "rob")


def shows(page, text: str) -> bool:
    return str(escape(text)) in page.text


def refreshed(db) -> tuple[Store, LineageGraph]:
    store = Store(db)
    g = LineageGraph.from_store(store)
    materialised.refresh(store, g)
    return store, g


def set_quality(store: Store, node: str, **scores: float) -> None:
    with store.change("tester", f"quality of {node}") as change:
        quality = store.node(node)["quality"]
        change.update_node(node, {"quality": {**quality, **scores}})


# ---------------------------------------------------------------------------------------------
# The library


def test_board_lists_decisions_at_risk_worst_first_each_with_its_first_step_and_who_must_act(db):
    store, g = refreshed(db)
    estate = materialised.stored(store).body
    result = boards.board(g, store, estate)
    rows = estate["risky_decisions"]["rows"]
    assert [d["target"]["id"] for d in result.decisions] == [r["id"] for r in rows[:boards.LISTED]]
    bands = [d["band"] for d in result.decisions]
    assert bands == sorted(bands, key=["red", "amber"].index)
    red = [d["people_affected"] or 0 for d in result.decisions if d["band"] == "red"]
    assert red == sorted(red, reverse=True)
    assert result.decisions_at_risk == estate["risky_decisions"]["counts"]["red"] + \
        estate["risky_decisions"]["counts"]["amber"]
    for item in result.decisions:
        step = item["step"]
        fix = step["fixes"][0]
        assert fix["target"] == BAND_FLOORS[step["band"]]
        if fix["owner"]:
            assert item["owner"] == fix["owner"]
            assert item["action"].startswith(f"Ask {fix['owner']['name']} to raise {fix['dataset_name']}")
        else:
            assert item["action"].startswith(f"Name an owner for {fix['dataset_name']}")
        assert item["action"].endswith(f"to move {item['name']} to {step['band']}.")


def test_board_ai_tools_ownerless_and_stale_flags(db):
    store, g = refreshed(db)
    estate = materialised.stored(store).body
    result = boards.board(g, store, estate)
    expected = [r for r in estate["ai_oversight"]["rows"] if r["largest_people_affected"] >= boards.MANY_PEOPLE]
    assert result.ai_tools_count == len(expected)
    assert all(t["people_affected"] >= boards.MANY_PEOPLE for t in result.ai_tools)
    assert SANDRA in [t["action"] for t in result.ai_tools]
    assert all(o["decisions"] > 0 and o["owner"] is None and o["action"].startswith("Name an owner for")
               for o in result.ownerless)
    assert not result.stale_flags
    flag = loop.raise_flag(g, store, "housing-register", actor=_actor("ali", "officer-ali"), text="Late entries",
                           dimension="timeliness")
    store.conn.execute("UPDATE flags SET created = '2020-01-01T00:00:00.000000+00:00' WHERE id = ?",
                       (flag["flag"]["id"] if "flag" in flag else flag["id"],))
    result = boards.board(g, store, estate)
    assert [f["dataset"] for f in result.stale_flags] == ["housing-register"]
    assert result.stale_flags[0]["action"].startswith("Ask Jo Fletcher to answer the flag on Housing register's timeliness")
    rows = list(csv.DictReader(io.StringIO(boards.write_board_csv(result))))
    assert {r["section"] for r in rows} == {"decisions", "ai_tools", "ownerless", "stale_flags"}
    assert all(r["action"] for r in rows) and list(rows[0]) == list(boards.CSV_COLUMNS)


def _actor(name, person):
    from lineage.policy import Actor
    return Actor(name, "contributor", person=person)


def test_a_refresh_records_each_decision_whose_band_moves_and_why(db):
    store, g = refreshed(db)
    assert materialised.band_changes(store) == []  # the first refresh is no change
    set_quality(store, "housing-register", timeliness=0.4)
    materialised.refresh(store, LineageGraph.from_store(store))
    changes = {c.id: c for c in materialised.band_changes(store)}
    allocations = changes["social-housing-allocations"]
    assert (allocations.band_from, allocations.band_to, allocations.worse) == ("amber", "red", True)
    assert allocations.why == "Housing register's timeliness went from 0.71 to 0.40."
    assert allocations.as_dict()["why"] == allocations.why and allocations.owner_name == "Jo Fletcher"
    later = materialised.band_changes(store, since_version=2)
    assert later == []
    set_quality(store, "housing-register", timeliness=0.71)  # back where it was: no change since the start
    materialised.refresh(store, LineageGraph.from_store(store))
    assert "social-housing-allocations" not in {c.id for c in materialised.band_changes(store)}
    assert "social-housing-allocations" in {c.id for c in materialised.band_changes(store, since_version=2)}


def test_since_last_visit_is_per_account_and_stays_put_while_a_visit_lasts(db):
    store = Store(db)
    now = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)
    first, known = boards.since_last_visit(store, "rob", now=now)
    assert not known and first.startswith("2026-11-28")  # the last week
    again, known = boards.since_last_visit(store, "rob", now=now + timedelta(minutes=5))
    assert not known  # still the first visit
    later = now + timedelta(hours=3)
    since, known = boards.since_last_visit(store, "rob", now=later)
    assert known and since.startswith("2026-12-05T09:05")
    reload, known = boards.since_last_visit(store, "rob", now=later + timedelta(minutes=10))
    assert known and reload == since  # a reload keeps what the visit showed
    assert boards.since_last_visit(store, None, now=now) == (first, False)


def test_find_ranks_exact_then_prefix_then_words_and_suggests_the_closest(db):
    store = Store(db)
    assert find.find(store, "Housing register").matches[0]["id"] == "housing-register"
    found = find.find(store, "housing", kinds=["dataset"], limit=3)
    assert len(found.matches) == 3 and found.more and all(m["kind"] == "dataset" for m in found.matches)
    assert all(m["name"].lower().startswith("housing") for m in found.matches)
    assert find.find(store, "housing-register").matches[0]["id"] == "housing-register"  # an id, typed in full
    assert find.find(store, "").matches == []
    assert [s["id"] for s in find.suggestions(store, "hosuing regster")][:1] == ["housing-register"]
    with pytest.raises(Exception, match="unknown kind"):
        find.find(store, "x", kinds=["planet"])
    with pytest.raises(Exception, match="limit must be"):
        find.find(store, "x", limit=0)
    one = find.resolve(store, "social housing allocations")
    assert one.node["id"] == "social-housing-allocations"
    many = find.resolve(store, "housing")
    assert many.node is None and len(many.choices) > 1 and "choose one" in many.message("node")
    none = find.resolve(store, "zzzz qqqq")
    assert none.node is None and not none.choices and none.message("node").startswith("No node is called")


def test_frequency_bands_normalise_free_text():
    assert [model.frequency_band(t) for t in ("weekly", "daily (November to March)", "monthly payment runs",
                                              "annual, with monthly top-ups", "ad hoc (one-off revision)",
                                              "one-off", "continuous", None, "when asked")] == \
        ["weekly", "daily", "monthly", "annual", "ad hoc", "one-off", "continuous", None, None]


def test_the_decision_page_warns_of_an_ai_tool_without_human_review(db):
    g = LineageGraph.from_store(Store(db))
    warned = decision_provenance(g, "dcrg-nppf-decision")
    assert [t["name"] for t in warned.unreviewed_ai_tools] == ["Campaign and near-duplicate detector"]
    assert warned.ai_warning.startswith("An AI tool informs this decision with no person reviewing its results")
    assert "reaches them unchecked" in warned.ai_warning  # a person decides, but sees unchecked output
    assert decision_provenance(g, "social-housing-allocations").ai_warning is None


# ---------------------------------------------------------------------------------------------
# The leader's home on the web


def test_leaders_land_on_their_home_at_the_front_door_and_after_signing_in(app, rob):
    assert rob.get("/").headers["Location"].endswith("/leader")
    assert rob.get("/index.json").status_code == 200  # the twin stays the home page's
    anonymous = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', anonymous.get("/sign-in").text).group(1)
    page = anonymous.post("/sign-in", data={"csrf_token": token, "name": "rob", "password": "leader-demo-pass"})
    assert page.status_code == 302
    location = page.headers["Location"]
    assert location.endswith("/leader") or anonymous.get(location).headers["Location"].endswith("/leader")
    assert client_as(app, "ali").get("/").headers["Location"].endswith("/people/officer-ali")  # each their own


def test_leader_home_page_json_and_csv(rob):
    page = rob.get("/leader")
    assert page.status_code == 200
    assert "<h1 class=\"govuk-heading-l\">What needs doing</h1>" in page.text
    assert shows(page, SANDRA)
    assert 'href="/decisions/dcrg-leasehold-decision#path-to-green"' in page.text
    assert 'href="/leader.csv"' in page.text and "Who must act" in page.text
    assert "@media print" in rob.get("/static/leader.css").text
    data = rob.get("/leader.json").get_json()
    assert set(boards.Board.SECTIONS) <= set(data) and data["decisions"][0]["step"]["fixes"]
    assert data["status"]["current"] is True
    download = rob.get("/leader.csv")
    assert download.mimetype == "text/csv" and "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows[0]["section"] == "decisions" and rows[0]["id"] == data["decisions"][0]["target"]["id"]


@pytest.mark.parametrize("who, status", [("ali", 403), ("jo", 403), ("admin", 200), (None, 401)])
def test_leader_home_is_for_those_who_read_the_estate(app, who, status):
    client = client_as(app, who)
    for url in ("/leader", "/leader.json", "/leader.csv"):
        answer = client.get(url)
        if status == 401 and url != "/leader.json":  # a page sends those signed out to sign in
            assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
        else:
            assert answer.status_code == status, url


def test_leader_home_shows_what_changed_band_since_the_last_visit(app, rob, db):
    assert rob.get("/leader").status_code == 200  # the first visit: nothing has changed
    store = Store(db)
    set_quality(store, "housing-register", timeliness=0.4)
    with app.app_context():
        leader.refresher(app).now()
    # an hour later the leader comes back
    store.conn.execute("UPDATE last_visits SET at = ? WHERE account = 'rob' AND page = ?",
                       ((datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(), boards.VISIT_PAGE))
    page = rob.get("/leader")
    assert "Changed band since your last visit" in page.text
    assert shows(page, "Social housing allocations fell from amber to red. Housing register's timeliness went "
                       "from 0.71 to 0.40.")
    assert shows(rob.get("/leader"), "Social housing allocations fell from amber to red")  # a reload keeps it
    assert any(c["id"] == "social-housing-allocations" for c in rob.get("/leader.json").get_json()["changes"])


# ---------------------------------------------------------------------------------------------
# Find by name


def test_find_json(rob, app):
    found = rob.get("/find.json?q=housing&kinds=dataset&limit=3").get_json()
    assert [m["kind"] for m in found["matches"]] == ["dataset"] * 3 and found["more"] is True
    assert found["matches"][0] == {"id": "housing-register", "kind": "dataset", "name": "Housing register",
                                   "organisation": "Northbridge Borough Council", "url": "/nodes/housing-register"}
    decision = rob.get("/find.json?q=Social+housing+allocations").get_json()["matches"][0]
    assert decision["url"] == "/decisions/social-housing-allocations"
    nothing = rob.get("/find.json?q=hosuing+regster").get_json()
    assert nothing["matches"] == [] and nothing["suggestions"][0]["id"] == "housing-register"
    assert rob.get("/find.json?q=").get_json()["matches"] == []
    for url, message in [("/find.json?q=x&kinds=planet", "unknown kind 'planet'"),
                         ("/find.json?q=x&limit=0", "limit must be a whole number from 1 to 50"),
                         ("/find.json?q=x&limit=many", "limit must be a whole number"),
                         ("/find.json?q=" + "x" * 201, "a name is at most 200 characters")]:
        answer = rob.get(url)
        assert answer.status_code == 400 and message in answer.get_json()["error"]["message"], url
    # a contributor finds datasets, and no one else by name
    ali = client_as(app, "ali").get("/find.json?q=jo+fletcher").get_json()
    assert ali["matches"] == []
    assert client_as(app, None).get("/find.json?q=housing").status_code == 401


def test_explore_by_name(rob):
    page = rob.get("/explore?name=Social+housing+allocations")
    assert page.status_code == 200 and "app-picture" in page.text and 'id="selection-count"' in page.text
    assert 'value="Social housing allocations"' in page.text
    data = rob.get("/explore.json?name=social+housing+allocations").get_json()
    assert data["node"]["id"] == "social-housing-allocations" and data["select"] == "social-housing-allocations"
    assert data["url"].startswith("/explore?name=social+housing+allocations")
    many = rob.get("/explore?name=housing")
    assert many.status_code == 200 and "Which node do you mean?" in many.text
    assert 'href="/explore?depth=1&amp;direction=both&amp;name=housing-register"' in many.text
    none = rob.get("/explore?name=hosuing+regster")
    assert none.status_code == 404 and "govuk-error-summary" in none.text
    assert shows(none, "No node is called “hosuing regster”. Did you mean “Housing register”")
    assert rob.get("/explore.json?name=housing").status_code == 400
    assert rob.get("/explore.json?name=zzzz+qqqq").status_code == 404
    assert rob.get("/explore.csv?name=Housing+register").text.count("\n") == 2
    assert rob.get("/explore.csv?name=housing").status_code == 400
    assert rob.get("/explore/picture.dot?name=zzzz+qqqq").status_code == 404
    assert rob.get("/explore/picture.dot?name=Housing+register").status_code in (200, 503)
    advanced = rob.get("/explore?select=tag:housing,kind:dataset")
    assert advanced.status_code == 200 and '<details class="govuk-details" id="advanced" open>' in advanced.text
    assert '<details class="govuk-details" id="advanced">' in rob.get("/explore").text  # folded by default


def test_explore_pictures_stay_readable(rob):
    many = rob.get("/explore.json?select=kind:ai_tool").get_json()
    assert many["count"] > leader.EXPLORE_FOCUS and many["picture"] is None and len(many["nodes"]) == many["count"]
    assert "so that its labels stay readable" in rob.get("/explore?select=kind:ai_tool").text
    page = rob.get("/explore?select=1%2Bsocial-housing-allocations")
    boxes = len(re.findall(r'class="node"', page.text))
    assert 0 < boxes <= leader.EXPLORE_BOXES, boxes
    assert rob.get("/explore.json?name=Housing+register").get_json()["depth"] == leader.EXPLORE_DEPTH == 1


def test_what_if_by_name(rob):
    page = rob.get("/what-if?dataset=Housing+register&dimension=timeliness&score=0.4")
    assert page.status_code == 200 and 'id="what-if-summary"' in page.text
    assert rob.get("/what-if.json?dataset=housing+register&dimension=timeliness&score=0.4").get_json()["dataset"] \
        == "housing-register"
    many = rob.get("/what-if?dataset=housing&score=0.4")
    assert many.status_code == 200 and "Which dataset do you mean?" in many.text and "score=0.4" in many.text
    none = rob.get("/what-if?dataset=regstr")
    assert none.status_code == 404 and shows(none, "No dataset is called “regstr”")
    assert "Dataset id" not in rob.get("/what-if").text
    assert rob.get("/what-if.json?dataset=housing").status_code == 400
    assert rob.get("/what-if.json?dataset=Social+housing+allocations").status_code == 404  # not a dataset


# ---------------------------------------------------------------------------------------------
# The decisions table, a decision's page, Insights, digests


def test_decisions_table_filters_by_normal_frequency_and_owner_name(rob):
    daily = rob.get("/decisions.json?frequency=daily").get_json()["rows"]
    assert {r["frequency"] for r in daily} == {"daily", "daily (November to March)"}
    assert all(r["frequency_band"] == "daily" for r in daily)
    assert rob.get("/decisions?frequency=daily+(November+to+March)").status_code == 400
    jo = rob.get("/decisions.json?owner=owner-jo").get_json()["rows"]
    assert jo and {r["owner_name"] for r in jo} == {"Jo Fletcher"}
    assert rob.get("/decisions?owner=officer-ali").status_code == 400  # owns no decision
    page = rob.get("/decisions")
    assert '<option value="owner-jo">Jo Fletcher</option>' in page.text and "Owner's id" not in page.text
    assert "computed at change" not in page.text and "Up to date: worked out" in page.text
    assert '<option value="daily">Daily</option>' in page.text
    by_people = rob.get("/decisions?sort=people")  # sorting from the form too: a phone's cards have no headers
    assert '<option value="people" selected>People affected</option>' in by_people.text
    assert "sorted by people affected (descending)" in by_people.text
    row = re.search(r'<td class="govuk-table__cell" data-label="Data confidence">(.*?)</td>', page.text).group(1)
    assert re.fullmatch(r"<strong class=\"govuk-tag govuk-tag--\w+\">\w+</strong>", row.strip())


def test_decision_page_warns_at_the_top(rob):
    page = rob.get("/decisions/dcrg-nppf-decision")
    assert page.text.index('id="ai-warning"') < page.text.index('id="facts"')
    assert "no one reviews the AI tool’s results" in page.text
    assert "govuk-tag--green\">Yes" not in page.text.split('id="facts"')[1].split("</dl>")[0]
    assert 'id="ai-warning"' not in rob.get("/decisions/social-housing-allocations").text


def test_insights_are_actions_with_owners_and_detail_folded(rob):
    page = rob.get("/insights")
    assert shows(page, SANDRA)
    assert 'aria-labelledby="contents-heading"' in page.text and page.text.count('class="govuk-details app-fold"') >= 5
    assert 'id="rag-explained"' in page.text
    assert '<optgroup label="Organisations that make decisions">' in page.text
    deciding = rob.get("/decisions.json").get_json()["rows"]
    with_decisions = {r["organisation"] for r in deciding}
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', page.text.split('id="organisation"')[1]
                         .split("</select>")[0])
    for value, label in options:
        assert ("(no decisions of its own)" in label) == (value not in with_decisions), value


def test_leaders_digest_lists_decisions_that_changed_band(db):
    store, g = refreshed(db)
    ensure_demo_accounts(Accounts(store), actor="test")
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    set_quality(store, "housing-register", timeliness=0.4)
    g = LineageGraph.from_store(store)
    materialised.refresh(store, g)
    mine = digest.digest_for(g, store, "rob", since)
    assert any(c["id"] == "social-housing-allocations" for c in mine.band_changes)
    subject, body = digest.render_text(mine)
    assert "changed data confidence" in subject
    assert "Social housing allocations: fell from amber to red" in " ".join(body.split())
    assert "Housing register's timeliness went from 0.71 to 0.40." in " ".join(body.split())
    assert digest.digest_for(g, store, "ali", since).band_changes == []  # only leaders hear of it
    assert "finance-director-rob" in {d.who for d in digest.digests(g, store, since)}

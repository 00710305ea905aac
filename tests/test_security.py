"""Issue 17, privacy, access and sessions: each problem the attack found, reproduced through the
Flask test client (no sleeps, no network), and what now holds instead.

Expectations come from the sample files (names, teams and records people enter), not from the
library's own answers.
"""
from __future__ import annotations

import os
import re
import stat
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import run, snapshot
from test_editing import PASSWORDS, client_as, csrf_token, names_in, unnamed_people
from test_openlineage import DW, facet, run_event

from lineage import private
from lineage.accounts import Accounts, common_passwords, password_problem
from lineage.errors import ValidationError
from lineage.io.openlineage import node_id as ol_node_id
from lineage.policy import Actor, PeopleRule
from lineage.store import Store
from web import create_app, writes
from web.auth import RateLimiter

@pytest.fixture
def hidden_from(nodes_by_id):
    """Who each of ali (contributor) and jo (owner) must never see named."""
    return {"ali": unnamed_people(nodes_by_id, "officer-ali"), "jo": unnamed_people(nodes_by_id, "owner-jo")}


def token_for(db: Path, name: str, **options) -> dict[str, str]:
    store = Store(db)
    try:
        return {"Authorization": f"Bearer {Accounts(store).new_token(name, 'tests', actor='test', **options)}"}
    finally:
        store.close()


def sign_in(client, name: str, password: str | None = None):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "name": name, "password": password or PASSWORDS[name]})


# -- other people's names ----------------------------------------------------------------------


def test_changes_and_history_count_people_for_contributors_and_owners(app, hidden_from, samples):
    """Change 1 (the sample load) listed every person's full record to every reader."""
    people = sum(1 for n in samples[0] if n["kind"] == "person")
    people_edges = sum(1 for e in samples[1] if e["kind"] in ("enters", "member_of"))
    for who in ("ali", "jo"):
        client = client_as(app, who)
        for url in ("/changes/1", "/changes/1.json", "/history", "/history.json"):
            response = client.get(url)
            assert response.status_code == 200 and not names_in(response.text, hidden_from[who]), (who, url)
        change = client.get("/changes/1.json").json
        mine = 1 + sum(1 for e in samples[1] if e["kind"] in ("enters", "member_of")
                       and e["source"] == {"ali": "officer-ali", "jo": "owner-jo"}[who])
        assert change["hidden"] == people + people_edges - mine  # counted, not shown
        assert change["count"] == len(samples[0]) + len(samples[1])
        assert "records about people, which only leaders and admins see" in client.get("/changes/1").text
    leader = client_as(app, "rob").get("/changes/1.json").json
    assert leader["hidden"] == 0 and names_in(str(leader), hidden_from["ali"])  # the check finds names


def test_a_change_to_a_person_shows_contributors_no_email_role_or_team(app, db):
    with Store(db).change("admin", "contact details for officer-dev") as change:
        change.update_node("officer-dev", {"contact": "dev.patel@northbridge.gov.uk", "role": "Senior officer"})
    number = Store(db).changes(limit=1)[0]["change"]
    for who in ("ali", "jo"):
        page = client_as(app, who).get(f"/changes/{number}.json").json
        text = str(page)
        assert page["entries"] == [] and page["hidden"] == 1 and page["count"] == 1
        assert "northbridge.gov.uk" not in text and "Senior officer" not in text and "officer-dev" not in text
        assert page["summary"] == "contact details for a person"
        listed = client_as(app, who).get("/history.json").json["changes"][0]
        assert listed["items"] == [] and listed["hidden"] == 1 and "officer-dev" not in str(listed)
    assert client_as(app, "rob").get(f"/changes/{number}.json").json["entries"][0]["ref"] == "officer-dev"


def test_lists_of_every_node_leave_people_out(app, samples):
    """/nodes without kind= listed all 113 people by name to a contributor."""
    people = {n["id"] for n in samples[0] if n["kind"] == "person"}
    others = len(samples[0]) - len(people)
    for who in ("ali", "jo"):
        client = client_as(app, who)
        listed = client.get("/nodes.json?page=1").json
        assert listed["total"] == others and not {n["id"] for n in listed["nodes"]} & people
        api = client.get("/api/nodes?limit=1000").json
        assert api["total"] == others and not {n["id"] for n in api["nodes"]} & people
        self_id = {"ali": "officer-ali", "jo": "owner-jo"}[who]  # their own My impact link is in the navigation
        # Owners are named on what they own (the owner column and filter): nobody else is.
        owners = {n["owner"] for n in samples[0] if n.get("owner")}
        assert not names_in(client.get("/nodes").text, {p: p for p in people - owners - {self_id}})
    assert client_as(app, "rob").get("/api/nodes?limit=1000").json["total"] == len(samples[0])


@pytest.mark.parametrize("url", ["/nodes/officer-dev/picture.svg", "/nodes/officer-dev/picture.png",
                                 "/nodes/officer-dev/picture.dot", "/api/lineage/officer-dev",
                                 "/api/lineage/officer-dev?direction=upstream"])
def test_a_persons_picture_and_lineage_are_theirs_as_their_page_is(app, url):
    """They answered 200 where /people/officer-dev is 403, and the picture named the person."""
    for who, status in (("ali", 403), ("jo", 403), ("rob", 200), ("admin", 200)):
        assert client_as(app, who).get("/people/officer-dev").status_code == status
        assert client_as(app, who).get(url).status_code == status, (who, url)


def test_ones_own_picture_names_nobody_else(app, hidden_from):
    own = client_as(app, "ali").get("/nodes/officer-ali/picture.dot")
    assert own.status_code == 200 and not names_in(own.text, hidden_from["ali"])
    assert client_as(app, "ali").get("/api/lineage/officer-ali").status_code == 200


def entered_by_team(samples, node: str) -> dict[str | None, tuple[int, int]]:
    """Straight from the sample files: per team, the people entering records into ``node`` and their records."""
    teams = defaultdict(list)
    for edge in samples[1]:
        if edge["kind"] == "member_of":
            teams[edge["source"]].append(edge["target"])
    found: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for edge in samples[1]:
        if edge["kind"] == "enters" and edge["target"] == node:
            for team in teams.get(edge["source"]) or [None]:
                found[team][0] += 1
                found[team][1] += edge.get("records", 0)
    return {team: tuple(counts) for team, counts in found.items()}


@pytest.mark.parametrize("node", ["housing-cms", "nhs-eobs", "ha-nominations"])
def test_system_and_dataset_pages_count_who_enters_their_records_by_team(app, samples, hidden_from, node):
    """Node pages and twins of systems listed contributors (ids carry first names) with record
    counts, in the page's history."""
    expected = entered_by_team(samples, node)
    for who in ("ali", "jo"):
        client = client_as(app, who)
        twin = client.get(f"/nodes/{node}.json").json
        assert {(row["team"] or {}).get("id"): (row["people"], row["records"])
                for row in twin["entered_by_team"]} == expected
        page = client.get(f"/nodes/{node}").text
        assert "Who enters its records" in page
        for text in (page, str(twin), client.get(f"/api/nodes/{node}").text):
            assert not names_in(text, hidden_from[who]), (who, node)
        assert all(entry["entity"] != "edge" or not entry["ref"].startswith("officer-")
                   or entry["ref"].startswith(f"{PEOPLE[who]} ") for entry in twin["history"])
    assert any(entry["ref"].startswith("officer-dev ") for entry in
               client_as(app, "rob").get("/nodes/housing-cms.json").json["history"])


PEOPLE = {"ali": "officer-ali", "jo": "owner-jo"}


def test_people_rule_is_the_one_place():
    ali = PeopleRule(Actor("ali", "contributor", person="officer-ali"))
    assert ali.visible([{"id": "officer-ali", "kind": "person"}, {"id": "x", "kind": "person"},
                        {"id": "reg", "kind": "dataset"}]) == [{"id": "officer-ali", "kind": "person"},
                                                               {"id": "reg", "kind": "dataset"}]
    change = {"summary": "edit node 'officer-dev'", "items": [
        {"entity": "node", "ref": "officer-dev", "action": "update", "kind": "person"},
        {"entity": "edge", "ref": "officer-dev -> housing-cms", "action": "create", "kind": "enters"},
        {"entity": "edge", "ref": "officer-ali -> housing-cms", "action": "create", "kind": "enters"},
        {"entity": "node", "ref": "housing-cms", "action": "update", "kind": "system"}]}
    seen = ali.change(change)
    assert [i["ref"] for i in seen["items"]] == ["officer-ali -> housing-cms", "housing-cms"]
    assert seen["hidden"] == 2 and seen["summary"] == "edit node 'a person'"
    assert ali.record({"flagger_person": "officer-dev"}, "flagger_person") == {"flagger_person": None}
    assert PeopleRule(Actor("rob", "leader")).change(change)["hidden"] == 0


# -- OpenLineage under the policy and the common write path ----------------------------------------


def helens_job(app, db):
    """A job that arrived by OpenLineage with manager-helen named its owner, by an admin's token."""
    event = run_event(job_facets={"ownership": facet(owners=[{"name": "manager-helen"}])})
    assert client_as(app, None).post("/api/v1/lineage", json=event, headers=token_for(db, "admin")).status_code == 201
    job = ol_node_id("job", "airflow", "housing.build_register")
    assert Store(db).node(job)["owner"] == "manager-helen"
    return job


def test_an_owners_events_cannot_rewrite_or_take_what_someone_else_owns(app, db):
    job = helens_job(app, db)
    jo, api = token_for(db, "jo"), client_as(app, None)
    before = snapshot(Store(db)), Store(db).node(job)
    rewrite = run_event(time="2026-03-03T10:00:00Z", job_facets={"documentation": facet(description="Mine now")})
    take = run_event(time="2026-03-03T10:00:00Z", job_facets={"ownership": facet(owners=[{"name": "owner-jo"}])})
    for event in (rewrite, take):
        refused = api.post("/api/v1/lineage", json=event, headers=jo)
        assert refused.status_code == 403 and "owned by manager-helen" in refused.json["error"]["message"]
    assert (snapshot(Store(db)), Store(db).node(job)) == before
    # as a PATCH of the same node is
    assert api.patch(f"/api/nodes/{job}", json={"description": "Mine", "version": 1}, headers=jo).status_code == 403


def test_an_owners_events_add_new_and_unowned_nodes_but_give_nothing_away(app, db):
    jo, api = token_for(db, "jo"), client_as(app, None)
    mine = run_event(job="housing.jo_nightly", outputs=[{"namespace": DW, "name": "housing.jo_mart", "facets": {}}],
                     job_facets={"ownership": facet(owners=[{"name": "owner-jo"}])})
    assert api.post("/api/v1/lineage", json=mine, headers=jo).status_code == 201
    assert Store(db).node(ol_node_id("job", "airflow", "housing.jo_nightly"))["owner"] == "owner-jo"
    given = run_event(job="housing.someone_elses", outputs=[],
                      job_facets={"ownership": facet(owners=[{"name": "manager-helen"}])})
    refused = api.post("/api/v1/lineage", json=given, headers=jo)
    assert refused.status_code == 403 and "make manager-helen the owner" in refused.json["error"]["message"]


def test_a_batch_says_which_events_the_policy_refused(app, db):
    helens_job(app, db)
    jo, api = token_for(db, "jo"), client_as(app, None)
    allowed = run_event(job="housing.jo_nightly", outputs=[])
    refused = run_event(time="2026-03-04T10:00:00Z", job_facets={"documentation": facet(description="x")})
    mixed = api.post("/api/v1/lineage/batch", json=[allowed, refused], headers=jo)
    assert mixed.status_code == 207
    assert [r["status"] for r in mixed.json["results"]] == ["accepted", "rejected"]
    assert "owned by manager-helen" in mixed.json["results"][1]["message"]
    assert api.post("/api/v1/lineage/batch", json=[refused], headers=jo).status_code == 403


def test_events_take_the_common_write_path(app, db, monkeypatch):
    """The HTTP ingest skipped the rate limit and the engine and leader-view refresh."""
    refreshed = []
    monkeypatch.setattr(writes, "WRITES_PER_MINUTE", 2)
    monkeypatch.setattr(writes, "refresh_soon", lambda: refreshed.append("leader views"))
    jo, api = token_for(db, "jo"), client_as(app, None)
    statuses = [api.post("/api/v1/lineage", json=run_event(job=f"housing.job_{i}", outputs=[]), headers=jo).status_code
                for i in range(3)]
    assert statuses == [201, 201, 429]
    assert refreshed == ["leader views"] * 2
    with app.app_context():
        assert app.extensions["lineage_engine"].graph.version == Store(db).version  # the engine moved on too


# -- sessions and sign-in ----------------------------------------------------------------------


def replay(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_signing_out_ends_the_session_everywhere(app):
    """A replayed cookie still worked for 12 hours after signing out."""
    browser = app.test_client()
    assert sign_in(browser, "jo").status_code == 302
    stolen = replay(app, browser)
    assert stolen.get("/account").status_code == 200
    token = csrf_token(browser, "/account")
    assert browser.post("/sign-out", data={"csrf_token": token}).status_code == 302
    ended = stolen.get("/account")
    assert ended.status_code == 302 and ended.location.startswith("/sign-in")
    assert stolen.get("/api/nodes").status_code == 401
    assert sign_in(app.test_client(), "jo").status_code == 302  # signing in again starts afresh


def test_changing_the_password_ends_every_other_session(app):
    browser, other = app.test_client(), app.test_client()
    sign_in(browser, "ali")
    sign_in(other, "ali")
    stolen = replay(app, browser)
    token = csrf_token(browser, "/account/password")
    new = "plum tractor lantern sofa"
    tries = [({"current": "wrong password!!", "new": new, "confirm": new}, "current password is not right"),
             ({"current": PASSWORDS["ali"], "new": new, "confirm": new + "x"}, "are not the same"),
             ({"current": PASSWORDS["ali"], "new": "short one", "confirm": "short one"}, "at least 12 characters"),
             ({"current": PASSWORDS["ali"], "new": "Password1234", "confirm": "Password1234"}, "most common")]
    for form, message in tries:
        page = browser.post("/account/password", data={"csrf_token": token, **form})
        assert page.status_code == 400 and message in page.text and "govuk-error-summary" in page.text
    changed = browser.post("/account/password", data={"csrf_token": token, "current": PASSWORDS["ali"],
                                                        "new": new, "confirm": new})
    assert changed.status_code == 302 and changed.location == "/account"
    assert browser.get("/account").status_code == 200  # this session goes on
    for ended in (stolen, other):
        assert ended.get("/account").status_code == 302
    assert sign_in(app.test_client(), "ali").status_code == 401
    assert sign_in(app.test_client(), "ali", new).status_code == 302
    assert "password changed; every session ended" in [e["action"] for e in Accounts(Store(app.config["LINEAGE_DB"])).log()][0]


def test_sign_in_limits_count_failures_only_and_keep_the_form(app):
    """Successful sign-ins counted, and 10 bad attempts locked every account behind one address."""
    for _ in range(12):
        assert sign_in(app.test_client(), "jo").status_code == 302
    client = app.test_client()
    statuses = [sign_in(client, "jo", "guess number x").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    limited = sign_in(client, "jo")  # even the right password, for this account, for now
    assert limited.status_code == 429 and limited.headers["Retry-After"].isdigit()
    assert "Too many sign-in attempts" in limited.text and 'name="password"' in limited.text
    assert 'value="jo"' in limited.text and "govuk-error-summary" in limited.text
    assert sign_in(client, "rob").status_code == 302  # others behind the same address sign in


def test_the_address_limit_is_proxy_friendly_but_exists(app, monkeypatch):
    from web import account
    assert account.ADDRESS_ATTEMPTS == 200 and account.SIGN_IN_ATTEMPTS == 10
    monkeypatch.setattr(account, "ADDRESS_ATTEMPTS", 3)
    client = app.test_client()
    assert [sign_in(client, name, "guess number x").status_code for name in ("ali", "jo", "rob")] == [401] * 3
    assert sign_in(client, "admin").status_code == 429


def test_rate_limiter_waits_without_counting():
    now = [0.0]
    limiter = RateLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.wait("k") == 0 and limiter.hit("k") == 0 and limiter.wait("k") == 0
    assert limiter.hit("k") == 0 and limiter.wait("k") == 10.0 and limiter.wait("k") == 10.0
    now[0] = 10.0
    assert limiter.wait("k") == 0


def test_password_policy(loaded_store, runner, db_path, tmp_path):
    """Any 10-character password was accepted."""
    assert len(common_passwords()) > 1000 and "password1234" in common_passwords()
    assert password_problem("ten chars!") == "a password needs at least 12 characters"
    for weak in ("password1234", "PASSWORD1234", "qwertyuiop123", "111111111111111", "correct horse battery staple"):
        assert "most common" in password_problem(weak), weak
    assert password_problem("plum tractor lantern sofa") is None
    accounts = Accounts(loaded_store)
    with pytest.raises(ValidationError, match="most common"):
        accounts.add("kim", "iloveyou1234", role="contributor", actor="t")
    file = tmp_path / "password"
    file.write_text("letmein12345\n")
    refused = run(runner, ["--db", db_path, "user", "add", "kim", "--role", "owner", "--password-file", file])
    assert refused.exit_code == 1 and "most common" in refused.output


def test_tokens_may_expire(app, db, runner):
    """Tokens never expired."""
    made = run(runner, ["--db", db, "user", "token", "jo", "--label", "ci", "--expires-in", "30"])
    assert made.exit_code == 0 and made.output.strip().startswith("lin_")
    assert run(runner, ["--db", db, "user", "token", "jo", "--expires-in", "0"]).exit_code == 2
    auth = {"Authorization": f"Bearer {made.output.strip()}"}
    api = client_as(app, None)
    assert api.get("/api/nodes", headers=auth).status_code == 200
    store = Store(db)
    listed = Accounts(store).tokens("jo")[-1]
    assert listed["expires"] > listed["created"] and not listed["expired"]
    store.conn.execute("UPDATE tokens SET expires = '2000-01-01T00:00:00+00:00' WHERE id = ?", (listed["id"],))
    expired = api.get("/api/nodes", headers=auth)
    assert expired.status_code == 401 and "expired" in expired.json["error"]["message"]
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    assert Accounts(store).tokens("jo")[-1]["expired"]
    assert "Expired" in client_as(app, "jo").get("/account").text


def test_the_new_token_page_and_personal_pages_are_not_cached(app):
    ali = client_as(app, "ali")
    token = csrf_token(ali, "/account")
    made = ali.post("/account", data={"csrf_token": token, "label": "my script", "expires": "90"})
    assert 'id="new-token"' in made.text and made.headers["Cache-Control"] == "no-store"
    for url in ("/account", "/account/password", "/people/officer-ali", "/people/officer-ali.json", "/flags",
                "/digest", "/nodes/housing-register"):
        assert ali.get(url).headers.get("Cache-Control") == "no-store", url
    assert "no-store" not in client_as(app, None).get("/").headers.get("Cache-Control", "")
    assert "90 days" in made.text or "Stops working" in made.text


def test_hsts_only_over_https(db):
    plain = create_app({"LINEAGE_DB": str(db), "TESTING": True}).test_client().get("/")
    assert "Strict-Transport-Security" not in plain.headers
    app = create_app({"LINEAGE_DB": str(db), "TESTING": True, "LINEAGE_HTTPS": True})
    secure = app.test_client().get("/")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_inbox_is_for_owners_and_admins(app):
    """/inbox answered 200 to contributors and leaders."""
    for who, status in (("ali", 403), ("rob", 403), ("jo", 200), ("admin", 200)):
        assert client_as(app, who).get("/inbox").status_code == status, who
        assert client_as(app, who).get("/inbox.json").status_code == status, who
    assert 'href="/inbox"' not in client_as(app, "rob").get("/").text


def test_api_tokens_work_behind_the_single_sign_on_proxy(db):
    """In trusted-header mode API tokens were ignored, so an OpenLineage client could not authenticate."""
    app = create_app({"LINEAGE_DB": str(db), "TESTING": True, "LINEAGE_TRUSTED_HEADER": "X-Remote-User"})
    client = app.test_client()
    auth = token_for(db, "jo")
    assert client.get("/api/nodes", headers=auth).status_code == 200
    assert client.post("/api/v1/lineage", json=run_event(job="housing.behind_proxy", outputs=[]),
                       headers=auth).status_code == 201
    assert client.get("/api/nodes").status_code == 401
    assert client.get("/api/nodes", headers={"Authorization": "Bearer lin_wrong"}).status_code == 401
    assert client.get("/api/nodes", headers={"X-Remote-User": "rob"}).status_code == 200


def test_error_pages_keep_the_headers_their_status_needs(app):
    anonymous = client_as(app, None)
    unauthorised = anonymous.get("/api/nodes")
    assert unauthorised.status_code == 401 and unauthorised.headers["WWW-Authenticate"] == 'Bearer realm="lineage"'
    assert sign_in(app.test_client(), "jo", "not the password").headers["WWW-Authenticate"]
    assert "POST" in client_as(app, "jo").put("/sign-out").headers["Allow"].split(", ")
    not_allowed = client_as(app, "jo").put("/history")
    assert not_allowed.status_code == 405 and set(not_allowed.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


# -- private files ----------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_secret_backups_and_outbox_are_private(tmp_path):
    """The database and digest files were created world-readable."""
    old = os.umask(0o022)  # a common default, under which files used to be created 0644
    try:
        folder = tmp_path / "instance"
        store = Store(folder / "lineage.db", create=True)
        with store.change("t", "a write, so the WAL file exists") as change:
            change.add_node({"id": "reg", "kind": "dataset", "name": "Register"})
        assert mode(folder) == 0o700 and mode(folder / "lineage.db") == 0o600
        assert mode(folder / "lineage.db-wal") == 0o600
        store.backup(tmp_path / "copy.db")
        assert mode(tmp_path / "copy.db") == 0o600
        store.close()
        create_app({"LINEAGE_DB": str(folder / "lineage.db"), "TESTING": True})
        assert mode(folder / "secret_key") == 0o600
        written = private.write_file(tmp_path / "outbox" / "a.eml", b"x")
        assert mode(written) == 0o600 and mode(tmp_path / "outbox") == 0o700
    finally:
        os.umask(old)


def test_the_digest_outbox_is_private(loaded_store, tmp_path):
    from lineage import digest, loop
    from lineage.graph import LineageGraph

    Accounts(loaded_store).add("ali", "a long enough password", role="contributor", person="officer-ali", actor="t")
    Accounts(loaded_store).add("jo", "a long enough password", role="owner", person="owner-jo", actor="t")
    g = LineageGraph.from_store(loaded_store)
    flag = loop.raise_flag(g, loaded_store, "housing-register", actor=Actor("ali", "contributor", "officer-ali"),
                           text="Dates late")
    loop.set_flag_status(loaded_store, flag["id"], "acknowledged", actor=Actor("jo", "owner", "owner-jo"), reply="On it")
    outbox = tmp_path / "mail"
    summary = digest.send_digests(loaded_store, g, "2020-01-01", env={"LINEAGE_OUTBOX": str(outbox)})
    assert summary.written and mode(outbox) == 0o700
    assert all(mode(Path(path)) == 0o600 for path in summary.written)


def test_no_other_names_anywhere_in_the_route_matrix_is_checked(app, hidden_from):
    """The route matrix (tests/test_editing.py::test_route_matrix) scans every response body for
    other people's names and ids; here, that the check would see a leak."""
    assert names_in("entered by Dev Patel (officer-dev)", {"officer-dev": "Dev Patel"}) == ["officer-dev", "Dev Patel"]
    assert names_in("officer-devon", {"officer-dev": "Dev Patel"}) == []
    assert re.search("officer-", str(hidden_from["ali"]))

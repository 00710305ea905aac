"""Closing the loop (lineage.loop): outcome updates to contributors, data-problem flags to owners.

Who an update reaches is computed independently from the sample files with networkx.
"""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import networkx as nx
import pytest
from conftest import run
from test_graph import expected_decision_confidence

from lineage import loop
from lineage.accounts import Accounts
from lineage.errors import ConflictError, ForbiddenError, LineageError, NotFoundError, RateLimitError, ValidationError
from lineage.graph import LineageGraph, provenance
from lineage.model import QUALITY_DIMENSIONS
from lineage.policy import ANONYMOUS, OPEN, Actor
from lineage.store import Store

ADMIN = Actor("admin", "admin")
CLAIRE = Actor("claire", "owner", person="ad-claire")  # owns prevention-grant-bid and ta-procurement
JO = Actor("jo", "owner", person="owner-jo")  # owns housing-register and social-housing-allocations
ALI = Actor("ali", "contributor", person="officer-ali")
ROB = Actor("rob", "leader", person="finance-director-rob")  # owns housing-budget-setting
HOSTILE = '<script>alert("x")</script> & \'quotes\' £1.2m'


class Clock:
    """A clock the tests move by hand (lineage.loop reads the time through ``loop._clock``)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock(datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setattr(loop, "_clock", fake)
    return fake


def _tables(store) -> set[str]:
    return {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _is_path(nx_flow, path) -> bool:
    return len(set(path)) == len(path) and all(nx_flow.has_edge(a, b) for a, b in itertools.pairwise(path))


# -- outcome updates ----------------------------------------------------------------------------


def test_the_store_owns_the_tables_and_posting_leaves_the_graph_alone(loaded_store):
    # The store creates every table (lineage.migrations); posting creates none.
    assert {"outcome_updates", "update_revisions", "flags", "flag_events", "last_visits"} <= _tables(loaded_store)
    version = loaded_store.version
    update = loop.post_update(loaded_store, "prevention-grant-bid", actor=CLAIRE, text="Approved",
                              date="2026-10-03")
    assert {"outcome_updates", "update_revisions", "flags", "flag_events", "last_visits"} <= _tables(loaded_store)
    assert loaded_store.version == version  # an update is not a change to the graph
    assert update["subject"] == "prevention-grant-bid" and update["author"] == "claire" and update["version"] == 1


def test_post_update_keeps_text_and_figures(loaded_store):
    update = loop.post_update(loaded_store, "prevention-grant-bid", actor=CLAIRE, text=f"  {HOSTILE}\n",
                              figures={"people_helped": 2300, "gbp_secured": 1.2e6, "days_saved": None},
                              date="2026-10-03")
    assert update["text"] == HOSTILE  # stored as typed (trimmed): escaping is for whatever shows it
    assert update["figures"] == {"people_helped": 2300, "gbp_secured": 1200000}
    assert update["date"] == "2026-10-03" and update["edited"] is None
    assert loop.get_update(loaded_store, update["id"]) == update
    assert loop.updates_on(loaded_store, "prevention-grant-bid") == [update]
    assert loop.figures_text(update["figures"]) == "2,300 people helped, £1.2m secured"


def test_only_owners_and_admins_post(loaded_store):
    assert loop.post_update(loaded_store, "housing-budget-setting", actor=ROB, text="Budget set")  # a leader who owns it
    assert loop.post_update(loaded_store, "prevention-grant-bid", actor=ADMIN, text="Admin note")
    assert loop.post_update(loaded_store, "housing-need-model", actor=Actor("d", "owner", person="director-david"),
                            text="Model retrained")  # an AI tool's owner
    for actor in (JO, ALI, ROB):
        with pytest.raises(ForbiddenError, match="owned by ad-claire"):
            loop.post_update(loaded_store, "prevention-grant-bid", actor=actor, text="Not mine")
    with pytest.raises(ForbiddenError, match="needs an account") as caught:
        loop.post_update(loaded_store, "prevention-grant-bid", actor=OPEN, text="x")
    assert not caught.value.sign_in
    with pytest.raises(ForbiddenError) as caught:
        loop.post_update(loaded_store, "prevention-grant-bid", actor=ANONYMOUS, text="x")
    assert caught.value.sign_in
    assert len(loop.recent_updates(loaded_store)) == 3


@pytest.mark.parametrize("subject, options, message", [
    ("housing-register", {}, "'housing-register' is a dataset, not a decision or ai tool"),
    ("no-such-thing", {}, "there is no node 'no-such-thing'"),
    ("prevention-grant-bid", {"text": "   "}, "write 1 to 2000 characters"),
    ("prevention-grant-bid", {"text": "x" * 2001}, "at most 2000 characters (2001 given)"),
    ("prevention-grant-bid", {"figures": {"people_helped": -1}}, "a figure is a number of at least 0"),
    ("prevention-grant-bid", {"figures": {"people_helped": True}}, "a figure is a number of at least 0"),
    ("prevention-grant-bid", {"figures": {"smiles": 3}}, "unknown figure 'smiles'"),
    ("prevention-grant-bid", {"date": "next week"}, "expected a date like 2026-10-03"),
])
def test_post_update_rejects_bad_input(loaded_store, subject, options, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        loop.post_update(loaded_store, subject, actor=ADMIN, **{"text": "fine", **options})
    assert loop.recent_updates(loaded_store) == []


def test_edits_keep_every_version(loaded_store, clock):
    update = loop.post_update(loaded_store, "prevention-grant-bid", actor=CLAIRE, text="Submitted",
                              figures={"gbp_secured": 1_000_000}, date="2026-09-01")
    clock.advance(days=30)
    edited = loop.edit_update(loaded_store, update["id"], actor=CLAIRE, text="Approved", date="2026-10-01",
                              expected_version=1)
    assert (edited["text"], edited["figures"], edited["date"], edited["version"]) == (
        "Approved", {"gbp_secured": 1_000_000}, "2026-10-01", 2)
    assert edited["created"] == update["created"] and edited["edited"] > update["created"]
    clock.advance(hours=1)
    edited = loop.edit_update(loaded_store, update["id"], actor=ADMIN, figures={"gbp_secured": 1_200_000})
    assert edited["editor"] == "admin" and edited["version"] == 3
    assert loop.edit_update(loaded_store, update["id"], actor=ADMIN, text="Approved") == edited  # no change
    history = loop.update_history(loaded_store, update["id"])
    assert [(h["version"], h["actor"], h["text"], h["figures"], h["date"]) for h in history] == [
        (1, "claire", "Submitted", {"gbp_secured": 1_000_000}, "2026-09-01"),
        (2, "claire", "Approved", {"gbp_secured": 1_000_000}, "2026-10-01"),
        (3, "admin", "Approved", {"gbp_secured": 1_200_000}, "2026-10-01")]
    with pytest.raises(ConflictError, match="you edited version 1, it is now at version 3"):
        loop.edit_update(loaded_store, update["id"], actor=CLAIRE, text="Late", expected_version=1)
    with pytest.raises(ForbiddenError):
        loop.edit_update(loaded_store, update["id"], actor=JO, text="Not mine")
    with pytest.raises(NotFoundError, match="no outcome update 999"):
        loop.edit_update(loaded_store, 999, actor=ADMIN, text="x")
    assert len(loop.update_history(loaded_store, update["id"])) == 3


def _post_on_everything(store, nodes_by_id, clock):
    """An update on every decision and AI tool in the samples, a minute apart, posted by an admin."""
    subjects = sorted(i for i, n in nodes_by_id.items() if n["kind"] in ("decision", "ai_tool"))
    for subject in subjects:
        clock.advance(minutes=1)
        loop.post_update(store, subject, actor=ADMIN, text=f"What came of {subject}")
    return subjects


def test_updates_for_each_person_match_networkx(loaded_store, nodes_by_id, nx_flow, clock):
    subjects = set(_post_on_everything(loaded_store, nodes_by_id, clock))
    g = LineageGraph.from_store(loaded_store)
    people = sorted(i for i, n in nodes_by_id.items() if n["kind"] == "person")
    reaching = 0
    for person in people:
        found = loop.updates_for_person(g, loaded_store, person, limit=1000)
        expected = nx.descendants(nx_flow, person) & subjects
        assert {u["subject"] for u in found} == expected, person
        assert [u["created"] for u in found] == sorted((u["created"] for u in found), reverse=True)  # newest first
        for update in found:
            path = update["path"]
            assert path[0] == person and path[-1] == update["subject"] and _is_path(nx_flow, path)
            assert update["path_text"].split(" → ")[0] == nodes_by_id[person]["name"]
            assert update["subject_name"] == nodes_by_id[update["subject"]]["name"]
            assert update["new"] is False
        reaching += bool(found)
    assert reaching >= 20  # the samples connect most contributors to something
    with pytest.raises(Exception, match="is a dataset"):
        loop.updates_for_person(g, loaded_store, "housing-register")


def test_updates_for_a_team_start_at_the_team_and_name_no_one(loaded_store, samples, nodes_by_id, nx_flow, clock):
    subjects = set(_post_on_everything(loaded_store, nodes_by_id, clock))
    g = LineageGraph.from_store(loaded_store)
    members = {e["source"] for e in samples[1] if e["kind"] == "member_of" and e["target"] == "housing-options"}
    expected = set().union(*(nx.descendants(nx_flow, m) for m in members)) & subjects
    found = loop.updates_for_team(g, loaded_store, "housing-options", limit=1000)
    assert {u["subject"] for u in found} == expected and expected
    for update in found:
        assert update["path"][0] == "housing-options"
        assert not any(nodes_by_id[step]["kind"] == "person" for step in update["path"])
        assert any(nx_flow.has_edge(m, update["path"][1]) for m in members)
        assert _is_path(nx_flow, update["path"][1:])
    with pytest.raises(Exception, match="not a team"):
        loop.updates_for_team(g, loaded_store, "officer-ali")


def test_since_and_new_since_the_last_visit(loaded_store, clock):
    first = loop.post_update(loaded_store, "prevention-grant-bid", actor=CLAIRE, text="Bid submitted")
    clock.advance(days=1)
    assert loop.last_visit(loaded_store, "ali", "my-impact") is None
    assert loop.mark_visit(loaded_store, "ali", "my-impact") is None
    visited = loop.last_visit(loaded_store, "ali", "my-impact")
    assert visited == clock.now.isoformat(timespec="microseconds")
    clock.advance(days=1)
    second = loop.post_update(loaded_store, "ta-procurement", actor=CLAIRE, text="Contract let")
    g = LineageGraph.from_store(loaded_store)
    shown = loop.updates_for_person(g, loaded_store, "officer-ali", last_visit=visited)
    assert [(u["id"], u["new"]) for u in shown] == [(second["id"], True), (first["id"], False)]
    assert [u["id"] for u in loop.updates_for_person(g, loaded_store, "officer-ali", since=visited)] == [second["id"]]
    assert [u["id"] for u in loop.updates_for_person(g, loaded_store, "officer-ali", since="2026-10-02")] == \
        [second["id"]]
    clock.advance(hours=1)
    assert loop.mark_visit(loaded_store, "ali", "my-impact") == visited  # returns the visit before
    assert loop.last_visit(loaded_store, "ali", "team") is None  # per page
    with pytest.raises(ValidationError, match="expected a date"):
        loop.updates_for_person(g, loaded_store, "officer-ali", since="yesterday")


# -- flags --------------------------------------------------------------------------------------


def test_raise_flag_lists_the_decisions_downstream(loaded_store, graph, nodes_by_id, nx_flow):
    flag = loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, dimension="timeliness",
                           text=HOSTILE, records=1106)
    expected = {d for d in nx.descendants(nx_flow, "housing-register") if nodes_by_id[d]["kind"] == "decision"}
    assert flag["decision_count"] == len(expected) and {d["id"] for d in flag["decisions"]} == expected
    affected = [d["people_affected"] or -1 for d in flag["decisions"]]
    assert affected == sorted(affected, reverse=True)
    assert (flag["dataset"], flag["dataset_name"], flag["owner"], flag["dimension"], flag["records"]) == (
        "housing-register", "Housing register", "owner-jo", "timeliness", 1106)
    assert (flag["text"], flag["flagger"], flag["flagger_person"], flag["status"], flag["reply"]) == (
        HOSTILE, "ali", "officer-ali", "open", None)
    assert loop.raise_flag(graph, loaded_store, "housing-register", actor=ROB, text="No dimension")["dimension"] is None


@pytest.mark.parametrize("dataset, options, message", [
    ("prevention-grant-bid", {}, "is a decision, not a dataset"),
    ("nope", {}, "there is no node 'nope'"),
    ("housing-register", {"dimension": "vibes"}, "'vibes' is not a quality dimension"),
    ("housing-register", {"text": ""}, "write 1 to 2000 characters"),
    ("housing-register", {"text": "x" * 2001}, "at most 2000 characters"),
    ("housing-register", {"records": -3}, "whole number of at least 0"),
    ("housing-register", {"records": 2.5}, "whole number of at least 0"),
])
def test_raise_flag_rejects_bad_input(loaded_store, graph, dataset, options, message):
    with pytest.raises(ValidationError, match=message):
        loop.raise_flag(graph, loaded_store, dataset, actor=ALI, **{"text": "Wrong", **options})
    assert loop.list_flags(loaded_store) == []


def test_only_signed_in_accounts_flag(loaded_store, graph):
    for actor in (OPEN, ANONYMOUS):
        with pytest.raises(ForbiddenError):
            loop.raise_flag(graph, loaded_store, "housing-register", actor=actor, text="x")
    for actor in (ALI, JO, ROB, ADMIN):
        assert loop.raise_flag(graph, loaded_store, "housing-register", actor=actor, text="x")
    assert {f["flagger"] for f in loop.list_flags(loaded_store)} == {"ali", "jo", "rob", "admin"}


def test_a_flood_of_flags_from_one_account_is_stopped(loaded_store, graph, clock):
    for number in range(loop.FLAG_LIMIT):
        clock.advance(seconds=10)
        loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, text=f"Problem {number}")
    assert loop.count_recent_flags(loaded_store, "ali") == loop.FLAG_LIMIT
    with pytest.raises(RateLimitError, match="20 flags in the last hour, the most allowed; try again in 57 minutes") \
            as caught:
        loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, text="One too many")
    # The oldest of the 20 was raised 190 s ago: the window frees a place in 3,410 s.
    assert caught.value.retry_after == loop.FLAG_WINDOW - 10 * (loop.FLAG_LIMIT - 1)
    assert loop.raise_flag(graph, loaded_store, "housing-register", actor=JO, text="Someone else may")
    clock.advance(seconds=caught.value.retry_after + 1)
    assert loop.count_recent_flags(loaded_store, "ali") == loop.FLAG_LIMIT - 1
    assert loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, text="Allowed again")
    assert len(loop.flags_raised_by(loaded_store, "ali")) == loop.FLAG_LIMIT + 1
    assert loop.raise_flag(graph, loaded_store, "housing-register", actor=JO, text="x", limit=1, window=60)
    with pytest.raises(RateLimitError, match="you have raised 1 flag in the last minute, the most allowed; try again in a minute"):  # a limit the caller chose
        loop.raise_flag(graph, loaded_store, "housing-register", actor=JO, text="y", limit=1, window=60)


def test_the_owners_inbox_and_answers(loaded_store, graph, clock):
    mine = loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, dimension="accuracy",
                           text="Re-registration overdue")
    clock.advance(minutes=5)
    also_mine = loop.raise_flag(graph, loaded_store, "void-properties", actor=ROB, text="Voids missing")
    other = loop.raise_flag(graph, loaded_store, "homelessness-casework", actor=ALI, text="Not Jo's")
    inbox = loop.flags_for_owner(loaded_store, "owner-jo")
    assert [f["id"] for f in inbox] == [also_mine["id"], mine["id"]]  # newest first, only Jo's datasets
    assert [f["id"] for f in loop.flags_for_owner(loaded_store, "manager-helen")] == [other["id"]]

    for actor in (ALI, ROB, Actor("helen", "owner", person="manager-helen")):
        with pytest.raises(ForbiddenError, match="answer flags on datasets you own"):
            loop.set_flag_status(loaded_store, mine["id"], "acknowledged", actor=actor)
    clock.advance(hours=2)
    answered = loop.set_flag_status(loaded_store, mine["id"], "acknowledged", actor=JO,
                                    reply=f"Thanks, looking into it {HOSTILE}")
    assert (answered["status"], answered["status_label"], answered["reply"], answered["change"]) == (
        "acknowledged", "acknowledged", f"Thanks, looking into it {HOSTILE}", None)
    assert [f["id"] for f in loop.flags_for_owner(loaded_store, "owner-jo", "open")] == [also_mine["id"]]
    assert [f["id"] for f in loop.flags_for_owner(loaded_store, "owner-jo", ["open", "acknowledged"])] == \
        [also_mine["id"], mine["id"]]
    seen = {f["id"]: f for f in loop.flags_raised_by(loaded_store, "ali")}
    assert seen[mine["id"]]["reply"].startswith("Thanks") and seen[other["id"]]["reply"] is None  # the flagger sees it

    clock.advance(hours=1)
    loop.set_flag_status(loaded_store, mine["id"], "wont_fix", actor=ADMIN)  # reply kept
    assert loop.get_flag(loaded_store, mine["id"])["reply"].startswith("Thanks")
    assert loop.get_flag(loaded_store, mine["id"])["status_label"] == "won't fix"
    with pytest.raises(ValidationError, match="already"):
        loop.set_flag_status(loaded_store, mine["id"], "wont_fix", actor=JO)
    with pytest.raises(ValidationError, match="'done' is not a flag status"):
        loop.set_flag_status(loaded_store, mine["id"], "done", actor=JO)
    with pytest.raises(ValidationError, match="recorded with a fix"):
        loop.set_flag_status(loaded_store, mine["id"], "acknowledged", actor=JO, new_score=0.9)
    with pytest.raises(ValidationError, match="'done' is not a flag status"):
        loop.flags_for_owner(loaded_store, "owner-jo", "done")
    with pytest.raises(NotFoundError):
        loop.set_flag_status(loaded_store, 999, "fixed", actor=ADMIN)

    # The audit trail: every status change, who and when, with the reply.
    history = loop.flag_history(loaded_store, mine["id"])
    assert [(e["actor"], e["status_from"], e["status_to"], e["reply"] and e["reply"][:6]) for e in history] == [
        ("ali", None, "open", None), ("jo", "open", "acknowledged", "Thanks"), ("admin", "acknowledged", "wont_fix", None)]
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    # What the flagger hears about (not their own raising of it).
    events = loop.flag_events_since(loaded_store, "2026-10-01", flaggers=["ali"])
    assert [(e["flag"]["id"], e["status_to"]) for e in events] == [(mine["id"], "wont_fix"), (mine["id"], "acknowledged")]


def test_fixing_with_a_score_moves_data_confidence_at_once(loaded_store, nodes_by_id, nx_flow, clock):
    g = LineageGraph.from_store(loaded_store)
    flag = loop.raise_flag(g, loaded_store, "homelessness-casework", actor=ALI, dimension="timeliness",
                           text="Duty end dates entered weeks late", records=300)
    decisions = [d["id"] for d in flag["decisions"]]
    assert "prevention-grant-bid" in decisions
    before = {d: provenance(g, d).confidence for d in decisions}
    assert before["prevention-grant-bid"].link.as_dict() == {"dataset": "homelessness-casework",
                                                             "dimension": "timeliness", "score": 0.55, "rag": "red"}
    assert all(c.as_dict() == expected_decision_confidence(nx_flow, nodes_by_id, d) for d, c in before.items())
    version = loaded_store.version
    helen = Actor("helen", "owner", person="manager-helen")
    fixed = loop.set_flag_status(loaded_store, flag["id"], "fixed", actor=helen, reply="Backlog cleared",
                                 new_score=0.95)
    assert fixed["status"] == "fixed" and fixed["change"] is not None
    assert loaded_store.version == version + 1  # one graph change, versioned
    stored = loaded_store.node("homelessness-casework")["quality"]
    assert stored["timeliness"] == {"score": 0.95, "note": f"Fixed after flag {flag['id']}: Backlog cleared",
                                    "as_of": "2026-10-01"}
    assert {k: v for k, v in stored.items() if k != "timeliness"} == {
        k: v for k, v in nodes_by_id["homelessness-casework"]["quality"].items() if k != "timeliness"}
    audit = loaded_store.history("homelessness-casework", limit=1)[0]
    assert (audit["change"], audit["actor"], audit["action"]) == (fixed["change"], "helen", "update")
    assert audit["before"]["quality"]["timeliness"]["score"] == 0.55
    assert loop.flag_history(loaded_store, flag["id"])[-1]["change"] == fixed["change"]
    assert loop.flag_history(loaded_store, flag["id"])[-1]["score"] == 0.95

    after_graph = LineageGraph.from_store(loaded_store)
    fixed_nodes = {**nodes_by_id, "homelessness-casework": loaded_store.node("homelessness-casework")}
    for decision in decisions:
        confidence = provenance(after_graph, decision).confidence
        assert confidence.as_dict() == expected_decision_confidence(nx_flow, fixed_nodes, decision), decision
    assert provenance(after_graph, "prevention-grant-bid").confidence.link.dataset != "homelessness-casework"
    # ... and like any change, undone (the flag keeps its history).
    loaded_store.undo(fixed["change"], actor="helen")
    assert loaded_store.node("homelessness-casework")["quality"]["timeliness"]["score"] == 0.55


def test_a_fix_needs_a_dimension_and_a_score_in_range(loaded_store, graph):
    flag = loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, text="Something is off")
    version = loaded_store.version
    with pytest.raises(ValidationError, match="which quality dimension"):
        loop.set_flag_status(loaded_store, flag["id"], "fixed", actor=JO, new_score=0.9)
    with pytest.raises(ValidationError, match="from 0 to 1"):
        loop.set_flag_status(loaded_store, flag["id"], "fixed", actor=JO, new_score=1.5, dimension="validity")
    assert loaded_store.version == version and loop.get_flag(loaded_store, flag["id"])["status"] == "open"
    fixed = loop.set_flag_status(loaded_store, flag["id"], "fixed", actor=JO, new_score=0.97, dimension="validity")
    assert loaded_store.node("housing-register")["quality"]["validity"]["score"] == 0.97 and fixed["change"]
    assert set(QUALITY_DIMENSIONS) >= set(loaded_store.node("housing-register")["quality"])


def test_stale_flags_are_open_past_the_limit(loaded_store, graph, clock):
    old = loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, text="Old")
    acknowledged = loop.raise_flag(graph, loaded_store, "void-properties", actor=ALI, text="Seen")
    loop.set_flag_status(loaded_store, acknowledged["id"], "acknowledged", actor=JO)
    clock.advance(days=10)
    loop.raise_flag(graph, loaded_store, "housing-register", actor=ALI, text="Recent")
    clock.advance(days=5)
    stale = loop.stale_flags(loaded_store, 14)
    assert [(f["id"], f["age_days"]) for f in stale] == [(old["id"], 15)]
    assert [f["id"] for f in loop.stale_flags(loaded_store, 14, statuses=("open", "acknowledged"))] == \
        [old["id"], acknowledged["id"]]
    assert len(loop.stale_flags(loaded_store, 3)) == 2
    assert loop.stale_flags(loaded_store, 30) == []


# -- the command line ---------------------------------------------------------------------------


def test_cli_update_post_and_flags(runner, db_path):
    store = Store(db_path)
    try:
        accounts = Accounts(store)
        accounts.add("claire", "a long enough password", role="owner", person="ad-claire", actor="setup")
        accounts.add("jo", "a long enough password", role="owner", person="owner-jo", actor="setup")
        g = LineageGraph.from_store(store)
        loop.raise_flag(g, store, "housing-register", actor=ALI, dimension="timeliness", text="Dates\nlate " + HOSTILE)
        loop.raise_flag(g, store, "homelessness-casework", actor=ALI, text="Backlog")
    finally:
        store.close()
    posted = run(runner, ["--db", db_path, "update", "post", "prevention-grant-bid", "--as", "claire",
                          "--text", HOSTILE, "--gbp", "1200000", "--people-helped", "2300", "--date", "2026-10-03"])
    assert posted.exit_code == 0 and posted.output == "Posted update 1 on prevention-grant-bid (2026-10-03).\n"
    denied = run(runner, ["--db", db_path, "update", "post", "prevention-grant-bid", "--as", "jo", "--text", "x"])
    assert denied.exit_code == 1 and denied.output == (
        "Error: you can only post updates on decisions and AI tools you own; 'prevention-grant-bid' is owned by "
        "ad-claire\n")
    unknown = run(runner, ["--db", db_path, "update", "post", "prevention-grant-bid", "--as", "nobody", "--text", "x"])
    assert unknown.exit_code == 1 and "there is no account called 'nobody'" in unknown.output
    store = Store(db_path)
    try:
        [update] = loop.updates_on(store, "prevention-grant-bid")
        assert (update["text"], update["figures"], update["author"]) == (
            HOSTILE, {"gbp_secured": 1200000, "people_helped": 2300}, "claire")
    finally:
        store.close()

    listed = run(runner, ["--db", db_path, "flags"])
    assert listed.exit_code == 0 and listed.stderr == "2 flags.\n"
    assert [line.split("\t")[:4] for line in listed.stdout.splitlines()] == [
        ["2", "open", "homelessness-casework", "-"], ["1", "open", "housing-register", "timeliness"]]
    assert listed.stdout.splitlines()[1].endswith("Dates late " + HOSTILE)  # one line per flag
    mine = run(runner, ["--db", db_path, "flags", "--owner", "owner-jo", "--status", "open", "--json"])
    assert [f["id"] for f in json.loads(mine.stdout)] == [1]
    assert run(runner, ["--db", db_path, "flags", "--status", "fixed"]).stderr == "0 flags.\n"
    assert run(runner, ["--db", db_path, "flags", "--status", "done"]).exit_code == 2


def test_stale_days_come_from_the_environment():
    assert loop.stale_days({}) == loop.STALE_DAYS == 14
    assert loop.stale_days({"LINEAGE_FLAG_STALE_DAYS": " 7 "}) == 7
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(LineageError, match="LINEAGE_FLAG_STALE_DAYS must be a number of days"):
            loop.stale_days({"LINEAGE_FLAG_STALE_DAYS": bad})

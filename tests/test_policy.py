"""The policy, accounts, undo, delete consequences and bulk changesets: the library under editing."""
from __future__ import annotations

import json

import networkx as nx
import pytest
from conftest import run, snapshot

from lineage import policy
from lineage.accounts import DEMO_ACCOUNTS, Accounts, ensure_demo_accounts
from lineage.changeset import apply_changeset, parse_changeset, policy_targets, preview
from lineage.consequence import removal_consequence
from lineage.errors import ConflictError, NotFoundError, ValidationError
from lineage.graph import LineageGraph
from lineage.policy import ANONYMOUS, OPEN, Actor, decide

JO = Actor("jo", "owner", person="owner-jo")
ALI = Actor("ali", "contributor", person="officer-ali")
ROB = Actor("rob", "leader", person="finance-director-rob")
ADMIN = Actor("admin", "admin")
JO_OWNS = {"id": "housing-register", "owner": "owner-jo"}
SOMEONE_ELSES = {"id": "nhs-beds", "owner": "chief-nurse-olu"}
JO_DECISION = {"id": "social-housing-allocations", "kind": "decision", "owner": "owner-jo"}
ROB_DECISION = {"id": "housing-budget-setting", "kind": "decision", "owner": "finance-director-rob"}


# -- the policy -------------------------------------------------------------------------------

# (action, target) -> the actors allowed, written out by hand from the roles in the issue.
MATRIX = [
    ("view", None, {"anonymous", "open", "ali", "jo", "rob", "admin"}),
    ("read", None, {"open", "ali", "jo", "rob", "admin"}),
    ("read_history", None, {"open", "ali", "jo", "rob", "admin"}),
    ("read_person", "officer-ali", {"open", "ali", "rob", "admin"}),
    ("read_person", "owner-jo", {"open", "jo", "rob", "admin"}),
    ("read_estate", None, {"open", "rob", "admin"}),
    ("edit_node", JO_OWNS, {"jo", "admin"}),
    ("edit_node", SOMEONE_ELSES, {"admin"}),
    ("edit_node", None, {"jo", "admin"}),
    ("edit_edge", (JO_OWNS, SOMEONE_ELSES), {"jo", "admin"}),
    ("edit_edge", (SOMEONE_ELSES, SOMEONE_ELSES), {"admin"}),
    ("undo", [("node", JO_OWNS)], {"jo", "admin"}),
    ("undo", [("node", JO_OWNS), ("node", SOMEONE_ELSES)], {"admin"}),
    ("bulk_change", [("edge", (SOMEONE_ELSES, JO_OWNS))], {"jo", "admin"}),
    ("ingest", None, {"open", "jo", "admin"}),
    # OpenLineage events, per node as the API: what jo owns or nobody owns yet, never someone else's.
    ("ingest", [("node", (JO_OWNS, {**JO_OWNS, "description": "x"}))], {"open", "jo", "admin"}),
    ("ingest", [("node", (None, {"id": "new-job"}))], {"open", "jo", "admin"}),
    ("ingest", [("node", (SOMEONE_ELSES, {**SOMEONE_ELSES, "owner": "owner-jo"}))], {"open", "admin"}),
    ("ingest", [("node", ({"id": "unowned"}, {"id": "unowned", "owner": "chief-nurse-olu"}))], {"open", "admin"}),
    ("ingest", [("edge", (SOMEONE_ELSES, {"id": "new-job"}))], {"open", "jo", "admin"}),
    ("ingest", [("edge", (SOMEONE_ELSES, SOMEONE_ELSES))], {"open", "admin"}),
    ("manage_users", None, {"admin"}),
    ("own_tokens", None, {"ali", "jo", "rob", "admin"}),
    # Closing the loop: owners of a decision or AI tool post outcome updates (whatever their role:
    # rob is a leader who owns a decision); anyone signed in flags; a dataset's owner answers.
    ("post_update", JO_DECISION, {"jo", "admin"}),
    ("post_update", ROB_DECISION, {"rob", "admin"}),
    ("post_update", SOMEONE_ELSES, {"admin"}),
    ("post_update", None, {"ali", "jo", "rob", "admin"}),
    ("flag", None, {"ali", "jo", "rob", "admin"}),
    ("answer_flag", JO_OWNS, {"jo", "admin"}),
    ("answer_flag", SOMEONE_ELSES, {"admin"}),
    ("read_inbox", None, {"jo", "admin"}),  # flags on one's data: owners and admins (issue 17)
]
ACTORS = {"anonymous": ANONYMOUS, "open": OPEN, "ali": ALI, "jo": JO, "rob": ROB, "admin": ADMIN}


@pytest.mark.parametrize("action, target, allowed", MATRIX)
def test_policy_matrix(action, target, allowed):
    assert {name for name, actor in ACTORS.items() if decide(actor, action, target)} == allowed


def test_every_action_is_in_the_matrix():
    assert {action for action, _, _ in MATRIX} == set(policy.ACTIONS)


def test_denials_say_why_and_whether_signing_in_helps():
    verdict = decide(JO, "edit_node", SOMEONE_ELSES)
    assert not verdict and "owned by chief-nurse-olu" in verdict.reason and not verdict.sign_in
    assert decide(ANONYMOUS, "read").sign_in
    assert "leaders" in decide(ALI, "read_estate").reason
    assert "not linked" in decide(Actor("x", "owner"), "edit_node", JO_OWNS).reason
    with pytest.raises(ValueError, match="unknown action"):
        decide(ADMIN, "fly")


# -- accounts ---------------------------------------------------------------------------------


def test_accounts_hash_passwords_and_check_input(loaded_store):
    accounts = Accounts(loaded_store)
    accounts.add("jo", "a long enough password", role="owner", person="owner-jo", actor="t")
    stored = loaded_store.conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert "a long enough password" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    assert accounts.verify("jo", "a long enough password")["role"] == "owner"
    assert accounts.verify("jo", "wrong password!") is None
    assert accounts.verify("nobody", "a long enough password") is None
    with pytest.raises(ValidationError) as caught:
        accounts.add("Bad Name", "short", role="king", person="housing-register", actor="t")
    fields = {p.field for p in caught.value.problems}
    assert fields == {"name", "role", "password", "person"}
    with pytest.raises(ValidationError, match="already exists"):
        accounts.add("jo", "another long password", role="owner", actor="t")
    with pytest.raises(NotFoundError):
        accounts.set_role("nobody", "owner", actor="t")
    assert [entry["action"] for entry in accounts.log()] == ["added as owner"]


def test_tokens_are_shown_once_and_stored_as_digests(loaded_store):
    accounts = Accounts(loaded_store)
    accounts.add("jo", "a long enough password", role="owner", person="owner-jo", actor="t")
    secret = accounts.new_token("jo", "airflow", actor="t")
    assert secret.startswith("lin_")
    assert secret not in json.dumps(loaded_store.conn.execute("SELECT * FROM tokens").fetchall())
    assert accounts.user_for_token(secret)["name"] == "jo"
    assert accounts.tokens("jo")[0]["last_used"] is not None
    accounts.revoke_token("jo", accounts.tokens("jo")[0]["id"], actor="t")
    assert accounts.user_for_token(secret) is None
    accounts.new_token("jo", "again", actor="t")
    accounts.remove("jo", actor="t")
    assert loaded_store.conn.execute("SELECT count(*) FROM tokens").fetchone()[0] == 0


def test_demo_accounts_cover_every_role_and_link_sample_people(loaded_store):
    shown = ensure_demo_accounts(Accounts(loaded_store), actor="t")
    assert {a["role"] for a in shown} == set(policy.ROLES)
    assert {a["name"]: a["person"] for a in shown} == {name: person for name, _, person, _ in DEMO_ACCOUNTS}
    for account in shown:
        assert Accounts(loaded_store).verify(account["name"], account["password"])
    assert ensure_demo_accounts(Accounts(loaded_store), actor="t") == shown  # idempotent


def test_user_commands(runner, db_path, tmp_path):
    password = tmp_path / "password"
    password.write_text("a long enough password\n")
    result = run(runner, ["--db", db_path, "user", "add", "jo", "--role", "owner", "--person", "owner-jo",
                          "--password-file", password])
    assert result.exit_code == 0 and "Added jo (owner, owner-jo)" in result.output
    assert run(runner, ["--db", db_path, "user", "set-role", "jo", "leader"]).exit_code == 0
    assert run(runner, ["--db", db_path, "user", "link-person", "jo", "officer-ali"]).exit_code == 0
    listed = json.loads(run(runner, ["--db", db_path, "user", "list", "--json"]).output)
    assert [(u["name"], u["role"], u["person"]) for u in listed] == [("jo", "leader", "officer-ali")]
    token = run(runner, ["--db", db_path, "user", "token", "jo", "--label", "ci"]).output.strip()
    assert token.startswith("lin_")
    bad = run(runner, ["--db", db_path, "user", "link-person", "jo", "housing-register"])
    assert bad.exit_code == 1 and "'housing-register' is not a person in the graph" in bad.output
    assert run(runner, ["--db", db_path, "user", "remove", "jo"]).exit_code == 0
    assert "No accounts" in run(runner, ["--db", db_path, "user", "list"]).output
    demo = run(runner, ["--db", db_path, "user", "demo"]).output
    assert all(f"password {password}" in demo for _, _, _, password in DEMO_ACCOUNTS)


# -- undo -------------------------------------------------------------------------------------


def test_undo_restores_every_kind_of_change_and_is_itself_undoable(loaded_store):
    before = {n["id"]: n for n in loaded_store.nodes()}
    edges_before = sorted((e["source"], e["target"]) for e in loaded_store.edges())
    with loaded_store.change("jo", "edit") as change:
        change.update_node("housing-register", {"quality": {"timeliness": 0.4}, "refresh": None})
    with loaded_store.change("jo", "delete") as change:
        change.delete_node("officer-ali")
    with loaded_store.change("jo", "add") as change:
        change.add_node({"id": "new-ds", "kind": "dataset", "name": "New"})
        change.add_edge({"source": "new-ds", "target": "housing-register", "kind": "derives"})
    undone = [loaded_store.undo(c, actor="jo") for c in (4, 3, 2)]
    assert undone == [5, 6, 7]
    after = {n["id"]: n for n in loaded_store.nodes()}
    strip = lambda r: {k: v for k, v in r.items() if k not in ("created", "updated", "version")}  # noqa: E731
    assert {i: strip(n) for i, n in after.items()} == {i: strip(n) for i, n in before.items()}
    assert sorted((e["source"], e["target"]) for e in loaded_store.edges()) == edges_before
    loaded_store.undo(7, actor="jo")  # undo the undo: the edit is back
    assert loaded_store.node("housing-register")["quality"] == {"timeliness": 0.4}


def test_undo_refuses_when_something_moved_on(loaded_store):
    with loaded_store.change("jo", "one") as change:
        change.update_node("housing-register", {"refresh": "hourly"})
    with loaded_store.change("rob", "two") as change:
        change.update_node("housing-register", {"refresh": "weekly"})
    state = snapshot(loaded_store)
    with pytest.raises(ConflictError, match="housing-register changed after it"):
        loaded_store.undo(2, actor="jo")
    assert snapshot(loaded_store) == state


def test_changes_page_by_change(loaded_store, samples):
    for number in range(3):
        with loaded_store.change("jo", f"edit {number}") as change:
            change.update_node("housing-register", {"refresh": f"every {number} days"})
    first = loaded_store.changes(limit=2)
    assert [c["summary"] for c in first] == ["edit 2", "edit 1"]
    rest = loaded_store.changes(before=first[-1]["change"], limit=2)
    assert [c["summary"] for c in rest] == ["edit 0", rest[1]["summary"]] and rest[1]["change"] == 1
    assert rest[1]["touched"] == len(samples[0]) + len(samples[1])  # the load created every node and edge


# -- what a deletion disconnects ---------------------------------------------------------------


def _cut_off(nodes, edges, removed_node=None, removed_edge=None):
    """Independently, with networkx: decisions no dataset upstream of the removed thing reaches
    any more, and the datasets upstream of it that reached them."""
    kinds = {n["id"]: n["kind"] for n in nodes}
    flow = nx.DiGraph([(e["source"], e["target"]) for e in edges
                       if e["kind"] not in ("member_of", "records_outcome")])
    flow.add_nodes_from(kinds)
    entry = removed_node or removed_edge[0]
    sources = {n for n in nx.ancestors(flow, entry) | {entry} if kinds[n] == "dataset"} - {removed_node}
    before = set().union(*(nx.descendants(flow, s) for s in sources | ({removed_node} if removed_node and
                                                                        kinds[removed_node] == "dataset" else set())))
    cut = flow.copy()
    if removed_node:
        cut.remove_node(removed_node)
    elif cut.has_edge(*removed_edge):  # a records_outcome edge carries no input to decisions
        cut.remove_edge(*removed_edge)
    after = set().union(*(nx.descendants(cut, s) for s in sources)) if sources else set()
    lost = {n for n in before - after if kinds[n] == "decision"}
    datasets = {s for s in sources if nx.descendants(flow, s) & lost}
    if removed_node and kinds[removed_node] == "dataset":
        lost |= {n for n in nx.descendants(flow, removed_node) if kinds[n] == "decision"}
        datasets |= {removed_node} if lost else set()
    return lost - {removed_node}, datasets


def test_removal_consequence_matches_networkx_for_every_sample_edge_and_node(samples, session_graph):
    nodes, edges = samples
    flow_edges = [e for e in edges if e["kind"] != "member_of"]
    disconnecting = 0
    for edge in flow_edges:
        found = removal_consequence(session_graph, edge=(edge["source"], edge["target"]))
        decisions, datasets = _cut_off(nodes, edges, removed_edge=(edge["source"], edge["target"]))
        assert (set(found.decisions), set(found.datasets)) == (decisions, datasets), edge
        disconnecting += bool(decisions)
    assert disconnecting >= 5  # the samples have edges whose loss matters
    for node in nodes:
        if node["kind"] in ("dataset", "ai_tool", "process", "system"):
            found = removal_consequence(session_graph, node=node["id"])
            assert (set(found.decisions), set(found.datasets)) == _cut_off(nodes, edges, removed_node=node["id"])


def test_removal_consequence_sentence():
    g = LineageGraph.from_records(
        [{"id": i, "kind": k, "name": i} for i, k in [("a", "dataset"), ("b", "dataset"), ("m", "ai_tool"),
                                                      ("x", "decision"), ("y", "decision")]],
        [{"source": "a", "target": "m", "kind": "feeds"}, {"source": "b", "target": "m", "kind": "feeds"},
         {"source": "m", "target": "x", "kind": "informs"}, {"source": "m", "target": "y", "kind": "informs"}])
    assert removal_consequence(g, node="m").sentence == (
        "Removing this node and its 4 edges disconnects 2 decisions from 2 datasets.")
    assert removal_consequence(g, edge=("a", "m")).sentence == "Removing this edge disconnects 2 decisions from 1 dataset."
    assert removal_consequence(g, node="x").sentence == "Removing this node and its 1 edge disconnects no decision from its data."
    with pytest.raises(NotFoundError):
        removal_consequence(g, node="nope")


# -- bulk changesets --------------------------------------------------------------------------


def test_changeset_preview_then_apply_all_or_nothing(loaded_store):
    document = {"format": "lineage-graph/1",
                "nodes": [{"id": "housing-register", "kind": "dataset", "name": "Housing register",
                           "owner": "owner-jo", "quality": {"timeliness": 0.5}},
                          {"id": "new-ds", "kind": "dataset", "name": "New", "owner": "owner-jo"}],
                "edges": [{"source": "new-ds", "target": "housing-register", "kind": "derives"}],
                "remove": {"nodes": ["officer-ali"]}}
    changes = parse_changeset(json.dumps(document).encode(), "up.json", loaded_store)
    shown = preview(loaded_store, changes)
    assert shown.counts() == {"nodes_added": 1, "nodes_changed": 1, "nodes_removed": 1, "edges_added": 1,
                              "edges_changed": 0,
                              "edges_removed": sum(1 for _ in loaded_store.edges(touching="officer-ali"))}
    assert ("quality.timeliness", 0.71, 0.5) in shown.nodes_changed[0]["differences"]
    state = snapshot(loaded_store)
    with pytest.raises(ConflictError):
        apply_changeset(loaded_store, changes, actor="jo", summary="up", expected_version=state[0] - 1)
    assert snapshot(loaded_store) == state
    change = apply_changeset(loaded_store, changes, actor="jo", summary="up", expected_version=state[0])
    assert loaded_store.node("new-ds")["name"] == "New"
    with pytest.raises(NotFoundError):
        loaded_store.node("officer-ali")
    assert preview(loaded_store, parse_changeset(json.dumps({**document, "remove": {}}).encode(), "up.json",
                                                 loaded_store)).empty
    loaded_store.undo(change, actor="jo")
    assert loaded_store.node("officer-ali")


def test_changeset_policy_targets_are_judged_as_stored(loaded_store):
    document = {"format": "lineage-graph/1", "edges": [],
                "nodes": [{"id": "housing-register", "kind": "dataset", "name": "Mine now", "owner": "owner-jo"}]}
    changes = parse_changeset(json.dumps(document).encode(), "up.json", loaded_store)
    assert decide(JO, "bulk_change", policy_targets(loaded_store, changes))
    taken = json.dumps({**document, "nodes": [{"id": "nhs-beds", "kind": "dataset", "name": "Mine now",
                                               "owner": "owner-jo"}]})
    if loaded_store.kinds_of(["nhs-beds"]):
        assert not decide(JO, "bulk_change", policy_targets(loaded_store, parse_changeset(
            taken.encode(), "up.json", loaded_store)))


def test_changeset_bad_input_names_file_record_and_field(loaded_store, tmp_path):
    bad = {"format": "lineage-graph/1", "nodes": [{"id": "x", "kind": "dataset", "name": "X",
                                                   "quality": {"timeliness": 3}}], "edges": [],
           "remove": {"nodes": ["nope"], "edges": [{"source": "a"}]}}
    with pytest.raises(ValidationError) as caught:
        parse_changeset(json.dumps(bad).encode(), "up.json", loaded_store)
    assert "up.json: nodes[0] (id 'x'), field 'quality.timeliness'" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        parse_changeset(json.dumps({**bad, "nodes": []}).encode(), "up.json", loaded_store)
    assert [str(p) for p in caught.value.problems] == [
        'up.json: remove.edges[0]: expected {"source": ID, "target": ID}']
    csv = b"id,kind,name,quality.timeliness\nhousing-register,dataset,Housing register,0.2\n"
    changes = parse_changeset(csv, "nodes.csv", loaded_store)
    assert preview(loaded_store, changes).counts()["nodes_changed"] == 1
    with pytest.raises(ValidationError, match="nodes.csv: line 2"):
        parse_changeset(b"id,kind,name\nbad id,dataset,X\n", "nodes.csv", loaded_store)
    with pytest.raises(ValidationError, match="expected a .json"):
        parse_changeset(b"x", "up.xlsx", loaded_store)

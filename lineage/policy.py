"""Who may do what: one function, :func:`decide`, answers for every page, API route and command.

An :class:`Actor` is a signed-in account (its role and the person node it is linked to), an
anonymous visitor, or, while a database has no accounts at all, the :data:`OPEN` actor: a local
install nobody has set accounts up on may be read and fed OpenLineage events, but not edited.

Roles
-----
contributor
    Their own impact page, team pages, node pages; other people only aggregated by team.
owner
    What a contributor may, plus editing the nodes they own and the edges that touch them.
leader
    Reads everything, including the estate-wide pages; edits nothing.
admin
    Everything, including accounts.

Examples
--------
>>> jo = Actor("jo", "owner", person="owner-jo")
>>> decide(jo, "edit_node", {"id": "housing-register", "owner": "owner-jo"}).allowed
True
>>> verdict = decide(jo, "edit_node", {"id": "nhs-beds", "owner": "someone-else"})
>>> verdict.allowed, verdict.reason
(False, "you can only edit what you own; 'nhs-beds' is owned by someone-else")
>>> decide(Actor("ali", "contributor", person="officer-ali"), "read_person", "officer-jo").allowed
False
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import EDGE_RULES

ROLES = ("contributor", "owner", "leader", "admin")
READERS = frozenset(ROLES) | {"open"}

ACTIONS = {
    "view": "see a page that shows no data (home, sign-in, accessibility)",
    "read": "read node, team and search pages and the read API",
    "read_person": "see one person's impact page",
    "read_estate": "see the estate-wide pages (decisions, insights, explore, what-if)",
    "read_history": "see the history of changes",
    "edit_node": "create, change or delete a node",
    "edit_edge": "create, change or delete an edge",
    "bulk_change": "upload a file of changes",
    "undo": "undo a change",
    "ingest": "send OpenLineage events",
    "manage_users": "manage accounts",
    "own_tokens": "manage one's own account: its password and API tokens",
    "post_update": "post or edit an outcome update on a decision or AI tool (its owner, admins)",
    "flag": "flag a data problem on a dataset (anyone signed in)",
    "answer_flag": "acknowledge, fix or answer the flags on a dataset (its owner, admins)",
    "read_inbox": "see the inbox of flags on one's data (owners and admins)",
}
"""Every action :func:`decide` knows, with what it lets an actor do."""


@dataclass(frozen=True)
class Actor:
    """Who is asking: an account's name, role and linked person node (None when anonymous)."""

    name: str | None
    role: str | None
    person: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.role in ROLES


ANONYMOUS = Actor(None, None)
"""Someone not signed in, on a database that has accounts."""
OPEN = Actor(None, "open")
"""Anyone, on a database with no accounts yet: reads and OpenLineage events, no edits."""


@dataclass(frozen=True)
class Verdict:
    """The answer: allowed or not, and if not, why in words a person can act on."""

    allowed: bool
    reason: str = ""
    sign_in: bool = False
    """Denied only because nobody is signed in: signing in may help."""

    def __bool__(self) -> bool:
        return self.allowed


_YES = Verdict(True)


def _owner_of(record: Mapping[str, Any] | None) -> str | None:
    return None if record is None else record.get("owner")


def _may_edit(actor: Actor, record: Mapping[str, Any]) -> bool:
    return actor.role == "admin" or (actor.role == "owner" and actor.person is not None
                                      and _owner_of(record) == actor.person)


def _edit_node(actor: Actor, target: Any) -> Verdict:
    """``target``: the node as stored, or for a new node the node to be created."""
    if actor.role == "admin":
        return _YES
    if actor.role != "owner":
        return Verdict(False, f"{_as_role(actor)} cannot edit; owners edit what they own")
    if actor.person is None:
        return Verdict(False, "your account is not linked to a person, so you own nothing yet; ask an admin")
    if target is None or _may_edit(actor, target):
        return _YES
    owner = _owner_of(target)
    return Verdict(False, f"you can only edit what you own; '{target.get('id')}' is "
                          f"{'owned by ' + owner if owner else 'not owned by anyone'}")


def _edit_edge(actor: Actor, target: Any) -> Verdict:
    """``target``: the records of the edge's two ends (a source and a target node); None asks
    whether the actor may edit any edge at all."""
    verdict = _edit_node(actor, None)
    if not verdict or actor.role == "admin" or target is None:
        return verdict
    ends: Sequence[Mapping[str, Any]] = target
    if any(_may_edit(actor, end) for end in ends):
        return _YES
    names = " or ".join(f"'{end.get('id')}'" for end in ends)
    return Verdict(False, f"you can only change edges that touch something you own; you own neither {names}")


def _owner_or_admin(actor: Actor, action: str, target: Any) -> Verdict:
    """``post_update`` and ``answer_flag``: the owner of ``target`` (the decision, AI tool or
    dataset record), whatever their role, and admins. None asks whether the actor could own any."""
    if actor.role == "admin":
        return _YES
    doing = "posting an outcome update" if action == "post_update" else "answering a flag"
    if not actor.signed_in:
        return Verdict(False, f"{doing} needs an account: an admin creates one with 'lineage user add'")
    if actor.person is None:
        return Verdict(False, "your account is not linked to a person, so you own nothing yet; ask an admin")
    if target is None or _owner_of(target) == actor.person:
        return _YES
    owner = _owner_of(target)
    what = "post updates on decisions and AI tools" if action == "post_update" else "answer flags on datasets"
    return Verdict(False, f"you can only {what} you own; '{target.get('id')}' is "
                          f"{'owned by ' + owner if owner else 'not owned by anyone'}")


def _open_to(actor: Actor, record: Mapping[str, Any] | None) -> bool:
    """Whether OpenLineage events from ``actor`` may change ``record``: it is theirs, or nobody's."""
    return record is None or _owner_of(record) in (None, actor.person)


def _ingest(actor: Actor, target: Any) -> Verdict:
    """``ingest`` of particular changes: ``("node", (before, after))`` for each node the events
    would add or change (``before`` None for a new one), ``("edge", (source, target))`` with the
    records of the ends (as they will be) for each edge they would add.

    The API's rule, per node, for a pipeline: an owner's events may change what they own and what
    nobody owns yet (pipelines report datasets before anyone is named their owner), never what
    someone else owns, and may not make someone else a node's owner; an edge needs an end the
    events may change. Admins' (and, with no accounts, anyone's) events may change anything."""
    if actor.role in ("admin", "open") or target is None:
        return _YES
    if actor.person is None:
        return Verdict(False, "your account is not linked to a person, so you own nothing yet; ask an admin")
    for entity, record in target:
        if entity == "node":
            before, after = record
            if not _open_to(actor, before):
                return Verdict(False, f"'{before.get('id')}' is owned by {_owner_of(before)}: only they or an admin "
                                      "can change it, by OpenLineage events as by any other way")
            if _owner_of(before) is None and _owner_of(after) not in (None, actor.person):
                return Verdict(False, f"the events would make {_owner_of(after)} the owner of '{after.get('id')}': "
                                      "only an admin can give something to someone else")
        elif not any(_open_to(actor, end) for end in record):
            names = " or ".join(f"'{end.get('id')}'" for end in record)
            return Verdict(False, f"the events would add an edge between {names}, which others own")
    return _YES


def _as_role(actor: Actor) -> str:
    return {"open": "nobody signed in", None: "nobody signed in"}.get(actor.role, f"a {actor.role}")


def decide(actor: Actor, action: str, target: Any = None) -> Verdict:
    """May ``actor`` do ``action`` to ``target``?

    Parameters
    ----------
    actor : Actor
    action : str
        One of :data:`ACTIONS`.
    target : object
        What the action is done to: a person id for ``read_person``; a node record for
        ``edit_node``; the two end records for ``edit_edge``; the records a change touched, as
        ``("node", record)`` or ``("edge", (source record, target record))`` pairs, for
        ``undo`` and ``bulk_change``; the decision or AI tool record for ``post_update``; the
        dataset record for ``answer_flag``; for ``ingest``, what the events would change (see
        :func:`_ingest`), or None to ask whether the actor may send events at all.

    Raises
    ------
    ValueError
        For an action that is not in :data:`ACTIONS` (a programming error, not a user's).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action '{action}'")
    if action == "view":
        return _YES
    if actor.role not in READERS:
        return Verdict(False, "sign in to see this", sign_in=True)
    role = actor.role
    if action in ("read", "read_history"):
        return _YES
    if action == "read_person":
        if role in ("leader", "admin", "open") or target == actor.person:
            return _YES
        return Verdict(False, "you can see your own impact page; other people are shown only by team")
    if action == "read_estate":
        if role in ("leader", "admin", "open"):
            return _YES
        return Verdict(False, "the estate-wide pages are for leaders and admins")
    if action == "ingest":
        if role in ("owner", "admin", "open"):
            return _ingest(actor, target)
        return Verdict(False, "OpenLineage events are accepted from owners' and admins' tokens")
    if action == "read_inbox":
        if role in ("owner", "admin"):
            return _YES
        return Verdict(False, "the inbox holds the flags raised on data you own: it is for owners and admins")
    if action == "manage_users":
        return _YES if role == "admin" else Verdict(False, "only admins manage accounts")
    if action == "own_tokens":
        return _YES if actor.signed_in else Verdict(False, "sign in to manage your API tokens", sign_in=True)
    if action == "flag":
        return _YES if actor.signed_in else Verdict(
            False, "flagging a problem needs an account: an admin creates one with 'lineage user add'")
    if action in ("post_update", "answer_flag"):
        return _owner_or_admin(actor, action, target)
    if role == "open":
        return Verdict(False, "editing needs an account: an admin creates one with 'lineage user add'")
    if action == "edit_node":
        return _edit_node(actor, target)
    if action == "edit_edge":
        return _edit_edge(actor, target)
    # bulk_change and undo: every thing touched must be editable by the actor.
    verdict = _edit_node(actor, None)
    for entity, record in target or ():
        if not verdict:
            break
        verdict = _edit_node(actor, record) if entity == "node" else _edit_edge(actor, record)
    return verdict


# -- what a role may see of people ------------------------------------------------------------

PERSON_EDGES = frozenset(kind for kind, (sources, _) in EDGE_RULES.items() if "person" in sources)
"""Edge kinds whose source is always a person (``enters``, ``member_of``): such an edge names
its person even when nothing else about it is known (the person since deleted, say)."""
NAMES_PEOPLE = frozenset({"leader", "admin", "open"})
"""Roles that see people by name; contributors and owners see others only counted by team."""


@dataclass(frozen=True)
class PeopleRule:
    """The one place that decides what an actor may see of a person, for every page, twin,
    picture, API answer and history entry.

    Leaders and admins (and everyone, on a database with no accounts) see people by name.
    Contributors and owners see themselves, and other people only counted by team; an owner's
    id on what they own is not hidden (owners are named on what they own, for accountability),
    but their own record, their ``enters`` and ``member_of`` edges and changes to them are.

    >>> rule = PeopleRule(Actor("ali", "contributor", person="officer-ali"))
    >>> rule.shows_node("officer-dev", "person"), rule.shows_node("officer-ali", "person")
    (False, True)
    >>> rule.shows_edge("officer-dev", "housing-cms", "enters"), rule.shows_edge("housing-cms", "reg", "supplies")
    (False, True)
    >>> PeopleRule(Actor("rob", "leader")).shows_node("officer-dev", "person")
    True
    >>> rule.text("add al to allocations", {"al"})
    'add a person to allocations'
    """

    actor: Actor

    @property
    def names_people(self) -> bool:
        return self.actor.role in NAMES_PEOPLE

    def shows_person(self, person_id: str | None) -> bool:
        return self.names_people or (person_id is not None and person_id == self.actor.person)

    def shows_node(self, node_id: str, kind: str | None) -> bool:
        return kind != "person" or self.shows_person(node_id)

    def shows_edge(self, source: str, target: str, kind: str | None) -> bool:
        # Only the source end of an edge can be a person (the model's edge rules).
        return kind not in PERSON_EDGES or self.shows_person(source)

    @property
    def unlisted_kinds(self) -> tuple[str, ...]:
        """Node kinds left out of lists of every node (a contributor sees only themselves of people)."""
        return () if self.names_people else ("person",)

    def visible(self, records: Iterable[Mapping[str, Any]]) -> list[Any]:
        """Node records (anything with ``id`` and ``kind``) less the people not to be shown."""
        return [r for r in records if self.shows_node(r.get("id"), r.get("kind"))]

    def shows_entry(self, entry: Mapping[str, Any]) -> bool:
        """An audit entry or a listed item of a change: ``entity``, ``ref`` and the ``kind`` of
        what it touched (or the records ``before`` and ``after``, which carry it)."""
        records = [r for r in (entry.get("before"), entry.get("after")) if isinstance(r, Mapping)]
        kinds = {entry.get("kind")} | {r.get("kind") for r in records}
        kinds.discard(None)
        if entry.get("entity") == "edge":
            source, _, target = str(entry.get("ref", "")).partition(" -> ")
            return all(self.shows_edge(source, target, kind) for kind in kinds)
        return all(self.shows_node(entry.get("ref"), kind) for kind in kinds)

    def entries(self, entries: Iterable[Mapping[str, Any]]) -> tuple[list[Any], int]:
        """The entries the actor may see, and how many were left out (they are counted, not shown)."""
        shown: list[Any] = []
        hidden = 0
        for entry in entries:
            if self.shows_entry(entry):
                shown.append(entry)
            else:
                hidden += 1
        return shown, hidden

    def record(self, record: Mapping[str, Any], *fields: str) -> dict[str, Any]:
        """``record`` with each of ``fields`` that holds a person id the actor may not see emptied
        (a flag's ``flagger_person``, say)."""
        return {**record, **{f: None for f in fields if record.get(f) and not self.shows_person(record[f])}}

    def hidden_people(self, entries: Iterable[Mapping[str, Any]]) -> set[str]:
        """The ids of the people that the hidden ones among ``entries`` name."""
        return {str(e.get("ref", "")).partition(" -> ")[0] for e in entries if not self.shows_entry(e)}

    def text(self, text: str, people: Iterable[str]) -> str:
        """``text`` (a change's summary, written by whoever made it) with the ids of ``people`` replaced."""
        for person in sorted(people, key=len, reverse=True):  # whole ids only: 'al' is not in 'allocations'
            text = re.sub(rf"(?<![\w-]){re.escape(person)}(?![\w-])", "a person", text)
        return text

    def change(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """A change as the actor may see it: of its ``entries`` (:meth:`Store.change_info`) or
        listed ``items`` (:meth:`Store.changes`, :meth:`Store.recent_changes`), those that name
        people are left out and counted in ``hidden``, and their ids taken out of the summary."""
        key = "entries" if "entries" in change else "items"
        listed = change.get(key) or []
        shown, hidden = self.entries(listed)
        summary = change.get("summary")
        if hidden and isinstance(summary, str):
            summary = self.text(summary, self.hidden_people(listed))
        return {**change, key: shown, "hidden": hidden, "summary": summary}

    def history(self, entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """A node's history (:meth:`Store.history`: one entry per thing a change touched) as the
        actor may see it: entries that name people left out, the rest with their summaries cleaned."""
        entries = list(entries)
        people = self.hidden_people(entries)
        return [{**e, "summary": self.text(e["summary"], people)} if people and isinstance(e.get("summary"), str)
                else dict(e) for e in entries if self.shows_entry(e)]

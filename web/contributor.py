"""The frontline contributor's journey: My impact for a person, the same for a team."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request
from werkzeug.exceptions import NotFound

from lineage import words
from lineage.errors import LineageError, StoreError
from lineage.report import contributor_report, teams_of

from . import fields
from .auth import current_actor, people_rule
from .db import get_graph, get_store
from .errors import wants_json
from .loop import impact_updates, posted_by
from .respond import node_url, picture_and_twin, picture_defaults, picture_options, respond, route

bp = Blueprint("contributor", __name__)


def _impact_page(subject: str, kind: str):
    g = get_graph()
    if subject not in g:
        raise NotFound(f"there is no {kind} with the id '{subject}'")
    if g.kind(subject) != kind:
        return redirect(node_url(subject, g.kind(subject), json=wants_json(), **request.args))
    report = contributor_report(g, subject, edge=get_store().edge)
    rule = people_rule()
    changes = [rule.change(c) for c in get_store().recent_changes(report.reached)]
    picture = picture_and_twin(g, subject, picture_options(*picture_defaults(kind)))
    updates = [{**u, "posted_by": posted_by(g, u["author"], u["subject"])} for u in impact_updates(subject, kind)]
    feed = next_feed(updates, report.decisions)
    names = g.records({i["ref"] for c in changes for i in c["items"] if i["ref"] in g})
    for change in changes:
        change["words"] = words.change_line(change["summary"], change["items"],
                                            {ref: r["name"] for ref, r in names.items()})
    # The fields a person fills in are their own; a team's page counts people and names no fields.
    your_fields = fields.entered_rows(g, subject, get_store().edge, limit=1) if kind == "person" else []
    data = {**report.as_dict(), "recent_changes": changes, "picture": picture["twin"].as_dict(), "updates": updates,
            "what_happened_next": feed, "fields_you_fill_in": your_fields}
    return respond("impact.html", data, report=report, changes=changes, picture=picture, g=g, updates=updates,
                   feed=feed, your_fields=your_fields)


def next_feed(updates: list[dict[str, Any]], cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What happened next, as one feed: outcome updates (newest first), then the outcome notes
    recorded on the decisions themselves, each with who said it."""
    feed = [{"kind": "update", "id": u["id"], "subject": u["subject"], "subject_name": u["subject_name"],
             "subject_kind": u["subject_kind"], "text": u["text"], "figures": u["figures"], "date": u["date"],
             "created": u["created"], "new": u["new"], "who": u["posted_by"]["text"], "path_text": u["path_text"]}
            for u in updates]
    for card in cards:
        if card.get("outcome"):
            owner = card.get("owner")
            who = f"{owner['name']}, who owns the decision" if owner else "the decision's record"
            feed.append({"kind": "outcome", "id": None, "subject": card["id"], "subject_name": card["name"],
                         "subject_kind": "decision", "text": card["outcome"], "figures": {}, "date": None,
                         "created": None, "new": False, "who": who, "path_text": ""})
    return feed


@route(bp, "/people/<node_id>", action="read_person", target=lambda args: args["node_id"])
def person(node_id: str):
    return _impact_page(node_id, "person")


@route(bp, "/teams/<node_id>", action="read")
def team(node_id: str):
    return _impact_page(node_id, "team")


def my_teams() -> list[dict]:
    """The teams of the signed-in contributor's person (for the navigation): id and name."""
    actor = current_actor()
    if not actor.person:
        return []
    try:
        g = get_graph()
        if actor.person not in g or g.kind(actor.person) != "person":
            return []
        return teams_of(g, actor.person)
    except (LineageError, StoreError):
        return []


bp.add_app_template_global(my_teams, "my_teams")

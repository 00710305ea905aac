"""The frontline contributor's journey: My impact for a person, the same for a team."""
from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.exceptions import NotFound

from lineage.report import contributor_report

from .auth import people_rule
from .db import get_graph, get_store
from .errors import wants_json
from .loop import impact_updates
from .respond import node_url, picture_and_twin, picture_defaults, picture_options, respond, route

bp = Blueprint("contributor", __name__)


def _impact_page(subject: str, kind: str):
    g = get_graph()
    if subject not in g:
        raise NotFound(f"there is no {kind} with the id '{subject}'")
    if g.kind(subject) != kind:
        return redirect(node_url(subject, g.kind(subject), json=wants_json(), **request.args))
    report = contributor_report(g, subject)
    rule = people_rule()
    changes = [rule.change(c) for c in get_store().recent_changes(report.reached)]
    picture = picture_and_twin(g, subject, picture_options(*picture_defaults(kind)))
    updates = impact_updates(subject, kind)
    data = {**report.as_dict(), "recent_changes": changes, "picture": picture["twin"].as_dict(), "updates": updates}
    return respond("impact.html", data, report=report, changes=changes, picture=picture, g=g, updates=updates)


@route(bp, "/people/<node_id>", action="read_person", target=lambda args: args["node_id"])
def person(node_id: str):
    return _impact_page(node_id, "person")


@route(bp, "/teams/<node_id>", action="read")
def team(node_id: str):
    return _impact_page(node_id, "team")

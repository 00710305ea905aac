"""The owner's journey: *Your data* (everything they own and what needs doing first), and the
name search that the owner and edge pickers use as someone types."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from lineage import owned, search
from lineage.model import NODE_KINDS

from .auth import current_actor, requires, visible
from .db import get_graph, get_store
from .respond import respond, route

bp = Blueprint("owner", __name__)


@route(bp, "/your-data", action="edit_node")
def your_data():
    """Everything the signed-in owner owns (an admin may look at anyone's with ``?person=``)."""
    actor = current_actor()
    person = request.args.get("person") if actor.role == "admin" else None
    person = person or actor.person
    if not person:
        data: dict[str, Any] = {"person": None, "total": 0, "shown": 0, "groups": {}, "attention": []}
        return respond("owner/your_data.html", data, result=data, kinds=NODE_KINDS, title="Your data")
    result = owned.your_data(get_graph(), get_store(), person)
    return respond("owner/your_data.html", result, result=result, kinds=NODE_KINDS,
                   title="Your data" if person == actor.person else f"{result['person']['name']}’s data")


PICK_FOR = {"owner": ("person",)}


@bp.get("/api/linkable")
@requires("edit_node")
def linkable():
    """Nodes a form may link to, by name, as someone types: ``?q=jo&kinds=person`` (an owner) or
    ``?q=alloc&kinds=decision&exclude=housing-register`` (an edge's other end)."""
    text = (request.args.get("q") or "").strip()
    if len(text) > search.MAX_TEXT:
        raise BadRequest(f"q is at most {search.MAX_TEXT} characters; this one has {len(text)}")
    kinds = [k for k in (request.args.get("kinds") or "").split(",") if k]
    if not kinds or any(k not in NODE_KINDS for k in kinds):
        raise BadRequest(f"kinds is a comma-separated list of: {', '.join(NODE_KINDS)}")
    exclude = [request.args.get("exclude")] if request.args.get("exclude") else []
    matches = search.linkable(get_store(), text, kinds=kinds, exclude=exclude)
    if kinds != ["person"]:  # people are named here only when a person is what is being picked
        matches = visible(matches)
    return jsonify({"query": text, "kinds": kinds, "count": len(matches), "matches": matches,
                    "groups": [{"organisation": name, "matches": items} for name, items in search.grouped(matches)]})

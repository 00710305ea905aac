"""The owner's journey: *Your data*, everything they own and what needs doing first."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from lineage import owned
from lineage.model import NODE_KINDS

from .auth import current_actor, people_rule
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
    rule = people_rule()  # who raised a flag, and people among what is owned, only as the rule allows
    result["groups"] = {kind: [{**item, "open_flags": [rule.record(f, "flagger_person") for f in item["open_flags"]]}
                               for item in rule.visible(items)]
                        for kind, items in result["groups"].items()}
    return respond("owner/your_data.html", result, result=result, kinds=NODE_KINDS,
                   title="Your data" if person == actor.person else f"{result['person']['name']}’s data")

"""Find by name: ``/find.json?q=&kinds=&limit=&exclude=&for=``, what search-as-you-type asks
(web/static/find.js), and :func:`pick`, what a form does with a name typed into it.

The ranking is :func:`lineage.find.find`'s; people the reader may not see by name are left out.
When a form picks someone (``for=pick``: an owner, an account's person, the person at an edge's
other end), people who own something are offered too: owners are named on what they own (the
people rule), so naming them here shows nothing new.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from lineage import find as finding
from lineage.errors import LineageError

from . import params
from .auth import allowed, people_rule, requires, visible
from .db import get_store
from .respond import node_url

bp = Blueprint("find", __name__)


def page_url(node: dict) -> str:
    """A found node's page: a decision's is what it rests on (for those who may read it), else its node page."""
    from flask import url_for
    if node["kind"] == "decision" and allowed("read"):
        return url_for("leader.decision", node_id=node["id"])
    return node_url(node["id"], node["kind"])


def pickable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` that a form may offer to pick: those the reader sees, and people who own something."""
    rule = people_rule()
    hidden = [r["id"] for r in records if not rule.shows_node(r["id"], r["kind"])]
    owners = get_store().owners_among(hidden) if hidden else set()
    return [r for r in records if rule.shows_node(r["id"], r["kind"]) or r["id"] in owners]


def pick(text: str, kinds: list[str], *, what: str, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The one node a name typed into a form means (its id, its exact name, or the only match), among
    those the reader may pick. Raises ValueError with a message for the error summary: nothing
    matches (with the closest names) or several do (named, to type more of one)."""
    if not text.strip():
        raise ValueError(f"Enter the name of the {what}")
    resolved = finding.resolve(get_store(), text, kinds=kinds, exclude=exclude)
    resolved.choices = pickable(resolved.choices)
    resolved.suggestions = pickable(resolved.suggestions)
    if resolved.node is not None and pickable([resolved.node]):
        return resolved.node
    if resolved.node is not None:
        resolved.node = None
    if len(resolved.choices) == 1 and not resolved.more:
        return resolved.choices[0]
    raise ValueError(resolved.message(what, listing=True))


@bp.get("/find.json")
@requires("read")
def find_json():
    text = request.args.get("q", "")
    kinds = params.kinds_arg()
    limit = params.int_arg("limit", finding.LIMIT, 1, finding.MAX_LIMIT)
    left_out = params.text_arg("exclude", finding.MAX_TEXT)
    purpose = params.choice_arg("for", ("pick",))
    shown = pickable if purpose == "pick" and allowed("edit_node") else visible
    try:
        found = finding.find(get_store(), text, kinds=kinds, limit=limit, exclude=[left_out] if left_out else [])
    except LineageError as error:
        raise BadRequest(str(error)) from None
    matches = [{**node, "url": page_url(node)} for node in shown(found.matches)]
    data = {"q": found.text, "kinds": found.kinds, "matches": matches, "more": found.more}
    if found.text and not matches:
        data["suggestions"] = [{**node, "url": page_url(node)}
                               for node in shown(finding.suggestions(get_store(), found.text, kinds=kinds))]
    return jsonify(data)

"""Find by name: ``/find.json?q=&kinds=&limit=``, what search-as-you-type asks (web/static/find.js).

The ranking is :func:`lineage.find.find`'s; people the reader may not see by name are left out.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from lineage import find as finding
from lineage.errors import LineageError

from . import params
from .auth import requires, visible
from .db import get_store
from .respond import node_url

bp = Blueprint("find", __name__)


def page_url(node: dict) -> str:
    """A found node's page: a decision's is what it rests on (for those who may read it), else its node page."""
    from flask import url_for

    from .auth import allowed
    if node["kind"] == "decision" and allowed("read"):
        return url_for("leader.decision", node_id=node["id"])
    return node_url(node["id"], node["kind"])


@bp.get("/find.json")
@requires("read")
def find_json():
    text = request.args.get("q", "")
    kinds = params.kinds_arg()
    limit = params.int_arg("limit", finding.LIMIT, 1, finding.MAX_LIMIT)
    try:
        found = finding.find(get_store(), text, kinds=kinds, limit=limit)
    except LineageError as error:
        raise BadRequest(str(error)) from None
    matches = [{**node, "url": page_url(node)} for node in visible(found.matches)]
    data = {"q": found.text, "kinds": found.kinds, "matches": matches, "more": found.more}
    if found.text and not matches:
        data["suggestions"] = [{**node, "url": page_url(node)}
                               for node in visible(finding.suggestions(get_store(), found.text, kinds=kinds))]
    return jsonify(data)

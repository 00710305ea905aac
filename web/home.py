"""The home page, search and the accessibility statement."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from lineage.model import NODE_KINDS

from . import params
from .auth import current_actor, requires, visible
from .db import get_store
from .errors import wants_json
from .respond import respond, route

bp = Blueprint("home", __name__)
MAX_QUERY = 200
SEARCH_LIMIT = 100


@route(bp, "/", action="view")
def index():
    if current_actor().role == "leader" and not wants_json():  # a leader's front door (sign-in lands here too)
        return redirect(url_for("leader.home"))
    store = get_store()
    counts = store.counts()
    data = {"version": store.version, "counts": counts, "edges": store.edge_count()}
    return respond("home.html", data, counts=counts)


@route(bp, "/search", action="read")
def search():
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        raise BadRequest(f"a search is at most {MAX_QUERY} characters; this one has {len(query)}")
    kind = params.kind_arg()
    results = visible(get_store().search(query, limit=SEARCH_LIMIT, kind=kind)) if query else []
    groups = {k: [r for r in results if r["kind"] == k] for k in NODE_KINDS}
    groups = {k: rows for k, rows in groups.items() if rows}
    data = {"query": query, "kind": kind, "count": len(results), "groups": groups}
    return respond("search.html", data, kinds=NODE_KINDS)


@bp.get("/accessibility")
@requires("view")
def accessibility():
    return render_template("accessibility.html", title="Accessibility statement")

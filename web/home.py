"""The home page, search and the accessibility statement."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from lineage.policy import Actor

from lineage.model import NODE_KINDS

from . import params
from .auth import allowed, current_actor, requires, visible
from .db import get_graph, get_store
from .errors import wants_json
from .respond import respond, route

bp = Blueprint("home", __name__)
MAX_QUERY = 200
SEARCH_LIMIT = 100


def front_door(actor: Actor) -> str | None:
    """Where each person starts (docs UX.md): a contributor linked to a person, their My impact;
    an owner, Your data; a leader, their home; an admin, the accounts. None: the home page
    (nobody signed in, or a contributor linked to no person in the graph)."""
    if not actor.signed_in:
        return None
    if actor.role == "contributor":
        if actor.person and actor.person in get_graph() and get_graph().kind(actor.person) == "person":
            return url_for("contributor.person", node_id=actor.person)
        return None
    return {"owner": url_for("owner.your_data"), "leader": url_for("leader.home"),
            "admin": url_for("admin.accounts")}.get(actor.role)


@route(bp, "/", action="view")
def index():
    actor = current_actor()
    door = None if wants_json() else front_door(actor)
    if door:
        return redirect(door)
    store = get_store()
    counts = store.counts()
    data = {"version": store.version, "counts": counts, "edges": store.edge_count()}
    return respond("home.html", data, counts=counts, must_sign_in=actor.role is None,
                   may_list_people=allowed("read_person"))


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

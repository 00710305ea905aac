"""The home page and search."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from werkzeug.exceptions import BadRequest

from lineage.model import NODE_KINDS

from .db import get_store
from .errors import wants_json

bp = Blueprint("home", __name__)
MAX_QUERY = 200


@bp.get("/")
def index():
    store = get_store()
    counts = store.counts()
    if wants_json():
        return jsonify({"version": store.version, "counts": counts, "edges": store.edge_count()})
    return render_template("home.html", counts=counts, kinds=NODE_KINDS, version=store.version)


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        raise BadRequest(f"a search is at most {MAX_QUERY} characters")
    results = get_store().search(query, limit=50) if query else []
    if wants_json():
        return jsonify({"query": query, "count": len(results), "results": results})
    return render_template("search.html", query=query, results=results)

"""The JSON API over nodes."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from lineage.model import NODE_KINDS

from .db import get_store

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_LIMIT = 1000


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, got {raw[:50]!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, got {value}")
    return value


@bp.get("/nodes")
def nodes():
    kind = request.args.get("kind")
    if kind is not None and kind not in NODE_KINDS:
        raise BadRequest(f"unknown kind {kind[:50]!r}; expected one of: {', '.join(NODE_KINDS)}")
    limit = _int_arg("limit", 100, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 10**9)
    store = get_store()
    page = store.node_page(kind=kind, limit=limit, offset=offset)
    return jsonify({"version": store.version, "total": page.total, "limit": limit, "offset": offset,
                    "nodes": page.nodes})


@bp.get("/nodes/<node_id>")
def node(node_id: str):
    store = get_store()
    return jsonify({"node": store.node(node_id), "edges": list(store.edges(touching=node_id))})

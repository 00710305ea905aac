"""The JSON API: nodes, one node with its edges, and lineage around a node."""
from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.exceptions import NotFound

from lineage.graph import traverse

from . import params
from .auth import requires
from .db import get_graph, get_store
from .respond import listed

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_LIMIT = 1000
LINEAGE_LIMIT = 5000


@bp.get("/nodes")
@requires("read")
def nodes():
    kind = params.kind_arg()
    limit = params.int_arg("limit", 100, 1, MAX_LIMIT)
    offset = params.int_arg("offset", 0, 0, 10**9)
    store = get_store()
    page = store.node_page(kind=kind, limit=limit, offset=offset)
    return jsonify({"version": store.version, "total": page.total, "limit": limit, "offset": offset,
                    "nodes": page.nodes})


@bp.get("/nodes/<node_id>")
@requires("read")
def node(node_id: str):
    store = get_store()
    return jsonify({"node": store.node(node_id), "edges": list(store.edges(touching=node_id))})


@bp.get("/lineage/<node_id>")
@requires("read")
def lineage(node_id: str):
    """Nodes upstream, downstream or both of a node, nearest first, with the edges among them."""
    direction = params.direction_arg("downstream")
    depth = params.int_arg("depth", params.MAX_DEPTH, 0, params.MAX_DEPTH)
    kinds = params.kinds_arg()
    limit = params.int_arg("limit", 500, 1, LINEAGE_LIMIT)
    g = get_graph()
    if node_id not in g:
        raise NotFound(f"there is no node with the id '{node_id}'")
    reach = traverse(g, node_id, direction=direction, depth=depth, kinds=kinds)
    nodes = listed(g, reach, limit)
    positions = [g.position(node["id"]) for node in nodes] + [g.position(node_id)]
    edges = [{"source": g.ids[s], "target": g.ids[t], "kind": kind} for s, t, kind in g.edges_among(positions)]
    return jsonify({"node": node_id, "version": g.version, "direction": direction, "depth": depth, "kinds": kinds,
                    "count": reach.count, "by_kind": reach.counts_by_kind(), "limit": limit,
                    "nodes": nodes, "edges": edges})

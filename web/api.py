"""The JSON API: nodes, one node with its edges, and lineage around a node; and writes.

Writes (POST, PATCH, DELETE) take JSON and go through the same validation, versions and policy
as the forms. A program authenticates with ``Authorization: Bearer TOKEN`` (``lineage user
token``). PATCH and DELETE must say which version they change, as ``"version"`` in the body
or an ``If-Match`` header: a stale one is a 409 and changes nothing; a missing one a 428.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest, NotFound, PreconditionRequired, UnsupportedMediaType

from lineage.errors import ValidationError
from lineage.graph import traverse
from lineage.model import MAX_NESTING

from . import params
from .auth import authorize, people_rule, requires, visible
from .db import get_graph, get_store
from .respond import listed
from .writes import apply, apply_undo, edge_ends, node_problems, stored_node, touched_targets

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
    if kind == "person":
        authorize("read_person")
    page = store.node_page(kind=kind, limit=limit, offset=offset, without=people_rule().unlisted_kinds)
    return jsonify({"version": store.version, "total": page.total, "limit": limit, "offset": offset,
                    "nodes": visible(page.nodes)})


@bp.get("/nodes/<node_id>")
@requires("read")
def node(node_id: str):
    store = get_store()
    record = store.node(node_id)
    if record["kind"] == "person":
        authorize("read_person", node_id)
    rule = people_rule()  # no names through the ends of edges
    edges = [e for e in store.edges(touching=node_id) if rule.shows_edge(e["source"], e["target"], e["kind"])]
    return jsonify({"node": record, "edges": edges})


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
    if g.kind(node_id) == "person":  # where a person's records go is their impact page's to show
        authorize("read_person", node_id)
    reach = traverse(g, node_id, direction=direction, depth=depth, kinds=kinds)
    nodes = listed(g, reach, limit)  # without people the actor may not see
    positions = [g.position(node["id"]) for node in nodes] + [g.position(node_id)]
    edges = [{"source": g.ids[s], "target": g.ids[t], "kind": kind} for s, t, kind in g.edges_among(positions)]
    return jsonify({"node": node_id, "version": g.version, "direction": direction, "depth": depth, "kinds": kinds,
                    "count": reach.count, "by_kind": reach.counts_by_kind(), "limit": limit,
                    "nodes": nodes, "edges": edges})


# -- writes -----------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMediaType("send JSON, with the header Content-Type: application/json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest(f"the body nests lists and objects too deeply: attributes may nest at most "
                         f"{MAX_NESTING} levels") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be one JSON object")
    return body


def _expected_version(body: dict[str, Any] | None = None) -> int:
    raw = (body or {}).pop("version", None)
    if raw is None:
        raw = request.headers.get("If-Match", "").strip('" ') or request.args.get("version")
    if raw in (None, ""):
        raise PreconditionRequired("say which version you are changing: \"version\" in the body or an If-Match "
                                   "header (GET the record for its version)")
    return params.whole_number(raw, "version", 1)


def _written(change: int, status: int = 200, **payload: Any):
    return jsonify({"change": change, "version": get_store().version, **payload}), status


@bp.post("/nodes")
@requires("edit_node")
def create_node():
    record = _body()
    problems = node_problems(record, "body")
    if problems:
        raise ValidationError(problems)
    authorize("edit_node", record)
    change, _ = apply(f"add {record.get('kind')} '{record.get('id')}' (API)", lambda c: c.add_node(record))
    return _written(change, 201, node=get_store().node(record["id"]))


@bp.patch("/nodes/<node_id>")
@requires("edit_node", target=stored_node)
def update_node(node_id: str):
    changes = _body()
    version = _expected_version(changes)
    change, node = apply(f"edit node '{node_id}' (API)",
                         lambda c: c.update_node(node_id, changes, expected_version=version))
    return _written(change, node=node)


@bp.delete("/nodes/<node_id>")
@requires("edit_node", target=stored_node)
def delete_node(node_id: str):
    version = _expected_version()
    change, _ = apply(f"delete node '{node_id}' (API)", lambda c: c.delete_node(node_id, expected_version=version))
    return _written(change, deleted=node_id)


@bp.post("/edges")
@requires("edit_edge")
def create_edge():
    record = _body()
    store = get_store()
    ends = []
    for end in ("source", "target"):
        if not isinstance(record.get(end), str):
            raise BadRequest(f"an edge needs a '{end}': the id of a node")
        ends.append(store.node(record[end]))
    authorize("edit_edge", tuple(ends))
    change, _ = apply(f"add {record.get('kind')} edge {record['source']} -> {record['target']} (API)",
                      lambda c: c.add_edge(record))
    return _written(change, 201, edge=store.edge(record["source"], record["target"]))


@bp.patch("/edges/<source>/<target>")
@requires("edit_edge", target=edge_ends)
def update_edge(source: str, target: str):
    changes = _body()
    version = _expected_version(changes)
    change, edge = apply(f"edit edge {source} -> {target} (API)",
                         lambda c: c.update_edge(source, target, changes, expected_version=version))
    return _written(change, edge=edge)


@bp.delete("/edges/<source>/<target>")
@requires("edit_edge", target=edge_ends)
def delete_edge(source: str, target: str):
    version = _expected_version()
    change, _ = apply(f"delete edge {source} -> {target} (API)",
                      lambda c: c.delete_edge(source, target, expected_version=version))
    return _written(change, deleted=f"{source} -> {target}")


@bp.post("/changes/<int:change>/undo")
@requires("undo")
def undo(change: int):
    entries = get_store().change_info(change)["entries"]
    if not entries:
        raise BadRequest(f"change {change} has nothing left to undo")
    authorize("undo", touched_targets(entries))
    return _written(apply_undo(change), 201, undid=change)

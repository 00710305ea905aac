"""Every node's page (details, upstream and downstream, the picture and its history), pictures to
download, and a list of nodes by kind."""
from __future__ import annotations

import io
import itertools
import re
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for
from werkzeug.exceptions import BadRequest, NotFound

from lineage import jobs, origin, owned
from lineage.graph import LineageGraph, Reach, traverse
from lineage.insights import write_csv
from lineage.model import NODE_KINDS
from lineage.owned import NodeQuery
from lineage.report import entered_by_team, owner_of

from . import fields, params
from .auth import allowed, authorize, current_actor, people_rule, requires
from .db import get_graph, get_store
from .errors import wants_json
from .loop import node_updates
from .respond import (MEDIA_TYPES, PAGE_ENDPOINTS, listed, node_url, picture_and_twin, picture_defaults,
                      picture_options, picture_response, respond, route)

bp = Blueprint("nodes", __name__)

EDGES_LISTED = 100
EDGES_SCANNED = 5_000
"""A node's edges read for its links table and the filter by source; a hub's others are reached
from the nodes at their other end."""
"""A node's own edges listed for editing; a hub's are reached from the nodes at their other end."""
NEIGHBOURS_LISTED = 50
"""Upstream and downstream nodes listed on a page, nearest first; the rest are counted by kind."""
PAGE_SIZE = 50
ENTERED_KINDS = ("system", "dataset")
"""Kinds people enter records into: their pages say who does, by team."""


def _known(g: LineageGraph, node_id: str) -> str:
    if node_id not in g:
        raise NotFound(f"there is no node with the id '{node_id}'")
    return g.kind(node_id)


def _neighbours(g: LineageGraph, reach: Reach) -> dict:
    return {"count": reach.count, "by_kind": reach.counts_by_kind(), "nearest": listed(g, reach, NEIGHBOURS_LISTED)}


@route(bp, "/nodes/<node_id>", action="read")
def node(node_id: str):
    g = get_graph()
    kind = _known(g, node_id)
    if kind in PAGE_ENDPOINTS:
        return redirect(node_url(node_id, kind, json=wants_json(), **request.args))
    record = g.record(node_id)
    upstream = _neighbours(g, traverse(g, node_id, direction="upstream"))
    downstream = _neighbours(g, traverse(g, node_id, direction="downstream"))
    store = get_store()
    history = people_rule().history(store.history(node_id, limit=20))
    editable = allowed("edit_node", record)
    rule = people_rule()
    # An owner edits their node's edges, but the people who enter its records stay counted by team.
    # A hub's edges are read up to a bound: the filter's choices come from those.
    shown_edges = list(itertools.islice((e for e in store.edges(touching=node_id)
                                         if rule.shows_edge(e["source"], e["target"], e["kind"])),
                                        EDGES_SCANNED)) if editable else []
    edge_sources = origin.edge_sources(shown_edges)
    wanted = request.args.get("source") or None  # the links one source added
    edges = [e for e in shown_edges if wanted is None or origin.key_of(e) == wanted][:EDGES_LISTED + 1]
    entered = entered_by_team(g, node_id) if kind in ENTERED_KINDS else []
    shown = picture_and_twin(g, node_id, picture_options(*picture_defaults(kind)))
    updates = node_updates(record)
    family = jobs.family(store, node_id) if kind in ("process", "ai_tool") else None  # a task and its DAG
    field_list = fields.field_rows(g, node_id) if record.get("fields") else []
    resting = fields.resting_rows(g, node_id) if kind == "decision" else []
    where_from = origin.describe(record.get(origin.ATTRIBUTE))
    data = {"node": record, "where_from": where_from, "upstream": upstream, "downstream": downstream,
            "history": history, "picture": shown["twin"].as_dict(), "updates": updates, "entered_by_team": entered,
            "family": family,
            "fields": field_list, "rests_on_fields": resting}
    return respond("node.html", data, record=record, owner=owner_of(g, record), upstream=upstream, updates=updates,
                   family=family,
                   downstream=downstream, history=history, picture=shown, editable=editable, entered=entered,
                   edges=edges[:EDGES_LISTED], more_edges=len(edges) > EDGES_LISTED, names=_names(g, edges),
                   field_list=field_list, resting=resting, where_from=where_from, edge_sources=edge_sources,
                   edge_source=wanted)


def _names(g: LineageGraph, edges: list[dict]) -> dict[str, str]:
    ends = {end for edge in edges for end in (edge["source"], edge["target"])}
    return {node_id: record["name"] for node_id, record in g.records(ends).items()}


@bp.get("/nodes/<node_id>/picture.<format>")
@requires("read")
def picture_file(node_id: str, format: str):
    g = get_graph()
    kind = _known(g, node_id)
    if kind == "person":  # a person's picture is their impact page's: the same people may see it
        authorize("read_person", node_id)
    if format not in MEDIA_TYPES:
        raise NotFound(f"pictures come as {', '.join(MEDIA_TYPES)}; not '{format[:20]}'")
    return picture_response(g, node_id, format, picture_options(*picture_defaults(kind)), node_id)


_OWNER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
LIST_ARGS = ("kind", "owner", "organisation", "quality", "source", "sort", "order")


def _node_query(*, page_size: int = PAGE_SIZE) -> NodeQuery:
    """The list's filters, sort and page from the query string; ``owner=mine`` is the actor's person."""
    kind = params.kind_arg()
    if kind == "person":
        authorize("read_person")
    owner = params.text_arg("owner", 128)
    if owner == "mine":
        owner = current_actor().person
        if owner is None:
            raise BadRequest("owner=mine needs an account linked to a person; ask an admin to link yours")
    elif owner is not None and not _OWNER.match(owner):
        raise BadRequest(f"owner is a person's id, 'mine' or 'none'; got {owner[:50]!r}")
    organisation = params.text_arg("organisation", 200)
    if organisation is not None and organisation not in get_store().organisations():
        raise BadRequest(f"there is no organisation called {organisation[:80]!r}")
    return NodeQuery(kind=kind, owner=owner, organisation=organisation,
                     quality=params.choice_arg("quality", owned.QUALITY_BANDS),
                     sort=params.choice_arg("sort", tuple(owned.SORTS), "name"),
                     order=params.choice_arg("order", ("asc", "desc"), "asc"),
                     page=params.int_arg("page", 1, 1, 10**7), page_size=page_size,
                     hide_people="person" in people_rule().unlisted_kinds, origin=_source_arg())


def _source_arg() -> tuple[str, str] | None:
    source = params.text_arg("source", 300)
    return origin.parse_key(source) if source else None


def _list_args(**changes: Any) -> dict[str, Any]:
    args = {name: request.args[name] for name in LIST_ARGS if request.args.get(name)}
    return {k: v for k, v in {**args, **changes}.items() if v is not None}


def _sort_link(key: str, query: NodeQuery) -> dict[str, Any]:
    current = query.sort == key
    order = ("desc" if query.order == "asc" else "asc") if current else ("desc" if key == "decisions" else "asc")
    return {"href": url_for("nodes.node_list", **_list_args(sort=key, order=order)), "current": current,
            "aria_sort": ("ascending" if query.order == "asc" else "descending") if current else None}


@route(bp, "/nodes", action="read")
def node_list():
    query = _node_query()
    found = owned.node_list(get_graph(), get_store(), query)
    if query.page > found.pages:
        raise NotFound(f"there are {found.pages} pages of {query.kind or 'node'}s; page {query.page} does not exist")
    data = {"kind": query.kind, "filters": _list_args(), "sort": query.sort, "order": query.order,
            **found.as_dict(), "nodes": found.rows, "source": request.args.get("source") or None}
    source_words = origin.describe(dict(zip(("type", "name"), query.origin))) if query.origin else None
    pages = {"prev": url_for("nodes.node_list", **_list_args(page=query.page - 1)) if query.page > 1 else None,
             "next": url_for("nodes.node_list", **_list_args(page=query.page + 1)) if query.page < found.pages else None}
    return respond("node_list.html", data, kinds=NODE_KINDS, query=query, pages=pages, sort_link=_sort_link,
                   organisations=get_store().organisations(), owners=get_store().owners(),
                   csv_link=url_for("nodes.node_list_csv", **_list_args()), bands=owned.QUALITY_BANDS,
                   source_words=source_words)


@bp.get("/nodes.csv")
@requires("read")
def node_list_csv():
    query = _node_query()
    buffer = io.StringIO()
    write_csv(owned.node_rows(get_graph(), get_store(), query), owned.NODE_CSV_COLUMNS, buffer)
    response = Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{query.kind or "node"}s.csv"'
    return response

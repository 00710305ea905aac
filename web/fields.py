"""Fields on pages: a node's fields and where each goes, one field's way through to decisions, the
fields a decision rests on. Thin views over :mod:`lineage.fields`; no people are named (fields
belong to systems, datasets and models)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint
from werkzeug.exceptions import NotFound

from lineage import fields as lf
from lineage import fields_text
from lineage.graph import LineageGraph
from lineage.render import RenderError, render
from lineage.render_fields import fields_dot

from . import params
from .auth import requires
from .db import get_graph
from .respond import MEDIA_TYPES, inline_svg, picture_response, respond, route

bp = Blueprint("fields", __name__)

FIELDS_LISTED = 200
"""Fields listed on a page at most (a wide table has hundreds of columns)."""
RESTING_LISTED = 10
"""Fields a decision's page names at most."""


def names_of(g: LineageGraph, ids: Iterable[str]) -> dict[str, str]:
    """Names of nodes by id, for sentences (ids not in the graph are left out)."""
    wanted = {i for i in ids if i in g}
    return {node_id: record["name"] for node_id, record in g.records(wanted).items()}


def field_rows(g: LineageGraph, node_id: str) -> list[dict[str, Any]]:
    """A node's fields with where each comes from and goes, in words and as data."""
    rows = lf.node_fields(g, node_id)[:FIELDS_LISTED]
    names = names_of(g, {i for row in rows for i in fields_text.ids_named(row.reach)} |
                     {s["node"] for row in rows for s in row.sources})
    return [{**row.as_dict(), "label": fields_text.field_words(row.name),
             "comes_from_words": fields_text.comes_from_words(row.sources, names),
             "goes_to_words": fields_text.goes_to_words(row.reach, names)} for row in rows]


def resting_rows(g: LineageGraph, decision: str, limit: int = RESTING_LISTED) -> list[dict[str, Any]]:
    """The fields a decision rests on most, in words and as data."""
    rows = lf.decision_fields(g, decision, limit=limit)
    names = names_of(g, {row.node for row in rows})
    return [{**row.as_dict(), "node_name": names.get(row.node, row.node),
             "words": fields_text.rests_on_words(row, names)} for row in rows]


def entered_rows(g: LineageGraph, person: str, edge: lf.EdgeLookup, limit: int = 3) -> list[dict[str, Any]]:
    """The fields a person fills in that reach decisions, with the ask, most pressing first."""
    rows = lf.person_fields(g, person, edge)[:limit]
    names = names_of(g, {i for row in rows for i in fields_text.ids_named(row.reach)})
    return [{**row.as_dict(), "label": fields_text.field_words(row.field), "node_name": names.get(row.node, row.node),
             "ask": fields_text.ask_words(row, names, lf.lead_decision(g, row.reach))} for row in rows]



def _known(g: LineageGraph, node_id: str) -> dict[str, Any]:
    if node_id not in g:
        raise NotFound(f"there is no node with the id '{node_id}'")
    if g.kind(node_id) not in (*lf.FIELD_KINDS, "decision"):  # no name in the message: it may be a person's
        raise NotFound("only systems, datasets, processes and AI tools have fields, and decisions rest on them")
    return g.record(node_id)


@route(bp, "/nodes/<node_id>/fields", action="read")
def node_fields(node_id: str):
    g = get_graph()
    record = _known(g, node_id)
    node = {"id": record["id"], "kind": record["kind"], "name": record["name"]}
    if record["kind"] == "decision":
        data = {"node": node, "rests_on": resting_rows(g, node_id, limit=params.int_arg("limit", 50, 1, 1000))}
        return respond("fields.html", data, record=record)
    data = {"node": node, "fields": field_rows(g, node_id), "field_count": len(lf.fields_of(record))}
    try:  # the table is the picture's text twin, so a picture Graphviz cannot draw leaves the page whole
        svg, problem = inline_svg(render(fields_dot(g, node_id), "svg"), natural_size=True), None
    except RenderError as error:
        svg, problem = None, str(error)
    return respond("fields.html", data, record=record, svg=svg, problem=problem)


@bp.get("/nodes/<node_id>/fields/picture.<format>")
@requires("read")
def fields_picture(node_id: str, format: str):
    g = get_graph()
    record = _known(g, node_id)
    if format not in MEDIA_TYPES or record["kind"] == "decision":
        raise NotFound(f"pictures of fields come as {', '.join(MEDIA_TYPES)}, for nodes with fields")
    return picture_response(g, node_id, format, {}, f"{node_id}-fields",
                            draw=lambda: render(fields_dot(g, node_id), format))


@route(bp, "/nodes/<node_id>/field", action="read")
def field(node_id: str):
    g = get_graph()
    record = _known(g, node_id)
    name = params.text_arg("name", 500)
    if name is None:
        raise NotFound("say which field: ?name=household_size, say")
    downstream, upstream = lf.field_downstream(g, node_id, name), lf.field_upstream(g, node_id, name)
    names = names_of(g, fields_text.ids_named(downstream) | {n for n, _ in upstream.fields})
    item = next(f for f in lf.fields_of(record) if f["name"] == name)
    data = {"node": {"id": record["id"], "kind": record["kind"], "name": record["name"]},
            "field": {k: v for k, v in item.items() if k != "from"}, "comes_from": item.get("from", []),
            "downstream": downstream.as_dict(), "upstream": upstream.as_dict(),
            "words": {"goes_to": fields_text.goes_to_words(downstream, names),
                      "comes_from": fields_text.comes_from_words(item.get("from", []), names)},
            "names": names}
    return respond("field.html", data, record=record, label=fields_text.field_words(name), names=names,
                   downstream=downstream, upstream=upstream)

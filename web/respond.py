"""Pages and their JSON twins: one view function answers both."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, url_for
from markupsafe import Markup

from lineage import describe
from lineage.graph import LineageGraph, Reach
from lineage.render import RenderError, picture, view

from . import params
from .auth import requires, visible
from .errors import wants_json


def route(bp: Blueprint, rule: str, *, action: str, target: Callable[[dict[str, Any]], Any] | None = None,
          **options: Any) -> Callable:
    """Register a page at ``rule`` and its JSON twin at ``rule.json`` (``/index.json`` for ``/``),
    behind the policy ``action`` (see :func:`web.auth.requires`)."""
    def decorator(function: Callable) -> Callable:
        requires(action, target)(function)
        bp.add_url_rule(rule, view_func=function, **options)
        twin = "/index.json" if rule == "/" else rule + ".json"
        bp.add_url_rule(twin, endpoint=function.__name__ + "_json", view_func=function, **options)
        return function
    return decorator


PAGE_ENDPOINTS = {"person": "contributor.person", "team": "contributor.team"}
"""Node kinds with a journey page of their own; every other kind has a node page."""


def node_url(node_id: str, kind: str, *, json: bool = False, **args: Any) -> str:
    """The page of a node (its JSON twin with ``json``)."""
    return url_for(PAGE_ENDPOINTS.get(kind, "nodes.node") + ("_json" if json else ""), node_id=node_id, **args)


def picture_defaults(kind: str) -> tuple[int, str]:
    """Depth and direction a node's picture starts with: a contributor's records downstream to the
    decisions they reach; anything else, two steps either way."""
    return (8, "downstream") if kind in PAGE_ENDPOINTS else (2, "both")


def respond(template: str, data: dict[str, Any], **context: Any):
    """``data`` as JSON for a twin, else the page (which gets ``data`` and ``context``)."""
    if wants_json():
        return jsonify(data)
    return render_template(template, data=data, **context)


def picture_options(depth: int, direction: str) -> dict[str, Any]:
    """The picture's depth, direction and expanded groups, from the query string."""
    return {"depth": params.depth_arg(depth), "direction": params.direction_arg(direction),
            "expand": params.expand_arg()}


def picture_and_twin(g: LineageGraph, focus: str, options: dict[str, Any]) -> dict[str, Any]:
    """The picture (inline SVG, or why it could not be drawn) and its text twin, from one view."""
    prepared = view(g, focus, **options)
    twin = describe.view_twin(g, prepared)
    try:
        svg, problem = inline_svg(picture(g, focus, "svg", prepared=prepared, **options)), None
    except RenderError as error:
        svg, problem = None, str(error)
    return {"svg": svg, "problem": problem, "twin": twin, "options": options, "hidden": prepared.hidden,
            "shown": len(prepared.nodes)}


MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png", "dot": "text/vnd.graphviz; charset=utf-8"}
"""Pictures to download, by format."""


def picture_response(g: LineageGraph, focus: str | list[str], format: str, options: dict[str, Any],
                     filename: str, *, draw: Callable[[], bytes] | None = None) -> Response:
    """A picture on its own, to view or download (503 with the reason when Graphviz fails).

    ``draw`` makes another picture of ``focus`` than the lineage view (a node's fields, say).
    """
    try:
        data = draw() if draw is not None else picture(g, focus, format, **options)
    except RenderError as error:
        return Response(f"{error}\n", status=503, mimetype="text/plain")
    response = Response(data, mimetype=MEDIA_TYPES[format])
    response.headers["Content-Disposition"] = f'inline; filename="{filename}.{format}"'
    # A picture opened on its own runs nothing, even if a browser treats it as a document.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def listed(g: LineageGraph, reach: Reach, limit: int) -> list[dict]:
    """The nearest ``limit`` nodes of a reach (id, kind, name and distance), less the people the
    actor may not see by name."""
    nearest = reach.nearest(limit)
    records = g.records([node_id for node_id, _ in nearest])
    return visible([{"id": i, "kind": records[i]["kind"], "name": records[i]["name"], "distance": d}
                    for i, d in nearest])


def inline_svg(data: bytes, *, natural_size: bool = False) -> Markup:
    """Graphviz's SVG, ready to sit in a page: no XML prolog or doctype, sized by CSS (or at its
    natural size, for a box that scrolls), labelled.

    Graphviz escapes every label and the picture's links are the app's own (lineage.render), so
    the markup is safe to embed.
    """
    text = data.decode("utf-8")
    text = text[text.index("<svg"):]
    head_end = text.index(">")
    head = text[:head_end]
    for attribute in () if natural_size else ("width", "height"):
        start = head.find(f' {attribute}="')
        if start >= 0:
            end = head.index('"', start + len(attribute) + 3)
            head = head[:start] + head[end + 1:]
    head += ' role="group" aria-label="Lineage picture; the description below says the same in words"'
    return Markup(head + text[head_end:])

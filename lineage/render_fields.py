"""A picture of a node opened into its fields: each field a row of a record-shaped box, with the
fields it comes from (in the boxes of the nodes before it) and the fields made from it (in the
boxes of the nodes after it), joined row to row; the models and decisions those reach beside.

Same visual language as :mod:`lineage.render` (each kind its own colour, labels at
:data:`~lineage.render.FONT_SIZE`, links to the app's own pages); every text is escaped for
Graphviz's HTML-like labels, so a field name cannot add rows, nodes or edges.

>>> from lineage.graph import LineageGraph
>>> from lineage import fields as lf
>>> g = LineageGraph.from_records(
...     [lf.attach_fields({"id": "cms", "kind": "system", "name": "CMS"}, [lf.field("size")]),
...      lf.link_field({"id": "reg", "kind": "dataset", "name": "Register"}, "size",
...                    [lf.field_source("cms", "size")])],
...     [{"source": "cms", "target": "reg", "kind": "supplies"}])
>>> dot = fields_dot(g, "reg")
>>> sorted(n.get_name() for n in dot.get_nodes() if n.get_name() not in ("node", "edge"))
['n0', 'n1']
>>> [e.get_source() + " -> " + e.get_destination() for e in dot.get_edges()]
['n1:f0:e -> n0:f0:w']
"""
from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import pydot

from . import fields as lf
from .fields_text import HOW
from .graph import LineageGraph
from .render import FONT_SIZE, STYLE, _UNPRINTABLE, dot_string

MAX_ROWS = 30
"""Fields drawn per box at most; the rest are counted in a last row (the page lists them all)."""
MAX_BOXES = 24
"""Boxes of other nodes drawn at most."""


def _text(value: str, limit: int = 60) -> str:
    """Text for an HTML-like label: escaped, unprintable characters replaced, cut at ``limit``."""
    value = _UNPRINTABLE.sub("\ufffd", value)
    value = value if len(value) <= limit else value[:limit - 1] + "…"
    return html.escape(value, quote=True)


def _box(record: dict[str, Any], names: list[str], ports: dict[str, int], focus: bool) -> str:
    colour = STYLE[record["kind"]]["fillcolor"]
    text_colour = STYLE[record["kind"]].get("fontcolor", "#000000")
    rows = [f'<TR><TD BGCOLOR="{colour}" ALIGN="LEFT"><FONT COLOR="{text_colour}" POINT-SIZE="{FONT_SIZE + 1}">'
            f'<B>{_text(record["name"])}</B></FONT></TD></TR>']
    for name in names[:MAX_ROWS]:
        rows.append(f'<TR><TD PORT="f{ports[name]}" ALIGN="LEFT" HREF="{_text(_field_link(record["id"], name), 2000)}" '
                    f'TOOLTIP="{_text(name, 200)}">{_text(name.replace("_", " "))}</TD></TR>')
    if len(names) > MAX_ROWS:
        rows.append(f'<TR><TD ALIGN="LEFT"><I>+ {len(names) - MAX_ROWS} more fields</I></TD></TR>')
    border = "3" if focus else "1"
    return (f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="6" BGCOLOR="#FFFFFF">'
            + "".join(rows) + "</TABLE>>")


def _field_link(node_id: str, name: str) -> str:
    return f"/nodes/{quote(node_id)}/field?name={quote(name)}"


def fields_dot(g: LineageGraph, node: str) -> pydot.Dot:
    """The picture of ``node`` opened into its fields (see the module), as a ``pydot.Dot``.

    Raises :class:`~lineage.errors.NotFoundError` for an unknown node.
    """
    index = lf.field_index(g)
    position = g.position(node)
    info = index.at(position)
    graph = pydot.Dot("fields", graph_type="digraph", rankdir="LR", bgcolor="white", fontname="Helvetica",
                      tooltip=dot_string("fields"))
    graph.set_node_defaults(shape="plaintext", fontname="Helvetica", fontsize=str(FONT_SIZE))
    graph.set_edge_defaults(color="#555555", arrowsize="0.7", fontname="Helvetica", fontsize=str(FONT_SIZE - 1))

    # Boxes: the node itself (all its fields), the nodes its fields come from and the nodes whose
    # fields come from it (only the fields joined), in a stable order.
    shown: dict[str, list[str]] = {node: list(info.names)}
    links: list[tuple[str, str, str, str, dict[str, Any]]] = []  # (from node, field, to node, field, link)
    for name in info.names:
        for source in info.records[name].get("from") or ():
            links.append((source["node"], source["field"], node, name, source))
    near = set(g.out.neighbours(position).tolist())
    near |= {q for p in list(near) if not index.at(p).has_fields for q in g.out.neighbours(p).tolist()}
    index.prefetch(near)
    for target in sorted(near):
        target_info = index.at(target)
        for out_field, in_field in target_info.links_from.get(node, ()):
            source = next(s for s in target_info.records[out_field].get("from") or ()
                          if s["node"] == node and s["field"] == in_field)
            links.append((node, in_field, g.ids[target], out_field, source))
    others = sorted({n for link in links for n in (link[0], link[2]) if n != node and n in g})[:MAX_BOXES]
    records = g.records([node, *others])
    for other in others:
        joined = {name for a, f, b, f2, _ in links for n, name in ((a, f), (b, f2)) if n == other}
        in_order = [item["name"] for item in lf.fields_of(records[other]) if item["name"] in joined]
        shown[other] = in_order + sorted(joined - set(in_order))  # the node's own order: fewer crossings
    keys = {node_id: f"n{i}" for i, node_id in enumerate(shown)}
    ports: dict[str, dict[str, int]] = {}
    for node_id, names in shown.items():
        ports[node_id] = {name: i for i, name in enumerate(names)}
        graph.add_node(pydot.Node(keys[node_id], label=_box(records[node_id], names, ports[node_id], node_id == node),
                                  tooltip=dot_string(records[node_id]["name"][:500])))
    for source, in_field, target, out_field, link in links:
        if source not in keys or target not in keys:
            continue
        attributes = {"tooltip": dot_string(_link_words(link))}
        if link.get("type") == "INDIRECT":
            attributes["style"] = "dashed"
        if ports[source].get(in_field, MAX_ROWS) >= MAX_ROWS or ports[target].get(out_field, MAX_ROWS) >= MAX_ROWS:
            continue  # a row not drawn: the page's table has it
        graph.add_edge(pydot.Edge(f"{keys[source]}:f{ports[source][in_field]}:e",
                                  f"{keys[target]}:f{ports[target][out_field]}:w", **attributes))
    return graph


def _link_words(link: dict[str, Any]) -> str:
    words = HOW.get(link.get("subtype", ""), "Made from").lower()
    return words + (" (hidden on the way)" if link.get("masking") else "")


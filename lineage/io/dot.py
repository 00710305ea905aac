"""DOT out: the whole graph for Graphviz (``dot -Tsvg``), in the pictures' visual language.

Flow runs left to right; each kind has its own shape and colour (``lineage.render.STYLE``);
``member_of`` and ``part_of`` arrows (what belongs to what) are dashed. Labels are names (wrapped, a long one cut short with an
ellipsis), tooltips descriptions (or the whole name). Every
attribute is also carried as text in a quoted attribute named ``lineage.<name>`` (quality
flattened as in CSV, lists and objects as JSON), which Graphviz ignores and pydot reads.

Names are user data: every id, label and value goes through :func:`lineage.render.dot_string`,
so no name can close a string and add nodes, edges or attributes.

For a picture of a neighbourhood, use ``lineage draw``: Graphviz takes minutes over a whole
estate of hundreds of thousands of nodes.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> write_dot([{"id": "a", "kind": "dataset", "name": 'Evil"]; x -> y'}], [], out)
>>> print(out.getvalue().splitlines()[4][:94])
  "a" [label="Evil\\"]; x -> y", tooltip="Evil\\"]; x -> y", shape=cylinder, fillcolor="#56B4E9"
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from .. import model
from ..render import STYLE, dot_string, wrap_label
from .graphml import flat_records

PREFIX = "lineage."
"""Data attributes are named ``lineage.<attribute>`` so that none can be taken for a Graphviz one."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _data(row: dict[str, Any]) -> list[str]:
    return [f"{dot_string(PREFIX + name)}={dot_string(_text(value))}" for name, value in row.items()
            if name not in ("id", "source", "target")]


def write_dot(nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """Write records as one DOT digraph (see the module's notes)."""
    out.write("digraph lineage {\n")
    out.write('  graph [rankdir=LR, fontname="Helvetica", tooltip="lineage"];\n')
    out.write('  node [style="filled,rounded", fontname="Helvetica", fontsize=11, color="#333333"];\n')
    out.write('  edge [color="#777777", arrowsize=0.7];\n')
    for row in flat_records(nodes, model.NODE_CORE_FIELDS, lambda r: r["id"]):
        style = STYLE.get(row["kind"], {"shape": "box", "fillcolor": "#FFFFFF"})
        # The label is the name cut to a few lines; the tooltip and lineage.name keep it whole.
        visual = [f"label={dot_string(wrap_label(str(row['name'])))}",
                  f"tooltip={dot_string(str(row.get('description') or row['name']))}",
                  *(f"{name}={dot_string(value) if not value.isalnum() else value}" for name, value in style.items())]
        out.write(f"  {dot_string(row['id'])} [{', '.join(visual + _data(row))}];\n")
    for row in flat_records(edges, model.EDGE_CORE_FIELDS, lambda r: (r["source"], r["target"])):
        visual = [f"tooltip={dot_string(row['kind'])}"] + (["style=dashed"] if row["kind"] in model.STRUCTURE_EDGE_KINDS
                                                           else [])
        out.write(f"  {dot_string(row['source'])} -> {dot_string(row['target'])} [{', '.join(visual + _data(row))}];\n")
    out.write("}\n")

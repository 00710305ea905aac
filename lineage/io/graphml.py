"""GraphML out, for Gephi, yEd and networkx.

Every node and edge attribute is kept, under its own name, with a GraphML type: ``boolean``,
``long`` (whole numbers), ``double`` (numbers) or ``string``. Quality is flattened the way CSV
does it: ``quality.completeness`` holds the score, ``quality.completeness.rag``, ``.note`` and
``.as_of`` the rest of an assessment. Lists and objects (``tags``, ``risks``, ``schema``, the
``openlineage`` metadata), and attributes whose values differ in type from node to node, are
written as JSON text; their key's ``<desc>`` says ``json``. Nodes also get a ``label`` (their
name) for Gephi, unless they have a ``label`` attribute of their own. As in the native export,
the store's ``created``/``updated``/``version`` are left out; nodes are in id order, edges in
(source, target) order.

Characters XML 1.0 cannot hold (control characters other than tab and line breaks) are written
as U+FFFD.

Examples
--------
>>> import io, networkx as nx
>>> out = io.StringIO()
>>> write_graphml([{"id": "r", "kind": "dataset", "name": "Register", "quality": {"timeliness": 0.7},
...                 "tags": ["hub"]}], [], out)
>>> g = nx.read_graphml(io.StringIO(out.getvalue()))
>>> g.nodes["r"]["quality.timeliness"], g.nodes["r"]["tags"], g.nodes["r"]["label"]
(0.7, '["hub"]', 'Register')
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from .. import model
from .csv import _flatten

NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
JSON_MARK = "json"
"""The ``<desc>`` of a key whose values are JSON text."""
_MANAGED = {"created", "updated", "version"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def flat_records(records: Iterable[dict[str, Any]], core: tuple[str, ...], key) -> list[dict[str, Any]]:
    """Records sorted by ``key``, without the store's fields, with quality flattened."""
    return [_flatten({k: v for k, v in r.items() if k not in _MANAGED}) for r in sorted(records, key=key)]


def _graphml_type(values: list[Any]) -> tuple[str, bool]:
    """The GraphML type for an attribute's values, and whether they are written as JSON."""
    types = {type(v) for v in values}
    if types == {bool}:
        return "boolean", False
    if types == {int}:
        return "long", False
    if types <= {int, float}:
        return "double", False
    if types == {str}:
        return "string", False
    return "string", True


def _value(value: Any, attribute_type: str, as_json: bool) -> str:
    if as_json:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if attribute_type == "boolean":
        return "true" if value else "false"
    if attribute_type == "double":
        return repr(float(value))
    return str(value)


def _keys(rows: list[dict[str, Any]], scope: str, prefix: str) -> list[tuple[str, str, str, bool]]:
    """(key id, attribute name, GraphML type, JSON?) for every attribute of the rows."""
    values: dict[str, list[Any]] = {}
    for row in rows:
        for name, value in row.items():
            values.setdefault(name, []).append(value)
    first = model.NODE_CORE_FIELDS if scope == "node" else model.EDGE_CORE_FIELDS
    names = [n for n in first if n in values] + sorted(n for n in values if n not in first)
    return [(f"{prefix}{i}", name, *_graphml_type(values[name])) for i, name in enumerate(names)]


def write_graphml(nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """Write records as one GraphML document (see the module's notes on types)."""
    node_rows = flat_records(nodes, model.NODE_CORE_FIELDS, lambda r: r["id"])
    for row in node_rows:
        row.setdefault("label", row["name"])
    edge_rows = flat_records(edges, model.EDGE_CORE_FIELDS, lambda r: (r["source"], r["target"]))
    # The ends are the edge element's own attributes, not data.
    edge_data = [{k: v for k, v in row.items() if k not in ("source", "target")} for row in edge_rows]
    node_keys, edge_keys = _keys(node_rows, "node", "n"), _keys(edge_data, "edge", "e")
    node_data = [{k: v for k, v in row.items() if k != "id"} for row in node_rows]
    node_keys = [k for k in node_keys if k[1] != "id"]

    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<graphml xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              f'xsi:schemaLocation="{NAMESPACE} {NAMESPACE}/1.0/graphml.xsd">\n')
    for scope, keys in (("node", node_keys), ("edge", edge_keys)):
        for key_id, name, attribute_type, as_json in keys:
            head = f'  <key id="{key_id}" for="{scope}" attr.name={quoteattr(_xml(name))} attr.type="{attribute_type}"'
            out.write(head + (f"><desc>{JSON_MARK}</desc></key>\n" if as_json else "/>\n"))
    out.write('  <graph id="lineage" edgedefault="directed">\n')
    for row, data in zip(node_rows, node_data):
        out.write(f"    <node id={quoteattr(_xml(row['id']))}>")
        _write_data(out, data, node_keys)
        out.write("</node>\n")
    for row, data in zip(edge_rows, edge_data):  # no edge ids: (source, target) names an edge
        out.write(f'    <edge source={quoteattr(_xml(row["source"]))} target={quoteattr(_xml(row["target"]))}>')
        _write_data(out, data, edge_keys)
        out.write("</edge>\n")
    out.write("  </graph>\n</graphml>\n")


def _write_data(out: IO[str], data: dict[str, Any], keys: list[tuple[str, str, str, bool]]) -> None:
    for key_id, name, attribute_type, as_json in keys:
        if name in data:
            out.write(f'<data key="{key_id}">{escape(_xml(_value(data[name], attribute_type, as_json)))}</data>')

"""OpenLineage's columns as fields: the ``schema`` facet's fields, ``dataQualityMetrics.columnMetrics``
null counts as per-field completeness, and ``columnLineage`` in all its versions as field links.

How it maps (see :mod:`lineage.fields` for the shapes)
------------------------------------------------------
* ``schema``: each field becomes a field of the dataset (name, type, description); a struct's
  nested fields become ``parent.child`` fields.
* ``dataQualityMetrics``: a column's completeness is ``1 - nullCount / rowCount`` (it needs a
  ``rowCount`` above 0), with a note of the counts.
* ``columnLineage`` (on an output dataset): each of its ``fields`` is an output field whose
  ``inputFields`` become field links (``from``) to the input datasets' fields:

  - 1-0-1: the field's deprecated ``transformationType`` (``IDENTITY``, ``MASKED``) and
    ``transformationDescription`` give each link DIRECT and IDENTITY, or DIRECT and
    TRANSFORMATION with masking, and the description;
  - 1-1-0: each input field's ``transformations[]`` (``type``, ``subtype``, ``description``,
    ``masking``) gives one link per transformation;
  - 1-2-0: the facet's dataset-wide ``dataset[]`` input fields become ``all_fields_from``.

  An input field that the input dataset does not list yet is added to it (by name), so every link
  resolves.
* A dataset has one node whatever name an event gives it (:mod:`lineage.io.openlineage_names`:
  a symlink's other name, a table's name before a ``RENAME``). Folding cannot know which node a
  name is (that needs the store), so it names an input dataset's node as if the name were its
  own; the import then moves each link to the node the name resolves to (:func:`resolved`), and
  the input fields two names of one table list are added together (:func:`merged_used`).

Each part is a register of its own, like every attribute an OpenLineage facet sets (newest event
wins; a ``_deleted`` facet removes what it set): ``fields:schema``, ``fields:completeness``,
``fields:lineage``, ``fields:all_from``, and ``fields:used:<output node>`` for the input fields
an output names. :func:`put` writes a register into a node's ``fields`` and leaves the other parts
as they are.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import fields as lf

if TYPE_CHECKING:
    from .openlineage import Folded, Key, _Checker

SCHEMA, COMPLETENESS, LINEAGE, ALL_FROM, USED = (
    "fields:schema", "fields:completeness", "fields:lineage", "fields:all_from", "fields:used:")
FACET_SLOTS: dict[str, tuple[str, ...]] = {
    "schema": (SCHEMA,), "dataQualityMetrics": (COMPLETENESS,), "columnLineage": (LINEAGE, ALL_FROM)}
"""The registers each facet sets here, for ``_deleted`` facets."""
MAX_NAME = 500
LEGACY_TYPES: dict[str, dict[str, Any]] = {
    "IDENTITY": {"type": "DIRECT", "subtype": "IDENTITY"},
    "MASKED": {"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": True},
}
"""1-0-1's ``transformationType`` as a link; any other value is a DIRECT TRANSFORMATION."""


# -- checking the facet -----------------------------------------------------------------------------


def _check_input(check: _Checker, item: dict[str, Any], path: str) -> None:
    for key in ("namespace", "name", "field"):
        check.text(item, key, path, required=True)
    for item_path, transformation in check.items(check.array(item, "transformations", path),
                                                 f"{path}.transformations"):
        check.get(transformation, "type", item_path, "one of: " + ", ".join(lf.TRANSFORMATION_TYPES),
                  lambda v: v in lf.TRANSFORMATION_TYPES)
        check.get(transformation, "subtype", item_path, "one of: " + ", ".join(lf.TRANSFORMATION_SUBTYPES),
                  lambda v: v in lf.TRANSFORMATION_SUBTYPES)
        check.text(transformation, "description", item_path)
        check.get(transformation, "masking", item_path, "true or false", lambda v: type(v) is bool)


def check_column_lineage(check: _Checker, facet: dict[str, Any], path: str) -> None:
    """Check a ``columnLineage`` facet (1-0-1, 1-1-0 or 1-2-0), naming each problem's JSON path."""
    columns = check.object(facet, "fields", path)
    for name, column in (columns or {}).items():
        column_path = f"{path}.fields.{name}"
        if not name:
            check.add(column_path, "expected a field name, got an empty one")
        if type(column) is not dict:
            check.add(column_path, "expected an object")
            continue
        check.text(column, "transformationType", column_path)
        check.text(column, "transformationDescription", column_path)
        for item_path, item in check.items(check.array(column, "inputFields", column_path, required=True),
                                           f"{column_path}.inputFields"):
            _check_input(check, item, item_path)
    for item_path, item in check.items(check.array(facet, "dataset", path), f"{path}.dataset"):
        _check_input(check, item, item_path)


# -- folding events into registers ------------------------------------------------------------------


def _flattened(schema_fields: list[dict[str, Any]] | None, prefix: str = "") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in schema_fields or ():
        name = (prefix + item["name"])[:MAX_NAME]
        out.append({k: v for k, v in (("name", name), ("type", item.get("type")),
                                      ("description", item.get("description"))) if v})
        out += _flattened(item.get("fields"), name + ".")
    return out


def _completeness(metrics: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    rows = metrics.get("rowCount")
    if not rows:
        return {}
    found = {}
    for name, column in (metrics.get("columnMetrics") or {}).items():
        nulls = column.get("nullCount")
        if nulls is not None and name:
            nulls = min(int(nulls), int(rows))
            found[name[:MAX_NAME]] = {"score": round(1 - nulls / rows, 6),
                                      "note": f"OpenLineage dataQualityMetrics: {nulls:,} of {int(rows):,} records "
                                              "leave it blank"}
    return found


def _links(item: Mapping[str, Any], node_of: Callable[[str, str], str],
           legacy: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The field links one ``inputFields`` entry gives: one per transformation."""
    node, name = node_of(item["namespace"], item["name"]), item["field"][:MAX_NAME]
    transformations = item.get("transformations") or [legacy]
    links = []
    for transformation in transformations:
        link = lf.field_source(node, name, type=transformation.get("type"), subtype=transformation.get("subtype"),
                               description=(transformation.get("description") or None),
                               masking=transformation.get("masking"))
        if link not in links:
            links.append(link)
    return links


def _legacy(column: Mapping[str, Any]) -> dict[str, Any]:
    kind = column.get("transformationType")
    legacy = dict(LEGACY_TYPES.get(kind.upper(), {"type": "DIRECT", "subtype": "TRANSFORMATION"})) if kind else {}
    if column.get("transformationDescription"):
        legacy["description"] = column["transformationDescription"][:10_000]
    return legacy


def fold(folded: Folded, key: Key, live: Mapping[str, Any], time: str) -> None:
    """Write the column registers a dataset's (not deleted) facets set, at ``time``."""
    from .openlineage import node_id  # the importer imports this module

    def node_of(namespace: str, name: str) -> str:
        return node_id("dataset", namespace, name)

    if "schema" in live:
        folded._write(key, SCHEMA, time, _flattened(live["schema"].get("fields")))
    if "dataQualityMetrics" in live and live["dataQualityMetrics"].get("rowCount"):
        folded._write(key, COMPLETENESS, time, _completeness(live["dataQualityMetrics"]))
    lineage = live.get("columnLineage")
    if lineage is None:
        return
    links = {name[:MAX_NAME]: [link for item in column.get("inputFields") or ()
                               for link in _links(item, node_of, _legacy(column))]
             for name, column in (lineage.get("fields") or {}).items()}
    wide = [link for item in lineage.get("dataset") or () for link in _links(item, node_of, {})]
    folded._write(key, LINEAGE, time, links)
    folded._write(key, ALL_FROM, time, wide)
    used: dict[Key, set[str]] = {}
    for item in [i for column in (lineage.get("fields") or {}).values() for i in column.get("inputFields") or ()] + \
            list(lineage.get("dataset") or ()):
        used.setdefault(folded._key("dataset", item), set()).add(item["field"][:MAX_NAME])
    for source, names in used.items():
        folded._write(source, USED + node_id(*key), time, sorted(names))


# -- names into nodes --------------------------------------------------------------------------------


def _moved(links: list[dict[str, Any]], home: Mapping[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for link in links:
        link = {**link, "node": home.get(link["node"], link["node"])}
        if link not in out:  # one input field named by two names of its table
            out.append(link)
    return out


def resolved(registers: Mapping[str, tuple[str, str, Any]],
             home: Mapping[str, str]) -> dict[str, tuple[str, str, Any]]:
    """``registers`` with every field link naming the node its dataset's name resolves to.

    ``home`` maps the id a dataset name would have as a node of its own
    (:func:`lineage.io.openlineage.node_id`) to the node it is. Times and digests stay those of the
    events as they came, so a file and the same events over HTTP give the same registers.
    """
    out = dict(registers)
    for slot in (LINEAGE, ALL_FROM):
        if slot not in out or not isinstance(out[slot][2], (dict, list)):  # absent, or a deletion
            continue
        time, digest, value = out[slot]
        out[slot] = (time, digest, {name: _moved(links, home) for name, links in value.items()}
                     if isinstance(value, dict) else _moved(value, home))
    return out


def merged_used(one: tuple[str, str, Any], other: tuple[str, str, Any],
                digest: Callable[[Any], str]) -> tuple[str, str, Any]:
    """Two ``fields:used:`` writes for one node (an output naming its input by two of the input's
    names): every field either lists, at the later time (``digest``: the importer's)."""
    names = sorted(set(one[2]) | set(other[2]))
    return max(one[0], other[0]), digest(names), names


# -- registers into records ---------------------------------------------------------------------------


def current(record: Mapping[str, Any], slot: str) -> Any:
    """What the record holds of a register now (None when it cannot tell: :func:`put` then decides)."""
    items = lf.fields_of(record)
    if slot == SCHEMA:
        return [{k: v for k, v in item.items() if k in ("name", "type", "description")} for item in items] or None
    if slot == COMPLETENESS:
        return {item["name"]: item["quality"]["completeness"] for item in items
                if "completeness" in (item.get("quality") or {})} or None
    if slot == LINEAGE:
        return {item["name"]: item["from"] for item in items if item.get("from")} or None
    if slot == ALL_FROM:
        return record.get("all_fields_from")
    return None


def put(record: dict[str, Any], slot: str, value: Any, deleted: object) -> None:
    """Write one register into ``record`` (``deleted``: the importer's mark of a deleted facet)."""
    items = [dict(item) for item in lf.fields_of(record)]
    gone = value is deleted
    if slot == SCHEMA:
        # The schema's part of each field is its type and description. A field the schema no
        # longer lists loses them, and goes when nothing else (quality, links) keeps it: so a
        # deletion before or after the schema it deletes gives the same fields.
        listed = {} if gone else {item["name"]: item for item in value}
        for item in items:
            item.pop("type", None)
            item.pop("description", None)
            item.update(listed.get(item["name"], {}))
        names = {item["name"] for item in items}
        items = [item for item in items if len(item) > 1 or item["name"] in listed]
        items += [item for name, item in listed.items() if name not in names]
    elif slot == COMPLETENESS:
        scores = {} if gone else value
        emptied = set()
        for item in items:
            quality = dict(item.get("quality") or {})
            if quality.pop("completeness", None) is not None and item["name"] not in scores and len(item) == 2:
                emptied.add(item["name"])  # only this part kept it
            if item["name"] in scores:
                quality["completeness"] = scores[item["name"]]
            item.pop("quality", None)
            if quality:
                item["quality"] = quality
        names = {item["name"] for item in items}
        items = [item for item in items if item["name"] not in emptied or len(item) > 1]
        items += [{"name": name, "quality": {"completeness": score}} for name, score in scores.items()
                  if name not in names]
    elif slot == LINEAGE:
        links = {} if gone else value
        emptied = set()
        for item in items:
            if item.pop("from", None) is not None and not links.get(item["name"]) and len(item) == 1:
                emptied.add(item["name"])  # only this part kept it
            if links.get(item["name"]):
                item["from"] = links[item["name"]]
        names = {item["name"] for item in items}
        items = [item for item in items if item["name"] not in emptied]
        items += [{"name": name, "from": sources} for name, sources in links.items() if name not in names]
    elif slot == ALL_FROM:
        if gone or not value:
            record.pop("all_fields_from", None)
        else:
            record["all_fields_from"] = value
        return
    elif slot.startswith(USED) and not gone:
        names = {item["name"] for item in items}
        items += [{"name": name} for name in value if name not in names]
    if items:
        record["fields"] = items
    else:
        record.pop("fields", None)

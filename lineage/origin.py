"""Where each node and edge came from: the source that added it, kept as its ``origin`` attribute.

An import (dbt, SQL, ATRS, OpenLineage, a spreadsheet or lineage file on the bulk page) and the web
app's forms record on every node and edge they *add*::

    "origin": {"type": "dbt", "name": "jaffle_shop", "date": "2026-12-03"}

``type`` is one of :data:`SOURCE_TYPES`, ``name`` names the project, file or producer, ``date`` is
the day it was added. A later import that only changes the node keeps the first origin, so the same
artefacts imported again change nothing, and removing one source never takes away what another
source (or a person) added first. ``lineage load`` (restoring a native file) records nothing: a
round trip through ``export`` and ``load`` is exact.

A source is named ``type:name`` (``dbt:jaffle_shop``) in addresses, the CLI and the API.
Everything one source added is removed as one change, undoable (:func:`removal`).

Examples
--------
>>> stamp("dbt", "jaffle_shop", "2026-12-03")
{'type': 'dbt', 'name': 'jaffle_shop', 'date': '2026-12-03'}
>>> describe({"type": "dbt", "name": "jaffle_shop", "date": "2026-12-03"})
'the dbt project jaffle_shop, imported 3 December 2026'
>>> parse_key("sql:warehouse.sql")
('sql', 'warehouse.sql')
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from . import fields
from .changeset import Changeset
from .errors import NotFoundError, Problem, ValidationError
from .store import GraphData, Store, native_record
from .validate import Batch, validate_records
from .words import uk_date

ATTRIBUTE = "origin"
"""The node and edge attribute that holds where the record came from."""
SOURCE_TYPES = {
    "dbt": "the dbt project",
    "sql": "SQL file",
    "atrs": "transparency record",
    "openlineage": "OpenLineage events from",
    "spreadsheet": "spreadsheet",
    "json": "lineage file",
    "hand": "added by hand in the web app",
}
"""Each source type and how it is named to people ("the dbt project jaffle_shop")."""
HAND = "hand"


def stamp(source_type: str, name: str, day: str | None = None) -> dict[str, str]:
    """An ``origin`` value: this source, today unless ``day`` (ISO date) says otherwise."""
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"unknown source type '{source_type}'")
    return {"type": source_type, "name": name[:200], "date": day or date.today().isoformat()}


def by_hand() -> dict[str, str]:
    """The origin of what someone adds in the web app's forms."""
    return stamp(HAND, "web app")


def key(origin: Mapping[str, Any]) -> str:
    """How a source is named in addresses and commands: ``type:name``."""
    return f"{origin['type']}:{origin['name']}"


def parse_key(text: str) -> tuple[str, str]:
    """``type:name`` as (type, name); a :class:`ValidationError` if it is not one."""
    source_type, _, name = text.partition(":")
    if source_type not in SOURCE_TYPES or not name:
        raise ValidationError(Problem(text[:100] or "source", "expected a source as TYPE:NAME, like dbt:jaffle_shop, "
                                      f"where TYPE is one of: {', '.join(SOURCE_TYPES)}"))
    return source_type, name


def describe(origin: Any) -> str | None:
    """Where a record came from, in words people read; None when it does not say."""
    if not isinstance(origin, Mapping) or origin.get("type") not in SOURCE_TYPES:
        return None
    what = SOURCE_TYPES[origin["type"]]
    day = uk_date(origin["date"]) if origin.get("date") else None
    if origin["type"] == HAND:
        return f"{what}{f' on {day}' if day else ''}"
    return f"{what} {origin.get('name', '')}" + (f", imported {day}" if day else "")


def tag(records: Iterable[dict[str, Any]], origin: Mapping[str, str],
        stored: Mapping[Any, Mapping[str, Any]]) -> None:
    """Set ``origin`` on each record in place, keeping the stored record's when it has one.

    ``stored`` maps a node id, or an edge's (source, target), to the record as stored.
    """
    for record in records:
        ref = record["id"] if "id" in record else (record["source"], record["target"])
        before = stored.get(ref)
        if before is not None and ATTRIBUTE in before:
            record[ATTRIBUTE] = before[ATTRIBUTE]
        elif before is None:
            record[ATTRIBUTE] = dict(origin)


def merged(stored: Mapping[str, Any] | None, imported: dict[str, Any]) -> dict[str, Any]:
    """A stored record with what an import says of it laid over: attributes the import does not
    set (a description written by hand, say) stay; quality merges dimension by dimension, fields by
    name (a field link drawn by hand stays)."""
    if stored is None:
        return imported
    record = {**native_record(stored), **imported}
    if isinstance(stored.get("quality"), dict) and isinstance(imported.get("quality"), dict):
        record["quality"] = {**stored["quality"], **imported["quality"]}
    if stored.get("fields") and imported.get("fields"):  # by name, links kept: fields.attach_fields
        record["fields"] = fields.attach_fields(stored, imported["fields"])["fields"]
    return record


def sources(store: Store) -> list[dict[str, Any]]:
    """Every source that added something still in the graph: type, name, key, words, and how
    many nodes and edges it added; newest first."""
    found = store.origins()
    for item in found:
        item["key"] = key(item)
        item["words"] = describe(item)
    return found


def removal(store: Store, source: str) -> Changeset:
    """A changeset that removes every node and edge ``source`` (``type:name``) added: preview it
    with :func:`lineage.changeset.preview`, apply it with :func:`lineage.changeset.apply_changeset`
    (one change, undoable), ask the policy with :func:`lineage.changeset.policy_targets`.

    Removing a node removes its edges too, whoever drew them; the preview counts them.

    Raises
    ------
    NotFoundError
        When nothing in the graph came from that source.
    """
    source_type, name = parse_key(source)
    nodes, edges = store.added_by(source_type, name)
    if not nodes and not edges:
        raise NotFoundError(f"nothing in the graph came from {source}")
    gone = set(nodes)
    edges = [pair for pair in edges if pair[0] not in gone and pair[1] not in gone]
    empty = validate_records([Batch([], str)], [Batch([], str)])
    return Changeset(source, GraphData([], [], empty.ends, []), remove_nodes=nodes, remove_edges=edges)


def key_of(record: Mapping[str, Any]) -> str | None:
    """The ``type:name`` of the source that added a record, or None when it does not say."""
    found = record.get(ATTRIBUTE)
    return key(found) if isinstance(found, Mapping) and "type" in found and "name" in found else None


def edge_sources(edges: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The sources of some edges (a node's), each once with its words: the choices of a filter."""
    found: dict[str, dict[str, str]] = {}
    for edge in edges:
        source = key_of(edge)
        if source and source not in found:
            found[source] = {"key": source, "words": describe({k: v for k, v in edge[ATTRIBUTE].items() if k != "date"})
                             or source}
    return sorted(found.values(), key=lambda item: item["words"])

"""What every importer of other tools' files shares: from what a file says to a checked changeset.

An importer (:mod:`lineage.io.dbt`, :mod:`lineage.io.sql`, :mod:`lineage.io.atrs`) reads its files
into an :class:`Imported`: native node and edge records, where each came from (for messages), and
notes for people (a statement it could not read, a model no longer in the project). It knows
nothing of the graph. :func:`changeset` then lays those records over the stored ones, records the
source on what is new (:mod:`lineage.origin`), maps owner names to people and teams as OpenLineage
owners are (:class:`lineage.io.openlineage.Owners`) and validates the lot, giving a
:class:`~lineage.changeset.Changeset` that the bulk page previews and applies (all of it or nothing,
one change in the history, undoable), and that the CLI applies the same way.

Importing the same files again gives a changeset that changes nothing. Nothing is ever removed by an
import: what a source added before and no longer names is listed in the notes, not deleted.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import fields, origin
from .changeset import Changeset
from .errors import NotFoundError, Problem, ValidationError
from .io.openlineage import Owners
from .store import GraphData, Store, native_record
from .validate import Batch, validate_records

def dataset_id(qualified_name: str) -> str:
    """The node id of a warehouse table or view, from its qualified name: lower case, anything
    but letters, digits, '.', '_' and '-' made '-'. The SQL and dbt importers agree on it, so a
    table that a SQL file writes and a dbt model reads is one node.

    >>> dataset_id('Staging."Customer Orders"')
    'staging.customer-orders'
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", qualified_name.replace('"', "").replace("`", "").lower()).strip("-._")
    return slug[:128] or "table"


OWNER_NAMES = "_owner_names"
"""A transient key on an imported record: owner names (e-mail, name, id) to map to a person or team."""


@dataclass
class ColumnLineage:
    """One output column and the input columns it is made from (field-level lineage, as plain data).

    ``transformation``: ``identity`` (copied as it is), ``aggregation`` (COUNT, SUM ...) or
    ``transformation`` (anything else computed from its inputs).
    """

    table: str
    column: str
    inputs: list[tuple[str, str]]
    transformation: str

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "transformation": self.transformation,
                "inputs": [f"{table}.{column}" for table, column in self.inputs]}


@dataclass
class Imported:
    """What an importer read from its files, before it meets the graph."""

    source_type: str
    name: str
    """The source's name (a dbt project, a file): with the type, the ``origin`` of what it adds."""
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    where_nodes: list[str] = field(default_factory=list)
    where_edges: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    columns: list[ColumnLineage] = field(default_factory=list)
    day: str | None = None
    """The day the source's files were made, if they say; the origin's date is the import's day."""
    resolve: Callable[[Store, "Imported"], None] | None = None
    """Called with the store before merging, to give records the ids of the nodes they describe
    (an ATRS record matched to an AI tool by its link or name)."""

    def node(self, record: dict[str, Any], where: str) -> dict[str, Any]:
        """Add a node record (a later one with the same id is laid over the earlier)."""
        self.nodes.append(record)
        self.where_nodes.append(where)
        return record

    def edge(self, record: dict[str, Any], where: str) -> None:
        self.edges.append(record)
        self.where_edges.append(where)


def _deduplicated(records: list[dict[str, Any]], where: list[str], ref: Any) -> tuple[list[dict], list[str]]:
    """One record per id (or edge ends), later ones laid over earlier ones, in first-seen order."""
    kept: dict[Any, dict[str, Any]] = {}
    places: dict[Any, str] = {}
    for record, place in zip(records, where):
        key = ref(record)
        if key in kept:
            kept[key] = {**kept[key], **record}
        else:
            kept[key], places[key] = dict(record), place
    return list(kept.values()), [places[key] for key in kept]


def _stored_edges(store: Store, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for pair in pairs:
        try:
            found[pair] = native_record(store.edge(*pair))
        except NotFoundError:
            pass
    return found


def changeset(store: Store, imported: Imported, filename: str, owners: Owners | None = None) -> Changeset:
    """The changeset an import makes on ``store``: records merged over the stored ones (what the
    import does not say stays), the source recorded on what is new, owner names mapped.

    Raises
    ------
    ValidationError
        Naming the file and the record of every problem (a model drawn by hand as another kind,
        say); nothing is written.
    """
    owners = owners or Owners(store)
    if imported.resolve is not None:
        imported.resolve(store, imported)
    nodes, where_nodes = _deduplicated(imported.nodes, imported.where_nodes, lambda r: r["id"])
    edges, where_edges = _deduplicated(imported.edges, imported.where_edges, lambda r: (r["source"], r["target"]))
    stored_nodes = {r["id"]: native_record(r) for r in store.nodes(ids=[n["id"] for n in nodes])}
    stored_edges = _stored_edges(store, [(e["source"], e["target"]) for e in edges])
    owners.prefetch(name for record in nodes for name in record.get(OWNER_NAMES) or ())
    source = origin.stamp(imported.source_type, imported.name)
    merged_nodes = []
    for record in nodes:
        names = record.pop(OWNER_NAMES, None)
        found = owners.resolve(names) if names else None
        if found:
            record["owner"] = found
        elif names:
            record["owner_text"] = ", ".join(names)[:500]
        merged = origin.merged(stored_nodes.get(record["id"]), record)
        if found:
            merged.pop("owner_text", None)  # the names now map to someone: as OpenLineage owners
        merged_nodes.append(merged)
    _attach_columns({record["id"]: i for i, record in enumerate(merged_nodes)}, merged_nodes, imported.columns)
    merged_edges = [origin.merged(stored_edges.get((e["source"], e["target"])), e) for e in edges]
    origin.tag(merged_nodes, source, stored_nodes)
    origin.tag(merged_edges, source, stored_edges)
    data = validate_records([Batch(merged_nodes, where_nodes.__getitem__)],
                            [Batch(merged_edges, where_edges.__getitem__)], existing_kinds=store.kinds_of)
    notes = list(imported.notes) + _no_longer_named(store, imported, {n["id"] for n in nodes})
    return Changeset(filename, data, notes=notes)


SUBTYPES = {"identity": "IDENTITY", "aggregation": "AGGREGATION", "transformation": "TRANSFORMATION"}
"""Column lineage's transformation as the field model's (OpenLineage's) subtype; all are DIRECT."""


def _attach_columns(at: dict[str, int], records: list[dict[str, Any]], columns: list[ColumnLineage]) -> None:
    """Column lineage onto the records, through the field model: each output column a field of its
    table with links to its inputs, each input column a field of its table (when it is imported)."""
    for column in columns:
        target = dataset_id(column.table)
        if target not in at:
            continue
        sources = [fields.field_source(dataset_id(table), name, type="DIRECT",
                                       subtype=SUBTYPES[column.transformation])
                   for table, name in column.inputs if dataset_id(table) in at]
        for table, name in column.inputs:
            if dataset_id(table) in at:
                index = at[dataset_id(table)]
                records[index] = fields.attach_fields(records[index], [fields.field(name)])
        index = at[target]
        records[index] = (fields.link_field(records[index], column.column, sources) if sources
                          else fields.attach_fields(records[index], [fields.field(column.column)]))


def _no_longer_named(store: Store, imported: Imported, named: set[str]) -> list[str]:
    """What this source added before that this import does not name: reported, never deleted."""
    before, _ = store.added_by(imported.source_type, imported.name)
    gone = [node_id for node_id in before if node_id not in named]
    if not gone:
        return []
    names = store.node_names(gone[:20])
    listed = ", ".join(f"{names[i]['name']} ({i})" if i in names else i for i in gone[:20])
    more = f" and {len(gone) - 20} more" if len(gone) > 20 else ""
    return [f"{len(gone)} thing{'s' if len(gone) != 1 else ''} added before from {origin.describe(source_stub(imported))} "
            f"{'is' if len(gone) == 1 else 'are'} no longer in it and {'was' if len(gone) == 1 else 'were'} kept: "
            f"{listed}{more}. Remove {'it' if len(gone) == 1 else 'them'} by hand if {'it is' if len(gone) == 1 else 'they are'} gone."]


def source_stub(imported: Imported) -> dict[str, str]:
    """The imported source as an origin without a date, for messages."""
    return {"type": imported.source_type, "name": imported.name}


UPLOAD_KINDS = {".json": "a native lineage file or ATRS records as GOV.UK publishes them",
                ".csv": "nodes or edges, or ATRS records in the v2.1 data standard",
                ".sql": "views, CREATE TABLE AS, INSERT ... SELECT and MERGE statements",
                ".zip": "a zip of a dbt project's target folder"}
"""What the bulk page takes, by file name ending."""


def read_upload(content: bytes, filename: str, *, dialect: str | None = None) -> Imported | None:
    """An uploaded file read by the importer its kind calls for: a ``.zip`` of dbt artefacts, ``.sql``,
    or ATRS records (``.json`` or ``.csv``); None for a native lineage file or a nodes or edges CSV."""
    from .io import atrs, dbt, sql  # the importers import this module

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "zip":
        return dbt.read_zip(content, filename)
    if suffix == "sql":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(Problem(filename, f"is not UTF-8 text (byte {error.start})")) from None
        return sql.read_sql([(filename, text)], dialect=dialect)
    if suffix in ("json", "csv") and atrs.looks_like(content, filename):
        return atrs.read_records([(filename, content)])
    return None


def tag_upload(store: Store, data: GraphData, filename: str) -> None:
    """Record the source of what a native file or spreadsheet upload adds (``json`` or
    ``spreadsheet``, named by the file); what is stored keeps the origin it has."""
    source = origin.stamp("spreadsheet" if filename.lower().endswith(".csv") else "json", filename)
    ids = [record["id"] for record in data.nodes if origin.ATTRIBUTE not in record]
    stored_nodes = {r["id"]: r for r in store.nodes(ids=ids)}
    origin.tag([r for r in data.nodes if origin.ATTRIBUTE not in r], source, stored_nodes)
    edges = [r for r in data.edges if origin.ATTRIBUTE not in r]
    origin.tag(edges, source, _stored_edges(store, [(e["source"], e["target"]) for e in edges]))

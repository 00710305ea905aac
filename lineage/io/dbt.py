"""dbt in: a project's ``target/`` artefacts as datasets, the lineage between them, exposures, owners,
quality from test results and column lineage.

Files read (only ``manifest.json`` is needed):

* ``manifest.json`` (schema v7 to v12, dbt 1.4 and later): sources, seeds, snapshots and models
  become ``dataset`` nodes (id: their ``schema.alias`` in lower case, the id the SQL importer gives
  the same table, :func:`lineage.importers.dataset_id`); each ``depends_on`` a ``derives`` edge.
  Exposures become ``process`` nodes, or what their ``meta.lineage_kind`` says (``ai_tool``,
  ``decision``; an exposure of type ``ml`` is an ``ai_tool``), fed (or informed, for a decision) by
  what they depend on; attributes of that kind in their ``meta`` (``decision_type``,
  ``people_affected`` ...) are taken. Owners: ``meta.owner``, then the ``group``'s owner (e-mail,
  name) and the group's name; an exposure's ``owner``; mapped to people and teams as OpenLineage
  owners are (:class:`lineage.io.openlineage.Owners`).
* ``catalog.json``: each table's columns (name and type) as its fields, and its row count.
* ``run_results.json``: test results as quality dimensions by :data:`TEST_DIMENSIONS` (the share of
  a dataset's tests on that dimension that passed), each with a note naming the tests and the date
  of the run. ``sources.json`` (``dbt source freshness``) adds timeliness the same way.
* Column lineage: each model's ``compiled_code`` (after ``dbt compile``), read with sqlglot when it
  is installed, becomes field links (:mod:`lineage.io.sql`).

A model no longer in the project is reported, not deleted (:mod:`lineage.importers`).
"""
from __future__ import annotations

import io as _io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .. import model
from ..errors import LineageError, Problem, ValidationError
from ..importers import OWNER_NAMES, ColumnLineage, Imported, dataset_id
from .openlineage import _dimension as assertion_dimension  # one rule for assertions and tests

MANIFEST_VERSIONS = range(7, 13)
"""Manifest schema versions read: v7 (dbt 1.4) to v12 (dbt 1.8 and later)."""
DATASET_TYPES = ("model", "seed", "snapshot", "source")
EXPOSURE_KINDS = ("process", "ai_tool", "decision")
TEST_DIMENSIONS = {name: assertion_dimension(name)
                   for name in ("not_null", "unique", "relationships", "accepted_values", "freshness")}
"""dbt's generic tests and the quality dimension each speaks to (completeness, uniqueness,
consistency, validity, timeliness): the rule OpenLineage assertions follow
(:data:`lineage.io.openlineage.QUALITY_RULE`), which also places any other test by its name."""
FILES = ("manifest.json", "catalog.json", "run_results.json", "sources.json")
_VERSION = re.compile(r"/(manifest|catalog|run-results|sources)/v(\d+)\.json$")


def _json(content: bytes, where: str, expected: str) -> dict[str, Any]:
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        cut = " (the file looks cut short)" if "EOF" in str(error) or "end of" in str(error).lower() else ""
        raise ValidationError(Problem(f"{where}: line {error.lineno}, column {error.colno}",
                                      f"is not valid JSON{cut}; expected {expected}")) from None
    if not isinstance(document, dict):
        raise ValidationError(Problem(where, f"expected {expected} (a JSON object)"))
    return document


def _check_version(document: Mapping[str, Any], where: str, artefact: str, supported: range | None) -> int:
    url = (document.get("metadata") or {}).get("dbt_schema_version")
    match = _VERSION.search(url) if isinstance(url, str) else None
    example = f"https://schemas.getdbt.com/dbt/{artefact}/v12.json" if artefact == "manifest" else \
        f"https://schemas.getdbt.com/dbt/{artefact}/v1.json"
    if match is None or match.group(1) != artefact:
        raise ValidationError(Problem(where, f"expected a dbt {artefact} file, with metadata.dbt_schema_version like "
                                             f"{example}; got {str(url)[:80] if url else 'none'}",
                                      "metadata.dbt_schema_version"))
    version = int(match.group(2))
    if supported is not None and version not in supported:
        raise ValidationError(Problem(where, f"{artefact} v{version} is from a dbt version lineage does not read; "
                                             f"expected v{supported.start} to v{supported.stop - 1} (dbt 1.4 and later): "
                                             f"run a newer dbt to make the artefacts again", "metadata.dbt_schema_version"))
    return version


def _relation(node: Mapping[str, Any]) -> str:
    """schema.table of a dbt node as the warehouse names it."""
    table = node.get("alias") or node.get("identifier") or node.get("name")
    return f"{node.get('schema')}.{table}" if node.get("schema") else str(table)


def _meta(node: Mapping[str, Any]) -> dict[str, Any]:
    return {**((node.get("config") or {}).get("meta") or {}), **(node.get("meta") or {})}


def _owner_names(node: Mapping[str, Any], groups: Mapping[str, Any]) -> list[str]:
    """Owner names of a node in the order they are tried: meta.owner, its group's owner, its group."""
    names = []
    owner = _meta(node).get("owner")
    names += owner if isinstance(owner, list) else [owner] if owner else []
    group_name = node.get("group") or (node.get("config") or {}).get("group")
    if group_name:
        group = groups.get(group_name) or {}
        names += [v for v in ((group.get("owner") or {}).get("email"), (group.get("owner") or {}).get("name")) if v]
        names.append(group_name)
    if isinstance(node.get("owner"), dict):  # an exposure's
        names += [v for v in (node["owner"].get("email"), node["owner"].get("name")) if v]
    return [str(n) for n in names if isinstance(n, (str, int))]


def _quality(results: list[tuple[str, str, str | None, bool]], as_of: str) -> dict[str, dict[str, Any]]:
    """Per dimension, the share of tests that passed, with a note naming them. ``results`` are
    (dimension, test name, column, passed)."""
    quality = {}
    for dimension in model.QUALITY_DIMENSIONS:
        items = [r for r in results if r[0] == dimension]
        if not items:
            continue
        passed = sum(1 for r in items if r[3])
        listed = ", ".join(f"{name}({column})" if column else name for _, name, column, _ in items[:10])
        more = f" and {len(items) - 10} more" if len(items) > 10 else ""
        quality[dimension] = {"score": round(passed / len(items), 4),
                              "note": f"dbt tests: {passed} of {len(items)} passed: {listed}{more}", "as_of": as_of}
    return quality


def read_artefacts(files: Mapping[str, bytes], where: str) -> Imported:
    """Read dbt artefacts (file name -> content; ``manifest.json`` required) into an :class:`Imported`.

    ``where`` names the folder or zip they came from, in messages (``target/manifest.json: ...``).

    Raises
    ------
    ValidationError
        A file that is not JSON (or cut short), not the dbt artefact it is named as, or from a
        dbt version whose manifest is not read; each named with what was expected.
    """
    if "manifest.json" not in files:
        raise ValidationError(Problem(where, "expected a dbt target folder (or zip of one) with manifest.json; "
                                             "run dbt compile, dbt run or dbt build to make it"))
    manifest_where = f"{where}/manifest.json"
    manifest = _json(files["manifest.json"], manifest_where, "a dbt manifest.json")
    _check_version(manifest, manifest_where, "manifest", MANIFEST_VERSIONS)
    extra = {}
    for name, artefact in (("catalog.json", "catalog"), ("run_results.json", "run-results"),
                           ("sources.json", "sources")):
        if name in files:
            extra[name] = _json(files[name], f"{where}/{name}", f"a dbt {name}")
            _check_version(extra[name], f"{where}/{name}", artefact, None)
    metadata = manifest.get("metadata") or {}
    nodes: dict[str, Any] = {**(manifest.get("nodes") or {}), **(manifest.get("sources") or {})}
    project = metadata.get("project_name") or next(
        (n.get("package_name") for n in nodes.values() if isinstance(n, dict) and n.get("package_name")), "dbt")
    imported = Imported("dbt", str(project), day=(metadata.get("generated_at") or "")[:10] or None)
    groups = {g.get("name"): g for g in (manifest.get("groups") or {}).values() if isinstance(g, dict)}
    catalog = extra.get("catalog.json") or {}
    catalogued = {**(catalog.get("nodes") or {}), **(catalog.get("sources") or {})}

    ids: dict[str, str] = {}
    for unique_id, node in nodes.items():
        if isinstance(node, dict) and node.get("resource_type") in DATASET_TYPES:
            ids[unique_id] = dataset_id(_relation(node))
    for unique_id, node in sorted(nodes.items()):
        if unique_id not in ids:
            continue
        place = f"{manifest_where}: {unique_id}"
        record: dict[str, Any] = {"id": ids[unique_id], "kind": "dataset",
                                  "name": str(node.get("name") or _relation(node))[:500]}
        if node.get("description"):
            record["description"] = str(node["description"])[:10_000]
        if node.get("tags"):
            record["tags"] = [str(t)[:100] for t in node["tags"]]
        names = _owner_names(node, groups)
        if names:
            record[OWNER_NAMES] = names
        record["dbt"] = {"unique_id": unique_id, "relation": _relation(node)}
        columns = _fields(node, catalogued.get(unique_id) or {})
        if columns:
            record["fields"] = columns
        stats = (catalogued.get(unique_id) or {}).get("stats") or {}
        rows = (stats.get("row_count") or {})
        if rows.get("include", True) and isinstance(rows.get("value"), (int, float)) and rows["value"] >= 0:
            record["record_count"] = int(rows["value"])
        imported.node(record, place)
        for parent in (node.get("depends_on") or {}).get("nodes") or ():
            if parent in ids and parent != unique_id:
                imported.edge({"source": ids[parent], "target": ids[unique_id], "kind": "derives"}, place)

    _tests(imported, nodes, ids, extra)
    _exposures(imported, manifest, ids, groups, manifest_where)
    _column_lineage(imported, nodes, ids, metadata.get("adapter_type"), catalogued)
    return imported


def _fields(node: Mapping[str, Any], catalogued: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A table's columns as fields: name and type from the catalog (the warehouse's word),
    description from the project."""
    described = {str(name).lower(): column for name, column in (node.get("columns") or {}).items()
                 if isinstance(column, dict)}
    found: dict[str, dict[str, Any]] = {}
    listed = sorted((catalogued.get("columns") or {}).values(), key=lambda c: c.get("index") or 0)
    for column in listed or described.values():
        name = str(column.get("name") or "").lower()
        if not name:
            continue
        item: dict[str, Any] = {"name": name}
        kind = column.get("type") or column.get("data_type")
        if kind:
            item["type"] = str(kind)
        description = (described.get(name) or {}).get("description") or column.get("comment")
        if description:
            item["description"] = str(description)[:10_000]
        found[name] = item
    return list(found.values())


def _tests(imported: Imported, nodes: Mapping[str, Any], ids: Mapping[str, str], extra: Mapping[str, Any]) -> None:
    """Test results and source freshness as quality on the datasets they test."""
    run = extra.get("run_results.json")
    fresh = extra.get("sources.json")
    found: dict[str, list[tuple[str, str, str | None, bool]]] = {}
    as_of = {}
    if run:
        day = ((run.get("metadata") or {}).get("generated_at") or "")[:10]
        for result in run.get("results") or ():
            test = nodes.get(result.get("unique_id")) if isinstance(result, dict) else None
            if not isinstance(test, dict) or test.get("resource_type") != "test":
                continue
            status = str(result.get("status") or "").lower()
            if status not in ("pass", "fail", "error", "warn"):
                continue  # skipped: says nothing about the data
            tested = test.get("attached_node") or next(
                (n for n in (test.get("depends_on") or {}).get("nodes") or () if n in ids), None)
            if tested not in ids:
                continue
            name = str((test.get("test_metadata") or {}).get("name") or test.get("name") or "test")
            found.setdefault(tested, []).append((assertion_dimension(name), name, test.get("column_name"), status == "pass"))
            as_of[tested] = day
    if fresh:
        day = ((fresh.get("metadata") or {}).get("generated_at") or "")[:10]
        for result in fresh.get("results") or ():
            if isinstance(result, dict) and result.get("unique_id") in ids:
                status = str(result.get("status") or "").lower()
                found.setdefault(result["unique_id"], []).append(("timeliness", "source freshness", None, status == "pass"))
                as_of.setdefault(result["unique_id"], day)
    by_id = {record["id"]: record for record in imported.nodes}
    for unique_id, results in found.items():
        quality = _quality(results, as_of.get(unique_id) or imported.day or "")
        if quality:
            by_id[ids[unique_id]]["quality"] = quality


def _exposures(imported: Imported, manifest: Mapping[str, Any], ids: Mapping[str, str], groups: Mapping[str, Any],
               where: str) -> None:
    for unique_id, exposure in sorted((manifest.get("exposures") or {}).items()):
        if not isinstance(exposure, dict):
            continue
        place = f"{where}: {unique_id}"
        meta = _meta(exposure)
        kind = meta.get("lineage_kind") or meta.get("kind")
        if kind not in EXPOSURE_KINDS:
            kind = "ai_tool" if exposure.get("type") == "ml" else "process"
        record: dict[str, Any] = {"id": dataset_id(f"exposure.{exposure.get('name')}"), "kind": kind,
                                  "name": str(exposure.get("label") or exposure.get("name"))[:500]}
        if exposure.get("description"):
            record["description"] = str(exposure["description"])[:10_000]
        allowed = model.attribute_schemas(kind)
        for attribute, value in meta.items():
            if attribute in allowed and attribute not in ("owner", "fields", "origin", "all_fields_from"):
                record[attribute] = value
        names = _owner_names(exposure, groups)
        if names:
            record[OWNER_NAMES] = names
        record["dbt"] = {"unique_id": unique_id, **({"url": exposure["url"]} if exposure.get("url") else {})}
        imported.node(record, place)
        for parent in (exposure.get("depends_on") or {}).get("nodes") or ():
            if parent in ids:
                edge = {"source": ids[parent], "target": record["id"],
                        "kind": "informs" if kind == "decision" else "feeds"}
                if kind != "decision":
                    edge["role"] = "input"
                imported.edge(edge, place)


def _column_lineage(imported: Imported, nodes: Mapping[str, Any], ids: Mapping[str, str], adapter: str | None,
                    catalogued: Mapping[str, Any]) -> None:
    """Field links from each model's compiled SQL (when sqlglot is installed and the project was compiled)."""
    compiled = {u: n["compiled_code"] for u, n in nodes.items()
                if u in ids and isinstance(n.get("compiled_code"), str) and n["compiled_code"].strip()}
    if not compiled:
        return
    try:
        from . import sql
        import sqlglot
    except ImportError:
        imported.notes.append("column lineage needs sqlglot: pip install 'lineage[sql]'; tables were imported")
        return
    try:
        dialect = sqlglot.Dialect.get_or_raise(adapter).__class__.__name__.lower() if adapter else None
    except ValueError:  # an adapter sqlglot has no dialect for: its generic SQL
        dialect = None
    # The warehouse's names (database.schema.table, schema.table) -> the dbt node's schema.table.
    relation: dict[str, str] = {}
    schema: dict[tuple[str, ...], dict[str, str]] = {}
    for unique_id, node in nodes.items():
        if unique_id not in ids:
            continue
        table = _relation(node).lower()
        database = str(node.get("database") or "").lower()
        relation[table] = table
        if database:
            relation[f"{database}.{table}"] = table
        columns = {str(c.get("name")).lower(): str(c.get("type") or "text")
                   for c in ((catalogued.get(unique_id) or {}).get("columns") or {}).values() if c.get("name")}
        if columns:
            schema[(database, *table.split(".", 1))] = columns
    # sqlglot wants one depth of names: database.schema.table when every table has a database.
    with_database = all(key[0] for key in schema)
    nested: dict[str, Any] = {}
    for (database, *names), columns in schema.items():
        target = nested
        for part in ([database] if with_database else []) + names[:-1]:
            target = target.setdefault(part, {})
        target[names[-1]] = columns
    # One schema object for every model: sqlglot builds its look-ups once, not once per query.
    mapping = sqlglot.schema.MappingSchema(nested, dialect=dialect) if nested else None
    unreadable = []
    for unique_id, code in sorted(compiled.items()):
        target = _relation(nodes[unique_id]).lower()
        try:
            found = sql.query_lineage(code, target, dialect=dialect, schema=mapping)
        except (sqlglot.errors.ParseError, LineageError):
            unreadable.append(nodes[unique_id].get("name") or unique_id)
            continue
        for column in found.columns:
            inputs = [(relation[t.lower()], c) for t, c in column.inputs if t.lower() in relation]
            imported.columns.append(ColumnLineage(target, column.column, inputs, column.transformation))
    if unreadable:
        imported.notes.append(f"the compiled SQL of {len(unreadable)} model{'s' if len(unreadable) != 1 else ''} "
                              f"could not be read, so {'its' if len(unreadable) == 1 else 'their'} column lineage is "
                              f"missing: {', '.join(sorted(unreadable)[:20])}")


def read_target(folder: str | Path) -> Imported:
    """:func:`read_artefacts` of a dbt ``target/`` folder (``lineage import-dbt target/``)."""
    path = Path(folder)
    if path.is_file() and path.suffix.lower() == ".zip":
        return read_zip(path.read_bytes(), str(path))
    if not path.is_dir():
        raise ValidationError(Problem(str(folder), "expected a dbt target folder holding manifest.json, or a zip of one"))
    return read_artefacts({name: (path / name).read_bytes() for name in FILES if (path / name).is_file()},
                          str(path).rstrip("/"))


def read_zip(content: bytes, name: str) -> Imported:
    """:func:`read_artefacts` of a zip of a dbt target folder (the bulk page's upload): the
    artefacts are found wherever they are in it (``target/manifest.json`` or at the top)."""
    try:
        archive = zipfile.ZipFile(_io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ValidationError(Problem(name, "is not a zip file; expected a zip of a dbt target folder")) from None
    with archive:
        found: dict[str, bytes] = {}
        for info in sorted(archive.infolist(), key=lambda i: i.filename.count("/")):
            base = info.filename.rsplit("/", 1)[-1]
            if base in FILES and base not in found:
                if info.file_size > 200 * 1024 * 1024:
                    raise ValidationError(Problem(f"{name}/{info.filename}", "is larger than 200 MB; import it with "
                                                                            "lineage import-dbt instead"))
                found[base] = archive.read(info)
    return read_artefacts(found, name)

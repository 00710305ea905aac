"""Benchmark of the dbt and SQL importers and of sources; prints figures, asserts nothing.

    python -m bench.importers --models 1000 5000 [--estate 100000]

For each size, a synthetic dbt project (``--models`` models in layers, each reading one or two
models of the layer before, five catalog columns each, compiled SQL naming two of them, two tests
with results) is written as a ``target/`` folder, then timed:

* reading it (parsing, tests, column lineage from the compiled SQL with sqlglot);
* the changeset (merging over the stored graph, owners, validation) and applying it;
* importing it again (a changeset that changes nothing);
* the same SQL as a file of ``INSERT ... SELECT`` statements through ``import-sql``'s reader.

On an ``--estate``-node synthetic estate (``bench.generate``) with the project imported: listing
the sources (``lineage sources``) and previewing the removal of the project's additions.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.run import OUT, _timed, bench_load, estate_file
from lineage import importers, origin
from lineage.changeset import apply_changeset, preview
from lineage.io import dbt, sql
from lineage.store import Store

LAYER = 100
COLUMNS = 5


def project(models: int, folder: Path) -> tuple[Path, str]:
    """A dbt target folder of ``models`` models, and the same lineage as SQL text."""
    target = folder / f"dbt-{models}" / "target"
    target.mkdir(parents=True, exist_ok=True)
    nodes, catalog, results, statements = {}, {}, [], []
    for i in range(models):
        parents = [] if i < LAYER else sorted({i - LAYER, i - LAYER + 1 if (i % LAYER) < LAYER - 1 else i - LAYER})
        unique_id = f"model.bench.m{i}"
        columns = [f"c{c}" for c in range(COLUMNS)]
        source = f"l{(i - LAYER) // LAYER}.m{parents[0]}" if parents else "raw.events"
        select = ", ".join(f"p.{c}" for c in columns[:2])
        code = f'select {select} from "warehouse"."{source.split(".")[0]}"."{source.split(".")[1]}" as p'
        nodes[unique_id] = {"resource_type": "model", "unique_id": unique_id, "name": f"m{i}", "alias": f"m{i}",
                            "database": "warehouse", "schema": f"l{i // LAYER}", "package_name": "bench",
                            "depends_on": {"nodes": [f"model.bench.m{p}" for p in parents]}, "compiled_code": code,
                            "columns": {}, "meta": {"owner": f"team-{i % 7}"}}
        catalog[unique_id] = {"columns": {c: {"name": c, "type": "integer", "index": n} for n, c in enumerate(columns)}}
        for test in ("not_null", "unique"):
            test_id = f"test.bench.{test}_m{i}"
            nodes[test_id] = {"resource_type": "test", "unique_id": test_id, "name": f"{test}_m{i}",
                              "test_metadata": {"name": test}, "column_name": "c0", "attached_node": unique_id,
                              "depends_on": {"nodes": [unique_id]}}
            results.append({"unique_id": test_id, "status": "pass" if (i + len(test)) % 5 else "fail"})
        statements.append(f"INSERT INTO l{i // LAYER}.m{i} (c0, c1) SELECT {select} FROM {source} AS p;")
    version = "https://schemas.getdbt.com/dbt/{}/v{}.json"
    (target / "manifest.json").write_text(json.dumps({
        "metadata": {"dbt_schema_version": version.format("manifest", 12), "project_name": "bench",
                     "generated_at": "2026-12-03T06:00:00Z", "adapter_type": "postgres"},
        "nodes": nodes, "sources": {}, "exposures": {}, "groups": {}}))
    (target / "catalog.json").write_text(json.dumps({"metadata": {"dbt_schema_version": version.format("catalog", 1)},
                                                     "nodes": catalog, "sources": {}}))
    (target / "run_results.json").write_text(json.dumps({
        "metadata": {"dbt_schema_version": version.format("run-results", 6), "generated_at": "2026-12-03T06:00:00Z"},
        "results": results}))
    return target, "\n".join(statements)


def bench_models(models: int, folder: Path, estate_db: Path | None) -> dict[str, Any]:
    target, text = project(models, folder)
    result: dict[str, Any] = {"models": models}
    result["read_s"], imported = _timed(dbt.read_target, target)
    result["field_links"] = sum(len(c.inputs) for c in imported.columns)
    db = folder / f"dbt-{models}.db"
    db.unlink(missing_ok=True)
    if estate_db is not None:
        db.write_bytes(estate_db.read_bytes())
    store = Store(db, create=True)
    result["changeset_s"], changes = _timed(importers.changeset, store, imported, "target")
    result["apply_s"], _ = _timed(apply_changeset, store, changes, actor="bench", summary="import")
    again, changes = _timed(importers.changeset, store, dbt.read_target(target), "target")
    result["reimport_changeset_s"] = again
    result["reimport_changes"] = sum(preview(store, changes).counts().values())
    result["sql_read_s"], read = _timed(sql.read_sql, [("bench.sql", text)], dialect="postgres")
    result["sql_statements_per_s"] = models / result["sql_read_s"]
    result["sources_s"], _ = _timed(origin.sources, store)
    result["removal_preview_s"], _ = _timed(lambda: preview(store, origin.removal(store, "dbt:bench")))
    result["graph_nodes"] = store.counts()
    store.close()
    db.unlink()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--estate", type=int, default=0, help="synthetic estate nodes to import into (0: none)")
    args = parser.parse_args(argv)
    folder = OUT / "importers"
    folder.mkdir(parents=True, exist_ok=True)
    estate_db = None
    if args.estate:
        estate_db = folder / f"estate-{args.estate}.db"
        if not estate_db.exists():
            bench_load(estate_file(args.estate, OUT), estate_db)
    for models in args.models:
        print(json.dumps(bench_models(models, folder, estate_db), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

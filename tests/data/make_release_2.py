"""Write ``tests/data/release-2.db.gz``: a lineage database as release 2 writes it.

Release 2 is commit 4edda09 (schema_version 2 in ``meta``; the tables of accounts, the loop,
the leader views and OpenLineage created by their own modules on first use). The upgrade test
(``tests/test_reliability.py``) opens a copy with the current code and checks nothing is lost.

How it was made (run from the repository root; it must run against the *old* code)::

    rm -rf /tmp/release-2 && mkdir /tmp/release-2
    git archive 4edda09 lineage | tar -x -C /tmp/release-2
    PYTHONPATH=/tmp/release-2 .venv/bin/python tests/data/make_release_2.py

Everything a release-2 user could have stored is here: a loaded graph and edits to it (an
update, a delete, an undo), accounts with a token and their log, outcome updates with an edit,
flags with an answer, last visits, the materialised leader views and OpenLineage registers.
"""
from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "release-2.db.gz"
TOKEN_FILE = HERE / "release-2.token"
"""The API token created in the database (a test secret, for the upgrade test to sign in with)."""

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
EVENT = {"eventType": "COMPLETE", "eventTime": "2026-03-02T10:00:00Z", "producer": PRODUCER,
         "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
         "run": {"runId": "r-1", "facets": {}},
         "job": {"namespace": "airflow", "name": "housing.build_register", "facets": {}},
         "inputs": [{"namespace": "postgres://cms:5432", "name": "public.applications", "facets": {}}],
         "outputs": [{"namespace": "postgres://dw:5432", "name": "housing.register", "facets": {}}]}


def main() -> None:
    import lineage
    from lineage import accounts, loop, materialised
    from lineage.graph import LineageGraph
    from lineage.io import openlineage
    from lineage import io
    from lineage.store import SCHEMA_VERSION, Store

    assert SCHEMA_VERSION == 2, f"run against release 2's code (found schema {SCHEMA_VERSION}): {lineage.__file__}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "release-2.db"
        store = Store(path, create=True)
        files = [str(ROOT / "sample_graphs" / name) for name in ("council_housing.json", "nhs_trust.json")]
        store.load(io.read_files(files, store), actor="loader", summary="load the samples")
        with store.change("jo", "register refreshed") as change:
            change.update_node("housing-register", {"description": "Updated in release 2", "record_count": 8500})
        with store.change("jo", "remove a stray node") as change:
            change.add_node({"id": "stray", "kind": "dataset", "name": "Stray"})
        with store.change("jo", "delete the stray") as change:
            change.delete_node("stray")
        with store.change("jo", "a mistake") as change:
            change.update_node("void-properties", {"refresh": "hourly"})
        store.undo(store.changes(limit=1)[0]["change"], actor="jo")

        people = accounts.Accounts(store)
        people.add("admin", "release-two-admin", role="admin", actor="cli")
        people.add("jo", "release-two-owner", role="owner", person="owner-jo", actor="cli")
        people.add("ali", "release-two-contributor", role="contributor", person="officer-ali", actor="cli")
        TOKEN_FILE.write_text(people.new_token("jo", "release 2 token", actor="jo") + "\n")
        jo, ali = (accounts.actor_of(people.get(name)) for name in ("jo", "ali"))

        g = LineageGraph.from_store(store)
        decision = next(n["id"] for n in store.nodes(kind="decision", owner="owner-jo"))
        update = loop.post_update(store, decision, actor=jo, text="Allocations cleared the backlog",
                                  figures={"people_helped": 120}, date="2026-02-01")
        loop.edit_update(store, update["id"], actor=jo, text="Allocations cleared the whole backlog")
        flag = loop.raise_flag(g, store, "housing-register", actor=ali, text="Dates of birth missing",
                               dimension="completeness", records=12)
        loop.set_flag_status(store, flag["id"], "acknowledged", actor=jo, reply="Looking at it")
        loop.raise_flag(g, store, "void-properties", actor=ali, text="Stale addresses")
        loop.mark_visit(store, "ali", "impact", "2026-03-01")

        events = openlineage.parse_events(openlineage.split_events(json.dumps(EVENT), "event.json"))
        openlineage.import_events(store, events, actor="jo", summary="OpenLineage event")
        materialised.refresh(store, LineageGraph.from_store(store))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.conn.execute("VACUUM")
        store.close()
        with open(path, "rb") as source, gzip.open(OUT, "wb", compresslevel=9) as target:
            shutil.copyfileobj(source, target)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()

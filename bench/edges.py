"""Benchmark of the look-ups of a node's edges on synthetic estates; prints figures, asserts nothing.

    python -m bench.edges --sizes 200000 1000000

On a copy of each estate's database (made by ``bench.run``, or loaded here) it times, over a
seeded sample of nodes of every kind plus the hubs:

* ``GET /api/nodes/<id>``: a node with every edge that touches it, through the app (issue 17:
  about 2 s on 200,000 nodes when ``Store.edges(touching=...)`` was ``s.id = ? OR t.id = ?``);
* ``Store.edges(touching=...)`` alone, and the same look-up written the old way (an OR of the two
  ends, which scans every edge), for comparison;
* deleting a node (each of its edges deleted and audited, in one change), on sampled
  datasets and processes that are not hubs.
"""
from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.editing import estate_db
from bench.generate import HUBS
from bench.run import OUT, _percentiles, _timed, markdown_table
from lineage.store import Store

OLD_QUERY = (Store._EDGE_SELECT + " WHERE s.id = ? OR t.id = ? ORDER BY s.id, t.id")
"""How release 2 looked up a node's edges: SQLite cannot use an index for either end, so it scans."""


def bench_edges(size: int, folder: Path, samples: int = 50, deletes: int = 20, old_samples: int = 5,
                seed: int = 1) -> dict[str, Any]:
    from web import create_app

    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "edges.db"
        shutil.copyfile(estate_db(size, folder), db)
        store = Store(db)
        rng = random.Random(seed)
        by_kind = {kind: [row[0] for row in store.conn.execute("SELECT id FROM nodes WHERE kind = ?", (kind,))]
                   for kind in ("system", "dataset", "process", "ai_tool", "decision")}
        hubs = {hub for ids in HUBS.values() for hub in ids}
        chosen = [node_id for ids in by_kind.values() for node_id in rng.sample(ids, min(samples // 5, len(ids)))]
        chosen += [h for kind, ids in HUBS.items() if kind != "person" for h in ids if h in set(by_kind.get(kind, ()))]

        client = create_app({"LINEAGE_DB": str(db), "TESTING": True}).test_client()  # no accounts: open
        client.get(f"/api/nodes/{chosen[0]}")  # warm up (imports, first connection)
        api, edge_counts = [], []
        for node_id in chosen:
            took, response = _timed(client.get, f"/api/nodes/{node_id}")
            assert response.status_code == 200, (node_id, response.status_code)
            api.append(took)
            edge_counts.append(len(response.get_json()["edges"]))
        lookups = [_timed(lambda i=node_id: list(store.edges(touching=i)))[0] for node_id in chosen]
        old = [_timed(lambda i=node_id: store.conn.execute(OLD_QUERY, (i, i)).fetchall())[0]
               for node_id in chosen[:old_samples]]

        doomed = rng.sample([i for i in by_kind["dataset"] + by_kind["process"] if i not in hubs],
                            min(deletes, len(by_kind["dataset"]) + len(by_kind["process"])))
        removed = []
        for node_id in doomed:
            took, _ = _timed(_delete, store, node_id)
            removed.append(took)
        store.close()
    return {"size": size, "api_node": _percentiles(api), "edges_touching": _percentiles(lookups),
            "old_or_query": _percentiles(old), "delete_node": _percentiles(removed),
            "most_edges": max(edge_counts)}


def _delete(store: Store, node_id: str) -> None:
    with store.change("bench", f"delete {node_id}") as change:
        change.delete_node(node_id)


ROWS = [("GET /api/nodes/<id> (node and its edges)", "api_node"),
        ("Store.edges(touching=…): two indexed look-ups", "edges_touching"),
        ("the same look-up as an OR of both ends (release 2)", "old_or_query"),
        ("delete a node and its edges, one audited change", "delete_node")]


def table(results: list[dict[str, Any]]) -> str:
    rows = [(label, lambda r, key=key: f"{r[key]['p50_ms']:.1f} / {r[key]['p99_ms']:.1f}") for label, key in ROWS]
    rows.append(("most edges on a sampled node", lambda r: f"{r['most_edges']:,}"))
    return markdown_table(["p50 / p99 ms"] + [f"{r['size']:,} nodes" for r in results], rows, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--deletes", type=int, default=20)
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        results.append(bench_edges(size, OUT, args.samples, args.deletes))
        print(f"{size:,} nodes: done", flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

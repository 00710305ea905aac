"""Benchmarks of the owner's pages on synthetic estates; prints figures, asserts nothing.

    python -m bench.owner --sizes 100000 1000000

On each estate's database (made by ``bench.run``, or loaded here) it times, for the people who own
the most and a seeded sample of other owners:

* *Your data* (:func:`lineage.owned.your_data`): everything one person owns, with what to do first;
* a page of the node list (:func:`lineage.owned.node_list`) sorted by name, by quality and by the
  decisions each node feeds (the first such sort after a write counts decisions in one pass over the
  graph, timed on its own), filtered by owner and by quality band;
* the CSV of every dataset (:func:`lineage.owned.node_rows`), once.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from bench.editing import estate_db
from bench.run import OUT, _percentiles, _timed, markdown_table
from lineage import owned
from lineage.graph import LineageGraph
from lineage.owned import NodeQuery
from lineage.store import Store

QUERIES = {
    "list_by_name": {}, "list_by_quality": {"kind": "dataset", "sort": "quality"},
    "list_by_decisions": {"sort": "decisions", "order": "desc"}, "list_poor_datasets": {"quality": "red"},
}


def bench_owner(size: int, folder: Path, samples: int = 10, seed: int = 1) -> dict[str, Any]:
    store = Store(estate_db(size, folder))
    g = LineageGraph.from_store(store)
    owners = [o["id"] for o in store.owners()]
    counts = {o: store.node_page(owner=o, limit=1).total for o in owners}
    busiest = sorted(owners, key=lambda o: -counts[o])[:3]
    chosen = busiest + random.Random(seed).sample(owners, min(samples, len(owners)))
    your_data = [_timed(owned.your_data, g, store, person)[0] for person in chosen]
    first_count, _ = _timed(owned.decision_counts, g)
    pages: dict[str, list[float]] = {key: [] for key in QUERIES}
    for page in (1, 2, 3):
        for key, args in QUERIES.items():
            pages[key].append(_timed(owned.node_list, g, store, NodeQuery(page=page, **args))[0])
    by_owner = [_timed(owned.node_list, g, store, NodeQuery(owner=person))[0] for person in chosen]
    csv_s, rows = _timed(owned.node_rows, g, store, NodeQuery(kind="dataset"))
    store.close()
    return {"size": size, "most_owned": counts[busiest[0]], "your_data": _percentiles(your_data),
            "decision_counts_s": first_count, **{key: _percentiles(times) for key, times in pages.items()},
            "list_by_owner": _percentiles(by_owner), "csv_datasets_s": csv_s, "csv_rows": len(rows)}


ROWS = [("Your data (one owner's page)", "your_data"), ("list page, by name", "list_by_name"),
        ("list page of datasets, by quality", "list_by_quality"),
        ("list page, by decisions fed (counts kept)", "list_by_decisions"),
        ("list page, poor datasets", "list_poor_datasets"), ("list page, one owner's", "list_by_owner")]


def table(results: list[dict[str, Any]]) -> str:
    rows = [(label, lambda r, key=key: f"{r[key]['p50_ms']:.1f} / {r[key]['p99_ms']:.1f}") for label, key in ROWS]
    rows += [("decisions fed, counted once after a write (s)", lambda r: f"{r['decision_counts_s']:.2f}"),
             ("CSV of every dataset (s)", lambda r: f"{r['csv_datasets_s']:.2f} ({r['csv_rows']:,} rows)"),
             ("most things one person owns", lambda r: f"{r['most_owned']:,}")]
    return markdown_table(["p50 / p99 ms"] + [f"{r['size']:,} nodes" for r in results], rows, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        results.append(bench_owner(size, OUT, args.samples))
        print(f"{size:,} nodes: done", flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

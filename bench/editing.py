"""Benchmarks of editing on synthetic estates; prints figures, asserts nothing.

    python -m bench.editing --sizes 100000 1000000

On a copy of each estate's database (made by ``bench.run``, or loaded here) it times, over a
seeded sample of datasets plus the hubs:

* an edit: one node updated in one audited change (the form's and the API's write);
* the engine rebuild that follows a write (what the writing request waits for);
* the delete preview of a dataset and of one of its edges (``removal_consequence``);
* a page of the whole graph's history, a change's detail, and an undo.
"""
from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.generate import HUBS
from bench.run import OUT, _percentiles, _timed, bench_load, estate_file, markdown_table
from lineage.consequence import removal_consequence
from lineage.graph import LineageGraph
from lineage.store import Store


def estate_db(size: int, folder: Path) -> Path:
    """The estate's database, loaded once (shared with ``bench.run``)."""
    db = folder / f"estate-{size}.db"
    if not db.exists():
        bench_load(estate_file(size, folder), db)
    return db


def bench_editing(size: int, folder: Path, samples: int = 20, seed: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "editing.db"
        shutil.copyfile(estate_db(size, folder), db)
        store = Store(db)
        g = LineageGraph.from_store(store)
        rng = random.Random(seed)
        datasets = [g.ids[i] for i in g.of_kind("dataset")]
        chosen = rng.sample(datasets, min(samples, len(datasets))) + [h for h in HUBS["dataset"] if h in g]
        edits, previews, edge_previews, undos = [], [], [], []
        for number, node_id in enumerate(chosen):
            took, _ = _timed(_edit, store, node_id, number)
            edits.append(took)
            previews.append(_timed(removal_consequence, g, node=node_id)[0])
            out = g.out.neighbours(g.position(node_id))
            if out.size:
                edge_previews.append(_timed(removal_consequence, g, edge=(node_id, g.ids[int(out[0])]))[0])
        rebuild, g = _timed(LineageGraph.from_store, store)
        history = [_timed(store.changes, limit=20)[0] for _ in range(5)]
        newest = store.changes(limit=len(chosen))
        details = [_timed(store.change_info, c["change"])[0] for c in newest]
        for change in newest:
            undos.append(_timed(store.undo, change["change"], actor="bench")[0])
        store.close()
    return {"size": size, "edit": _percentiles(edits), "rebuild_s": rebuild,
            "delete_preview_node": _percentiles(previews), "delete_preview_edge": _percentiles(edge_previews),
            "history_page": _percentiles(history), "change_detail": _percentiles(details),
            "undo": _percentiles(undos)}


def _edit(store: Store, node_id: str, number: int) -> None:
    with store.change("bench", f"edit {node_id}") as change:
        change.update_node(node_id, {"refresh": f"every {number + 1} days"})


ROWS = [("edit: one node, one audited change", "edit"), ("delete preview of a dataset", "delete_preview_node"),
        ("delete preview of an edge", "delete_preview_edge"), ("history: a page of 20 changes", "history_page"),
        ("one change's detail", "change_detail"), ("undo of one edit", "undo")]


def table(results: list[dict[str, Any]]) -> str:
    rows = [(label, lambda r, key=key: f"{r[key]['p50_ms']:.1f} / {r[key]['p99_ms']:.1f}") for label, key in ROWS]
    rows.append(("engine rebuild after a write (s)", lambda r: f"{r['rebuild_s']:.2f}"))
    return markdown_table(["p50 / p99 ms"] + [f"{r['size']:,} nodes" for r in results], rows, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        results.append(bench_editing(size, OUT, args.samples))
        print(f"{size:,} nodes: done", flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

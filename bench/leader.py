"""Benchmarks of the leader pages on synthetic estates; prints figures, asserts nothing.

    python -m bench.leader --sizes 1000000

On a copy of each estate's database (``bench.run`` makes it, or it is loaded here) it reports:

* **refresh after a bulk load**: on a database never refreshed (as after ``lineage load`` of a
  whole estate), the query engine built, then :func:`lineage.materialised.refresh`: computing
  (the two passes over the graph, gathering the records, insights for the estate and every
  organisation, the decision rows) and writing them;
* **Insights served** from the stored results, through Flask's test client: ``/insights`` and its
  JSON twin, one organisation's insights, and the decisions table (the first page by each sort,
  a filtered page). Goal: 500 ms;
* **one edit**: a dataset's quality changed in one audited change, then the engine rebuild, the
  page served at once (the stored results, labelled stale, a refresh started in the background)
  and that refresh (only the decision rows that changed are written);
* **decision pages**: ``/decisions/<id>`` for a seeded sample of decisions and the hub decisions
  (more than half the estate upstream, shown collapsed and counted), the picture uncached.
  Goal: p50 200 ms. Then what-ifs on sampled and hub datasets, and a few Explore selections.

Results go to bench/out/leader-results-<size>.json and a Markdown table to standard output.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np

from bench.generate import HUBS
from bench.run import OUT, _percentiles, bench_load, estate_file, markdown_table
from lineage import materialised
from lineage.graph import LineageGraph
from lineage.store import Store

GOAL_INSIGHTS_MS = 500.0
GOAL_DECISION_P50_MS = 200.0
SORTS = ("confidence", "people", "value", "name")


def estate_db(size: int, folder: Path) -> Path:
    """The estate's database, loaded once (shared with ``bench.run``)."""
    db = folder / f"estate-{size}.db"
    if not db.exists():
        bench_load(estate_file(size, folder), db)
    return db


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _get(client, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.get(url)
    body = response.get_data()
    return time.perf_counter() - started, response.status_code, len(body)


def _times(client, urls: list[str], statuses: dict[str, int]) -> dict[str, float]:
    seconds = []
    for url in urls:
        took, status, _ = _get(client, url)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        seconds.append(took)
    return _percentiles(seconds)


def _clear_pictures() -> None:
    from lineage import render

    with render._CACHE_LOCK:
        render._CACHE.clear()


def bench_refresh_after_load(db: Path) -> dict[str, Any]:
    """A never-refreshed database: engine, then the whole refresh, as ``lineage load`` does it."""
    store = Store(db)
    started = time.perf_counter()
    g = LineageGraph.from_store(store)
    engine = time.perf_counter() - started
    summary = materialised.refresh(store, g)
    result = {"engine_s": engine, **summary.as_dict(), "peak_rss_mib": _rss_mib(),
              "stored_kib": sum(len(row[0]) for row in store.conn.execute("SELECT body FROM materialised")) / 1024}
    store.close()
    del g
    gc.collect()
    return result


def bench_web(db: Path, *, decisions: int, datasets: int, repeats: int, seed: int) -> dict[str, Any]:
    from web import create_app, leader
    from web.db import refresh_graph

    rng = random.Random(seed)
    app = create_app({"LINEAGE_DB": str(db)})
    client = app.test_client()
    statuses: dict[str, int] = {}
    result: dict[str, Any] = {}
    started = time.perf_counter()
    _get(client, "/insights")  # builds the app's engine (the results are stored already)
    result["first_request_s"] = time.perf_counter() - started
    store = Store(db)
    organisations = materialised.stored(store).body["organisations"]
    organisation = organisations[0] if organisations else None

    insights = ["/insights"] * repeats
    result["insights"] = _times(client, insights, statuses)
    result["insights_json"] = _times(client, ["/insights.json"] * repeats, statuses)
    if organisation:
        result["insights_organisation"] = _times(
            client, [f"/insights?organisation={urllib.parse.quote(organisation)}"] * repeats, statuses)
    middle = max(1, materialised.stored(store, materialised.DECISIONS).body["count"] // 100)  # a page halfway
    result["decisions_table"] = _times(client, [f"/decisions?sort={s}" for s in SORTS for _ in range(3)]
                                       + [f"/decisions?sort={s}&page={middle}" for s in SORTS], statuses)
    result["decisions_filtered"] = _times(client, ["/decisions?confidence=amber&type=service&sort=people",
                                                   "/decisions?ai=no&sort=value", "/decisions?q=decision+12"] * 3,
                                          statuses)
    took, status, size = _get(client, "/decisions.csv?confidence=red")
    result["decisions_csv_red"] = {"s": took, "status": status, "mib": size / 2**20}

    with app.app_context():
        engine = refresh_graph()  # the app's engine: what its pages use
    decision_ids = [engine.ids[i] for i in rng.sample(engine.of_kind("decision").tolist(),
                                                       min(decisions, engine.of_kind("decision").size))]
    hubs = [h for h in HUBS["decision"] if h in engine]
    result["hub_upstream"] = {h: engine.bfs(np.array([engine.position(h)]), reverse=True).count for h in hubs}
    page_times, hub_times = [], []
    for node_id in decision_ids + hubs:
        _clear_pictures()
        took, status, _ = _get(client, f"/decisions/{node_id}")
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        (hub_times if node_id in hubs else page_times).append(took)
    result["decision_pages"] = _percentiles(page_times + hub_times)
    result["decision_pages_random"] = _percentiles(page_times)
    result["decision_pages_hubs"] = _percentiles(hub_times) if hub_times else None

    dataset_ids = [engine.ids[i] for i in rng.sample(engine.of_kind("dataset").tolist(),
                                                      min(datasets, engine.of_kind("dataset").size))]
    hub_datasets = [h for h in HUBS["dataset"] if h in engine]
    took, status, _ = _get(client, f"/what-if.json?dataset={dataset_ids[0]}&dimension=timeliness&score=0.1")
    result["what_if_first_s"] = took  # computes the weakest-upstream pass for this engine
    result["what_if"] = _times(client, [f"/what-if?dataset={d}&dimension=timeliness&score=0.1"
                                        for d in dataset_ids + hub_datasets], statuses)
    if hub_datasets:
        result["what_if_hubs"] = _times(client, [f"/what-if?dataset={d}&dimension=timeliness&score=0.1"
                                                 for d in hub_datasets], statuses)
    explore = ["/explore?select=kind%3Aai_tool", f"/explore?select=%2B{hubs[0] if hubs else decision_ids[0]}",
               f"/explore?select={dataset_ids[0]}%2B1", f"/explore?select=%2B{decision_ids[0]}&kinds=dataset"]
    result["explore"] = {url: _get(client, url)[0] * 1000 for url in explore}

    # One edit, then the page served at once (stale) and the refresh it starts.
    edited = hub_datasets[0] if hub_datasets else dataset_ids[0]
    with store.change("bench", "one edit") as change:
        quality = store.node(edited).get("quality") or {}
        change.update_node(edited, {"quality": {**quality, "timeliness": 0.05}})
    with app.app_context():
        started = time.perf_counter()
        refresh_graph()
        result["edit_engine_rebuild_s"] = time.perf_counter() - started
    started = time.perf_counter()
    took, status, _ = _get(client, "/insights.json")
    result["edit_stale_served_ms"] = took * 1000
    stale = client.get("/insights.json").get_json()["status"]
    leader.refresh_soon(app)
    leader.refresher(app).wait()
    result["edit_refresh"] = leader.refresher(app).last.as_dict()
    result["edit_refresh_wall_s"] = time.perf_counter() - started
    result["edit_stale_status"] = stale
    result["edit_after"] = client.get("/insights.json").get_json()["status"]
    result["edit_dataset"] = edited
    result["statuses"] = statuses
    result["peak_rss_mib"] = _rss_mib()
    store.close()
    del client, app, engine
    gc.collect()
    return result


def bench_size(size: int, folder: Path, *, decisions: int = 50, datasets: int = 20, repeats: int = 20,
               seed: int = 1) -> dict[str, Any]:
    result: dict[str, Any] = {"size": size, "settings": {"decisions": decisions, "datasets": datasets,
                                                         "repeats": repeats, "seed": seed}}
    source = estate_db(size, folder)
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "leader.db"
        shutil.copyfile(source, db)
        print(f"  refresh after a bulk load ({size:,} nodes) ...", file=sys.stderr, flush=True)
        result["bulk_refresh"] = bench_refresh_after_load(db)
        print("  pages, one edit and its refresh ...", file=sys.stderr, flush=True)
        result["web"] = bench_web(db, decisions=decisions, datasets=datasets, repeats=repeats, seed=seed)
    web = result["web"]
    result["goals"] = {
        "insights_ms": GOAL_INSIGHTS_MS, "decision_p50_ms": GOAL_DECISION_P50_MS,
        "insights_met": max(web["insights"]["max_ms"], web["insights_json"]["max_ms"]) <= GOAL_INSIGHTS_MS,
        "decision_pages_met": web["decision_pages"]["p50_ms"] <= GOAL_DECISION_P50_MS}
    (folder / f"leader-results-{size}.json").write_text(json.dumps(result, indent=2))
    return result


def _ms3(p: dict[str, Any] | None) -> str:
    return f"{p['p50_ms']:.0f} / {p['p99_ms']:.0f} / {p['max_ms']:.0f} (n={p['n']})" if p else "-"


def table(results: list[dict[str, Any]]) -> str:
    header = ["measure"] + [f"{r['size']:,} nodes" for r in results]

    def bulk(key: str, fmt: str = "{:.1f}"):
        return lambda r: fmt.format(r["bulk_refresh"][key])

    def web(key: str):
        return lambda r: _ms3(r["web"].get(key))

    rows = [
        ("refresh after a bulk load: engine build (s)", bulk("engine_s")),
        ("refresh after a bulk load: compute / write / total (s)",
         lambda r: f"{r['bulk_refresh']['compute_seconds']:.1f} / {r['bulk_refresh']['write_seconds']:.1f} / "
                   f"{r['bulk_refresh']['seconds']:.1f}"),
        ("decision rows written, organisations; write lock held (s)",
         lambda r: f"{r['bulk_refresh']['decisions_written']:,}, {r['bulk_refresh']['organisations']}; "
                   f"{r['bulk_refresh']['locked_seconds']:.1f}"),
        ("stored insights (KiB)", bulk("stored_kib", "{:.0f}")),
        ("**insights served, p50 / p99 / max (ms)** (goal 500)", web("insights")),
        ("insights JSON twin, p50 / p99 / max (ms)", web("insights_json")),
        ("one organisation's insights, p50 / p99 / max (ms)", web("insights_organisation")),
        ("decisions table, each sort, p50 / p99 / max (ms)", web("decisions_table")),
        ("decisions table, filtered, p50 / p99 / max (ms)", web("decisions_filtered")),
        ("decisions on red data as CSV (s, MiB)",
         lambda r: f"{r['web']['decisions_csv_red']['s']:.1f}, {r['web']['decisions_csv_red']['mib']:.1f}"),
        ("one edit: engine rebuild (s)", lambda r: f"{r['web']['edit_engine_rebuild_s']:.1f}"),
        ("one edit: stale insights served at once (ms)", lambda r: f"{r['web']['edit_stale_served_ms']:.0f}"),
        ("one edit: refresh compute / write / total (s)",
         lambda r: f"{r['web']['edit_refresh']['compute_seconds']:.1f} / {r['web']['edit_refresh']['write_seconds']:.1f}"
                   f" / {r['web']['edit_refresh']['seconds']:.1f}"),
        ("one edit: decision rows rewritten; write lock held (s)",
         lambda r: f"{r['web']['edit_refresh']['decisions_written']:,}; "
                   f"{r['web']['edit_refresh']['locked_seconds']:.1f}"),
        ("**decision pages, all, p50 / p99 / max (ms)** (goal p50 200)", web("decision_pages")),
        ("decision pages, random decisions (ms)", web("decision_pages_random")),
        ("decision pages, hub decisions (ms)", web("decision_pages_hubs")),
        ("nodes upstream of the hub decisions",
         lambda r: ", ".join(f"{v:,}" for v in r["web"]["hub_upstream"].values()) or "-"),
        ("what-if, first after a change (s)", lambda r: f"{r['web']['what_if_first_s']:.2f}"),
        ("what-if pages, p50 / p99 / max (ms)", web("what_if")),
        ("what-if on hub datasets, p50 / p99 / max (ms)", web("what_if_hubs")),
        ("explore: every AI tool, a hub's upstream, a dataset's neighbours, a decision's datasets (ms)",
         lambda r: ", ".join(f"{v:.0f}" for v in r["web"]["explore"].values())),
        ("goals met (insights, decision pages)",
         lambda r: f"{'yes' if r['goals']['insights_met'] else '**no**'}, "
                   f"{'yes' if r['goals']['decision_pages_met'] else '**no**'}"),
        ("page statuses", lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r["web"]["statuses"].items()))),
        ("peak RSS of the benchmark process (MiB)", lambda r: f"{r['web']['peak_rss_mib']:.0f}"),
    ]
    return markdown_table(header, rows, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.leader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--decisions", type=int, default=50, help="random decision pages timed (and the hubs)")
    parser.add_argument("--datasets", type=int, default=20, help="random what-ifs timed (and the hubs)")
    parser.add_argument("--repeats", type=int, default=20, help="requests of each Insights page timed")
    parser.add_argument("--out", type=Path, default=OUT, help="where the databases are and results go")
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        print(f"leader benchmark, {size:,} nodes ...", file=sys.stderr, flush=True)
        results.append(bench_size(size, args.out, decisions=args.decisions, datasets=args.datasets,
                                  repeats=args.repeats))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

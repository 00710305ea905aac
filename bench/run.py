"""Benchmarks of the lineage library on synthetic estates; prints figures, asserts nothing.

    python -m bench.run --sizes 10000 100000 1000000

For each size it generates an estate (``bench.generate``, cached in bench/out), and reports side
by side:

* load: reading and validating the native JSON file and writing it to a fresh SQLite store;
* start-up of the query engine (``LineageGraph.from_store``) in a fresh process: seconds and
  peak resident memory;
* person impact and decision provenance (the full library calls: traversal, totals, paths and
  records), p50 / p99 / max over a seeded sample plus the hub nodes, next to igraph's plain
  breadth-first search over the same nodes in the same run;
* impact counts for every person at once (``people_impact``), what the leader views materialise;
* pictures at the default node limit (view, collapse, pydot and Graphviz SVG together) for people,
  datasets, hubs and decisions, uncached and then from the cache.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.generate import HUBS, build, write_json
from lineage import io
from lineage.graph import LineageGraph, impact, people_impact, provenance, single_points_of_failure
from lineage.render import picture
from lineage.store import Store

OUT = Path(__file__).parent / "out"


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))],
            "max_ms": 1000 * ordered[-1], "n": len(ordered)}


def _timed(call, *args, **kwargs) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return time.perf_counter() - started, result


def estate_file(size: int, folder: Path) -> Path:
    """The estate of ``size`` nodes as native JSON, generated once."""
    path = folder / f"estate-{size}.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", buffering=1 << 20) as out:
            write_json(build(size, seed=1), out)
        partial.rename(path)
    return path


def bench_load(path: Path, db: Path) -> dict[str, Any]:
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    store = Store(db, create=True)
    data = io.read_files([path], store)
    read = time.perf_counter() - started
    summary = store.load(data, actor="bench", summary=f"load {path.name}")
    total = time.perf_counter() - started
    store.close()
    return {"read_validate_s": read, "total_s": total, "nodes": summary.nodes_added, "edges": summary.edges_added,
            "db_mib": db.stat().st_size / 2**20}


# Peak memory from /proc's VmHWM: ru_maxrss survives fork and exec, so a child of a big
# parent would report the parent's peak.
_STARTUP = """
import json, re, sys, time
started = time.perf_counter()
from lineage.graph import LineageGraph
from lineage.store import Store
imported = time.perf_counter()
g = LineageGraph.from_store(Store(sys.argv[1]))
done = time.perf_counter()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"import_s": imported - started, "build_s": done - imported, "total_s": done - started,
                  "peak_rss_mib": peak, "nodes": len(g)}))
"""


def bench_startup(db: Path) -> dict[str, Any]:
    """Engine start-up in a fresh interpreter, so peak memory is the engine's own."""
    output = subprocess.run([sys.executable, "-c", _STARTUP, str(db)], check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


def _igraph(g: LineageGraph):
    import igraph

    return igraph.Graph(n=len(g), edges=np.column_stack([g.edge_sources, g.edge_targets]).tolist(), directed=True)


def bench_queries(g: LineageGraph, samples: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    people = [g.ids[i] for i in rng.sample(g.of_kind("person").tolist(), min(samples, g.of_kind("person").size))]
    decisions = [g.ids[i] for i in rng.sample(g.of_kind("decision").tolist(), min(samples, g.of_kind("decision").size))]
    hub_people = [h for h in HUBS["person"] if h in g]
    hub_decisions = [h for h in HUBS["decision"] if h in g]
    people += hub_people
    decisions += hub_decisions
    results: dict[str, Any] = {}
    for warm_up in people[-13:]:  # first touches of the arrays; the hubs are last in each list
        impact(g, warm_up, limit=20)
    for warm_up in decisions[-13:]:
        provenance(g, warm_up, limit=50)
    impact_times = {p: _timed(impact, g, p, limit=20)[0] for p in people}
    provenance_times = {d: _timed(provenance, g, d, limit=50)[0] for d in decisions}
    results["impact"] = _percentiles(list(impact_times.values()))
    results["impact_hubs_max_ms"] = 1000 * max((impact_times[h] for h in hub_people), default=0)
    results["provenance"] = _percentiles(list(provenance_times.values()))
    results["provenance_hubs_max_ms"] = 1000 * max((provenance_times[h] for h in hub_decisions), default=0)
    failure_times = [_timed(single_points_of_failure, g, d)[0] for d in decisions]
    results["single_points_of_failure"] = _percentiles(failure_times)
    results["hub_upstream_nodes"] = max((provenance(g, h, limit=1).upstream_count for h in hub_decisions), default=0)

    # The engine's own breadth-first search over the same nodes: the like-for-like comparison.
    own_down = {p: _timed(g.bfs, np.array([g.position(p)]))[0] for p in people}
    own_up = {d: _timed(g.bfs, np.array([g.position(d)]), reverse=True)[0] for d in decisions}
    results["lineage_person_bfs"] = _percentiles(list(own_down.values()))
    results["lineage_decision_bfs"] = _percentiles(list(own_up.values()))
    results["lineage_hub_decision_bfs_max_ms"] = 1000 * max((own_up[h] for h in hub_decisions), default=0)

    build_s, ig = _timed(_igraph, g)
    results["igraph_build_s"] = build_s
    down = {p: _timed(ig.subcomponent, g.position(p), mode="out")[0] for p in people}
    up = {d: _timed(ig.subcomponent, g.position(d), mode="in")[0] for d in decisions}
    results["igraph_person_bfs"] = _percentiles(list(down.values()))
    results["igraph_decision_bfs"] = _percentiles(list(up.values()))
    results["igraph_hub_decision_max_ms"] = 1000 * max((up[h] for h in hub_decisions), default=0)
    results["igraph_hub_person_max_ms"] = 1000 * max((down[h] for h in hub_people), default=0)
    return results


PICTURE_SAMPLES = 25
"""Random nodes per kind drawn in the picture benchmark: each picture runs Graphviz, tens of ms."""


def bench_pictures(g: LineageGraph, seed: int = 1) -> dict[str, Any]:
    """Uncached and cached picture times per focus group, at the default view options."""
    rng = random.Random(seed)
    groups: dict[str, list[str]] = {}
    for label, kind in (("people", "person"), ("datasets", "dataset"), ("decisions", "decision")):
        positions = g.of_kind(kind).tolist()
        groups[label] = [g.ids[i] for i in rng.sample(positions, min(PICTURE_SAMPLES, len(positions)))]
    groups["hubs"] = [h for hubs in HUBS.values() for h in hubs if h in g]
    picture(g, groups["people"][0])  # first Graphviz start and array touches, not a user's wait
    results: dict[str, Any] = {}
    for label, focuses in groups.items():
        uncached = [_timed(picture, g, focus)[0] for focus in focuses]
        cached = [_timed(picture, g, focus)[0] for focus in focuses]
        results[label] = {"uncached": _percentiles(uncached), "cached": _percentiles(cached)}
    return results


def bench_size(size: int, samples: int, folder: Path) -> dict[str, Any]:
    path = estate_file(size, folder)
    db = folder / f"estate-{size}.db"
    result: dict[str, Any] = {"size": size}
    result["load"] = bench_load(path, db)
    result["startup"] = bench_startup(db)
    store = Store(db)
    g = LineageGraph.from_store(store)
    result["queries"] = bench_queries(g, samples)
    result["pictures"] = bench_pictures(g)
    seconds, totals = _timed(people_impact, g)
    result["people_impact_s"] = seconds
    result["people_impact_rows"] = int(totals.nodes.size)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return result


def table(results: list[dict[str, Any]]) -> str:
    """The results as the Markdown table the README shows."""
    header = ["measure"] + [f"{r['size']:,} nodes" for r in results]
    rows = [
        ("edges", lambda r: f"{r['load']['edges']:,}"),
        ("load JSON into SQLite (s)", lambda r: f"{r['load']['total_s']:.1f}"),
        ("database size (MiB)", lambda r: f"{r['load']['db_mib']:.0f}"),
        ("engine start-up (s)", lambda r: f"{r['startup']['total_s']:.2f}"),
        ("engine peak RSS (MiB)", lambda r: f"{r['startup']['peak_rss_mib']:.0f}"),
        ("person impact p50 / p99 (ms)", lambda r: f"{r['queries']['impact']['p50_ms']:.1f} / "
                                                   f"{r['queries']['impact']['p99_ms']:.1f}"),
        ("person impact, hub people max (ms)", lambda r: f"{r['queries']['impact_hubs_max_ms']:.0f}"),
        ("BFS downstream of a person p50 / p99 (ms): lineage",
         lambda r: f"{r['queries']['lineage_person_bfs']['p50_ms']:.2f} / "
                   f"{r['queries']['lineage_person_bfs']['p99_ms']:.2f}"),
        ("BFS downstream of a person p50 / p99 (ms): igraph",
         lambda r: f"{r['queries']['igraph_person_bfs']['p50_ms']:.2f} / "
                   f"{r['queries']['igraph_person_bfs']['p99_ms']:.2f}"),
        ("decision provenance p50 / p99 (ms)", lambda r: f"{r['queries']['provenance']['p50_ms']:.1f} / "
                                                         f"{r['queries']['provenance']['p99_ms']:.1f}"),
        ("provenance, hub decisions max (ms)", lambda r: f"{r['queries']['provenance_hubs_max_ms']:.0f}"),
        ("single points of failure p50 / p99 (ms)",
         lambda r: f"{r['queries']['single_points_of_failure']['p50_ms']:.1f} / "
                   f"{r['queries']['single_points_of_failure']['p99_ms']:.1f}"),
        ("nodes upstream of the biggest hub", lambda r: f"{r['queries']['hub_upstream_nodes']:,}"),
        ("BFS upstream of a decision p50 / p99 (ms): lineage",
         lambda r: f"{r['queries']['lineage_decision_bfs']['p50_ms']:.2f} / "
                   f"{r['queries']['lineage_decision_bfs']['p99_ms']:.1f}"),
        ("BFS upstream of a decision p50 / p99 (ms): igraph",
         lambda r: f"{r['queries']['igraph_decision_bfs']['p50_ms']:.2f} / "
                   f"{r['queries']['igraph_decision_bfs']['p99_ms']:.1f}"),
        ("BFS upstream, hub decisions max (ms): lineage / igraph",
         lambda r: f"{r['queries']['lineage_hub_decision_bfs_max_ms']:.0f} / "
                   f"{r['queries']['igraph_hub_decision_max_ms']:.0f}"),
        ("impact counts for every person (s)", lambda r: f"{r['people_impact_s']:.2f}"),
    ] + [
        (f"picture of {label}, uncached p50 / p99 (ms)",
         lambda r, label=label: f"{r['pictures'][label]['uncached']['p50_ms']:.0f} / "
                                f"{r['pictures'][label]['uncached']['p99_ms']:.0f}")
        for label in ("people", "datasets", "hubs", "decisions")
    ] + [
        ("picture from the cache, p99 over all groups (ms)",
         lambda r: f"{max(group['cached']['p99_ms'] for group in r['pictures'].values()):.2f}"),
    ]
    return markdown_table(header, rows, results)


def markdown_table(header: list[str], rows: list[tuple[str, Any]], results: list[dict[str, Any]]) -> str:
    """A row per (name, cell function), a column per result."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([name] + [cell(r) for r in results]) + " |" for name, cell in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--samples", type=int, default=200, help="random people and decisions per size")
    parser.add_argument("--out", type=Path, default=OUT, help="where estates, databases and results go")
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        print(f"benchmarking {size:,} nodes ...", file=sys.stderr, flush=True)
        result = bench_size(size, args.samples, args.out)
        results.append(result)
        (args.out / f"results-{size}.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2), file=sys.stderr, flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

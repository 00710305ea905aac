"""Benchmark of field-level lineage on synthetic estates with fields; prints figures, asserts nothing.

    python -m bench.fields --sizes 10000 100000 [--fields 20]

Each estate is ``bench.generate``'s with ``--fields`` fields on every dataset, each derived
dataset's fields linked to a dataset it is made from (``bench.generate.with_fields``). It times:

* loading the estate (read, validate, write), as ``lineage load`` does, beside the size of the file
  and the time the same estate takes without fields;
* the field-level impact of a field (:func:`lineage.fields.field_downstream`: the fields made from
  it, the models it feeds, the decisions it reaches) on a seeded sample of fields of datasets that
  others are made from, plus the hub datasets: the first query on a fresh graph (its field index
  empty) and the rest (the index filled as queries touch it);
* a dataset's fields with where each goes (:func:`lineage.fields.node_fields`, what its page shows)
  on sampled datasets and the hubs;
* the fields a decision rests on (:func:`lineage.fields.decision_fields`) on sampled decisions and
  the hubs;
* the memory the field index holds after the queries (its nodes read).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
from pathlib import Path
from typing import Any

from bench.generate import HUBS, build, with_fields, write_json
from bench.run import OUT, _percentiles, _timed, bench_load, estate_file, markdown_table
from lineage import fields as lf
from lineage.graph import LineageGraph
from lineage.store import Store


def estate_with_fields(size: int, per_dataset: int, folder: Path) -> Path:
    path = folder / f"estate-{size}-fields-{per_dataset}.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", buffering=1 << 20) as out:
            write_json(with_fields(build(size, seed=1), per_dataset), out)
        partial.rename(path)
    return path


def bench_fields(size: int, folder: Path, per_dataset: int = 20, samples: int = 200, seed: int = 1) -> dict[str, Any]:
    path = estate_with_fields(size, per_dataset, folder)
    db = folder / f"estate-{size}-fields-{per_dataset}.db"
    result: dict[str, Any] = {"size": size, "fields_per_dataset": per_dataset, "file_mib": path.stat().st_size / 2**20}
    result["load"] = bench_load(path, db)
    plain = folder / f"estate-{size}-plain.db"
    result["load_without_fields"] = bench_load(estate_file(size, folder), plain)
    plain.unlink()
    store = Store(db)
    built, g = _timed(LineageGraph.from_store, store)
    result["graph_s"] = built
    rng = random.Random(seed)
    parents = [row[0] for row in store.conn.execute(
        "SELECT DISTINCT json_extract(attrs, '$.fields[0].from[0].node') FROM nodes WHERE kind = 'dataset' "
        "AND json_extract(attrs, '$.fields[0].from[0].node') IS NOT NULL")]
    chosen = rng.sample(parents, min(samples, len(parents))) + [h for h in HUBS["dataset"] if h in g]
    queries = [(node_id, f"field_{rng.randint(1, per_dataset)}") for node_id in chosen]
    first, reach = _timed(lf.field_downstream, g, *queries[0])
    times, fields_reached, decisions = [], [], []
    for node_id, name in queries[1:]:
        took, reach = _timed(lf.field_downstream, g, node_id, name)
        times.append(took)
        fields_reached.append(len(reach.fields))
        decisions.append(len(reach.decisions))
    result["first_impact_ms"] = 1000 * first
    result["impact"] = _percentiles(times)
    result["impact_fields_median"] = sorted(fields_reached)[len(fields_reached) // 2]
    result["impact_decisions_median"] = sorted(decisions)[len(decisions) // 2]
    pages = rng.sample([g.ids[i] for i in g.of_kind("dataset")], min(samples // 4, 50))
    result["node_fields"] = _percentiles([_timed(lf.node_fields, g, d)[0] for d in pages])
    result["node_fields_hubs_ms"] = max(1000 * _timed(lf.node_fields, g, h)[0] for h in HUBS["dataset"] if h in g)
    chosen_decisions = rng.sample([g.ids[i] for i in g.of_kind("decision")], min(samples // 4, 50))
    result["decision_fields"] = _percentiles([_timed(lf.decision_fields, g, d)[0] for d in chosen_decisions])
    result["decision_fields_hubs_ms"] = max(1000 * _timed(lf.decision_fields, g, h)[0]
                                            for h in HUBS["decision"] if h in g)
    result["index_nodes"] = len(lf.field_index(g)._info)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return result


ROWS = [
    ("estate file (MiB)", lambda r: f"{r['file_mib']:,.0f}"),
    ("load: read, validate, write (s)", lambda r: f"{r['load']['total_s']:.1f}"),
    ("the same estate without fields (s)", lambda r: f"{r['load_without_fields']['total_s']:.1f}"),
    ("compile the graph (s)", lambda r: f"{r['graph_s']:.2f}"),
    ("first field impact on a fresh graph (ms)", lambda r: f"{r['first_impact_ms']:.1f}"),
    ("field impact p50 / p99 (ms)", lambda r: f"{r['impact']['p50_ms']:.1f} / {r['impact']['p99_ms']:.1f}"),
    ("fields / decisions reached (median)", lambda r: f"{r['impact_fields_median']} / {r['impact_decisions_median']}"),
    ("a dataset's fields and where each goes (its page), p50 / p99; hub datasets max (ms)",
     lambda r: f"{r['node_fields']['p50_ms']:.1f} / {r['node_fields']['p99_ms']:.1f}; {r['node_fields_hubs_ms']:.0f}"),
    ("fields a decision rests on, p50 / p99; hub decisions max (ms)",
     lambda r: f"{r['decision_fields']['p50_ms']:.1f} / {r['decision_fields']['p99_ms']:.1f}; "
               f"{r['decision_fields_hubs_ms']:.0f}"),
    ("peak memory (MiB)", lambda r: f"{r['peak_rss_mib']:,.0f}"),
]


def table(results: list[dict[str, Any]]) -> str:
    return markdown_table(["", *(f"{r['size']:,} nodes, {r['fields_per_dataset']} fields per dataset" for r in results)],
                          ROWS, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fields", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--fields", type=int, default=20, help="fields per dataset")
    parser.add_argument("--samples", type=int, default=200, help="fields sampled per size")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    results = [bench_fields(size, args.out, args.fields, args.samples) for size in args.sizes]
    (args.out / "fields.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

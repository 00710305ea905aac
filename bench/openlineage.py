"""Benchmark of OpenLineage in: a file of events, then events through the HTTP endpoint.

    python -m bench.openlineage --events 100000 --jobs 2000 --datasets 3000 --http-events 2000

1. :func:`generate_events` makes a realistic mix (seeded, so the same arguments give the same
   events): a few thousand jobs (Airflow, dbt and Spark) and datasets over a few namespaces, jobs run
   again and again (popular jobs far more often), each run a START and a COMPLETE (2% FAIL, 1% of
   COMPLETEs sent before their START), START carrying the inputs' schemas, COMPLETE the outputs'
   schemas and output statistics, the inputs' data quality metrics or assertions on a fifth of the
   runs each; job documentation, ownership (owners by e-mail that map to nobody) and, on 3% of jobs,
   an ``ai_tool`` tag.
2. The file import: the events written as NDJSON, then read, checked and folded a line at a time and
   written to a fresh database in one change (what ``lineage import-openlineage`` does), timed; then
   the same file again (which changes nothing).
3. HTTP: ``lineage serve`` in its own process on loopback (a fresh database), one client posting
   ``--http-events`` events one per request to ``/api/v1/lineage`` over a kept-alive connection, then
   as many again in batches of ``--batch`` to ``/api/v1/lineage/batch``. Bounded by the counts; the
   server is stopped at the end.

Figures are printed (and written to ``bench/out/openlineage-results.json``), not asserted.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.run import OUT, _percentiles
from bench.web import ServerOutput, start_server, stop_server, wait_until_up
from lineage.io import openlineage as ol
from lineage.store import Store

PRODUCERS = {
    "airflow": "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0",
    "dbt": "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/dbt",
    "spark": "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark",
}
NAMESPACES = ("postgres://cms.synthetic.local:5432", "postgres://dw.synthetic.local:5432",
              "s3://synthetic-lake", "bigquery")
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
START = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = ("id", "case_ref", "postcode", "band", "status", "opened", "closed", "amount", "notes", "officer")


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCERS["airflow"], "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json",
            **fields}


def _zipf_weights(count: int) -> list[float]:
    return [1.0 / (rank + 1) ** 0.8 for rank in range(count)]


def generate_events(count: int, *, jobs: int = 2000, datasets: int = 3000, seed: int = 1) -> Iterator[dict[str, Any]]:
    """``count`` OpenLineage RunEvents of a synthetic estate (see the module's description)."""
    rng = random.Random(seed)
    names = [(NAMESPACES[i % len(NAMESPACES)], f"{rng.choice(('raw', 'staging', 'mart', 'public'))}.table_{i}")
             for i in range(datasets)]
    schemas = [[{"name": column, "type": rng.choice(("INTEGER", "VARCHAR", "DATE", "NUMERIC"))}
                for column in rng.sample(COLUMNS, rng.randint(3, len(COLUMNS)))] for _ in range(datasets)]
    documented = [rng.random() < 0.5 for _ in range(datasets)]
    popular = _zipf_weights(datasets)
    plans = []
    for number in range(jobs):
        integration = rng.choice(tuple(PRODUCERS))
        inputs = sorted(set(rng.choices(range(datasets), weights=popular, k=rng.randint(1, 4))))
        outputs = sorted(set(rng.sample(range(datasets), rng.randint(1, 2))) - set(inputs)) or [
            (inputs[-1] + 1) % datasets]
        facets: dict[str, Any] = {"jobType": _facet(processingType="BATCH", integration=integration.upper(),
                                                   jobType="TASK" if integration == "airflow" else "JOB")}
        if rng.random() < 0.8:
            facets["documentation"] = _facet(description=f"Synthetic job {number}: builds {len(outputs)} tables")
        if rng.random() < 0.5:
            facets["ownership"] = _facet(owners=[{"name": f"user:person-{rng.randrange(500)}@synthetic.example",
                                                  "type": "MAINTAINER"}])
        if rng.random() < 0.03:
            facets["tags"] = _facet(tags=[{"key": "ai_tool", "value": "true", "source": "USER"}])
        plans.append((integration, f"{integration}.job_{number}", facets, inputs, outputs))
    job_weights = _zipf_weights(jobs)
    clock = START
    emitted = 0
    while emitted < count:
        integration, job_name, job_facets, inputs, outputs = rng.choices(plans, weights=job_weights)[0]
        clock += timedelta(seconds=rng.randint(5, 60))
        finished = clock + timedelta(seconds=rng.randint(20, 1800))
        run = {"runId": f"{rng.getrandbits(128):032x}", "facets": {}}
        job = {"namespace": integration, "name": job_name, "facets": job_facets}

        def dataset(index: int, *, schema: bool, quality: str | None = None, output: bool = False) -> dict[str, Any]:
            namespace, name = names[index]
            facets: dict[str, Any] = {}
            if schema:
                facets["schema"] = _facet(fields=schemas[index])
            if documented[index]:
                facets["documentation"] = _facet(description=f"Synthetic table {name}")
            record: dict[str, Any] = {"namespace": namespace, "name": name, "facets": facets}
            if output:
                record["outputFacets"] = {"outputStatistics": _facet(rowCount=rng.randrange(10, 100_000))}
            elif quality == "metrics":
                rows = rng.randrange(100, 1_000_000)
                record["inputFacets"] = {"dataQualityMetrics": _facet(rowCount=rows, columnMetrics={
                    column["name"]: {"nullCount": int(rows * rng.random() * 0.05)} for column in schemas[index]})}
            elif quality == "assertions":
                record["inputFacets"] = {"dataQualityAssertions": _facet(assertions=[
                    {"assertion": kind, "success": rng.random() < 0.9, "column": column["name"]}
                    for kind in ("not_null", "unique", "accepted_values") for column in schemas[index][:2]])}
            return record

        quality = rng.choices((None, "metrics", "assertions"), weights=(60, 20, 20))[0]
        start = {"eventType": "START", "eventTime": clock.isoformat(), "producer": PRODUCERS[integration],
                 "schemaURL": SCHEMA_URL, "run": run, "job": job,
                 "inputs": [dataset(i, schema=True) for i in inputs], "outputs": []}
        end = {"eventType": "FAIL" if rng.random() < 0.02 else "COMPLETE", "eventTime": finished.isoformat(),
               "producer": PRODUCERS[integration], "schemaURL": SCHEMA_URL, "run": run, "job": job,
               "inputs": [dataset(i, schema=False, quality=quality) for i in inputs],
               "outputs": [dataset(i, schema=True, output=True) for i in outputs]}
        pair = (end, start) if rng.random() < 0.01 else (start, end)
        for event in pair[:count - emitted]:
            yield event
            emitted += 1


def events_file(count: int, jobs: int, datasets: int, seed: int, folder: Path) -> Path:
    """The events as NDJSON, generated once per (count, jobs, datasets, seed)."""
    path = folder / f"openlineage-{count}-{jobs}-{datasets}-{seed}.ndjson"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", buffering=1 << 20) as out:
            for event in generate_events(count, jobs=jobs, datasets=datasets, seed=seed):
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
        partial.rename(path)
    return path


def _fresh_db(path: Path) -> Path:
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    Store(path, create=True).close()
    return path


# Peak memory from /proc's VmHWM, in a process of its own so that it is the import's alone.
_IMPORT = """
import json, re, sys, time
from lineage.io import openlineage
from lineage.store import Store
store = Store(sys.argv[2])
started = time.perf_counter()
result = openlineage.import_files(store, [sys.argv[1]], actor="bench")
total = time.perf_counter() - started
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"events": result.events, "total_s": total, "peak_rss_mib": peak}))
"""


def bench_file(path: Path, db: Path) -> dict[str, Any]:
    """Import a file of events into a fresh database as ``lineage import-openlineage`` does (read,
    check and fold a line at a time, then write in one change), in a fresh process; then the same
    file again (which changes nothing)."""
    done = subprocess.run([sys.executable, "-c", _IMPORT, str(path), str(_fresh_db(db))], check=True,
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    first = json.loads(done.stdout)
    store = Store(db)
    again = time.perf_counter()
    repeat = ol.import_files(store, [path], actor="bench")
    repeat_s = time.perf_counter() - again
    nodes, edges = sum(store.counts().values()), store.edge_count()
    store.close()
    return {**first, "events_per_s": first["events"] / first["total_s"], "nodes": nodes, "edges": edges,
            "db_mib": db.stat().st_size / 2**20, "repeat_s": repeat_s,
            "repeat_changed": repeat.nodes_added + repeat.nodes_changed + repeat.edges_added,
            "mib": path.stat().st_size / 2**20}


def _post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def bench_http(single: list[dict[str, Any]], batched: list[dict[str, Any]], batch: int, db: Path) -> dict[str, Any]:
    """Events through ``lineage serve`` on loopback: ``single`` one per request, then ``batched`` in
    batches, then ``single`` again (which changes nothing)."""
    proc = start_server(_fresh_db(db), threads=4)
    output = ServerOutput(proc)
    try:
        wait_until_up(output)
        conn = http.client.HTTPConnection("127.0.0.1", output.port, timeout=60)
        results: dict[str, Any] = {}
        for name, chunk, path, size in (("single", single, "/api/v1/lineage", 1),
                                        ("batch", batched, "/api/v1/lineage/batch", batch)):
            statuses: Counter[str] = Counter()
            latencies = []
            started = time.perf_counter()
            for at in range(0, len(chunk), size):
                part = chunk[at] if size == 1 else chunk[at:at + size]
                status, seconds = _post(conn, path, json.dumps(part).encode())
                statuses[str(status)] += 1
                latencies.append(seconds)
            elapsed = time.perf_counter() - started
            results[name] = {"events": len(chunk), "requests": len(latencies), "seconds": elapsed,
                             "events_per_s": len(chunk) / elapsed if elapsed else 0.0, "statuses": dict(statuses),
                             "latency": _percentiles(latencies)}
        # Steady state: the same events again change nothing (what a pipeline re-sending looks like).
        statuses = Counter()
        started = time.perf_counter()
        for event in single:
            statuses[str(_post(conn, "/api/v1/lineage", json.dumps(event).encode())[0])] += 1
        elapsed = time.perf_counter() - started
        results["repeat"] = {"events": len(single), "seconds": elapsed,
                             "events_per_s": len(single) / elapsed if elapsed else 0.0, "statuses": dict(statuses)}
        conn.close()
        return results
    finally:
        stop_server(proc)


def table(result: dict[str, Any]) -> str:
    file, http = result["file"], result["http"]
    rows = [
        ("events in the file (NDJSON MiB)", f"{file['events']:,} ({file['mib']:.0f})"),
        ("nodes, edges made", f"{file['nodes']:,}, {file['edges']:,}"),
        ("file import: total (s), peak memory (MiB)", f"{file['total_s']:.1f}, {file['peak_rss_mib']:.0f}"),
        ("file import: events per second", f"{file['events_per_s']:,.0f}"),
        ("same file again (s), nodes and edges it changed", f"{file['repeat_s']:.1f}, {file['repeat_changed']}"),
        ("HTTP, one event per request: events per second",
         (f"{http['single']['events_per_s']:,.0f} (p50 {http['single']['latency']['p50_ms']:.1f} ms, "
          f"p99 {http['single']['latency']['p99_ms']:.1f} ms, n={http['single']['events']:,})")),
        (f"HTTP, batches of {result['batch']}: events per second",
         f"{http['batch']['events_per_s']:,.0f} (n={http['batch']['events']:,})"),
        ("HTTP, the same events again (no change): events per second", f"{http['repeat']['events_per_s']:,.0f}"),
    ]
    lines = ["| measure | figure |", "|---|---|"] + [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--datasets", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--http-events", type=int, default=1000,
                        help="events sent over HTTP one per request (as many again in batches)")
    parser.add_argument("--batch", type=int, default=100, help="events per batch request")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    path = events_file(args.events, args.jobs, args.datasets, args.seed, args.out)
    file = bench_file(path, args.out / "openlineage-file.db")
    sample = list(generate_events(args.http_events * 2, jobs=args.jobs, datasets=args.datasets, seed=args.seed))
    http_result = bench_http(sample[:args.http_events], sample[args.http_events:], args.batch,
                             args.out / "openlineage-http.db")
    result = {"file": file, "http": http_result, "batch": args.batch}
    (args.out / "openlineage-results.json").write_text(json.dumps(result, indent=1))
    print(table(result))
    print(f"\n{file['events']:,} events imported from a file in {file['total_s']:.1f} s: "
          f"{file['events_per_s']:,.0f} events per second; over HTTP {http_result['single']['events_per_s']:,.0f} "
          f"events per second one at a time, {http_result['batch']['events_per_s']:,.0f} in batches.")
    return result


if __name__ == "__main__":  # pragma: no cover
    main()

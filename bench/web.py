"""Benchmarks of the web app on synthetic estates; prints figures, asserts nothing.

    python -m bench.web --sizes 1000000 --duration 60 --clients 20

For each size it uses the estate database of ``bench.run`` (bench/out/estate-<size>.db, generated
and loaded only if missing) and reports:

* **server time of pages**: the Flask test client against an app on the database, the query
  engine built first (by a warm-up request, reported but not counted). My impact pages of a
  seeded sample of people, node pages of samples of datasets, AI tools, processes and decisions,
  and the pages of the hub nodes (``bench.generate.HUBS``): each URL once with its picture
  uncached (``lineage.render._CACHE`` is cleared before every timed request), then once more with
  the picture cached. p50 / p99 / max per group, against the goal p50 <= 150 ms, p99 <= 400 ms.
* **load test**: ``lineage serve`` (waitress) started as a subprocess on a free loopback port
  (it builds the engine, listens, then prints the port: the wait is for that line), warmed, then
  ``--clients`` threads of this process, each with its own keep-alive connection, request a mix of
  people pages, node pages, JSON twins and searches for ``--duration`` seconds. Responses by status, throughput and latency; any 5xx is
  reported. The server is stopped at the end, whatever happens.

Results go to bench/out/web-results-<size>.json (written after each part) and a Markdown table to
standard output.
``--profile URL`` instead prints where the server time of one uncached page goes (cProfile).
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import http.client
import io as text_io
import json
import os
import pstats
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

from bench.generate import HUBS
from bench.run import OUT, _percentiles, bench_load, estate_file, markdown_table

ROOT = Path(__file__).resolve().parent.parent

GOAL_P50_MS = 150.0
GOAL_P99_MS = 400.0
"""The issue's goal for the server time of a page with its picture uncached."""

NODE_GROUPS = (("datasets", "dataset"), ("ai_tools", "ai_tool"), ("processes", "process"), ("decisions", "decision"))
PAGE_GROUPS = ("people", *(label for label, _ in NODE_GROUPS), "hub_people", "hub_nodes")

LOAD_MIX = (("people_pages", 0.30), ("node_pages", 0.30), ("json_twins", 0.25), ("search", 0.15))
"""Share of each kind of request in the load test."""

BROAD_SEARCHES = ("dataset", "person 1", "tool", "decision 2")
"""Searches matching a large part of the estate, next to the exact names of sampled nodes."""

START_TIMEOUT_S = 120.0
"""How long the server may take to answer its first request (imports, binding the port)."""
WARM_TIMEOUT_S = 600.0
"""How long the warm-up request (which builds the engine) may take."""
REQUEST_TIMEOUT_S = 120.0
"""Socket timeout of one load-test request; a slower one counts as an error."""


# --- Sampling -------------------------------------------------------------------------------------

def _ids_of_kind(db: Path, kind: str) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM nodes WHERE kind = ? ORDER BY key", (kind,))]
    finally:
        conn.close()


def _existing(db: Path, ids: list[str]) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [i for i in ids if conn.execute("SELECT 1 FROM nodes WHERE id = ?", (i,)).fetchone()]
    finally:
        conn.close()


def page_url(node_id: str, kind: str, *, json: bool = False) -> str:
    """The page of a node: My impact for people, the node page for the kinds without a journey."""
    base = "/people/" if kind == "person" else "/nodes/"
    return base + urllib.parse.quote(node_id, safe="") + (".json" if json else "")


def sample(db: Path, people: int, per_kind: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """Group -> (id, kind) of the nodes whose pages are timed: seeded random people and nodes of
    each kind (hubs excluded, they have groups of their own), the hub people and the other hubs;
    and ``warm_up``: one more node of each kind, requested first and not counted."""
    rng = random.Random(seed)
    hubs = {h for ids in HUBS.values() for h in ids}
    groups: dict[str, list[tuple[str, str]]] = {"warm_up": []}
    for label, kind, count in (("people", "person", people),
                               *((label, kind, per_kind) for label, kind in NODE_GROUPS)):
        ids = [i for i in _ids_of_kind(db, kind) if i not in hubs]
        chosen = rng.sample(ids, min(len(ids), count + 1))
        if chosen:
            groups["warm_up"].append((chosen[0], kind))
        groups[label] = [(i, kind) for i in chosen[1:]]
    groups["hub_people"] = [(i, "person") for i in _existing(db, list(HUBS["person"]))]
    groups["hub_nodes"] = [(i, kind) for kind, ids in HUBS.items() if kind != "person"
                           for i in _existing(db, list(ids))]
    return groups


# --- Part 1: server time of pages (Flask test client) ---------------------------------------------

def _clear_pictures() -> None:
    from lineage import render

    with render._CACHE_LOCK:
        render._CACHE.clear()


def _get(client, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.get(url)
    body = response.get_data()
    return time.perf_counter() - started, response.status_code, len(body)


def bench_pages(db: Path, *, people: int = 100, per_kind: int = 50, seed: int = 1) -> dict[str, Any]:
    """Server time of each sampled page, picture uncached and then cached, per group."""
    from web import create_app

    groups = sample(db, people, per_kind, seed)
    app = create_app({"LINEAGE_DB": str(db)})
    client = app.test_client()
    result: dict[str, Any] = {"db": str(db), "groups": {}}
    try:
        warm_up = []
        for node_id, kind in groups.pop("warm_up"):
            seconds, status, _ = _get(client, page_url(node_id, kind))
            warm_up.append({"url": page_url(node_id, kind), "status": status, "s": seconds})
        result["warm_up"] = warm_up
        result["engine_first_request_s"] = warm_up[0]["s"] if warm_up else None
        everything_uncached: list[float] = []
        everything_cached: list[float] = []
        random_uncached: list[float] = []
        statuses: Counter[str] = Counter()
        slowest: list[tuple[float, str]] = []
        for label in PAGE_GROUPS:
            uncached, cached, sizes = [], [], []
            for node_id, kind in groups.get(label, []):
                url = page_url(node_id, kind)
                _clear_pictures()
                seconds, status, size = _get(client, url)
                statuses[str(status)] += 1
                uncached.append(seconds)
                sizes.append(size)
                slowest.append((seconds, url))
                seconds, status, _ = _get(client, url)  # the repeat: the picture comes from the cache
                statuses[str(status)] += 1
                cached.append(seconds)
            if uncached:
                print(f"    {label}: {len(uncached)} pages, uncached p50 {1000 * sorted(uncached)[len(uncached) // 2]:.0f} ms, "
                      f"max {1000 * max(uncached):.0f} ms", file=sys.stderr, flush=True)
                sizes.sort()
                result["groups"][label] = {"uncached": _percentiles(uncached), "cached": _percentiles(cached),
                                           "html_kib_p50": sizes[len(sizes) // 2] / 1024}
                everything_uncached += uncached
                everything_cached += cached
                if not label.startswith("hub_"):
                    random_uncached += uncached
        result["all"] = {"uncached": _percentiles(everything_uncached), "cached": _percentiles(everything_cached)}
        result["random_only"] = {"uncached": _percentiles(random_uncached)}  # the hubs left out
        result["statuses"] = dict(statuses)
        result["slowest"] = [{"url": url, "ms": 1000 * s} for s, url in sorted(slowest, reverse=True)[:10]]
        result["goal"] = {"p50_ms": GOAL_P50_MS, "p99_ms": GOAL_P99_MS,
                          "met": result["all"]["uncached"]["p50_ms"] <= GOAL_P50_MS
                          and result["all"]["uncached"]["p99_ms"] <= GOAL_P99_MS}
    finally:
        _clear_pictures()
        del client, app
        gc.collect()
    return result


def profile_page(db: Path, url: str, *, top: int = 40) -> str:
    """cProfile of one request of ``url`` with pictures uncached, after a warm-up (engine built)."""
    from web import create_app

    app = create_app({"LINEAGE_DB": str(db)})
    client = app.test_client()
    warm = sample(db, 1, 1, seed=99)["warm_up"]
    for node_id, kind in warm:
        client.get(page_url(node_id, kind))
    _clear_pictures()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    response = client.get(url)
    response.get_data()
    profiler.disable()
    seconds = time.perf_counter() - started
    out = text_io.StringIO()
    print(f"{url}: status {response.status_code}, {1000 * seconds:.0f} ms under cProfile", file=out)
    for order in ("cumulative", "tottime"):
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
    return out.getvalue()


# --- Part 2: load test against `lineage serve` ----------------------------------------------------

def _fetch(port: int, url: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", url)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


_SERVING = re.compile(r"Serving lineage on http://[^:/]+:(\d+)/")


class ServerOutput:
    """What the server prints, read on a thread: every line kept, and its port once it says it
    is serving (``lineage serve`` prints that after its socket listens)."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self.port: int | None = None
        self.done = threading.Event()  # serving, or exited before it could
        self.reader = threading.Thread(target=self._read, args=(proc.stdout,), name="server-output", daemon=True)
        self.reader.start()

    def _read(self, stream) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            found = _SERVING.search(line)
            if found and self.port is None:
                self.port = int(found.group(1))
                self.done.set()
        self.done.set()

    def tail(self, limit: int = 2000) -> str:
        return "".join(self.lines)[-limit:]


def wait_until_up(output: ServerOutput, timeout: float = START_TIMEOUT_S) -> float:
    """Wait for the server to say it is serving; seconds taken. Fails if it exits first or the
    deadline passes."""
    started = time.monotonic()
    if not output.done.wait(timeout):
        raise RuntimeError(f"the server did not start serving within {timeout:g} s:\n{output.tail()}")
    if output.port is None:
        raise RuntimeError(f"the server exited before serving:\n{output.tail()}")
    return time.monotonic() - started


def start_server(db: Path, threads: int | None = None) -> subprocess.Popen:
    """``lineage serve`` on a free loopback port (it prints which)."""
    command = [sys.executable, "-m", "lineage.cli", "--db", str(db), "serve", "--host", "127.0.0.1",
               "--port", "0"] + (["--threads", str(threads)] if threads else [])
    env = {k: v for k, v in os.environ.items() if k not in ("LINEAGE_DB", "PORT")}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=ROOT, env=env)


def stop_server(proc: subprocess.Popen, timeout: float = 15.0) -> int | None:
    """Stop the server: Ctrl-C first (so SQLite closes its files and removes -wal and -shm),
    then terminate, then kill, each with a bounded wait."""
    for stop, wait in ((lambda: proc.send_signal(signal.SIGINT), 5.0), (proc.terminate, timeout), (proc.kill, timeout)):
        if proc.poll() is not None:
            break
        stop()
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
    return proc.returncode


def load_mix(db: Path, people: int, per_kind: int, seed: int) -> dict[str, list[str]]:
    """Request kind -> URLs the load test draws from."""
    groups = sample(db, people, per_kind, seed)
    person_ids = groups["people"] + groups["hub_people"]
    node_ids = [n for label, _ in NODE_GROUPS for n in groups[label]] + groups["hub_nodes"]
    names = [f"{kind.replace('_', ' ')} {node_id.rsplit('-', 1)[-1]}" for node_id, kind in person_ids + node_ids]
    searches = [f"/search?q={urllib.parse.quote_plus(q)}" for q in
                random.Random(seed).sample(names, min(len(names), 50)) + list(BROAD_SEARCHES)]
    return {
        "people_pages": [page_url(i, k) for i, k in person_ids],
        "node_pages": [page_url(i, k) for i, k in node_ids],
        "json_twins": [page_url(i, k, json=True) for i, k in person_ids + node_ids],
        "search": searches,
        "warm_up": [page_url(i, k) for i, k in groups["warm_up"]],
    }


def _client(port: int, mix: dict[str, list[str]], seed: int, deadline: float, out: list) -> None:
    """One user: requests back to back on a keep-alive connection until the deadline."""
    rng = random.Random(seed)
    kinds = [kind for kind, _ in LOAD_MIX]
    weights = [weight for _, weight in LOAD_MIX]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            url = rng.choice(mix[kind])
            started = time.monotonic()
            try:
                conn.request("GET", url)
                response = conn.getresponse()
                response.read()
                status: int | str = response.status
                if response.will_close:
                    conn.close()  # reopened by the next request
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                conn.close()
            out.append((kind, status, started, time.monotonic()))
    finally:
        conn.close()


def bench_load_test(db: Path, *, clients: int = 20, duration: float = 60.0, people: int = 100,
                    per_kind: int = 50, seed: int = 2, threads: int | None = None) -> dict[str, Any]:
    """Throughput and latency of `lineage serve` under ``clients`` concurrent keep-alive users."""
    mix = load_mix(db, people, per_kind, seed)
    result: dict[str, Any] = {"clients": clients, "duration_s": duration, "server_threads": threads or "default",
                              "mix": dict(LOAD_MIX), "urls": {k: len(v) for k, v in mix.items() if k != "warm_up"}}
    proc = start_server(db, threads)
    output = ServerOutput(proc)
    try:
        result["server_up_s"] = wait_until_up(output)
        port = output.port
        started = time.monotonic()
        status, _ = _fetch(port, mix["warm_up"][0], timeout=WARM_TIMEOUT_S)  # builds the engine
        result["engine_first_request_s"] = time.monotonic() - started
        result["warm_up_statuses"] = [status] + [_fetch(port, url, timeout=WARM_TIMEOUT_S)[0]
                                                 for url in mix["warm_up"][1:]]
        samples: list[list] = [[] for _ in range(clients)]
        begin = time.monotonic()
        deadline = begin + duration
        workers = [threading.Thread(target=_client, args=(port, mix, seed * 1000 + n, deadline, samples[n]),
                                    name=f"client-{n}", daemon=True) for n in range(clients)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
        result["clients_still_running"] = sum(w.is_alive() for w in workers)
        done = [row for rows in samples for row in list(rows)]
        elapsed = max((row[3] for row in done), default=deadline) - begin
        result["server_alive_after"] = proc.poll() is None
    finally:
        try:
            result["server_exit"] = stop_server(proc)
        finally:
            if proc.poll() is None:  # never leave a server behind, whatever went wrong
                proc.kill()
                proc.wait(timeout=15)
        output.reader.join(timeout=5)  # the last lines, up to the end of the stream
        result["server_log_tail"] = output.tail(1500)
        depths = [int(line.split()[-1]) for line in output.lines
                  if "Task queue depth is" in line and line.split()[-1].isdigit()]
        result["waitress_queue_warnings"] = {"count": len(depths), "max_depth": max(depths, default=0)}
    statuses = Counter(str(row[1]) for row in done)
    ok = [row for row in done if isinstance(row[1], int)]
    result.update({
        "requests": len(done),
        "elapsed_s": elapsed,
        "throughput_rps": len(done) / elapsed if elapsed > 0 else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "server_errors_5xx": sum(1 for row in ok if row[1] >= 500),
        "non_2xx": sum(1 for row in ok if not 200 <= row[1] < 300),
        "connection_errors": len(done) - len(ok),
        "latency": _percentiles([row[3] - row[2] for row in ok]) if ok else None,
        "by_kind": {kind: {"requests": len(rows), "latency": _percentiles([r[3] - r[2] for r in rows])}
                    for kind, _ in LOAD_MIX
                    if (rows := [row for row in ok if row[0] == kind])},
    })
    return result


# --- Driver ---------------------------------------------------------------------------------------

def estate_db(size: int, folder: Path) -> Path:
    """The estate database of ``bench.run``, made (generated and loaded) only if it is missing."""
    db = folder / f"estate-{size}.db"
    if not db.exists():
        bench_load(estate_file(size, folder), db)
    return db


def bench_size(size: int, folder: Path, *, people: int = 100, per_kind: int = 50, clients: int = 20,
               duration: float = 60.0, threads: int | None = None) -> dict[str, Any]:
    """Both parts on the estate of ``size`` nodes; the results file is written after each part."""
    db = estate_db(size, folder)
    path = folder / f"web-results-{size}.json"
    result: dict[str, Any] = {"size": size, "settings": {"people": people, "per_kind": per_kind, "clients": clients,
                                                         "duration_s": duration}}
    print(f"  server time of pages ({size:,} nodes) ...", file=sys.stderr, flush=True)
    result["pages"] = bench_pages(db, people=people, per_kind=per_kind)
    path.write_text(json.dumps(result, indent=2))
    print(f"  load test: {clients} clients for {duration:g} s ...", file=sys.stderr, flush=True)
    result["load_test"] = bench_load_test(db, clients=clients, duration=duration, people=people,
                                          per_kind=per_kind, threads=threads)
    path.write_text(json.dumps(result, indent=2))
    return result


def _ms3(p: dict[str, Any]) -> str:
    return f"{p['p50_ms']:.0f} / {p['p99_ms']:.0f} / {p['max_ms']:.0f}"


def _hub_cached(result: dict[str, Any], measure: str) -> float:
    """The worse of the hub groups' cached-picture figure (``p50_ms`` or ``p99_ms``)."""
    groups = result["pages"]["groups"]
    return max(groups[g]["cached"][measure] for g in ("hub_people", "hub_nodes") if g in groups)


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, one column per estate size."""
    header = ["measure"] + [f"{r['size']:,} nodes" for r in results]

    def group(label: str, state: str):
        def cell(r: dict[str, Any]) -> str:
            found = r["pages"]["groups"].get(label)
            return f"{_ms3(found[state])} (n={found[state]['n']})" if found else "-"
        return cell

    def load_kind(kind: str):
        def cell(r: dict[str, Any]) -> str:
            found = r["load_test"]["by_kind"].get(kind)
            return (f"{found['latency']['p50_ms']:.0f} / {found['latency']['p99_ms']:.0f} "
                    f"(n={found['requests']})") if found else "-"
        return cell

    rows = [
        ("first page request, engine build included (s)", lambda r: f"{r['pages']['engine_first_request_s']:.2f}"),
    ] + [
        (f"page server time, {label.replace('_', ' ')}, uncached picture p50 / p99 / max (ms)", group(label, "uncached"))
        for label in PAGE_GROUPS
    ] + [
        (f"**all pages, uncached picture p50 / p99 / max (ms)** (goal {GOAL_P50_MS:.0f} / {GOAL_P99_MS:.0f})",
         lambda r: _ms3(r["pages"]["all"]["uncached"])),
        ("goal met", lambda r: "yes" if r["pages"]["goal"]["met"] else "**no**"),
        ("random pages only (hubs left out), uncached p50 / p99 / max (ms)",
         lambda r: _ms3(r["pages"]["random_only"]["uncached"])),
        ("all pages, repeat with cached picture p50 / p99 / max (ms)", lambda r: _ms3(r["pages"]["all"]["cached"])),
        ("hub pages, repeat with cached picture p50 / p99 (ms)",
         lambda r: " / ".join(f"{_hub_cached(r, measure):.0f}" for measure in ("p50_ms", "p99_ms"))),
        ("page statuses (part 1)", lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r["pages"]["statuses"].items()))),
        ("load test: clients x seconds (server threads)",
         lambda r: f"{r['load_test']['clients']} x {r['load_test']['duration_s']:g} ({r['load_test']['server_threads']})"),
        ("load test: server answering after / first page request (s)",
         lambda r: f"{r['load_test']['server_up_s']:.1f} / {r['load_test']['engine_first_request_s']:.1f}"),
        ("load test: requests, throughput (req/s)",
         lambda r: f"{r['load_test']['requests']:,}, {r['load_test']['throughput_rps']:.1f}"),
        ("load test: latency p50 / p99 / max (ms)",
         lambda r: _ms3(r["load_test"]["latency"]) if r["load_test"]["latency"] else "-"),
    ] + [
        (f"load test: {kind.replace('_', ' ')} p50 / p99 (ms)", load_kind(kind)) for kind, _ in LOAD_MIX
    ] + [
        ("load test: statuses", lambda r: ", ".join(f"{k}: {v:,}" for k, v in r["load_test"]["statuses"].items())),
        ("load test: 5xx / connection errors",
         lambda r: f"{r['load_test']['server_errors_5xx']} / {r['load_test']['connection_errors']}"),
        ("load test: waitress queue-depth warnings (max depth)",
         lambda r: f"{r['load_test']['waitress_queue_warnings']['count']:,} "
                   f"({r['load_test']['waitress_queue_warnings']['max_depth']})"),
    ]
    return markdown_table(header, rows, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--people", type=int, default=100, help="random people whose pages are timed")
    parser.add_argument("--per-kind", type=int, default=50,
                        help="random datasets, AI tools, processes and decisions whose pages are timed")
    parser.add_argument("--clients", type=int, default=20, help="concurrent load-test clients")
    parser.add_argument("--duration", type=float, default=60.0, help="load-test seconds")
    parser.add_argument("--server-threads", type=int, default=None, help="waitress threads (lineage serve's default)")
    parser.add_argument("--profile", metavar="URL", help="profile one uncached page of the first size and stop")
    parser.add_argument("--out", type=Path, default=OUT, help="where the databases are and results go")
    args = parser.parse_args(argv)
    if args.profile:
        print(profile_page(estate_db(args.sizes[0], args.out), args.profile))
        return 0
    results = []
    for size in args.sizes:
        print(f"web benchmark, {size:,} nodes ...", file=sys.stderr, flush=True)
        result = bench_size(size, args.out, people=args.people, per_kind=args.per_kind, clients=args.clients,
                            duration=args.duration, threads=args.server_threads)
        results.append(result)
        print(json.dumps(result, indent=2), file=sys.stderr, flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

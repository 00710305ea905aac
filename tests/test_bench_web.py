"""The web benchmark smoke size: both parts run on a tiny estate and report every figure."""
from __future__ import annotations

import json

from bench import web


def test_web_benchmark_reports_pages_and_load(tmp_path, capsys):
    code = web.main(["--sizes", "2000", "--out", str(tmp_path), "--people", "4", "--per-kind", "2",
                     "--clients", "2", "--duration", "2"])
    assert code == 0
    assert (tmp_path / "estate-2000.db").exists()  # generated and loaded as bench.run does
    result = json.loads((tmp_path / "web-results-2000.json").read_text())

    pages = result["pages"]
    assert pages["engine_first_request_s"] > 0
    assert set(pages["groups"]) == set(web.PAGE_GROUPS)
    assert pages["groups"]["people"]["uncached"]["n"] == 4
    assert pages["groups"]["hub_people"]["uncached"]["n"] == 3
    assert pages["groups"]["hub_nodes"]["uncached"]["n"] == 9
    assert all(g["uncached"]["n"] == g["cached"]["n"] for g in pages["groups"].values())
    assert pages["statuses"] == {"200": 2 * pages["all"]["uncached"]["n"]}
    assert isinstance(pages["goal"]["met"], bool)
    assert pages["random_only"]["uncached"]["n"] == 4 + 4 * 2

    load = result["load_test"]
    assert load["clients"] == 2 and load["requests"] > 0
    assert load["server_errors_5xx"] == 0 and load["connection_errors"] == 0
    assert load["clients_still_running"] == 0 and load["server_alive_after"]
    assert set(load["statuses"]) == {"200"}
    assert load["throughput_rps"] > 0 and load["latency"]["n"] == load["requests"]
    assert set(load["by_kind"]) <= {kind for kind, _ in web.LOAD_MIX}
    assert load["waitress_queue_warnings"]["count"] >= 0

    table = capsys.readouterr().out
    assert "| measure | 2,000 nodes |" in table
    assert "load test: requests, throughput (req/s)" in table

"""The leader benchmark at smoke size: every figure reported, every page answered."""
from __future__ import annotations

import json

from bench import leader


def test_leader_benchmark_reports_refreshes_and_pages(tmp_path, capsys):
    code = leader.main(["--sizes", "2000", "--out", str(tmp_path), "--decisions", "4", "--datasets", "2",
                        "--repeats", "2"])
    assert code == 0
    result = json.loads((tmp_path / "leader-results-2000.json").read_text())
    bulk = result["bulk_refresh"]
    assert bulk["version"] == 1 and bulk["decisions_written"] == bulk["decisions"] > 0 and bulk["seconds"] > 0
    web = result["web"]
    assert set(web["statuses"]) == {"200"}
    assert web["insights"]["n"] == 2 and web["decision_pages"]["n"] == 4 + len(web["hub_upstream"]) == 7
    assert web["edit_stale_status"]["current"] is False and web["edit_stale_status"]["refreshing"] is True
    assert web["edit_after"]["current"] is True and web["edit_after"]["version"] == 2
    assert web["edit_refresh"]["version"] == 2
    assert 0 < web["edit_refresh"]["decisions_written"] <= bulk["decisions"]
    assert isinstance(result["goals"]["insights_met"], bool)
    table = capsys.readouterr().out
    assert "| measure | 2,000 nodes |" in table and "insights served" in table

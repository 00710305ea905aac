"""What a job belongs to and what belongs to it: ``part_of`` edges (an Airflow task in its DAG, a
Spark job in its application), which carry no data, so traversals and the upstream and downstream
lists do not show them.

>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> with store.change("t", "t") as change:
...     change.add_node({"id": "dag", "kind": "process", "name": "Nightly housing run"})
...     change.add_node({"id": "task", "kind": "process", "name": "Build the register"})
...     change.add_edge({"source": "task", "target": "dag", "kind": "part_of"})
>>> family(store, "task")
{'part_of': [{'id': 'dag', 'kind': 'process', 'name': 'Nightly housing run'}], 'parts': [], 'more_parts': False}
>>> [p["name"] for p in family(store, "dag")["parts"]]
['Build the register']
"""
from __future__ import annotations

from typing import Any

PARTS_LISTED = 50
"""Steps of a job listed at most (``more_parts`` says when there are more)."""


def family(store: Any, node_id: str, *, limit: int = PARTS_LISTED) -> dict[str, Any]:
    """The jobs ``node_id`` is part of, and (at most ``limit``) the jobs that are part of it, by name."""
    above, below = [], []
    for edge in store.edges(touching=node_id):
        if edge["kind"] == "part_of":
            (above if edge["source"] == node_id else below).append(edge["target"] if edge["source"] == node_id
                                                                   else edge["source"])
    names = store.node_names(above + below[:limit + 1])

    def listed(ids: list[str]) -> list[dict[str, Any]]:
        return sorted(({k: names[i][k] for k in ("id", "kind", "name")} for i in ids if i in names),
                      key=lambda n: (n["name"].casefold(), n["id"]))

    parts = listed(below[:limit + 1])
    return {"part_of": listed(above), "parts": parts[:limit], "more_parts": len(below) > limit}

"""The store for the current request, on ``g``; and the query engine, shared by requests.

The engine (:class:`lineage.graph.LineageGraph`) takes seconds to build on a large estate, so
one is kept per app and rebuilt only when the store's version moves on. Its records come from a
connection of its own, held under a lock, since waitress serves requests on several threads.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask, current_app, g

from lineage.graph import LineageGraph
from lineage.store import Store


def get_store() -> Store:
    if "store" not in g:
        g.store = Store(current_app.config["LINEAGE_DB"])
    return g.store


def close_store(_error: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


@dataclass
class _Engine:
    graph: LineageGraph | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def get_graph() -> LineageGraph:
    """The query engine at the store's current version (built on first use and after changes).

    While one request rebuilds the engine after a change, the others carry on with the previous
    version rather than queue behind the build (seconds on a million nodes): the request that
    wrote rebuilds it (:func:`refresh_graph`), so its author sees the change at once.
    """
    engine: _Engine = current_app.extensions["lineage_engine"]
    version = get_store().version
    graph = engine.graph
    if graph is not None and (graph.version == version or engine.lock.locked()):
        return graph
    return refresh_graph()


def refresh_graph() -> LineageGraph:
    """Bring the engine up to the store's version now (after a write, or on first use)."""
    engine: _Engine = current_app.extensions["lineage_engine"]
    with engine.lock:
        version = get_store().version
        if engine.graph is None or engine.graph.version != version:
            reader = Store(current_app.config["LINEAGE_DB"])
            engine.graph = LineageGraph.from_store(reader, lock=threading.Lock())
        return engine.graph


def init_app(app: Flask) -> None:
    app.extensions["lineage_engine"] = _Engine()
    app.teardown_appcontext(close_store)

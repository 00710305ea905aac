"""The store for the current request, on ``g``; closed when the request ends."""
from __future__ import annotations

from flask import Flask, current_app, g

from lineage.store import Store


def get_store() -> Store:
    if "store" not in g:
        g.store = Store(current_app.config["LINEAGE_DB"])
    return g.store


def close_store(_error: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)

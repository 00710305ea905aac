"""Every write the web app makes: one audited change, as the signed-in actor, rate-limited,
after which the query engine is brought up to date for the next page."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from lineage.store import Change

from .auth import RateLimiter, current_actor, limit
from .db import get_store, refresh_graph

T = TypeVar("T")
WRITES_PER_MINUTE = 120
"""Changes one account may make in a minute, by form or API: a person editing never gets near it;
a runaway script does."""


def _limiter() -> RateLimiter:
    return current_app.extensions.setdefault("lineage_write_limiter", RateLimiter(WRITES_PER_MINUTE, 60.0))


def actor_name() -> str:
    return current_actor().name or "anonymous"


def apply(summary: str, write: Callable[[Change], T]) -> tuple[int, T]:
    """Run ``write`` inside one change summarised by ``summary``; the change's id and its result."""
    limit(_limiter(), actor_name(), "changes in a minute")
    with get_store().change(actor_name(), summary[:500]) as change:
        result = write(change)
    after_write()
    return change.id, result


def apply_undo(change: int) -> int:
    """Undo a change with a new one (see :meth:`lineage.store.Store.undo`); the new change's id."""
    limit(_limiter(), actor_name(), "changes in a minute")
    undone = get_store().undo(change, actor=actor_name())
    after_write()
    return undone


def after_write() -> None:
    """What every write is followed by: the engine at the new version."""
    refresh_graph()

"""Every write the web app makes, by form, JSON API or OpenLineage event: one audited change, as
the signed-in actor, under the policy, rate-limited, after which the query engine and the leader
views are brought up to date for the next page (:func:`writing`)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import current_app

from lineage import model
from lineage.errors import NotFoundError, Problem
from lineage.io import openlineage
from lineage.io.openlineage_kept import Keeping
from lineage.store import Change

from .auth import RateLimiter, current_actor, limit
from .db import get_store, refresh_graph
from .leader import refresh_soon

T = TypeVar("T")
WRITES_PER_MINUTE = 120
"""Changes one account may make in a minute, by form or API: a person editing never gets near it;
a runaway script does."""


def _limiter() -> RateLimiter:
    return current_app.extensions.setdefault("lineage_write_limiter", RateLimiter(WRITES_PER_MINUTE, 60.0))


def actor_name(default: str = "anonymous") -> str:
    return current_actor().name or default


def count_write() -> None:
    """Count a write against the actor's rate limit (a 429 beyond it)."""
    limit(_limiter(), actor_name(), "changes in a minute")


@contextmanager
def writing() -> Iterator[None]:
    """The path every web write takes: counted against the actor's rate limit before, and
    :func:`after_write` once it succeeded (a write that raised changed nothing to catch up with)."""
    count_write()
    yield
    after_write()


def apply(summary: str, write: Callable[[Change], T]) -> tuple[int, T]:
    """Run ``write`` inside one change summarised by ``summary``; the change's id and its result."""
    with writing(), get_store().change(actor_name(), summary[:500]) as change:
        result = write(change)
    return change.id, result


def apply_undo(change: int) -> int:
    """Undo a change with a new one (see :meth:`lineage.store.Store.undo`); the new change's id."""
    with writing():
        return get_store().undo(change, actor=actor_name())


OPENLINEAGE_ACTOR = "openlineage"
"""Who events are written as on a database with no accounts yet."""


def import_events(events: Sequence[openlineage.Event], summary: str,
                  owners: openlineage.Owners) -> openlineage.ImportSummary:
    """Write OpenLineage events in one change as the actor, each node and edge they change
    judged by the policy as the API judges it (:func:`lineage.io.openlineage.import_events`).
    Call inside :func:`writing` (a batch that falls back to one event at a time is one write)."""
    return openlineage.import_events(get_store(), events, actor=actor_name(OPENLINEAGE_ACTOR), owners=owners,
                                     summary=summary[:500], by=current_actor(),
                                     keeping=Keeping.configured(current_app.config))


def after_write() -> None:
    """What every write is followed by: the engine at the new version now, and the leader views
    (materialised insights and decisions) refreshed in the background."""
    refresh_graph()
    refresh_soon()


def stored_node(args: dict[str, Any]) -> dict[str, Any]:
    return get_store().node(args["node_id"])


def edge_ends(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    store = get_store()
    store.edge(args["source"], args["target"])  # 404 for an edge that does not exist
    return store.node(args["source"]), store.node(args["target"])


def _reference_problem(record: dict[str, Any], field: str, where: str) -> list[Problem]:
    """An owner or team must be a node of the right kind (the schema only checks its spelling)."""
    wanted = {"owner": "person", "team": "team"}[field]
    value = record.get(field)
    if not value:
        return []
    try:
        found = get_store().node(value)["kind"]
    except NotFoundError:
        found = None
    if found != wanted:
        return [Problem(where, f"There is no {wanted} with the id '{value}'", field)]
    return []


def node_problems(record: dict[str, Any], where: str = "form") -> list[Problem]:
    """What is wrong with a node record: the model's rules, and an owner or team that is not a
    person or team in the graph."""
    problems = model.validate_node(record, where)
    for field in ("owner", "team"):
        if isinstance(record.get(field), str):
            problems += _reference_problem(record, field, where)
    return problems


def touched_targets(entries: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """What a change touched, as the policy sees it (for who may undo it)."""
    store = get_store()

    def node(node_id: str, *records: dict[str, Any] | None) -> dict[str, Any]:
        try:
            return store.node(node_id)
        except NotFoundError:
            return next((r for r in records if r), {"id": node_id})

    targets: list[tuple[str, Any]] = []
    for entry in entries:
        if entry["entity"] == "node":
            targets.append(("node", node(entry["ref"], entry["before"], entry["after"])))
        else:
            source, target = entry["ref"].split(" -> ")
            targets.append(("edge", (node(source), node(target))))
    return targets

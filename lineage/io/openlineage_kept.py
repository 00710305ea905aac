"""OpenLineage events kept as they came, so that a later lineage can read again what this one read past.

Every event an import accepts is kept, as its JSON, in the table ``openlineage_events`` (beside the
graph, like the registers: not exported, not audited), in the same transaction as what it changed.
The same event sent twice is kept once. The log is bounded: past :attr:`Keeping.max_events` events
or :attr:`Keeping.max_bytes` bytes of JSON, the oldest are dropped first (an import holds no more
of its events in memory than that either). The bounds come from
``LINEAGE_OPENLINEAGE_KEEP_EVENTS`` and ``LINEAGE_OPENLINEAGE_KEEP_BYTES`` (environment variables,
or the web app's config keys of the same names); ``0`` events keeps none.

:func:`rederive` reads the kept events again, oldest first, and folds them into the graph the way
this version maps them: what an older version dropped (a facet it did not read) appears, and
everything it had already read changes nothing (merging is idempotent).

>>> from lineage.store import Store
>>> from lineage.io import openlineage as ol
>>> store = Store(":memory:", create=True)
>>> event = {"eventType": "COMPLETE", "eventTime": "2026-03-02T10:00:00Z", "producer": "https://example.org",
...          "run": {"runId": "r1"}, "job": {"namespace": "airflow", "name": "build"},
...          "outputs": [{"namespace": "dw", "name": "register"}]}
>>> _ = ol.import_events(store, [ol.parse_event(event, "e")], actor="airflow", summary="one")
>>> kept_count(store)
(1, 207)
>>> str(rederive(store, actor="operator"))
'1 event: 0 nodes added, 0 changed; 0 edges added; graph version 1'
"""
from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import LineageError

if TYPE_CHECKING:
    from ..store import Store
    from .openlineage import Event, ImportSummary

MAX_EVENTS = 100_000
"""Events kept by default."""
MAX_BYTES = 64 * 1024 * 1024
"""Bytes of event JSON kept by default (64 MiB: some 25,000 events of a Spark or Airflow estate;
compressing them would save space but, measured, more than doubled the cost of keeping)."""
ENV_EVENTS = "LINEAGE_OPENLINEAGE_KEEP_EVENTS"
ENV_BYTES = "LINEAGE_OPENLINEAGE_KEEP_BYTES"


@dataclass(frozen=True)
class Keeping:
    """How many kept events, and how many bytes of them, at most (0 events: keep none)."""

    max_events: int = MAX_EVENTS
    max_bytes: int = MAX_BYTES

    @classmethod
    def configured(cls, config: Mapping[str, Any] | None = None) -> "Keeping":
        """The bounds from ``config`` (the web app's), else the environment, else the defaults.

        >>> Keeping.configured({"LINEAGE_OPENLINEAGE_KEEP_EVENTS": "10"})
        Keeping(max_events=10, max_bytes=67108864)
        """
        def bound(name: str, default: int) -> int:
            raw = (config or {}).get(name) or os.environ.get(name)
            if raw in (None, ""):
                return default
            try:
                value = int(raw)
            except (TypeError, ValueError):
                value = -1
            if value < 0:
                raise LineageError(f"{name} must be a whole number of 0 or more; got {raw!r}")
            return value
        return cls(bound(ENV_EVENTS, MAX_EVENTS), bound(ENV_BYTES, MAX_BYTES))


@dataclass
class Pending:
    """Accepted events waiting to be kept, newest within the bounds only (an import of a million
    events holds no more of them than the log would keep)."""

    keeping: Keeping = field(default_factory=Keeping.configured)
    items: deque[tuple[str, bytes]] = field(default_factory=deque)
    size: int = 0

    def add(self, event: "Event") -> None:
        if self.keeping.max_events == 0:
            return
        document = orjson.dumps(event.document)
        self.items.append((event.time, document))
        self.size += len(document)
        while self.items and (len(self.items) > self.keeping.max_events or self.size > self.keeping.max_bytes):
            self.size -= len(self.items.popleft()[1])


def keep(store: "Store", pending: Pending) -> None:
    """Keep ``pending``'s events (inside the caller's transaction), then drop the oldest beyond the bounds."""
    if not pending.items:
        return
    received = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.conn.executemany(
        "INSERT OR IGNORE INTO openlineage_events (digest, received, event_time, bytes, document) "
        "VALUES (?, ?, ?, ?, ?)",
        [(hashlib.sha1(document).hexdigest(), received, time, len(document), document)
         for time, document in pending.items])
    limits = pending.keeping
    store.conn.execute("DELETE FROM openlineage_events WHERE id <= (SELECT id FROM openlineage_events "
                       "ORDER BY id DESC LIMIT 1 OFFSET ?)", (limits.max_events,))
    store.conn.execute(
        "DELETE FROM openlineage_events WHERE id <= (SELECT id FROM (SELECT id, sum(bytes) OVER "
        "(ORDER BY id DESC) AS total FROM openlineage_events) WHERE total > ? ORDER BY id DESC LIMIT 1)",
        (limits.max_bytes,))


def kept_count(store: "Store") -> tuple[int, int]:
    """How many events are kept, and their bytes."""
    count, size = store.conn.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM openlineage_events").fetchone()
    return count, size


def kept_events(store: "Store") -> Iterator[tuple[int, Any]]:
    """The kept events, oldest first, as (number, JSON value)."""
    rows = store.conn.execute("SELECT id, document FROM openlineage_events ORDER BY id")
    for number, document in rows:
        yield number, orjson.loads(document)


def rederive(store: "Store", *, actor: str, owners: Any = None) -> "ImportSummary":
    """Fold every kept event again into the graph, in one change (nothing if nothing changes).

    A kept event this version cannot read (a later spec, say) is a :class:`~lineage.errors.ValidationError`
    naming it as ``kept event N``; nothing is written.
    """
    from . import openlineage as ol

    raw = (ol.RawEvent(f"kept event {number}", document) for number, document in kept_events(store))
    return ol.import_raw(store, raw, actor=actor, summary="re-derive OpenLineage from kept events",
                         owners=owners, keeping=Keeping(0, 0))

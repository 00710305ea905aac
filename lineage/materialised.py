"""The leader views' estate-wide results, materialised in the database and keyed on the graph version.

Insights and the decisions table cost seconds to compute on a million-node estate
(:mod:`lineage.insights`), so they are computed when the graph is written, not when a page is
read. :func:`refresh` computes them for one version of the graph and stores them; pages read
them back in milliseconds with :func:`stored` and :func:`decision_page`. A result carries the
graph version it was computed at, so a reader can tell whether it is current, and say so.

Two tables, created by the store (:mod:`lineage.migrations`; a database that has never been
refreshed reads as "nothing stored"):

``materialised(name TEXT PRIMARY KEY, version INTEGER, computed_at TEXT, seconds REAL, body BLOB)``
    One row per result, its body JSON: ``insights`` (the whole estate), ``insights:<organisation>``
    (one per organisation) and ``decisions`` (the table's size and the choices its filters offer).
``materialised_decisions``
    One row per decision (:class:`lineage.insights.DecisionRow`), indexed for the table's sorts
    and filters. A refresh writes only the rows that changed, so after one edit it writes a
    handful, not three hundred thousand.

Every refresh is one transaction, and a result never replaces a newer one: two processes can
refresh the same database (the command line after a load, a web app after an edit) and the
newest version wins.

>>> from lineage.store import Store
>>> from lineage.graph import LineageGraph
>>> store = Store(":memory:", create=True)
>>> with store.change("jo", "add") as change:
...     change.add_node({"id": "reg", "kind": "dataset", "name": "Register", "quality": {"timeliness": 0.5}})
...     change.add_node({"id": "x", "kind": "decision", "name": "Allocations", "people_affected": 10})
...     change.add_edge({"source": "reg", "target": "x", "kind": "informs"})
>>> stored(store, "insights") is None
True
>>> summary = refresh(store, LineageGraph.from_store(store))
>>> summary.version, summary.decisions_written
(1, 1)
>>> stored(store, "insights").body["risky_decisions"]["counts"]["red"]
1
>>> page = decision_page(store, DecisionQuery(confidence="red"))
>>> page.total, page.rows[0]["weakest_dataset_name"]
(1, 'Register')
>>> refresh(store, LineageGraph.from_store(store)) is None  # already current
True
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import model
from .errors import LineageError
from .graph import LineageGraph
from .confidence import possessive
from .insights import DecisionRow, decision_rows, estate_facts, insights

ESTATE = "insights"
DECISIONS = "decisions"
COLUMNS = DecisionRow.FIELDS
"""The columns of ``materialised_decisions`` (created by :mod:`lineage.migrations`, step 5): a
change to DecisionRow's fields needs a migration step that creates the table again."""
_INDEXED = ("name", "decision_type", "organisation", "frequency", "frequency_band", "people_affected", "value_gbp", "ai_involved",
            "confidence_key, weakest_dataset", "owner_name")
"""The table's indexes, one per sort (each also holds the id, the key of a WITHOUT ROWID table): a page is
found by walking one index, without reading the rows it skips."""

SORTS = {
    "name": ("name", "asc"), "type": ("decision_type", "asc"), "organisation": ("organisation", "asc"),
    "frequency": ("frequency", "asc"), "people": ("people_affected", "desc"), "value": ("value_gbp", "desc"),
    "ai": ("ai_involved", "desc"), "confidence": ("confidence_key", "asc"), "owner": ("owner_name", "asc"),
}
"""Sort keys of the decisions table: the column, and the direction a first click sorts in."""
CONFIDENCES = ("red", "amber", "green", "unknown")
MAX_PAGE_SIZE = 500


def organisation_key(organisation: str | None) -> str:
    """The ``materialised`` row of the insights of one organisation (the estate's for None)."""
    return ESTATE if organisation is None else f"{ESTATE}:{organisation}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Stored:
    """A materialised result: the graph version it was computed at, when, in how long, and its body."""

    name: str
    version: int
    computed_at: str
    seconds: float
    body: dict[str, Any]


def stored(store: Any, name: str = ESTATE) -> Stored | None:
    """The stored result called ``name``, or None when there is none (never refreshed)."""
    row = store.conn.execute("SELECT name, version, computed_at, seconds, body FROM materialised WHERE name = ?",
                             (name,)).fetchone()
    if row is None:
        return None
    return Stored(row[0], row[1], row[2], row[3], json.loads(row[4]))


def stored_version(store: Any) -> int | None:
    """The graph version of the stored results (None when there are none)."""
    row = store.conn.execute("SELECT version FROM materialised WHERE name = ?", (ESTATE,)).fetchone()
    return row[0] if row else None


@dataclass
class RefreshSummary:
    """What a refresh did: the version it stored, how long it took (gathering and computing, then
    writing, of which ``locked_seconds`` holding the database's write lock, when other writers
    wait), the organisations it covered and the decision rows it wrote."""

    version: int
    seconds: float
    compute_seconds: float
    write_seconds: float
    locked_seconds: float
    organisations: int
    decisions: int
    decisions_written: int
    decisions_deleted: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        return (f"leader views refreshed at graph version {self.version} in {self.seconds:.1f} s "
                f"({self.decisions_written:,} of {self.decisions:,} decision rows written)")


def refresh(store: Any, g: LineageGraph, *, force: bool = False) -> RefreshSummary | None:
    """Compute the insights (the estate's and each organisation's) and the decisions table for
    ``g``, and store them; None when nothing needed doing.

    Nothing is done when the stored results are as new as ``g`` (unless ``force``), or when the
    store has moved past ``g`` (a newer write landed: refresh with a graph of that version). The
    records are read from ``store`` in one read transaction at ``g``'s version.
    """
    current = stored_version(store)
    if current is not None and current >= g.version and not force:
        return None
    started = time.perf_counter()
    conn = store.conn
    conn.execute("BEGIN")  # one snapshot: the records read are those of the graph's version
    try:
        if store.version != g.version:
            return None
        facts = estate_facts(g, records_of_kind=lambda kind: store.nodes(kind=kind))
    finally:
        conn.execute("COMMIT")
    bodies = {organisation_key(None): insights(g, facts=facts).as_dict()}
    for organisation in facts.organisations:
        bodies[organisation_key(organisation)] = insights(g, organisation, facts=facts).as_dict()
    rows = decision_rows(g, facts=facts)
    computed = time.perf_counter()
    bodies[DECISIONS] = {
        "count": len(rows),
        "types": sorted({r.decision_type for r in rows if r.decision_type}),
        "frequencies": [f for f in model.FREQUENCIES if f in {r.frequency_band for r in rows}],
        "organisations": sorted({r.organisation for r in rows if r.organisation}),
        "owners": sorted(({"id": owner, "name": name} for owner, name in {(r.owner, r.owner_name) for r in rows
                                                                          if r.owner}),
                         key=lambda o: (o["name"].casefold(), o["id"]))}
    summary = _write(store, g.version, bodies, rows, compute_seconds=computed - started, force=force)
    if summary is not None:
        summary.seconds = time.perf_counter() - started
    return summary


def _write(store: Any, version: int, bodies: dict[str, dict[str, Any]], rows: list[DecisionRow], *,
           compute_seconds: float, force: bool) -> RefreshSummary | None:
    """Store the results in one transaction, holding the database's write lock as briefly as we
    can: what changed is worked out first, from a read, and checked still to hold once locked."""
    conn = store.conn
    started = time.perf_counter()
    fresh = [(*row, _digest(row)) for row in (r.as_tuple() for r in rows)]
    blobs = {name: json.dumps(body, ensure_ascii=False, separators=(",", ":")) for name, body in bodies.items()}
    seen, existing = _stored_digests(conn)
    for _ in range(2):
        changed = [row for row in fresh if existing.get(row[0]) != row[-1]]
        gone = set(existing) - {row[0] for row in fresh}
        conn.execute("BEGIN IMMEDIATE")
        locked = time.perf_counter()
        try:
            row = conn.execute("SELECT version FROM materialised WHERE name = ?", (ESTATE,)).fetchone()
            current = row[0] if row else None
            if current is not None and (current > version or (current == version and not force)):
                conn.execute("ROLLBACK")
                return None  # someone stored a newer (or the same) version meanwhile
            if current != seen:  # another refresh wrote between our read and our lock: read again
                conn.execute("ROLLBACK")
                seen, existing = _stored_digests(conn)
                continue
            if existing:  # moments as lineage.loop stores them, so that they compare with its visits
                _record_band_changes(conn, changed, version, datetime.now(UTC).isoformat(timespec="microseconds"))
            _write_decisions(conn, changed, gone, empty=not existing)
            seconds = compute_seconds + time.perf_counter() - started
            at = _now()
            conn.execute("DELETE FROM materialised WHERE name LIKE ? AND name NOT IN ({})".format(
                ",".join("?" * len(bodies))), (ESTATE + ":%", *bodies))
            conn.executemany("INSERT OR REPLACE INTO materialised (name, version, computed_at, seconds, body) "
                             "VALUES (?, ?, ?, ?, ?)", [(name, version, at, seconds, blob)
                                                        for name, blob in blobs.items()])
            conn.execute("COMMIT")
            locked = time.perf_counter() - locked
            break
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    else:
        return None  # refreshes kept racing: the next one will catch up
    write_seconds = time.perf_counter() - started
    return RefreshSummary(version=version, seconds=compute_seconds + write_seconds, compute_seconds=compute_seconds,
                          write_seconds=write_seconds, locked_seconds=locked, organisations=len(bodies) - 2,
                          decisions=len(rows), decisions_written=len(changed), decisions_deleted=len(gone))


_CHANGE_FIELDS = ("id", "name", "owner", "owner_name", "people_affected", "value_gbp", "confidence",
                  "weakest_dataset", "weakest_dataset_name", "weakest_dimension", "weakest_score")


def _record_band_changes(conn: sqlite3.Connection, changed: list[tuple[Any, ...]], version: int, at: str) -> None:
    """Append a row to ``materialised_band_changes`` for each changed decision whose band moved
    (a new decision, or one gone, is not a change of band)."""
    index = {name: COLUMNS.index(name) for name in _CHANGE_FIELDS}
    old: dict[str, tuple[Any, ...]] = {}
    ids = [row[0] for row in changed]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        old.update((row[0], row) for row in conn.execute(
            f"SELECT id, confidence, weakest_dataset, weakest_dataset_name, weakest_dimension, weakest_score "
            f"FROM materialised_decisions WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    moved = []
    for row in changed:
        before = old.get(row[0])
        new = {name: row[i] for name, i in index.items()}
        if before is None or (before[1] or "unknown") == (new["confidence"] or "unknown"):
            continue
        moved.append((version, at, new["id"], new["name"], new["owner"], new["owner_name"], new["people_affected"],
                      new["value_gbp"], before[1] or "unknown", new["confidence"] or "unknown", *before[2:],
                      new["weakest_dataset"], new["weakest_dataset_name"], new["weakest_dimension"],
                      new["weakest_score"]))
    conn.executemany("INSERT INTO materialised_band_changes (version, at, id, name, owner, owner_name, people_affected, "
                     "value_gbp, band_from, band_to, dataset_from, dataset_name_from, dimension_from, score_from, "
                     "dataset_to, dataset_name_to, dimension_to, score_to) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", moved)


@dataclass
class BandChange:
    """A decision whose data confidence band moved at a refresh: from what to what, and why."""

    version: int
    at: str
    id: str
    name: str | None
    owner: str | None
    owner_name: str | None
    people_affected: int | None
    value_gbp: float | None
    band_from: str
    band_to: str
    dataset_from: str | None
    dataset_name_from: str | None
    dimension_from: str | None
    score_from: float | None
    dataset_to: str | None
    dataset_name_to: str | None
    dimension_to: str | None
    score_to: float | None

    @property
    def worse(self) -> bool:
        """Whether the band fell (unknown counts as below red: nothing assessed to trust)."""
        order = {"unknown": -1, "red": 0, "amber": 1, "green": 2}
        return order[self.band_to] < order[self.band_from]

    @property
    def why(self) -> str:
        """The reason in one sentence, from the weakest links before and after.

        >>> BandChange(3, "", "x", "Allocations", None, None, None, None, "amber", "red", "reg", "Register",
        ...            "timeliness", 0.71, "reg", "Register", "timeliness", 0.55).why
        "Register's timeliness went from 0.71 to 0.55."
        """
        def link(name: str | None, dimension: str | None, score: float | None) -> str:
            shown = f"{score:.2f}" if score is not None else "not scored"
            return f"{possessive(name or 'a dataset')} {dimension} is {shown}"
        if self.dataset_to is None:
            return "No data behind its main inputs is assessed any more."
        if self.dataset_from == self.dataset_to and self.dimension_from == self.dimension_to:
            before = f"{self.score_from:.2f}" if self.score_from is not None else "not scored"
            after = f"{self.score_to:.2f}" if self.score_to is not None else "not scored"
            return f"{possessive(self.dataset_name_to or self.dataset_to)} {self.dimension_to} went from {before} to {after}."
        now = link(self.dataset_name_to, self.dimension_to, self.score_to)
        if self.dataset_from is None:
            return f"Its data is now assessed: {now}."
        return f"The weakest link is now {now} (it was {link(self.dataset_name_from, self.dimension_from, self.score_from)})."

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "worse": self.worse, "why": self.why}


def band_changes(store: Any, *, since: str | None = None, since_version: int | None = None,
                 limit: int = 200) -> list[BandChange]:
    """Decisions whose band changed after ``since`` (a moment, ISO 8601) or after graph version
    ``since_version``, newest first, one row per decision (its latest change; a decision that
    moved and moved back is left out)."""
    clauses, args = [], []
    if since is not None:
        clauses.append("at > ?")
        args.append(since)
    if since_version is not None:
        clauses.append("version > ?")
        args.append(since_version)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = store.conn.execute(f"SELECT version, at, id, name, owner, owner_name, people_affected, value_gbp, band_from, "
                              f"band_to, dataset_from, dataset_name_from, dimension_from, score_from, dataset_to, "
                              f"dataset_name_to, dimension_to, score_to FROM materialised_band_changes{where} "
                              f"ORDER BY seq", args).fetchall()
    first: dict[str, str] = {}
    latest: dict[str, BandChange] = {}
    for row in rows:
        change = BandChange(*row)
        first.setdefault(change.id, change.band_from)
        latest[change.id] = change
    found = []
    for decision, change in latest.items():
        if first[decision] == change.band_to:
            continue  # moved and came back: no change since then
        change.band_from = first[decision]
        found.append(change)
    found.sort(key=lambda c: (c.version, c.people_affected or 0, c.value_gbp or 0), reverse=True)
    return found[:limit]


def _stored_digests(conn: sqlite3.Connection) -> tuple[int | None, dict[str, int]]:
    """The stored version and every stored decision row's digest, from one snapshot."""
    conn.execute("BEGIN")
    try:
        row = conn.execute("SELECT version FROM materialised WHERE name = ?", (ESTATE,)).fetchone()
        return (row[0] if row else None), dict(conn.execute("SELECT id, digest FROM materialised_decisions"))
    finally:
        conn.execute("COMMIT")


def _digest(row: tuple[Any, ...]) -> int:
    """A row's fingerprint (64 bits of BLAKE2b of its repr): comparing these finds the rows that
    changed without reading three hundred thousand rows back."""
    return int.from_bytes(hashlib.blake2b(repr(row).encode(), digest_size=8).digest(), "big", signed=True)


def _write_decisions(conn: sqlite3.Connection, changed: list[tuple[Any, ...]], gone: set[str], *, empty: bool) -> None:
    """Write the rows that changed (with their digests) and delete those gone."""
    names = {columns: "materialised_decisions_" + columns.split(",")[0] for columns in _INDEXED}
    if empty:  # a first fill: rows first, indexes after (one sort each, not a random insert per row)
        for name in names.values():
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.executemany("DELETE FROM materialised_decisions WHERE id = ?", [(i,) for i in gone])
    conn.executemany(f"INSERT OR REPLACE INTO materialised_decisions ({', '.join(COLUMNS)}, digest) "
                     f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})", changed)
    for columns, name in names.items():
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON materialised_decisions ({columns})")


# ---------------------------------------------------------------------------------------------
# Reading the decisions table


@dataclass
class DecisionQuery:
    """Filters, sort and page of the decisions table. ``sort`` is a key of :data:`SORTS`;
    ``confidence`` one of :data:`CONFIDENCES`; ``ai`` True/False for "AI involved"; ``text``
    matches names (case-insensitive, anywhere)."""

    decision_type: str | None = None
    organisation: str | None = None
    frequency: str | None = None
    ai: bool | None = None
    confidence: str | None = None
    owner: str | None = None
    text: str | None = None
    sort: str = "confidence"
    order: str | None = None
    page: int = 1
    page_size: int = 50

    @property
    def direction(self) -> str:
        return self.order or SORTS[self.sort][1]

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for column, value in (("decision_type", self.decision_type), ("organisation", self.organisation),
                              ("frequency_band", self.frequency), ("owner", self.owner)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if self.ai is not None:
            clauses.append("ai_involved = ?")
            args.append(int(self.ai))
        if self.confidence == "unknown":
            clauses.append("confidence IS NULL")
        elif self.confidence is not None:
            clauses.append("confidence = ?")
            args.append(self.confidence)
        if self.text:
            clauses.append("name LIKE ? ESCAPE '\\'")
            args.append("%" + self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def order_by(self) -> str:
        if self.sort not in SORTS:
            raise LineageError(f"sort must be one of: {', '.join(SORTS)}; got '{self.sort}'")
        if self.direction not in ("asc", "desc"):
            raise LineageError(f"order must be asc or desc; got '{self.direction}'")
        columns = [SORTS[self.sort][0]] + (["weakest_dataset"] if self.sort == "confidence" else []) + ["id"]
        # Every term in one direction, so that one index serves the sort, forwards or backwards.
        # Missing values are the smallest: last when sorting down (the first click on a figure).
        return " ORDER BY " + ", ".join(f"{column} {self.direction.upper()}" for column in columns)


@dataclass
class DecisionPage:
    """One page of the decisions table, the number of rows the filters match, and the version."""

    rows: list[dict[str, Any]]
    total: int
    version: int | None
    query: DecisionQuery = field(repr=False, default_factory=DecisionQuery)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))


def decision_page(store: Any, query: DecisionQuery) -> DecisionPage:
    """The page of the stored decisions table that ``query`` asks for (empty when never refreshed)."""
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise LineageError(f"a page holds 1 to {MAX_PAGE_SIZE} decisions, not {query.page_size}")
    order = query.order_by()
    where, args = query.where()
    conn = store.conn
    conn.execute("BEGIN")  # the count and the rows from one snapshot
    try:
        version = conn.execute("SELECT version FROM materialised WHERE name = ?", (DECISIONS,)).fetchone()
        total = conn.execute(f"SELECT count(*) FROM materialised_decisions{where}", args).fetchone()[0]
        # The page's ids first, from the sort's index alone, then their rows: a deep page reads
        # 50 rows, not the hundred thousand it skips.
        found = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM materialised_decisions WHERE id IN ("
                             f"SELECT id FROM materialised_decisions{where}{order} LIMIT ? OFFSET ?){order}",
                             [*args, query.page_size, (query.page - 1) * query.page_size]).fetchall()
    finally:
        conn.execute("COMMIT")
    return DecisionPage([_row(row) for row in found], total, version[0] if version else None, query)


def decision_table(store: Any, query: DecisionQuery) -> Iterator[dict[str, Any]]:
    """Every row ``query``'s filters match, in its order (what the CSV download streams)."""
    where, args = query.where()
    for row in store.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM materialised_decisions{where}"
                                  f"{query.order_by()}", args):
        yield _row(row)


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(COLUMNS, row))
    for flag in ("ai_involved", "ai_earlier_only", "human_in_loop"):
        if record[flag] is not None:
            record[flag] = bool(record[flag])
    return record

"""The SQLite store: the source of truth for the lineage graph. All SQL lives here.

One SQLite file (WAL mode, foreign keys on). Nodes keep their core fields in columns and every
other attribute as JSON; edges join node keys and are unique per (source, target). Every write
happens in one transaction that bumps the graph version and appends a ``changes`` row and one
``audit`` row per node or edge touched, with the record before and after, so any change can be
shown and undone.

Examples
--------
>>> store = Store(":memory:", create=True)
>>> with store.change("jo", "add the register") as change:
...     change.add_node({"id": "register", "kind": "dataset", "name": "Housing register"})
>>> store.node("register")["name"], store.version
('Housing register', 1)
"""
from __future__ import annotations

import errno
import itertools
import json
import operator
import os
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import sqlite_utils

from . import migrations, model, private
from .bulk import gc_paused
from .errors import (BusyError, ConflictError, DiskFullError, NotFoundError, Problem, ReadOnlyError, StorageError,
                     StoreError, ValidationError)

SCHEMA_VERSION = migrations.LATEST
_NODE_COLUMNS = ("id", "kind", "name", "description", "owner", "organisation")
_MANAGED_FIELDS = ("created", "updated", "version")
_BATCH = 900  # stays under SQLite's limit on bound parameters

_INDEXES = migrations.INDEXES

_AUDIT_KIND = "json_extract(coalesce(after, before), '$.kind')"
"""The kind of the node or edge an audit row touched (both records carry it)."""
RECENT_LOOKUP = 1000
"""Ids :meth:`Store.recent_changes` looks up for creations: a hub's reach is cut to its nearest."""
BULK_ROWS = 50_000
"""Rows a load must bring (and outnumber the rows stored) to be written as a bulk load."""


_ORIGIN_MATCH = ("({table}.attrs LIKE '%\"origin\"%' AND json_extract({table}.attrs, '$.origin.type') = ? "
                 "AND json_extract({table}.attrs, '$.origin.name') = ?)")
"""Rows whose ``origin`` is one source (type, name); LIKE first, so JSON is parsed only where it can match."""


def _create_indexes(conn: sqlite3.Connection) -> None:
    """Build the secondary indexes again (after a bulk load dropped them)."""
    for name, target in _INDEXES.items():
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 8, 10, 13, 14


def storage_error(error: BaseException, where: str = "the database") -> StorageError | None:
    """What an SQLite error says about the disk or the file, in plain words; None for other errors.

    Disk full, read-only and busy are conditions an operator can act on, so they are named, and
    each says that nothing was written (the transaction they ended was rolled back).

    >>> str(storage_error(sqlite3.OperationalError("database or disk is full")))
    'the disk is full: nothing was written. Free some space on the disk that holds the database and try again'
    """
    if isinstance(error, StorageError):
        return error
    if not isinstance(error, sqlite3.Error):
        return None
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(error).lower()
    if code == _SQLITE_FULL or "disk is full" in text:
        return DiskFullError("the disk is full: nothing was written. Free some space on the disk that holds "
                             "the database and try again")
    if code == _SQLITE_READONLY or "readonly database" in text or "read-only" in text:
        return ReadOnlyError(f"{where} is read-only: nothing was written. It can be read and exported; to "
                             "change it, make the file and its folder writable by this process")
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text:
        return BusyError(f"{where} is busy with another write: nothing was written. Try again in a moment")
    if code == _SQLITE_IOERR or "disk i/o error" in text:
        return StorageError(f"the disk holding {where} failed to read or write ({error}): nothing was written")
    return None


def _open_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to a database this process may not write.

    A database in WAL mode needs its shared-memory file (``-shm``) beside it; where it is gone and
    cannot be made (a read-only folder), the file is opened as immutable: nobody can be writing
    it (the WAL file, which holds unfinished writes, goes with the shared-memory file).
    """
    uri = Path(path).resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as error:
        if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
            raise
        conn.close()
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False)


class _Nothing(Exception):
    """Ends a change that wrote nothing: rolled back, not an error."""


def _writable(path: str) -> bool:
    """Whether this process may write the database file and its folder (journal files go beside it)."""
    folder = os.path.dirname(os.path.abspath(path))
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK)


_json_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    """Compact JSON with sorted keys. orjson writes it five times faster, which a million-node load
    feels; the standard library takes what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return _json_dumps(value)


def edge_ref(source: str, target: str) -> str:
    """How an edge is named in the audit log and messages."""
    return f"{source} -> {target}"


@dataclass(frozen=True)
class GraphData:
    """Nodes and edges that passed validation, ready to be written (see ``lineage.validate``).

    ``ends`` holds each edge's (source, target) as positions in ``nodes`` followed by
    ``outside``, the ids edges name that are not among ``nodes`` (they exist in the store):
    validation resolved every id once, so writing does not resolve them again.
    """

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    ends: np.ndarray
    outside: list[str]


@dataclass
class LoadSummary:
    """What a load did."""

    nodes_added: int = 0
    nodes_changed: int = 0
    edges_added: int = 0
    edges_changed: int = 0
    version: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return (f"{self.nodes_added} nodes added, {self.nodes_changed} changed; "
                f"{self.edges_added} edges added, {self.edges_changed} changed; "
                f"{self.unchanged} unchanged; graph version {self.version}")


@dataclass(frozen=True)
class NodePage:
    """A page of nodes and how many there are in all."""

    total: int
    nodes: list[dict[str, Any]]


@dataclass(frozen=True)
class Topology:
    """The graph as arrays, for the query engine (see ``lineage.graph``).

    Node ``i`` is ``ids[i]``, ids sorted; edges refer to nodes by that position.
    """

    ids: list[str]
    kind_codes: np.ndarray    # index into model.NODE_KINDS, per node
    sources: np.ndarray       # per edge, the position of its source node
    targets: np.ndarray       # per edge, the position of its target node
    edge_kinds: np.ndarray    # per edge, index into model.EDGE_KINDS
    edge_records: np.ndarray  # records on enters edges (0 elsewhere), per edge
    edge_issues: np.ndarray   # records_with_issues on enters edges, per edge
    edge_supporting: np.ndarray  # per edge, True for an informs edge whose influence is supporting
    people_affected: np.ndarray  # per node, NaN where not given
    value_gbp: np.ndarray        # per node, NaN where not given
    quality_dimension: np.ndarray  # index into model.QUALITY_DIMENSIONS of the weakest, -1 if unassessed
    quality_score: np.ndarray      # its score, NaN where rated by RAG only or unassessed
    quality_rag: np.ndarray        # index into model.RAGS, -1 if unassessed
    version: int


_NODE_ROW_COLUMNS = (*_NODE_COLUMNS, "quality_dimension", "quality_score", "quality_rag", "people_affected",
                     "value_gbp", "attrs")
"""The columns :func:`_node_row` fills, in its order."""


def _node_row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """A native node record as the values of ``_NODE_ROW_COLUMNS``: its columns, the copies the
    query engine reads, and the JSON of its other attributes."""
    kind = record["kind"]
    weakest = model.weakest_dimension(record.get("quality")) if kind == "dataset" else None
    decision = kind == "decision"
    attrs = {k: v for k, v in record.items() if k not in _NODE_COLUMNS and k not in _MANAGED_FIELDS}
    return (record["id"], kind, record["name"], record.get("description"), record.get("owner"),
            record.get("organisation"), *(weakest or (None, None, None)),
            record.get("people_affected") if decision else None, record.get("value_gbp") if decision else None,
            _dumps(attrs))


def _edge_row(record: dict[str, Any]) -> tuple[str, str, Any, Any]:
    """An edge's kind, the JSON of its attributes, and the copies of its record counts."""
    kind = record["kind"]
    if len(record) == 3:
        return kind, "{}", None, None  # most edges: nothing but their ends and kind
    attrs = record.copy()  # a C copy and three deletions: twice as fast as filtering in Python
    del attrs["source"], attrs["target"], attrs["kind"]
    if "version" in attrs or "created" in attrs or "updated" in attrs:
        attrs = native_record(attrs)
    attrs = _dumps(attrs)
    if kind != "enters":
        return kind, attrs, None, None
    return kind, attrs, record.get("records"), record.get("records_with_issues")


def native_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without the fields the store manages (created, updated, version), as it appears
    in files. Not copied when there is nothing to drop: do not change the result in place."""
    if "created" not in record and "updated" not in record and "version" not in record:
        return record  # type: ignore[return-value]  # the common case, not copied
    return {k: v for k, v in record.items() if k not in _MANAGED_FIELDS}


_CASES = {
    name: " ".join(f"WHEN '{value}' THEN {code}" for code, value in enumerate(values))
    for name, values in (("node", model.NODE_KINDS), ("edge", model.EDGE_KINDS),
                         ("dimension", model.QUALITY_DIMENSIONS), ("rag", model.RAGS))
}
# What the query engine reads (Store.topology): one aggregate per column, so the columns of a read
# stay aligned; "key * 8 + kind" packs two columns in one.
_NODE_READS = (
    "SELECT group_concat(id, char(31)), group_concat(key) FROM nodes",
    f"SELECT group_concat(key * 8 + CASE kind {_CASES['node']} END) FROM nodes",
    "SELECT group_concat(key), group_concat(coalesce(people_affected, -1)), "
    "group_concat(coalesce(value_gbp, -1)) FROM nodes WHERE kind = 'decision'",
    f"SELECT group_concat(key), group_concat(CASE quality_dimension {_CASES['dimension']} END), "
    f"group_concat(coalesce(quality_score, -1)), group_concat(CASE quality_rag {_CASES['rag']} END) "
    "FROM nodes WHERE kind = 'dataset' AND quality_dimension IS NOT NULL",
)
_NODE_TYPES = ((str, np.int64), (np.int64,), (np.int64, np.float64, np.float64),
               (np.int64, np.int8, np.float64, np.int8))
_EDGE_READS = (
    f"SELECT group_concat(source * 8 + CASE kind {_CASES['edge']} END), group_concat(target) FROM edges",
    "SELECT group_concat(source), group_concat(target), group_concat(coalesce(records, 0)), "
    "group_concat(coalesce(records_with_issues, 0)) FROM edges WHERE kind = 'enters'",
    # LIKE first: json_extract only on the few rows that can match.
    "SELECT group_concat(source), group_concat(target) FROM edges WHERE kind = 'informs' "
    "AND attrs LIKE '%supporting%' AND json_extract(attrs, '$.influence') = 'supporting'",
)
_EDGE_TYPES = ((np.int64, np.int64), (np.int64, np.int64, np.int64, np.int64), (np.int64, np.int64))


def _read(conn: sqlite3.Connection, reads: tuple[str, ...]) -> tuple[int, list[tuple]]:
    """Run reads in one transaction; return the graph version they saw and their rows."""
    conn.execute("BEGIN")
    try:
        version = int(conn.execute("SELECT value FROM meta WHERE key = 'graph_version'").fetchone()[0])
        return version, [conn.execute(sql).fetchone() for sql in reads]
    finally:
        conn.execute("COMMIT")


def _parsed(row: tuple, dtypes: tuple[type, ...]) -> list[Any]:
    """Columns of comma-separated numbers as arrays (text columns left as they are)."""
    return [text if dtype is str else
            np.fromstring(text, dtype=dtype, sep=",") if text else np.zeros(0, dtype=dtype)
            for text, dtype in zip(row, dtypes)]


class Store:
    """A lineage database.

    Parameters
    ----------
    path : str or Path
        The SQLite file (``":memory:"`` for a throwaway store).
    create : bool
        Create the file and schema when missing. Otherwise a missing file is a ``StoreError``.
    read_only : bool or None
        Open for reading only. ``None`` (the default) decides from the file: a database this
        process may not write (a read-only file, folder or mount) is opened read-only, so it can
        still be read and exported; writes to it raise :class:`~lineage.errors.ReadOnlyError`.

    Opening a database written by an older release upgrades it (:mod:`lineage.migrations`).
    """

    def __init__(self, path: str | Path, *, create: bool = False, read_only: bool | None = None):
        self.path = str(path)
        memory = self.path == ":memory:"
        exists = memory or Path(self.path).exists()
        if not create and not exists:
            raise StoreError(f"no lineage database at {self.path}: run 'lineage init' or 'lineage load' first")
        if read_only is None:
            read_only = exists and not memory and not _writable(self.path)
        self.read_only = read_only
        if not memory and not read_only and not self.path.startswith("file:"):
            # 0600 before SQLite opens it (its folder 0700 if new): SQLite gives its -wal and -shm
            # files the database's mode.
            private.create_file(self.path)
        try:
            if read_only:
                conn = _open_read_only(self.path)
            else:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
            self.db = sqlite_utils.Database(conn)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            self.conn = conn
            self._ensure_schema()
        except StoreError:
            self._close_quietly()
            raise
        except sqlite3.DatabaseError as error:
            self._close_quietly()
            named = storage_error(error, self.path)
            if named is not None:
                raise named from error
            raise StoreError(f"{self.path} is not a usable lineage database: {error}") from error

    # -- schema -----------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        """Bring the schema up to date (see :mod:`lineage.migrations`); the leader views are
        computed again when a step asks for it."""
        where = self.path
        try:
            if self.read_only:
                steps = migrations.pending(self.conn, where)
                if steps:
                    raise StoreError(f"{where} was written by an older lineage and needs upgrading, which "
                                     "needs write access: open it once where it can be written")
                return
            steps = migrations.migrate(self.conn, where)
        except StoreError as error:
            raise StoreError(f"{where}: {error}" if not str(error).startswith(where) else str(error)) from None
        if any(step.recompute for step in steps) and self.version > 0:
            self.recompute_leader_views()

    def recompute_leader_views(self) -> None:
        """Compute the materialised leader views for the graph as it stands (after an upgrade)."""
        from .graph import LineageGraph
        from .materialised import refresh
        refresh(self, LineageGraph.from_store(self), force=True)

    @property
    def schema_version(self) -> int:
        return migrations.schema_version(self.conn)

    def close(self) -> None:
        self.conn.close()

    def _close_quietly(self) -> None:
        """Close the connection of a store that failed to open (if it got one)."""
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()

    # -- reading ----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The graph version: bumped by every change."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'graph_version'").fetchone()[0])

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    _NODE_SELECT = ("SELECT id, kind, name, description, owner, organisation, attrs, created, updated, version "
                    "FROM nodes")

    @staticmethod
    def _node_record(row: Sequence[Any]) -> dict[str, Any]:
        record = {"id": row[0], "kind": row[1], "name": row[2]}
        for name, value in zip(("description", "owner", "organisation"), row[3:6]):
            if value is not None:
                record[name] = value
        record.update(json.loads(row[6]))
        record.update(created=row[7], updated=row[8], version=row[9])
        return record

    def node(self, node_id: str) -> dict[str, Any]:
        """One node as a native record plus ``created``, ``updated`` and ``version``."""
        row = self.conn.execute(self._NODE_SELECT + " WHERE id = ?", (node_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no node with id '{node_id}'")
        return self._node_record(row)

    def nodes(self, *, kind: str | None = None, owner: str | None = None,
              ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Nodes in id order, optionally only of one kind, one owner, or the given ids."""
        if ids is not None:
            for batch in _batched(sorted(set(ids))):
                marks = ",".join("?" * len(batch))
                for row in self.conn.execute(self._NODE_SELECT + f" WHERE id IN ({marks}) ORDER BY id", batch):
                    yield self._node_record(row)
            return
        where, args = [], []
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        sql = self._NODE_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        for row in self.conn.execute(sql, args):
            yield self._node_record(row)

    _EDGE_SELECT = ("SELECT s.id, t.id, e.kind, e.attrs, e.version FROM edges e "
                    "JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target")

    @staticmethod
    def _edge_record(row: Sequence[Any]) -> dict[str, Any]:
        record = {"source": row[0], "target": row[1], "kind": row[2]}
        record.update(json.loads(row[3]))
        record["version"] = row[4]
        return record

    def edge(self, source: str, target: str) -> dict[str, Any]:
        row = self.conn.execute(self._EDGE_SELECT + " WHERE s.id = ? AND t.id = ?", (source, target)).fetchone()
        if row is None:
            raise NotFoundError(f"no edge {edge_ref(source, target)}")
        return self._edge_record(row)

    def edges(self, *, touching: str | None = None) -> Iterator[dict[str, Any]]:
        """Edges ordered by (source id, target id); ``touching`` keeps those with that node at an end."""
        if touching is None:
            rows = self.conn.execute(self._EDGE_SELECT + " ORDER BY s.id, t.id")
        else:
            # Two look-ups, by the primary key (source, target) and by the index on target: an OR
            # of the ends would scan every edge. A loop (a node feeding itself) is listed once.
            key = self.conn.execute("SELECT key FROM nodes WHERE id = ?", (touching,)).fetchone()
            if key is None:
                return
            rows = self.conn.execute(
                f"{self._EDGE_SELECT} WHERE e.source = :key UNION ALL "
                f"{self._EDGE_SELECT} WHERE e.target = :key AND e.source != :key ORDER BY 1, 2", {"key": key[0]})
        for row in rows:
            yield self._edge_record(row)

    def node_page(self, *, kind: str | None = None, owner: str | None = None, limit: int = 100,
                  offset: int = 0, without: Iterable[str] = ()) -> "NodePage":
        """One page of nodes in id order, with the total that match (of one kind, one owner);
        ``without`` names kinds to leave out (people, for a reader who may not see them by name)."""
        clauses = [(c, [v]) for c, v in (("kind = ?", kind), ("owner = ?", owner)) if v]
        left_out = sorted(set(without))
        if left_out:
            clauses.append((f"kind NOT IN ({','.join('?' * len(left_out))})", left_out))
        where = ("WHERE " + " AND ".join(c for c, _ in clauses)) if clauses else ""
        args = [v for _, values in clauses for v in values]
        total = self.conn.execute(f"SELECT count(*) FROM nodes {where}", args).fetchone()[0]
        rows = self.conn.execute(f"{self._NODE_SELECT} {where} ORDER BY id LIMIT ? OFFSET ?", [*args, limit, offset])
        return NodePage(total=total, nodes=[self._node_record(row) for row in rows])

    def counts(self) -> dict[str, int]:
        """Number of nodes of each kind (every kind present, zero when none)."""
        found = dict(self.conn.execute("SELECT kind, count(*) FROM nodes GROUP BY kind").fetchall())
        return {kind: found.get(kind, 0) for kind in model.NODE_KINDS}

    def edge_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM edges").fetchone()[0]

    def organisations(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT organisation FROM nodes WHERE organisation IS NOT NULL "
                                 "ORDER BY organisation")
        return [row[0] for row in rows]

    def kinds_of(self, ids: Iterable[str]) -> dict[str, str]:
        """The kind of each of ``ids`` that exists."""
        found: dict[str, str] = {}
        if self.conn.execute("SELECT 1 FROM nodes LIMIT 1").fetchone() is None:
            return found  # an empty store: no need to ask about a million ids
        for batch in _batched(list(set(ids))):
            marks = ",".join("?" * len(batch))
            found.update(self.conn.execute(f"SELECT id, kind FROM nodes WHERE id IN ({marks})", batch).fetchall())
        return found

    def search(self, text: str, *, limit: int = 50, kind: str | None = None) -> list[dict[str, Any]]:
        """Full-text search over names and descriptions, best match first.

        Each word is matched as a prefix ("hous reg" finds "Housing register"); quotes and
        operators in ``text`` are treated as plain words.
        """
        words = [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
        if not words:
            return []
        query = " ".join(f'"{w}"*' for w in words)
        sql = ("SELECT n.id, n.kind, n.name, n.description FROM nodes_fts f JOIN nodes n ON n.key = f.rowid "
               "WHERE nodes_fts MATCH ?" + (" AND n.kind = ?" if kind else "") + " ORDER BY f.rank LIMIT ?")
        args: list[Any] = [query] + ([kind] if kind else []) + [limit]
        return [dict(zip(("id", "kind", "name", "description"), row)) for row in self.conn.execute(sql, args)]

    def find_names(self, text: str, *, kinds: Sequence[str] | None = None, limit: int = 200,
                   contains: bool = True) -> list[dict[str, Any]]:
        """Nodes whose *name* has every word of ``text`` as the start of a word, best first (full-text
        rank), kept to ``kinds``; with ``contains``, when none does, names that hold ``text``
        anywhere (a scan: only then). Each row: id, kind, name, organisation."""
        words = [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
        kept = " AND n.kind IN ({})".format(",".join("?" * len(kinds))) if kinds else ""
        columns = "n.id, n.kind, n.name, n.organisation"
        rows: list[tuple] = []
        if words:
            query = " AND ".join(f'name : "{w}"*' for w in words)
            rows = self.conn.execute(f"SELECT {columns} FROM nodes_fts f JOIN nodes n ON n.key = f.rowid "
                                     f"WHERE nodes_fts MATCH ?{kept} ORDER BY f.rank LIMIT ?",
                                     [query, *(kinds or []), limit]).fetchall()
        if not rows and contains and text.strip():
            pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.conn.execute(f"SELECT {columns} FROM nodes n WHERE n.name LIKE ? ESCAPE '\\'{kept} LIMIT ?",
                                     [pattern, *(kinds or []), limit]).fetchall()
        return [dict(zip(("id", "kind", "name", "organisation"), row)) for row in rows]

    def names(self, *, kinds: Sequence[str] | None = None, limit: int = 50_000) -> list[dict[str, Any]] | None:
        """Every node's id, kind and name (of ``kinds``), or None when there are more than ``limit``."""
        kept = " WHERE kind IN ({})".format(",".join("?" * len(kinds))) if kinds else ""
        rows = self.conn.execute(f"SELECT id, kind, name, organisation FROM nodes{kept} LIMIT ?",
                                 [*(kinds or []), limit + 1]).fetchall()
        if len(rows) > limit:
            return None
        return [dict(zip(("id", "kind", "name", "organisation"), row)) for row in rows]

    _LIST_ORDER = {"name": "lower(n.name) {d}, n.id", "kind": "n.kind {d}, lower(n.name), n.id",
                   "organisation": "n.organisation IS NULL, n.organisation {d}, lower(n.name), n.id",
                   "owner": "o.name IS NULL, lower(o.name) {d}, lower(n.name), n.id",
                   "quality": "n.quality_score IS NULL, n.quality_score {d}, lower(n.name), n.id"}

    def list_nodes(self, *, kind: str | None = None, owner: str | None = None, organisation: str | None = None,
                   quality: str | None = None, without: Iterable[str] = (), sort: str = "name",
                   descending: bool = False, limit: int | None = None, offset: int = 0, owner_names: bool = True,
                   origin: tuple[str, str] | None = None) -> tuple[int, list[tuple[str, str | None]]]:
        """The nodes a list shows: how many match, and (id, owner's name) of those on the page
        (the name None with ``owner_names`` False: cheaper, for a caller that orders every match).

        Filters: ``kind``; ``owner`` (a person id, or "none" for no owner); ``organisation``;
        ``quality``, the band of the weakest assessed dimension ("red", "amber", "green", or
        "unassessed" for datasets with none); ``without``, kinds to leave out; ``origin`` (type, name),
        the nodes one source added (``lineage.origin``). ``sort`` is one of
        name, kind, organisation, owner (by name) and quality (the weakest score); ``limit`` None
        is every match.
        """
        if sort not in self._LIST_ORDER:
            raise ValueError(f"sort must be one of: {', '.join(self._LIST_ORDER)}; got {sort!r}")
        clauses: list[str] = []
        args: list[Any] = []
        for clause, value in (("n.kind = ?", kind), ("n.organisation = ?", organisation)):
            if value:
                clauses.append(clause)
                args.append(value)
        left_out = sorted(set(without))
        if left_out:
            clauses.append(f"n.kind NOT IN ({','.join('?' * len(left_out))})")
            args += left_out
        if owner == "none":
            clauses.append("n.owner IS NULL")
        elif owner:
            clauses.append("n.owner = ?")
            args.append(owner)
        if origin is not None:
            clauses.append(_ORIGIN_MATCH.format(table="n"))
            args += list(origin)
        if quality == "unassessed":
            clauses.append("n.kind = 'dataset' AND n.quality_rag IS NULL")
        elif quality:
            clauses.append("n.quality_rag = ?")
            args.append(quality)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        total = self.conn.execute(f"SELECT count(*) FROM nodes n{where}", args).fetchone()[0]
        order = self._LIST_ORDER[sort].format(d="DESC" if descending else "ASC")
        page = "" if limit is None else " LIMIT ? OFFSET ?"
        if owner_names or sort == "owner":
            select = f"SELECT n.id, o.name FROM nodes n LEFT JOIN nodes o ON o.id = n.owner{where}"
        else:
            select = f"SELECT n.id, NULL FROM nodes n{where}"
        rows = self.conn.execute(f"{select} ORDER BY {order}{page}", [*args, *([limit, offset] if page else [])])
        return total, [(row[0], row[1] if owner_names else None) for row in rows]

    def owners(self) -> list[dict[str, str]]:
        """The people who own something, by name (for an owner filter)."""
        rows = self.conn.execute("SELECT DISTINCT o.id, o.name FROM nodes n JOIN nodes o ON o.id = n.owner "
                                 "ORDER BY lower(o.name), o.id")
        return [{"id": row[0], "name": row[1]} for row in rows]

    def owners_among(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` that own at least one node."""
        found: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            chunk = list(ids[start:start + _BATCH])
            found.update(row[0] for row in self.conn.execute("SELECT DISTINCT owner FROM nodes WHERE owner IN ({})".format(
                ",".join("?" * len(chunk))), chunk))
        return found

    def node_names(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """id -> {id, kind, name, organisation} for the ids that exist."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), _BATCH):
            chunk = list(ids[start:start + _BATCH])
            for row in self.conn.execute("SELECT id, kind, name, organisation FROM nodes WHERE id IN ({})".format(
                    ",".join("?" * len(chunk))), chunk):
                found[row[0]] = dict(zip(("id", "kind", "name", "organisation"), row))
        return found

    def topology(self) -> Topology:
        """Every node's id and kind, every edge as node positions, and the numbers queries aggregate.

        One consistent snapshot, straight into numpy arrays: this is what the query engine starts
        from. Nodes and edges are read at once on two connections (SQLite works outside the GIL),
        each column as one ``group_concat`` that numpy parses in C: several times faster than a
        Python tuple per row.
        """
        for _ in range(5):
            if self.path == ":memory:":
                (version, node_rows), (edge_version, edge_rows) = _read(self.conn, _NODE_READS), \
                    _read(self.conn, _EDGE_READS)
            else:
                other = _open_read_only(self.path)
                try:
                    with ThreadPoolExecutor(1) as pool:
                        edges_read = pool.submit(_read, other, _EDGE_READS)
                        version, node_rows = _read(self.conn, _NODE_READS)
                        edge_version, edge_rows = edges_read.result()
                finally:
                    other.close()
            if version == edge_version:  # else a change landed between the two reads: read again
                break
        else:
            raise StoreError(f"{self.path} changed during every attempt to read it; try again")
        (ids_text, id_keys), (key_kinds,), (decision_keys, people, value), (dataset_keys, dimension, score, rag) = (
            _parsed(row, dtypes) for row, dtypes in zip(node_rows, _NODE_TYPES))
        (source_kinds, targets), (entered_sources, entered_targets, records, issues), \
            (supporting_sources, supporting_targets) = (
                _parsed(row, dtypes) for row, dtypes in zip(edge_rows, _EDGE_TYPES))
        # Nodes take their place in id order, the order of the index on id that SQLite read them
        # through, so that the engine finds an id by bisection and lists ids sorted for free.
        ids = ids_text.split("\x1f") if ids_text else []
        if any(map(operator.ge, ids, itertools.islice(ids, 1, None))):  # another collation: sort here
            order = sorted(range(len(ids)), key=ids.__getitem__)
            ids, id_keys = [ids[i] for i in order], id_keys[order]
        n = len(ids)
        position_of_key = np.full(int(id_keys.max(initial=0)) + 1, -1, dtype=np.int64)
        position_of_key[id_keys] = np.arange(n)

        def positions(keys: np.ndarray) -> np.ndarray:
            return position_of_key[keys.astype(np.int64)]

        kinds = np.zeros(n, dtype=np.int8)
        kinds[positions(key_kinds >> 3)] = key_kinds & 7

        def per_node(at: np.ndarray, values: np.ndarray, missing: float | int, dtype: type) -> np.ndarray:
            column = np.full(n, missing, dtype=dtype)
            column[positions(at)] = values
            return column

        sources, edge_kinds = source_kinds >> 3, (source_kinds & 7).astype(np.int8)
        # Match the enters and supporting rows to their edges by (source, target), whatever order
        # each read took.
        pairs = (sources << 32) | targets
        in_key_order = pairs.size < 2 or bool(np.all(pairs[1:] > pairs[:-1]))  # as SQLite reads them
        by_pair = None if in_key_order else np.argsort(pairs, kind="stable")

        def edge_numbers(edge_sources: np.ndarray, edge_targets: np.ndarray) -> np.ndarray:
            wanted = (edge_sources << 32) | edge_targets
            if by_pair is None:
                return np.searchsorted(pairs, wanted)
            return by_pair[np.searchsorted(pairs, wanted, sorter=by_pair)]

        entered = np.zeros((2, sources.size), dtype=np.int64)
        entered[:, edge_numbers(entered_sources, entered_targets)] = records, issues
        supporting = np.zeros(sources.size, dtype=bool)
        supporting[edge_numbers(supporting_sources, supporting_targets)] = True
        return Topology(
            ids=ids, kind_codes=kinds, sources=positions(sources), targets=positions(targets), edge_kinds=edge_kinds,
            edge_records=entered[0], edge_issues=entered[1], edge_supporting=supporting,
            people_affected=per_node(decision_keys, np.where(people >= 0, people, np.nan), np.nan, np.float64),
            value_gbp=per_node(decision_keys, np.where(value >= 0, value, np.nan), np.nan, np.float64),
            quality_dimension=per_node(dataset_keys, dimension, -1, np.int8),
            quality_score=per_node(dataset_keys, np.where(score >= 0, score, np.nan), np.nan, np.float64),
            quality_rag=per_node(dataset_keys, rag, -1, np.int8), version=version)

    def origins(self) -> list[dict[str, Any]]:
        """Each source (``origin`` type and name) that added nodes or edges still here: its
        type, name, latest date, and how many nodes and edges carry it; newest first."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for table, counted in (("nodes", "nodes"), ("edges", "edges")):
            rows = self.conn.execute(
                f"SELECT json_extract(attrs, '$.origin.type'), json_extract(attrs, '$.origin.name'), "
                f"max(json_extract(attrs, '$.origin.date')), count(*) FROM {table} "
                f"WHERE attrs LIKE '%\"origin\"%' AND json_extract(attrs, '$.origin.type') IS NOT NULL "
                f"GROUP BY 1, 2")
            for source_type, name, day, count in rows:
                item = found.setdefault((source_type, name), {"type": source_type, "name": name, "date": day,
                                                              "nodes": 0, "edges": 0})
                item[counted] = count
                item["date"] = max(filter(None, (item["date"], day)), default=None)
        return sorted(found.values(), key=lambda item: (item["date"] or "", item["type"], item["name"]), reverse=True)

    def added_by(self, source_type: str, name: str) -> tuple[list[str], list[tuple[str, str]]]:
        """The ids of the nodes, and the ends of the edges, whose ``origin`` is this source."""
        nodes = [row[0] for row in self.conn.execute(
            f"SELECT id FROM nodes WHERE {_ORIGIN_MATCH.format(table='nodes')} ORDER BY id", (source_type, name))]
        edges = [(row[0], row[1]) for row in self.conn.execute(
            f"SELECT s.id, t.id FROM edges e JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target "
            f"WHERE {_ORIGIN_MATCH.format(table='e')} ORDER BY 1, 2", (source_type, name))]
        return nodes, edges

    def ids_where(self, field: str, value: str) -> list[str]:
        """Ids of nodes whose ``field`` (owner, organisation, or a tag in ``tag``) equals ``value``."""
        if field in ("owner", "organisation"):
            sql = f"SELECT id FROM nodes WHERE {field} = ? ORDER BY id"
        elif field == "tag":
            sql = ("SELECT id FROM nodes WHERE key IN (SELECT n.key FROM nodes n, json_each(n.attrs, '$.tags') t "
                   "WHERE t.value = ?) ORDER BY id")
        else:
            raise ValueError(f"cannot look nodes up by {field}")
        return [row[0] for row in self.conn.execute(sql, (value,))]

    def agents_matching(self, texts: Iterable[str]) -> dict[str, list[str]]:
        """People and teams whose id, name or contact equals one of ``texts``, ignoring case: each
        text (lower case) that matched, with the ids it matched, sorted. For owners named outside
        (an OpenLineage ``ownership`` facet's ``jo.smith@council.gov.uk``)."""
        wanted = sorted({text.lower() for text in texts})
        if not wanted:
            return {}
        found: dict[str, set[str]] = {}
        rows = self.conn.execute(
            "WITH w(t) AS (SELECT value FROM json_each(?)) "
            "SELECT id, lower(name), lower(json_extract(attrs, '$.contact')) FROM nodes "
            "WHERE kind IN ('person', 'team') AND (lower(id) IN w OR lower(name) IN w "
            "OR lower(json_extract(attrs, '$.contact')) IN w)", (json.dumps(wanted),))
        chosen = set(wanted)
        for node_id, name, contact in rows:
            for text in {node_id.lower(), name, contact} & chosen:
                found.setdefault(text, set()).add(node_id)
        return {text: sorted(ids) for text, ids in found.items()}

    # -- history ----------------------------------------------------------------------------

    def history(self, ref: str | None = None, *, limit: int = 50) -> list[dict[str, Any]]:
        """Audit entries, newest first: all of them, or those of one node id (and its edges).

        A node or edge records the change that created it; that creation is listed here with the
        rest (and written to the audit table when the node or edge is deleted).
        """
        node_filter = edge_filter = audit_filter = ""
        args: list[Any] = []
        if ref is not None:
            # By the node's key, so that its edges come from the primary key and the target index
            # rather than a scan of every edge; a deleted node has no key and only audit rows.
            row = self.conn.execute("SELECT key FROM nodes WHERE id = ?", (ref,)).fetchone()
            starts, ends = f"{ref} -> ", f" -> {ref}"
            audit_filter = "WHERE ref = ? OR substr(ref, 1, ?) = ? OR substr(ref, -?) = ?"
            node_filter, edge_filter = "AND n.id = ?", "AND (e.source = ? OR e.target = ?)"
            key = row[0] if row else None
            args = [ref, len(starts), starts, len(ends), ends, ref, key, key]
        sql = (f"SELECT change, entity, ref, action, before, after, id FROM audit {audit_filter} UNION ALL "
               f"SELECT n.created_change, 'node', n.id, 'create', NULL, NULL, 0 FROM nodes n "
               f"WHERE n.created_change IS NOT NULL {node_filter} UNION ALL "
               "SELECT e.created_change, 'edge', s.id || ' -> ' || t.id, 'create', NULL, NULL, 0 FROM edges e "
               "JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target "
               f"WHERE e.created_change IS NOT NULL {edge_filter}")
        sql = (f"SELECT c.id, c.version, c.at, c.actor, c.summary, h.entity, h.ref, h.action, h.before, h.after "
               f"FROM ({sql}) h JOIN changes c ON c.id = h.change ORDER BY c.id DESC, h.id DESC, h.ref LIMIT ?")
        keys = ("change", "version", "at", "actor", "summary", "entity", "ref", "action", "before", "after")
        entries = []
        for row in self.conn.execute(sql, [*args, limit]).fetchall():
            entry = dict(zip(keys, row))
            entry["before"] = json.loads(entry["before"]) if entry["before"] else None
            entry["after"] = json.loads(entry["after"]) if entry["after"] else None
            if entry["action"] == "create":
                entry["after"] = self._as_created(entry["entity"], entry["ref"], entry["change"])
            entries.append(entry)
        return entries

    def recent_changes(self, ids: Sequence[str], *, limit: int = 10, listed: int = 5) -> list[dict[str, Any]]:
        """The latest changes that touched any of ``ids`` (a node, or an edge with an end among
        them), newest first; each with up to ``listed`` of the things it touched and their count.

        Edits are found by scanning the audit log newest first (it grows with edits only: loads
        record creations on the rows); creations by looking the ids up, at most
        ``RECENT_LOOKUP`` of them (callers pass the nearest first).
        """
        wanted = set(ids)
        touched: dict[int, list[dict[str, str]]] = {}
        edits = self.conn.execute(f"SELECT change, entity, ref, action, {_AUDIT_KIND} FROM audit "
                                  "ORDER BY change DESC, id DESC")
        for change, entity, ref, action, kind in edits:
            if change not in touched and len(touched) >= limit:
                break
            if any(end in wanted for end in ref.split(" -> ")):
                touched.setdefault(change, []).append({"entity": entity, "ref": ref, "action": action, "kind": kind})
        for batch in _batched(ids[:RECENT_LOOKUP]):
            marks = ",".join("?" * len(batch))
            rows = self.conn.execute(
                f"SELECT created_change, id, 'node', kind FROM nodes WHERE id IN ({marks}) "
                "AND created_change IS NOT NULL "
                "UNION ALL SELECT e.created_change, s.id || ' -> ' || t.id, 'edge', e.kind FROM edges e "
                "JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target "
                f"WHERE s.id IN ({marks}) AND e.created_change IS NOT NULL", batch + batch)
            for change, ref, entity, kind in rows:
                touched.setdefault(change, []).append({"entity": entity, "ref": ref, "action": "create", "kind": kind})
        newest = sorted(touched, reverse=True)[:limit]
        if not newest:
            return []
        marks = ",".join("?" * len(newest))
        rows = self.conn.execute(f"SELECT id, version, at, actor, summary FROM changes WHERE id IN ({marks}) "
                                 "ORDER BY id DESC", newest).fetchall()
        return [{"change": change, "version": version, "at": at, "actor": actor, "summary": summary,
                 "touched": len(touched[change]), "items": sorted(touched[change], key=lambda t: t["ref"])[:listed]}
                for change, version, at, actor, summary in rows]

    def _as_created(self, entity: str, ref: str, change: int) -> dict[str, Any] | None:
        """A created record as it was created: the state before its next change, or as it is now."""
        later = self.conn.execute("SELECT before FROM audit WHERE ref = ? AND change >= ? AND before IS NOT NULL "
                                  "ORDER BY change, id LIMIT 1", (ref, change)).fetchone()
        if later:
            return json.loads(later[0])
        try:
            current = self.node(ref) if entity == "node" else self.edge(*ref.split(" -> "))
        except NotFoundError:
            return None
        return native_record(current)

    def changes(self, *, before: int | None = None, limit: int = 20, listed: int = 10) -> list[dict[str, Any]]:
        """The whole graph's history by change, newest first, ``limit`` at a time.

        Each change comes with how many nodes and edges it touched and up to ``listed`` of them
        (``ref``, ``entity``, ``action``). Page on with ``before`` = the last change id shown.
        """
        rows = self.conn.execute(
            "SELECT id, version, at, actor, summary FROM changes WHERE id < ? ORDER BY id DESC LIMIT ?",
            (before if before is not None else 2**62, limit)).fetchall()
        result = []
        for change, version, at, actor, summary in rows:
            result.append({"change": change, "version": version, "at": at, "actor": actor, "summary": summary,
                           **self._touched(change, listed)})
        return result

    def _touched(self, change: int, listed: int) -> dict[str, Any]:
        count_sql = ("SELECT (SELECT count(*) FROM audit WHERE change = :c), "
                     "(SELECT count(*) FROM nodes WHERE created_change = :c), "
                     "(SELECT count(*) FROM edges WHERE created_change = :c)")
        audited, nodes_created, edges_created = self.conn.execute(count_sql, {"c": change}).fetchone()
        # Each item carries the kind of the node or edge it touched, so that a reader's view of
        # people (lineage.policy.PeopleRule) can leave out what names someone.
        items = [{"entity": e, "ref": r, "action": a, "kind": k} for e, r, a, k in self.conn.execute(
            f"SELECT entity, ref, action, {_AUDIT_KIND} FROM audit WHERE change = ? ORDER BY id LIMIT ?",
            (change, listed))]
        if len(items) < listed:
            items += [{"entity": "node", "ref": ref, "action": "create", "kind": kind} for ref, kind in self.conn.execute(
                "SELECT id, kind FROM nodes WHERE created_change = ? ORDER BY key LIMIT ?", (change, listed - len(items)))]
        if len(items) < listed:
            items += [{"entity": "edge", "ref": f"{s} -> {t}", "action": "create", "kind": kind}
                      for s, t, kind in self.conn.execute(
                          "SELECT s.id, t.id, e.kind FROM edges e JOIN nodes s ON s.key = e.source "
                          "JOIN nodes t ON t.key = e.target WHERE e.created_change = ? LIMIT ?",
                          (change, listed - len(items)))]
        return {"touched": audited + nodes_created + edges_created, "items": items}

    def change_info(self, change: int) -> dict[str, Any]:
        """One change: who, when, its summary, and every node and edge it touched with the
        record before and after (``None`` for absent)."""
        row = self.conn.execute("SELECT id, version, at, actor, summary FROM changes WHERE id = ?", (change,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no change {change}")
        info = dict(zip(("change", "version", "at", "actor", "summary"), row))
        info["entries"] = self._entries(change)
        return info

    def _entries(self, change: int) -> list[dict[str, Any]]:
        """What a change did, in the order it did it: audit rows, then what it created that still
        stands (creations are kept on the rows, not in the audit log, until deleted)."""
        entries = []
        for entity, ref, action, before, after in self.conn.execute(
                "SELECT entity, ref, action, before, after FROM audit WHERE change = ? ORDER BY id", (change,)):
            if action == "create":  # written when a created record was later deleted: already gone
                continue
            entries.append({"entity": entity, "ref": ref, "action": action,
                            "before": json.loads(before) if before else None,
                            "after": json.loads(after) if after else None})
        for (node_id,) in self.conn.execute("SELECT id FROM nodes WHERE created_change = ? ORDER BY key",
                                            (change,)).fetchall():
            entries.append({"entity": "node", "ref": node_id, "action": "create", "before": None,
                            "after": self._as_created("node", node_id, change)})
        for source, target in self.conn.execute(
                "SELECT s.id, t.id FROM edges e JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target "
                "WHERE e.created_change = ?", (change,)).fetchall():
            ref = edge_ref(source, target)
            entries.append({"entity": "edge", "ref": ref, "action": "create", "before": None,
                            "after": self._as_created("edge", ref, change)})
        return entries

    def _current(self, entity: str, ref: str) -> dict[str, Any] | None:
        try:
            return native_record(self.node(ref) if entity == "node" else self.edge(*ref.split(" -> ")))
        except NotFoundError:
            return None

    def undo(self, change: int, *, actor: str) -> int:
        """Undo a change with a new change (itself audited, and undoable). Returns its id.

        Raises
        ------
        ConflictError
            If anything the change touched has changed since: nothing is written, and the
            message names what moved on.
        """
        info = self.change_info(change)
        entries = info["entries"]
        moved = [e["ref"] for e in entries if self._current(e["entity"], e["ref"]) != e["after"]]
        if moved:
            shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
            raise ConflictError(f"change {change} cannot be undone: {shown} changed after it; "
                                "undo the later changes first")
        # Edges before the nodes they join when removing; nodes before their edges when restoring.
        order = {("edge", "create"): 0, ("node", "create"): 1, ("node", "delete"): 2, ("node", "update"): 2,
                 ("edge", "delete"): 3, ("edge", "update"): 3}
        with self.change(actor, f"undo change {change}: {info['summary']}"[:500]) as undoing:
            for entry in sorted(reversed(entries), key=lambda e: order[(e["entity"], e["action"])]):
                entity, before, after = entry["entity"], entry["before"], entry["after"]
                if entity == "node":
                    if entry["action"] == "create":
                        undoing.delete_node(entry["ref"])
                    elif entry["action"] == "delete":
                        undoing.add_node(before)
                    else:
                        undoing.update_node(entry["ref"], {**{k: None for k in after}, **before})
                elif entry["action"] == "create":
                    undoing.delete_edge(after["source"], after["target"])
                elif entry["action"] == "delete":
                    undoing.add_edge(before)
                else:
                    undoing.update_edge(after["source"], after["target"], {**{k: None for k in after}, **before})
            return undoing.id

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed when the block ends, rolled back
        when it raises. Every write of the library goes through here.

        A full disk, a read-only database and a write lock held too long raise the
        :class:`~lineage.errors.StorageError` that names them (nothing was written); the error
        that ended the transaction is the one raised, never a failed second ROLLBACK (SQLite
        rolls some failures back itself).
        """
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the error that ended the transaction is the one to report
                raise
        except sqlite3.Error as error:
            named = storage_error(error, self.path)
            if named is None:
                raise
            raise named from error

    @contextmanager
    def change(self, actor: str, summary: str) -> Iterator["Change"]:
        """One logical change: a transaction that bumps the version and is audited as a whole.

        Nothing is written if the block raises. A block that writes nothing leaves no trace.
        """
        try:
            with self.transaction() as conn:
                version = self.version + 1
                change_id = conn.execute("INSERT INTO changes (version, at, actor, summary) VALUES (?, ?, ?, ?)",
                                         (version, _now(), actor, summary)).lastrowid
                change = Change(self, change_id, version)
                yield change
                if not change.writes:
                    raise _Nothing
                conn.execute("UPDATE meta SET value = ? WHERE key = 'graph_version'", (str(version),))
        except _Nothing:
            pass

    def load(self, data: GraphData, *, actor: str, summary: str) -> LoadSummary:
        """Write validated nodes and edges in one change: new ones added, existing ones replaced.

        Records identical to what is stored are left alone, so loading the same file twice
        changes nothing the second time.
        """
        stored = sum(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("nodes", "edges"))
        bulk = len(data.nodes) + len(data.edges) >= max(BULK_ROWS, stored)
        if bulk:
            # A large load into a small store: a page cache big enough for the tables being
            # written, and no foreign-key look-up per edge (every key comes from the nodes table in
            # this same transaction, so the references hold by construction; and the look-ups
            # into a table bigger than the cache were a third of a million-node load).
            self.conn.execute("PRAGMA cache_size=-1048576")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA temp_store=MEMORY")  # index builds sort in memory, not in temp files
            self.conn.execute("PRAGMA threads=2")  # ... on both cores
        try:
            with gc_paused(), self.change(actor, summary) as change:
                result = change.load(data, rebuild_indexes=bulk)
        finally:
            if bulk:
                for pragma in ("foreign_keys=ON", "cache_size=-2000", "temp_store=DEFAULT", "threads=0"):
                    self.conn.execute(f"PRAGMA {pragma}")
        result.version = self.version
        return result

    def backup(self, path: str | Path) -> None:
        """Copy the database to ``path`` with SQLite's online backup (safe while in use).

        Written to a temporary file beside ``path`` and renamed over it when complete, so a
        failed backup (a full disk) leaves no partial or empty file, and an earlier backup at
        ``path`` stays whole.
        """
        target_path = Path(path)
        folder = target_path.parent if str(target_path.parent) else Path(".")
        temporary = None
        try:
            # mkstemp makes it 0600, like the database: a backup holds the accounts and people's records.
            handle, temporary = tempfile.mkstemp(prefix=f".{target_path.name}.", suffix=".partial", dir=folder)
            os.close(handle)
            target = sqlite3.connect(temporary)
            try:
                self.conn.backup(target)
            finally:
                target.close()
            os.replace(temporary, target_path)
            temporary = None
        except (sqlite3.Error, OSError) as error:
            named = storage_error(error, str(path))
            if isinstance(error, OSError) and error.errno == errno.ENOSPC:
                named = DiskFullError("the disk is full: nothing was written. Free some space and try again")
            kind = type(named) if named is not None else StoreError
            raise kind(f"cannot back up to {path}: {named or getattr(error, 'strerror', None) or error}") from None
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


@dataclass
class Change:
    """The writes of one logical change (see :meth:`Store.change`)."""

    store: Store
    id: int
    version: int
    writes: int = 0
    at: str = field(default_factory=_now)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def _audit(self, entity: str, ref: str, action: str, before: Any, after: Any) -> None:
        self.conn.execute("INSERT INTO audit (change, entity, ref, action, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                          (self.id, entity, ref, action, None if before is None else _dumps(before),
                           None if after is None else _dumps(after)))
        self.writes += 1

    def _key(self, node_id: str) -> tuple[int, str]:
        row = self.conn.execute("SELECT key, kind FROM nodes WHERE id = ?", (node_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no node with id '{node_id}'")
        return row

    @staticmethod
    def _check_version(what: str, expected: int | None, actual: int) -> None:
        if expected is not None and expected != actual:
            raise ConflictError(f"{what} was changed by someone else (you edited version {expected}, "
                                f"it is now at version {actual}); reload and try again",
                                expected=expected, actual=actual)

    # nodes

    def add_node(self, record: Mapping[str, Any]) -> None:
        problems = model.validate_node(dict(record), f"node '{record.get('id')}'")
        if problems:
            raise ValidationError(problems)
        if self.conn.execute("SELECT 1 FROM nodes WHERE id = ?", (record["id"],)).fetchone():
            raise ValidationError(Problem(f"node '{record['id']}'", "a node with this id already exists", "id"))
        self._insert_nodes([native_record(record)])

    def _insert_nodes(self, records: list[dict[str, Any]]) -> int:
        """Insert new nodes, keyed in order from the key returned."""
        first = self.conn.execute("SELECT coalesce(max(key), 0) + 1 FROM nodes").fetchone()[0]
        at = self.at
        self.conn.executemany(
            f"INSERT INTO nodes (key, {', '.join(_NODE_ROW_COLUMNS)}, created, updated, version, created_change) "
            f"VALUES (?, {', '.join('?' * len(_NODE_ROW_COLUMNS))}, ?, ?, 1, {int(self.id)})",
            ((key, *_node_row(record), at, at) for key, record in enumerate(records, first)))
        self.conn.execute("INSERT INTO nodes_fts (rowid, name, description) "
                          "SELECT key, name, description FROM nodes WHERE key >= ?", (first,))
        self.writes += len(records)
        return first

    def _unindex_name(self, node_id: str) -> None:
        """Take a node's name and description out of the full-text index (before it changes or goes)."""
        self.conn.execute("INSERT INTO nodes_fts (nodes_fts, rowid, name, description) "
                          "SELECT 'delete', key, name, description FROM nodes WHERE id = ?", (node_id,))

    def _index_name(self, node_id: str) -> None:
        self.conn.execute("INSERT INTO nodes_fts (rowid, name, description) "
                          "SELECT key, name, description FROM nodes WHERE id = ?", (node_id,))

    def update_node(self, node_id: str, changes: Mapping[str, Any], *, expected_version: int | None = None) -> dict:
        """Set (or, with a value of None, remove) attributes of a node. Its id and kind are fixed."""
        before = self.store.node(node_id)
        self._check_version(f"node '{node_id}'", expected_version, before["version"])
        for fixed in ("id", "kind"):
            if fixed in changes and changes[fixed] != before[fixed]:
                raise ValidationError(Problem(f"node '{node_id}'", f"the {fixed} of a node cannot change", fixed))
        after = {k: v for k, v in {**native_record(before), **changes}.items() if v is not None}
        problems = model.validate_node(after, f"node '{node_id}'")
        if problems:
            raise ValidationError(problems)
        self._replace_node(native_record(before), after, before["version"])
        return self.store.node(node_id)

    def _replace_node(self, before: dict[str, Any], after: dict[str, Any], version: int) -> None:
        changed = _NODE_ROW_COLUMNS[2:]  # all but the id and kind, which never change
        self._unindex_name(after["id"])
        self.conn.execute(f"UPDATE nodes SET {', '.join(f'{c} = ?' for c in changed)}, updated = ?, version = ? "
                          "WHERE id = ?", (*_node_row(after)[2:], self.at, version + 1, after["id"]))
        self._index_name(after["id"])
        self._audit("node", after["id"], "update", before, after)

    def delete_node(self, node_id: str, *, expected_version: int | None = None) -> None:
        """Delete a node and the edges that touch it (each audited)."""
        before = self.store.node(node_id)
        self._check_version(f"node '{node_id}'", expected_version, before["version"])
        for edge in list(self.store.edges(touching=node_id)):
            self.delete_edge(edge["source"], edge["target"])
        self._unindex_name(node_id)
        self.conn.execute("INSERT INTO audit (change, entity, ref, action) SELECT created_change, 'node', id, 'create' "
                          "FROM nodes WHERE id = ? AND created_change IS NOT NULL", (node_id,))
        self.conn.execute("DELETE FROM nodes WHERE id = ?", (node_id,))
        self._audit("node", node_id, "delete", native_record(before), None)

    # edges

    def add_edge(self, record: Mapping[str, Any]) -> None:
        where = f"edge {edge_ref(record.get('source'), record.get('target'))}"
        problems = model.validate_edge(dict(record), where)
        if problems:
            raise ValidationError(problems)
        source_key, source_kind = self._key(record["source"])
        target_key, target_kind = self._key(record["target"])
        message = model.edge_rule_problem(source_kind, target_kind, record["kind"])
        if message:
            raise ValidationError(Problem(where, message, "kind"))
        existing = self.conn.execute("SELECT kind FROM edges WHERE source = ? AND target = ?",
                                     (source_key, target_key)).fetchone()
        if existing:
            raise ValidationError(Problem(where, f"an edge between these nodes already exists ({existing[0]})"))
        self._insert_edges([(source_key, target_key, native_record(record))])

    def _insert_edges(self, rows: list[tuple[int, int, dict[str, Any]]]) -> None:
        """Insert (source key, target key, record) rows, fastest in key order."""
        self.conn.executemany("INSERT INTO edges (source, target, kind, attrs, records, records_with_issues, version, "
                              f"created_change) VALUES (?, ?, ?, ?, ?, ?, 1, {int(self.id)})",
                              ((s, t, *_edge_row(r)) for s, t, r in rows))
        self.writes += len(rows)

    def update_edge(self, source: str, target: str, changes: Mapping[str, Any], *,
                    expected_version: int | None = None) -> dict:
        """Set (None removes) attributes of an edge. Its ends and kind are fixed."""
        before = self.store.edge(source, target)
        where = f"edge {edge_ref(source, target)}"
        self._check_version(where, expected_version, before["version"])
        for fixed in model.EDGE_CORE_FIELDS:
            if fixed in changes and changes[fixed] != before[fixed]:
                raise ValidationError(Problem(where, f"the {fixed} of an edge cannot change; "
                                                     "delete it and add another", fixed))
        after = {k: v for k, v in {**native_record(before), **changes}.items() if v is not None}
        problems = model.validate_edge(after, where)
        if problems:
            raise ValidationError(problems)
        self._replace_edge(native_record(before), after, before["version"])
        return self.store.edge(source, target)

    def _replace_edge(self, before: dict[str, Any], after: dict[str, Any], version: int) -> None:
        source_key, _ = self._key(after["source"])
        target_key, _ = self._key(after["target"])
        self.conn.execute("UPDATE edges SET kind = ?, attrs = ?, records = ?, records_with_issues = ?, version = ? "
                          "WHERE source = ? AND target = ?", (*_edge_row(after), version + 1, source_key, target_key))
        self._audit("edge", edge_ref(after["source"], after["target"]), "update", before, after)

    def delete_edge(self, source: str, target: str, *, expected_version: int | None = None) -> None:
        before = self.store.edge(source, target)
        self._check_version(f"edge {edge_ref(source, target)}", expected_version, before["version"])
        source_key, _ = self._key(source)
        target_key, _ = self._key(target)
        self.conn.execute("INSERT INTO audit (change, entity, ref, action) SELECT created_change, 'edge', ?, 'create' "
                          "FROM edges WHERE source = ? AND target = ? AND created_change IS NOT NULL",
                          (edge_ref(source, target), source_key, target_key))
        self.conn.execute("DELETE FROM edges WHERE source = ? AND target = ?", (source_key, target_key))
        self._audit("edge", edge_ref(source, target), "delete", native_record(before), None)

    # bulk

    def load(self, data: GraphData, *, rebuild_indexes: bool = False) -> LoadSummary:
        """Add or replace validated nodes and edges (see :meth:`Store.load`).

        ``rebuild_indexes`` drops the secondary indexes and builds them again at the end: for a
        load that outnumbers what is stored, sorting once beats a random insert per row.
        """
        summary = LoadSummary()
        if rebuild_indexes:
            for name in _INDEXES:
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        empty = self.conn.execute("SELECT 1 FROM nodes LIMIT 1").fetchone() is None
        existing = {} if empty else {r["id"]: r for r in self.store.nodes(ids=(n["id"] for n in data.nodes))}
        if existing:
            new_nodes = []
            for record in data.nodes:
                record = native_record(record)
                before = existing.get(record["id"])
                if before is None:
                    new_nodes.append(record)
                elif native_record(before) != record:
                    self._replace_node(native_record(before), record, before["version"])
                    summary.nodes_changed += 1
                else:
                    summary.unchanged += 1
        else:
            new_nodes = [native_record(record) for record in data.nodes]
        first_key = self._insert_nodes(new_nodes)
        summary.nodes_added = len(new_nodes)

        # Every edge end as a node key: new nodes have keys in the order they were inserted.
        stored_keys = self._keys_of([i for i in existing] + data.outside)
        if existing:
            new_position = iter(range(first_key, first_key + len(new_nodes)))
            keys = np.fromiter((stored_keys[r["id"]] if r["id"] in existing else next(new_position)
                                for r in data.nodes), dtype=np.int64, count=len(data.nodes))
        else:
            keys = np.arange(first_key, first_key + len(new_nodes), dtype=np.int64)
        keys = np.concatenate([keys, np.array([stored_keys[i] for i in data.outside], dtype=np.int64)])
        sources, targets = keys[data.ends[:, 0]], keys[data.ends[:, 1]]
        order = np.lexsort((targets, sources))  # new edges append in key order to the b-tree
        sources, targets, order = sources[order].tolist(), targets[order].tolist(), order.tolist()
        existing_edges = self._existing_edges(np.asarray(sources))
        edges = data.edges
        if existing_edges:
            new_edges = []
            for source_key, target_key, number in zip(sources, targets, order):
                record = native_record(edges[number])
                before = existing_edges.get((source_key, target_key))
                if before is None:
                    new_edges.append((source_key, target_key, record))
                elif native_record(before) != record:
                    self._replace_edge(native_record(before), record, before["version"])
                    summary.edges_changed += 1
                else:
                    summary.unchanged += 1
        else:
            new_edges = list(zip(sources, targets, (native_record(edges[number]) for number in order)))
        self._insert_edges(new_edges)
        summary.edges_added = len(new_edges)
        if rebuild_indexes:
            _create_indexes(self.conn)
        return summary

    def _keys_of(self, ids: list[str]) -> dict[str, int]:
        keys: dict[str, int] = {}
        for batch in _batched(ids):
            marks = ",".join("?" * len(batch))
            keys.update(self.conn.execute(f"SELECT id, key FROM nodes WHERE id IN ({marks})", batch).fetchall())
        return keys

    def _existing_edges(self, sources: np.ndarray) -> dict[tuple[int, int], dict]:
        """Stored edges out of the given source keys, keyed by (source key, target key)."""
        if not self.conn.execute("SELECT 1 FROM edges LIMIT 1").fetchone():
            return {}
        found = {}
        for batch in _batched(np.unique(sources).tolist()):
            marks = ",".join("?" * len(batch))
            rows = self.conn.execute(
                "SELECT e.source, e.target, s.id, t.id, e.kind, e.attrs, e.version FROM edges e "
                "JOIN nodes s ON s.key = e.source JOIN nodes t ON t.key = e.target "
                f"WHERE e.source IN ({marks})", batch)
            for source_key, target_key, *row in rows:
                found[(source_key, target_key)] = Store._edge_record(row)
        return found


def _batched(items: Sequence[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, _BATCH)):
        yield batch

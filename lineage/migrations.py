"""The database schema, as an ordered list of steps: the store owns every table.

A database records the number of the last step applied (``schema_version`` in the ``meta``
table, the place releases 1 and 2 already kept it). Opening a database applies the steps it has
not had, in order, each in its own transaction with the new number, so an upgrade interrupted
half way resumes where it stopped and never leaves a step half done. A database written by a
newer lineage (a number beyond the last step) is refused rather than guessed at.

Adding a table or a column in a later release
---------------------------------------------
Append a :class:`Step` to :data:`STEPS` with the next number; never edit or reorder a step
that has shipped (databases out there have already run it). A step is SQL statements (no
``executescript``: it would commit half way) and, when it needs Python, a function of the
connection. For example, session generations and token expiry::

    Step(8, "accounts: a session generation per account, token expiry", (
        "ALTER TABLE users ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tokens ADD COLUMN expires TEXT",
    )),

Steps 3 to 6 create tables that release 2 created on first use, so they say ``IF NOT EXISTS``:
an upgraded database may have some of them already. A new table or column needs no such care.

>>> import sqlite3
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> [step.number for step in migrate(conn, "test")] == list(range(1, LATEST + 1))
True
>>> migrate(conn, "test"), schema_version(conn) == LATEST
([], True)
>>> schema_version(conn) == LATEST
True
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import StoreError

ENGINE_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    owner TEXT,
    organisation TEXT,
    attrs TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_change INTEGER,  -- the change that created it (its creation is not repeated in audit)
    -- Copies of attributes, kept by the store on every write, so that the query engine reads
    -- numbers, not JSON: a decision's reach, and a dataset's weakest quality dimension (a model
    -- rule, lineage.model.weakest_dimension).
    people_affected REAL,
    value_gbp REAL,
    quality_dimension TEXT,
    quality_score REAL,
    quality_rag TEXT
);
CREATE TABLE IF NOT EXISTS edges (
    source INTEGER NOT NULL REFERENCES nodes(key),
    target INTEGER NOT NULL REFERENCES nodes(key),
    kind TEXT NOT NULL,
    attrs TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 1,
    created_change INTEGER,         -- the change that created it (its creation is not repeated in audit)
    records INTEGER,                -- copies of an enters edge's attributes, for the query engine
    records_with_issues INTEGER,
    PRIMARY KEY (source, target)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    change INTEGER NOT NULL REFERENCES changes(id),
    entity TEXT NOT NULL,
    ref TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT
);
-- The full-text index of names and descriptions, kept by the store (no triggers: a trigger per
-- row made loading eight times slower).
CREATE VIRTUAL TABLE IF NOT EXISTS nodes_fts USING FTS5 (
    name, description, tokenize='unicode61 remove_diacritics 2', content="nodes"
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('graph_version', '0');
"""

INDEXES: dict[str, str] = {
    "nodes_kind": "nodes(kind)", "nodes_owner": "nodes(owner)", "edges_target": "edges(target)",
    "audit_ref": "audit(ref)", "audit_change": "audit(change)",
    "nodes_created": "nodes(created_change)", "edges_created": "edges(created_change)",
}
"""Secondary indexes of the graph tables. A large load drops and rebuilds them (sorting once beats
a random insert per row), so they are named here for the store as well as for step 2."""

ACCOUNT_TABLES = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    person TEXT,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    label TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    last_used TEXT
);
CREATE TABLE IF NOT EXISTS account_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL
);
"""

LOOP_TABLES = """
CREATE TABLE IF NOT EXISTS outcome_updates (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,          -- a decision or AI tool node id
    author TEXT NOT NULL,           -- the account that posted it
    text TEXT NOT NULL,
    figures TEXT NOT NULL DEFAULT '{}',
    date TEXT NOT NULL,             -- when the outcome happened (ISO date)
    created TEXT NOT NULL,
    edited TEXT,                    -- the last edit, if any
    editor TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS outcome_updates_subject ON outcome_updates(subject, created);
CREATE INDEX IF NOT EXISTS outcome_updates_created ON outcome_updates(created);
CREATE TABLE IF NOT EXISTS update_revisions (
    id INTEGER PRIMARY KEY,
    update_id INTEGER NOT NULL REFERENCES outcome_updates(id),
    version INTEGER NOT NULL,       -- 1 is the post, each edit adds the next
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    figures TEXT NOT NULL,
    date TEXT NOT NULL,
    UNIQUE (update_id, version)
);
CREATE TABLE IF NOT EXISTS flags (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    dimension TEXT,                 -- one of model.QUALITY_DIMENSIONS, or NULL
    text TEXT NOT NULL,
    records INTEGER,
    flagger TEXT NOT NULL,          -- the account that raised it
    flagger_person TEXT,            -- the person it was linked to then
    status TEXT NOT NULL DEFAULT 'open',
    reply TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flags_dataset ON flags(dataset, status);
CREATE INDEX IF NOT EXISTS flags_flagger ON flags(flagger, created);
CREATE INDEX IF NOT EXISTS flags_status ON flags(status, created);
CREATE TABLE IF NOT EXISTS flag_events (
    id INTEGER PRIMARY KEY,
    flag INTEGER NOT NULL REFERENCES flags(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    status_from TEXT,               -- NULL for the raising of the flag
    status_to TEXT NOT NULL,
    reply TEXT,
    score REAL,                     -- a quality score recorded with a fix
    change INTEGER                  -- the graph change that recorded it
);
CREATE INDEX IF NOT EXISTS flag_events_flag ON flag_events(flag, id);
CREATE INDEX IF NOT EXISTS flag_events_at ON flag_events(at);
CREATE TABLE IF NOT EXISTS last_visits (
    account TEXT NOT NULL,
    page TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (account, page)
);
"""

OPENLINEAGE_TABLES = """
CREATE TABLE IF NOT EXISTS openlineage_registers (
    node TEXT NOT NULL,
    slot TEXT NOT NULL,
    time TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (node, slot)
) WITHOUT ROWID;
"""


OPENLINEAGE_KEPT_TABLES = """
CREATE TABLE openlineage_events (
    id INTEGER PRIMARY KEY,          -- arrival order: the oldest are dropped first
    digest TEXT NOT NULL UNIQUE,     -- of the JSON: the same event sent twice is kept once
    received TEXT NOT NULL,
    event_time TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    document BLOB NOT NULL
);
CREATE TABLE openlineage_aliases (
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    node TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) WITHOUT ROWID;
CREATE INDEX openlineage_aliases_node ON openlineage_aliases (node);
CREATE INDEX openlineage_aliases_name ON openlineage_aliases (name COLLATE NOCASE);
"""
"""OpenLineage events kept as they came (lineage.io.openlineage_kept), bounded, for re-deriving; and
the other names of datasets (symlinks, renames: lineage.io.openlineage_names)."""


LEADER_VIEW_TABLES = """
CREATE TABLE IF NOT EXISTS materialised (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    computed_at TEXT NOT NULL,
    seconds REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS materialised_decisions (
    id TEXT PRIMARY KEY, name TEXT, decision_type TEXT, organisation TEXT, frequency TEXT,
    people_affected INTEGER, value_gbp REAL, human_in_loop INTEGER, ai_involved INTEGER, ai_earlier_only TEXT,
    confidence TEXT, confidence_key REAL, weakest_dataset TEXT, weakest_dataset_name TEXT,
    weakest_dimension TEXT, weakest_score REAL, owner TEXT, owner_name TEXT,
    digest INTEGER NOT NULL
) WITHOUT ROWID;
"""
"""The leader views (:mod:`lineage.materialised`), as release 2 wrote them."""

DECISION_VIEW_TABLE = """
DROP TABLE IF EXISTS materialised_decisions;
CREATE TABLE materialised_decisions (
    id TEXT PRIMARY KEY, name TEXT, decision_type TEXT, organisation TEXT, frequency TEXT, frequency_band TEXT,
    people_affected INTEGER, value_gbp REAL, human_in_loop INTEGER, ai_involved INTEGER, ai_earlier_only INTEGER,
    confidence TEXT, confidence_key REAL, weakest_dataset TEXT, weakest_dataset_name TEXT,
    weakest_dimension TEXT, weakest_score REAL, owner TEXT, owner_name TEXT,
    digest INTEGER NOT NULL
) WITHOUT ROWID;
"""
"""The decisions table of the leader views with this release's figures: one column per field of
:class:`lineage.insights.DecisionRow` (AI only behind earlier decisions is a flag, and each row's
data confidence follows lineage.confidence). A later change to those fields needs a step of its own
that drops and creates ``materialised_decisions`` again, then recomputes (``then=_clear_leader_views,
recompute=True``): the table is a cache of figures, so nothing is lost. ``tests/test_reliability.py``
fails until it is added."""


BAND_CHANGE_TABLE = """
CREATE TABLE IF NOT EXISTS materialised_band_changes (
    seq INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    owner TEXT,
    owner_name TEXT,
    people_affected INTEGER,
    value_gbp REAL,
    band_from TEXT,
    band_to TEXT,
    dataset_from TEXT,
    dataset_name_from TEXT,
    dimension_from TEXT,
    score_from REAL,
    dataset_to TEXT,
    dataset_name_to TEXT,
    dimension_to TEXT,
    score_to REAL
);
CREATE INDEX IF NOT EXISTS materialised_band_changes_at ON materialised_band_changes (at);
CREATE INDEX IF NOT EXISTS materialised_band_changes_version ON materialised_band_changes (version);
"""
"""Decisions whose data confidence band moved at a refresh of the leader views, and why (the
leader's home and digests read it)."""

PASSWORD_LINK_TABLE = """
CREATE TABLE password_links (
    digest TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX password_links_user ON password_links (user)
"""
"""One-time set-password links an admin made for an account (a digest of the secret, as for tokens)."""


def _statements(script: str) -> tuple[str, ...]:
    """A script as its statements (no semicolons inside our statements or comments)."""
    return tuple(s.strip() for s in script.split(";") if s.strip() and not _only_comments(s))


def _only_comments(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


def _clear_leader_views(conn: sqlite3.Connection) -> None:
    """Forget the stored leader views: they were computed by an older definition of the figures.
    :meth:`lineage.store.Store.recompute_leader_views` computes them again after the upgrade."""
    conn.execute("DELETE FROM materialised")
    conn.execute("DELETE FROM materialised_decisions")


@dataclass(frozen=True)
class Step:
    """One change to the schema: its number, what it does, its statements and (optionally) a
    function of the connection run after them, in the same transaction. ``recompute`` marks a
    step after which the leader views must be computed again (see :func:`migrate`)."""

    number: int
    summary: str
    statements: Sequence[str] = ()
    then: Callable[[sqlite3.Connection], None] | None = None
    recompute: bool = False


STEPS: tuple[Step, ...] = (
    Step(1, "the graph: nodes, edges, changes, audit, meta and the full-text index", _statements(ENGINE_TABLES)),
    Step(2, "index what each change created, and the graph's other secondary indexes",
         tuple(f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in INDEXES.items())),
    Step(3, "accounts: users, tokens and the account log", _statements(ACCOUNT_TABLES)),
    Step(4, "the loop: outcome updates and their revisions, flags and their events, last visits",
         _statements(LOOP_TABLES)),
    Step(5, "the materialised leader views", _statements(LEADER_VIEW_TABLES)),
    Step(6, "OpenLineage registers", _statements(OPENLINEAGE_TABLES)),
    Step(7, "the leader views with this release's figures (one data confidence definition, no sums)",
         _statements(DECISION_VIEW_TABLE), then=_clear_leader_views, recompute=True),
    Step(8, "accounts: a session generation per account (signing out ends every session), token expiry",
         ("ALTER TABLE users ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0",
          "ALTER TABLE tokens ADD COLUMN expires TEXT")),
    Step(9, "the leader views' log of decisions that changed band", _statements(BAND_CHANGE_TABLE)),
    Step(10, "accounts: disabled accounts and one-time set-password links",
         ("ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0", *_statements(PASSWORD_LINK_TABLE))),
    Step(11, "OpenLineage events kept as they came, for re-deriving; datasets' other names",
         _statements(OPENLINEAGE_KEPT_TABLES)),
)
"""Every step, in order; a step's number is its position (checked below)."""
LATEST = STEPS[-1].number
assert [step.number for step in STEPS] == list(range(1, len(STEPS) + 1)), "steps are numbered 1, 2, 3, ..."


def schema_version(conn: sqlite3.Connection) -> int:
    """The last step applied to a database (0 for an empty database).

    Raises
    ------
    StoreError
        For an SQLite database that is not a lineage database.
    """
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return 0
    if "meta" not in tables:
        raise StoreError("an SQLite database but not a lineage database")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    # Release 1 wrote its schema_version row last: a database without it was never finished.
    return int(row[0]) if row else 0


def pending(conn: sqlite3.Connection, where: str) -> list[Step]:
    """The steps a database has not had, in order."""
    version = schema_version(conn)
    if version > LATEST:
        raise StoreError(f"{where} has schema version {version}, written by a newer lineage; this lineage "
                         f"knows versions up to {LATEST}: upgrade lineage to open it")
    return [step for step in STEPS if step.number > version]


def migrate(conn: sqlite3.Connection, where: str) -> list[Step]:
    """Apply the steps a database has not had, each in a transaction of its own; return them.

    ``conn`` must be in autocommit mode (``isolation_level=None``), outside any transaction.
    """
    applied = []
    for step in pending(conn, where):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) >= step.number:  # another process applied it meanwhile
                conn.execute("ROLLBACK")
                continue
            for statement in step.statements:
                conn.execute(statement)
            if step.then is not None:
                step.then(conn)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(step.number),))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(step)
    return applied

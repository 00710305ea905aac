"""Accounts, their roles and API tokens, kept in the lineage database beside the graph.

Passwords are stored as werkzeug scrypt hashes; API tokens as SHA-256 digests (a token is a
random 32-byte secret, so a fast digest is enough and look-up stays one indexed query). The
secret itself is shown once, when it is made. Account changes are logged in ``account_log``
(who, when, what), apart from the graph's audit, because they do not change the graph.

Examples
--------
>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> with store.change("setup", "add Jo") as change:
...     change.add_node({"id": "owner-jo", "kind": "person", "name": "Jo Smith"})
>>> accounts = Accounts(store)
>>> accounts.add("jo", "correct horse battery", role="owner", person="owner-jo", actor="setup")["role"]
'owner'
>>> accounts.verify("jo", "correct horse battery")["person"]
'owner-jo'
>>> accounts.verify("jo", "wrong") is None
True
"""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import NotFoundError, Problem, ValidationError
from .policy import ROLES, Actor
from .store import Store

MIN_PASSWORD = 10
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "lin_"

_SCHEMA = """
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
_LINKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS password_links (
    digest TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
"""
LINK_HOURS = 72
"""How long a set-password link works: three days, and once."""
_FIELDS = ("name", "role", "person", "created", "updated", "disabled")

# Checked against when a name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def actor_of(user: dict[str, Any]) -> Actor:
    """The policy's view of an account."""
    return Actor(user["name"], user["role"], person=user.get("person"))


class Accounts:
    """The accounts in one lineage database (tables created on first use)."""

    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'users'").fetchone():
            self.conn.executescript(_SCHEMA)
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'password_links'").fetchone():
            self.conn.executescript(_LINKS_SCHEMA)
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(users)")}
        if "disabled" not in columns:  # a database from before accounts could be disabled
            self.conn.execute("ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")

    # reading

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM users").fetchone()[0]

    @staticmethod
    def _user(row: tuple) -> dict[str, Any]:
        user = dict(zip(_FIELDS, row))
        user["disabled"] = bool(user["disabled"])
        return user

    def list(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(f"SELECT {', '.join(_FIELDS)} FROM users ORDER BY name")
        return [self._user(row) for row in rows]

    def get(self, name: str) -> dict[str, Any]:
        row = self.conn.execute(f"SELECT {', '.join(_FIELDS)} FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no account called '{name}'")
        return self._user(row)

    def active(self, name: str) -> dict[str, Any] | None:
        """The account if it exists and is not disabled, else None (a session of it ends)."""
        try:
            user = self.get(name)
        except NotFoundError:
            return None
        return None if user["disabled"] else user

    def verify(self, name: str, password: str) -> dict[str, Any] | None:
        """The account, if ``password`` is its password and it is not disabled; otherwise None
        (in the same time)."""
        row = self.conn.execute("SELECT password_hash, disabled FROM users WHERE name = ?", (name,)).fetchone()
        matches = check_password_hash(row[0] if row else _DUMMY_HASH, password)
        return self.get(name) if row and matches and not row[1] else None

    def user_for_token(self, secret: str) -> dict[str, Any] | None:
        """The account a token belongs to (and notes its use, to the minute), or None.

        A pipeline may send hundreds of requests a second with one token: its use is written at
        most once a minute, so that reading a token is not a write to the database each time.
        """
        row = self.conn.execute("SELECT id, user, last_used FROM tokens WHERE digest = ?",
                                (_digest(secret),)).fetchone()
        if row is None:
            return None
        now = _now()
        user = self.active(row[1])
        if user is None:  # a disabled account's tokens stop working with it
            return None
        if row[2] is None or row[2][:16] != now[:16]:  # ISO time to the minute
            self.conn.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now, row[0]))
        return user

    def tokens(self, name: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT id, label, created, last_used FROM tokens WHERE user = ? ORDER BY id",
                                 (name,))
        return [dict(zip(("id", "label", "created", "last_used"), row)) for row in rows]

    def log(self, *, user: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Account changes, newest first: all of them, or one account's."""
        where, args = ("WHERE user = ?", [user]) if user else ("", [])
        rows = self.conn.execute(f"SELECT at, actor, user, action FROM account_log {where} ORDER BY id DESC LIMIT ?",
                                 [*args, limit])
        return [dict(zip(("at", "actor", "user", "action"), row)) for row in rows]

    # checking

    def _check(self, *, name: str | None = None, role: str | None = None, password: str | None = None,
               person: str | None = None) -> None:
        problems = []
        where = f"account '{name}'" if name else "account"
        if name is not None and not NAME_PATTERN.match(name):
            problems.append(Problem(where, "use 2 to 64 lower-case letters, digits, '.', '_' or '-', "
                                           "starting with a letter or digit", "name"))
        if role is not None and role not in ROLES:
            problems.append(Problem(where, f"'{role}' is not a role; use one of {', '.join(ROLES)}", "role"))
        if password is not None and len(password) < MIN_PASSWORD:
            problems.append(Problem(where, f"a password needs at least {MIN_PASSWORD} characters", "password"))
        if person:
            found = self.conn.execute("SELECT kind FROM nodes WHERE id = ?", (person,)).fetchone()
            if found is None or found[0] != "person":
                problems.append(Problem(where, f"'{person}' is not a person in the graph", "person"))
        if problems:
            raise ValidationError(problems)

    @contextmanager
    def _logged(self, actor: str, name: str, action: str) -> Iterator[sqlite3.Connection]:
        """One transaction that writes an account change and its log line."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("INSERT INTO account_log (at, actor, user, action) VALUES (?, ?, ?, ?)",
                              (_now(), actor, name, action))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _write(self, actor: str, name: str, action: str, sql: str, args: tuple) -> None:
        with self._logged(actor, name, action) as conn:
            if conn.execute(sql, args).rowcount == 0:
                raise NotFoundError(f"there is no account called '{name}'")

    # writing

    def add(self, name: str, password: str | None, *, role: str, person: str | None = None,
            actor: str) -> dict[str, Any]:
        """Add an account. With ``password`` None nobody can sign in to it until a set-password
        link (:meth:`new_password_link`) is used."""
        self._check(name=name, role=role, password=password, person=person)
        if self.conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise ValidationError(Problem(f"account '{name}'", "an account with this name already exists", "name"))
        now = _now()
        secret = password if password is not None else secrets.token_urlsafe(48)  # known to nobody
        self._write(actor, name, f"added as {role}", "INSERT INTO users (name, role, person, password_hash, created, "
                    "updated) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, role, person or None, generate_password_hash(secret), now, now))
        return self.get(name)

    def set_disabled(self, name: str, disabled: bool, *, actor: str) -> dict[str, Any]:
        """Disable an account (nobody can sign in to it or use its tokens; its sessions end) or
        enable it again."""
        if disabled and name == actor:
            raise ValidationError(Problem(f"account '{name}'", "you cannot disable your own account", "name"))
        self._write(actor, name, "disabled" if disabled else "enabled",
                    "UPDATE users SET disabled = ?, updated = ? WHERE name = ?", (int(disabled), _now(), name))
        return self.get(name)

    def new_password_link(self, name: str, *, actor: str, hours: int = LINK_HOURS) -> str:
        """A one-time secret with which the account's person sets their own password (within
        ``hours``). Earlier links of the account stop working. The secret is returned once."""
        self.get(name)
        secret = secrets.token_urlsafe(32)
        created = datetime.now(timezone.utc)
        expires = (created + timedelta(hours=hours)).isoformat(timespec="seconds")
        with self._logged(actor, name, f"set-password link made (works for {hours} hours, once)") as conn:
            conn.execute("DELETE FROM password_links WHERE user = ?", (name,))
            conn.execute("INSERT INTO password_links (digest, user, created, expires) VALUES (?, ?, ?, ?)",
                         (_digest(secret), name, created.isoformat(timespec="seconds"), expires))
        return secret

    def link_user(self, secret: str) -> dict[str, Any] | None:
        """The account a set-password link is for, while it works; else None."""
        row = self.conn.execute("SELECT user, expires FROM password_links WHERE digest = ?",
                                (_digest(secret),)).fetchone()
        if row is None or row[1] <= _now():
            return None
        return self.get(row[0])

    def use_password_link(self, secret: str, password: str) -> dict[str, Any]:
        """Set the password with a set-password link, which then stops working."""
        user = self.link_user(secret)
        if user is None:
            raise NotFoundError("this link has expired or was already used: ask an admin for a new one")
        self._check(password=password)
        with self._logged(user["name"], user["name"], "password set with a set-password link") as conn:
            conn.execute("DELETE FROM password_links WHERE user = ?", (user["name"],))
            conn.execute("UPDATE users SET password_hash = ?, updated = ? WHERE name = ?",
                         (generate_password_hash(password), _now(), user["name"]))
        return self.get(user["name"])

    def set_role(self, name: str, role: str, *, actor: str) -> dict[str, Any]:
        self._check(role=role)
        self._write(actor, name, f"role set to {role}", "UPDATE users SET role = ?, updated = ? WHERE name = ?",
                    (role, _now(), name))
        return self.get(name)

    def link_person(self, name: str, person: str | None, *, actor: str) -> dict[str, Any]:
        self._check(person=person)
        self._write(actor, name, f"linked to {person}" if person else "unlinked",
                    "UPDATE users SET person = ?, updated = ? WHERE name = ?", (person or None, _now(), name))
        return self.get(name)

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        self._check(password=password)
        self._write(actor, name, "password changed", "UPDATE users SET password_hash = ?, updated = ? "
                    "WHERE name = ?", (generate_password_hash(password), _now(), name))

    def remove(self, name: str, *, actor: str) -> None:
        with self._logged(actor, name, "removed") as conn:
            conn.execute("DELETE FROM tokens WHERE user = ?", (name,))
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise NotFoundError(f"there is no account called '{name}'")

    def new_token(self, name: str, label: str, *, actor: str) -> str:
        """Make an API token for an account; the secret is returned once and never stored."""
        self.get(name)
        label = label.strip() or "API token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._logged(actor, name, f"token '{label[:100]}' made") as conn:
            conn.execute("INSERT INTO tokens (user, label, digest, created) VALUES (?, ?, ?, ?)",
                         (name, label[:100], _digest(secret), _now()))
        return secret

    def revoke_token(self, name: str, token_id: int, *, actor: str) -> None:
        self._write(actor, name, f"token {token_id} revoked", "DELETE FROM tokens WHERE user = ? AND id = ?",
                    (name, token_id))


DEMO_ACCOUNTS = (
    ("ali", "contributor", "officer-ali", "contributor-demo"),
    ("jo", "owner", "owner-jo", "owner-demo-pass"),
    ("rob", "leader", "finance-director-rob", "leader-demo-pass"),
    ("admin", "admin", None, "admin-demo-pass"),
)
"""Demo accounts for trying every journey on the sample graphs: (name, role, person, password).
The passwords are published in the README: never create these on a real deployment."""


def ensure_demo_accounts(accounts: Accounts, *, actor: str) -> list[dict[str, Any]]:
    """Create the demo accounts that are missing (linking a person only if the samples hold it);
    every demo account with its password, for printing."""
    shown = []
    for name, role, person, password in DEMO_ACCOUNTS:
        linked = person if person and accounts.store.conn.execute(
            "SELECT 1 FROM nodes WHERE id = ? AND kind = 'person'", (person,)).fetchone() else None
        try:
            accounts.get(name)
        except NotFoundError:
            accounts.add(name, password, role=role, person=linked, actor=actor)
        shown.append({"name": name, "role": role, "person": linked, "password": password})
    return shown

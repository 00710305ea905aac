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
from functools import lru_cache
from importlib import resources
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import NotFoundError, Problem, ValidationError
from .policy import ROLES, Actor
from .store import Store, storage_error

MIN_PASSWORD = 12
"""Characters a password needs at least (NCSC guidance: length beats complexity rules)."""
MAX_TOKEN_DAYS = 3650
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "lin_"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Passwords too common to accept (``common_passwords.txt``, lower case, one a line)."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """What is wrong with ``password`` as a new password (None if nothing): too short, or one
    of the passwords everyone tries first (a list, and any made of fewer than four characters)."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) < 4:
        return "that password is one of the most common ones: choose another, such as three random words"
    return None


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
    """The accounts in one lineage database (tables ``users``, ``tokens`` and ``account_log``,
    created by the store: :mod:`lineage.migrations`)."""

    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn

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
        """The account, with its session generation (``sessions``), if ``password`` is its
        password and it is not disabled; otherwise None (in the same time)."""
        row = self.conn.execute("SELECT password_hash, sessions, disabled FROM users WHERE name = ?",
                                (name,)).fetchone()
        matches = check_password_hash(row[0] if row else _DUMMY_HASH, password)
        return {**self.get(name), "sessions": row[1]} if row and matches and not row[2] else None

    def in_session(self, name: str, generation: int) -> dict[str, Any] | None:
        """The account a session cookie names, if the cookie's session generation is still the
        account's and the account is not disabled: signing out, changing the password and
        disabling move the generation on, ending older sessions."""
        row = self.conn.execute("SELECT sessions, disabled FROM users WHERE name = ?", (name,)).fetchone()
        if row is None or row[0] != generation or row[1]:
            return None
        return self.get(name)

    def end_sessions(self, name: str, *, actor: str, why: str = "signed out") -> int:
        """End every session of an account (cookies made before stop working); the new generation."""
        self._write(actor, name, f"{why}: every session ended",
                    "UPDATE users SET sessions = sessions + 1 WHERE name = ?", (name,))
        return self.conn.execute("SELECT sessions FROM users WHERE name = ?", (name,)).fetchone()[0]

    def user_for_token(self, secret: str) -> dict[str, Any] | None:
        """The account a token belongs to (and notes its use, to the minute), or None for an
        unknown or expired token.

        A pipeline may send hundreds of requests a second with one token: its use is written at
        most once a minute, so that reading a token is not a write to the database each time.
        """
        row = self.conn.execute("SELECT id, user, last_used, expires FROM tokens WHERE digest = ?",
                                (_digest(secret),)).fetchone()
        now = _now()
        if row is None or (row[3] is not None and row[3] <= now):
            return None
        user = self.active(row[1])
        if user is None:  # a disabled account's tokens stop working with it
            return None
        if (row[2] is None or row[2][:16] != now[:16]) and not self.store.read_only:  # ISO time to the minute
            try:
                self.conn.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now, row[0]))
            except sqlite3.OperationalError as error:
                # Noting the use is bookkeeping: a full disk or a busy database does not refuse a valid token.
                if storage_error(error) is None:
                    raise
        return user

    def tokens(self, name: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT id, label, created, last_used, expires FROM tokens WHERE user = ? "
                                 "ORDER BY id", (name,))
        now = _now()
        return [{**dict(zip(("id", "label", "created", "last_used", "expires"), row)),
                 "expired": row[4] is not None and row[4] <= now} for row in rows]

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
        weak = password_problem(password) if password is not None else None
        if weak:
            problems.append(Problem(where, weak, "password"))
        if person:
            found = self.conn.execute("SELECT kind FROM nodes WHERE id = ?", (person,)).fetchone()
            if found is None or found[0] != "person":
                problems.append(Problem(where, f"'{person}' is not a person in the graph", "person"))
        if problems:
            raise ValidationError(problems)

    @contextmanager
    def _logged(self, actor: str, name: str, action: str) -> Iterator[sqlite3.Connection]:
        """One transaction that writes an account change and its log line."""
        with self.store.transaction() as conn:
            yield conn
            conn.execute("INSERT INTO account_log (at, actor, user, action) VALUES (?, ?, ?, ?)",
                         (_now(), actor, name, action))

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
        # Disabling moves the session generation on too, so enabling again does not revive old sessions.
        self._write(actor, name, "disabled; every session ended" if disabled else "enabled",
                    "UPDATE users SET disabled = ?, updated = ?, sessions = sessions + ? WHERE name = ?",
                    (int(disabled), _now(), int(disabled), name))
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
        with self._logged(user["name"], user["name"], "password set with a set-password link; every session ended") \
                as conn:
            conn.execute("DELETE FROM password_links WHERE user = ?", (user["name"],))
            conn.execute("UPDATE users SET password_hash = ?, updated = ?, sessions = sessions + 1 WHERE name = ?",
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

    def set_password(self, name: str, password: str, *, actor: str) -> int:
        """Set a password and end every session of the account (whoever knew the old password
        may be signed in somewhere); the new session generation."""
        problem = password_problem(password)
        if problem:
            raise ValidationError(Problem(f"account '{name}'", problem, "password"))
        self._write(actor, name, "password changed; every session ended",
                    "UPDATE users SET password_hash = ?, updated = ?, sessions = sessions + 1 WHERE name = ?",
                    (generate_password_hash(password), _now(), name))
        return self.conn.execute("SELECT sessions FROM users WHERE name = ?", (name,)).fetchone()[0]

    def remove(self, name: str, *, actor: str) -> None:
        with self._logged(actor, name, "removed") as conn:
            conn.execute("DELETE FROM tokens WHERE user = ?", (name,))
            conn.execute("DELETE FROM password_links WHERE user = ?", (name,))
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise NotFoundError(f"there is no account called '{name}'")

    def new_token(self, name: str, label: str, *, actor: str, expires_in: int | None = None) -> str:
        """Make an API token for an account; the secret is returned once and never stored.
        ``expires_in`` days from now it stops working (None: it works until revoked)."""
        self.get(name)
        if expires_in is not None and not (isinstance(expires_in, int) and 1 <= expires_in <= MAX_TOKEN_DAYS):
            raise ValidationError(Problem(f"token for '{name}'", f"a token expires in 1 to {MAX_TOKEN_DAYS} days; "
                                                                 f"got {expires_in!r}", "expires_in"))
        label = label.strip() or "API token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        expires = (now + timedelta(days=expires_in)).isoformat(timespec="seconds") if expires_in else None
        with self._logged(actor, name, f"token '{label[:100]}' made" + (f", expiring {expires}" if expires else "")) \
                as conn:
            conn.execute("INSERT INTO tokens (user, label, digest, created, expires) VALUES (?, ?, ?, ?, ?)",
                         (name, label[:100], _digest(secret), now.isoformat(timespec="seconds"), expires))
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

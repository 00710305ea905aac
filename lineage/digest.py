"""The digest: what is new for one contributor since a date, as a page and as a plain-text email.

A person's digest holds the outcome updates posted since then on decisions and AI tools their
records reach (each with the path that connects them), the answers owners gave to the flags they
raised, and, for owners, the flags raised on the datasets they own. :func:`digests` finds everyone
with something new (one reverse traversal from the updated decisions, not one per person);
:func:`send_digests` sends each as an email over SMTP, or, without SMTP configured, writes each as
an ``.eml`` file to an outbox folder.

Configuration, read from the environment (or a mapping passed as ``env``):

=========================  =============================================================
``LINEAGE_SMTP_HOST``      the SMTP server; unset means "write to the outbox instead"
``LINEAGE_SMTP_PORT``      default 587 with STARTTLS, else 25
``LINEAGE_SMTP_USER``      log in with this user (and ``LINEAGE_SMTP_PASSWORD``), if set
``LINEAGE_SMTP_FROM``      the From address, default ``lineage@localhost``
``LINEAGE_SMTP_STARTTLS``  ``1`` (or true, yes, on) to upgrade the connection with STARTTLS
``LINEAGE_OUTBOX``         the outbox folder, default ``outbox`` beside the database
=========================  =============================================================

A message goes to the person's ``contact`` attribute when it looks like an email address;
anyone without one is skipped and reported.
"""
from __future__ import annotations

import email.policy
import os
import re
import smtplib
import ssl
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import loop, materialised, private
from .accounts import Accounts
from .describe import plural
from .errors import LineageError, NotFoundError
from .graph import LineageGraph
from .store import Store

EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[^@\s<>,;\"()]+$")
"""What counts as an email address in a person's ``contact``."""
DEFAULT_SENDER = "lineage@localhost"
WIDTH = 76


@dataclass
class Digest:
    """What is new for one person (or an account linked to no person) since ``since``."""

    since: str
    person: dict[str, Any] | None  # id, name, contact (None for an account linked to no person)
    accounts: list[str]
    updates: list[dict[str, Any]] = field(default_factory=list)
    flag_replies: list[dict[str, Any]] = field(default_factory=list)
    new_flags: list[dict[str, Any]] = field(default_factory=list)
    band_changes: list[dict[str, Any]] = field(default_factory=list)
    """For leaders: decisions whose data confidence band changed since then, and why
    (:func:`lineage.materialised.band_changes`)."""

    @property
    def empty(self) -> bool:
        return not (self.updates or self.flag_replies or self.new_flags or self.band_changes)

    @property
    def who(self) -> str:
        """The person's id, or the account's name."""
        return self.person["id"] if self.person else self.accounts[0]

    @property
    def address(self) -> str | None:
        """The person's contact, if it looks like an email address."""
        contact = (self.person or {}).get("contact")
        return contact.strip() if isinstance(contact, str) and EMAIL_PATTERN.match(contact.strip()) else None

    def as_dict(self) -> dict[str, Any]:
        person = {k: v for k, v in self.person.items() if k != "contact"} if self.person else None
        return {"since": self.since, "person": person, "accounts": self.accounts, "updates": self.updates,
                "flag_replies": self.flag_replies, "new_flags": self.new_flags, "band_changes": self.band_changes}


def _person(g: LineageGraph, person_id: str) -> dict[str, Any]:
    record = g.record(person_id)
    return {"id": person_id, "name": record["name"], "contact": record.get("contact")}


def _accounts_of(store: Store, person: str) -> list[str]:
    """The accounts linked to a person (the accounts table exists: ``Accounts`` made it)."""
    return [name for (name,) in store.conn.execute("SELECT name FROM users WHERE person = ? ORDER BY name",
                                                   (person,))]


def digest_for(g: LineageGraph, store: Store, who: str, since: str | Date | datetime, *,
               limit: int = 50) -> Digest:
    """The digest of a person (a person node id) or of an account (its name), since ``since``.

    An account's digest is its person's (every account linked to that person counts for flag
    replies); an account linked to no person gets only the answers to its own flags.
    """
    since_at = loop.instant(since)
    accounts = Accounts(store)
    if who in g and g.kind(who) == "person":
        person_id: str | None = who
        names = _accounts_of(store, who)
    else:
        try:
            account = accounts.get(who)
        except NotFoundError:
            raise NotFoundError(f"there is no person or account called '{who}'") from None
        person_id = account["person"] if account["person"] in g else None
        names = (_accounts_of(store, person_id) if person_id else []) or [who]
    digest = Digest(since=since_at, person=_person(g, person_id) if person_id else None, accounts=sorted(names))
    if person_id:
        digest.updates = loop.updates_for_person(g, store, person_id, since=since_at, limit=limit)
        digest.new_flags = loop.list_flags(store, owner=person_id, since=since_at, limit=limit)
    digest.flag_replies = loop.flag_events_since(store, since_at, flaggers=digest.accounts, person=person_id)[:limit]
    roles = {a["name"]: a["role"] for a in accounts.list()}
    if any(roles.get(name) == LEADER for name in digest.accounts):
        digest.band_changes = [c.as_dict() for c in materialised.band_changes(store, since=since_at, limit=limit)]
    return digest


LEADER = "leader"
"""The role whose digests list the decisions that changed band."""


def digests(g: LineageGraph, store: Store, since: str | Date | datetime, *, limit: int = 50) -> list[Digest]:
    """The digest of everyone with something new since ``since``, by person id (then accounts
    linked to no person): contributors upstream of an update, flaggers answered, owners flagged."""
    since_at = loop.instant(since)
    people: set[str] = set()
    subjects = [u["subject"] for u in loop.recent_updates(store, since_at) if u["subject"] in g]
    if subjects:
        reach = g.bfs(np.array(sorted({g.position(s) for s in subjects}), dtype=np.int64), reverse=True)
        people.update(reach.of_kind("person").ids())
    account_people = {a["name"]: a["person"] for a in Accounts(store).list()}
    orphans: set[str] = set()
    for event in loop.flag_events_since(store, since_at):
        flagger = event["flag"]["flagger"]
        person = account_people.get(flagger) or event["flag"]["flagger_person"]
        if person and person in g:
            people.add(person)
        else:
            orphans.add(flagger)
    people.update(f["owner"] for f in loop.list_flags(store, since=since_at, limit=-1)
                  if f["owner"] and f["owner"] in g and g.kind(f["owner"]) == "person")
    if materialised.band_changes(store, since=since_at, limit=1):  # every leader hears of them
        for account in Accounts(store).list():
            if account["role"] == LEADER:
                if account["person"] and account["person"] in g:
                    people.add(account["person"])
                else:
                    orphans.add(account["name"])
    found = [digest_for(g, store, who, since_at, limit=limit) for who in sorted(people)]
    found += [digest_for(g, store, name, since_at, limit=limit) for name in sorted(orphans)]
    return [d for d in found if not d.empty]


# -- the email ----------------------------------------------------------------------------------


class Rendered(NamedTuple):
    """An email's subject (one line) and plain-text body."""

    subject: str
    body: str


def _when(moment: str) -> str:
    """A stored moment as people read it: "3 October 2026", with the time if it is not midnight UTC."""
    at = datetime.fromisoformat(moment)
    day = f"{at.day} {at:%B %Y}"
    return day if (at.hour, at.minute, at.second) == (0, 0, 0) else f"{day}, {at:%H:%M} UTC"


def _day(text: str) -> str:
    return _when(text[:10] + "T00:00:00+00:00") if len(text) >= 10 else text


def _wrapped(text: str, indent: str = "  ", more: str | None = None) -> list[str]:
    """Each line of ``text`` wrapped at :data:`WIDTH`, words never split."""
    lines = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=more or indent,
                               break_long_words=False, break_on_hyphens=False) or [indent.rstrip()]
    return lines


def render_text(digest: Digest) -> Rendered:
    """The digest as an email: a one-line subject and a plain-text body (user text kept as typed)."""
    parts = []
    if digest.updates:
        parts.append(plural(len(digest.updates), "outcome update"))
    if digest.flag_replies:
        parts.append(f"{len(digest.flag_replies)} {'answer' if len(digest.flag_replies) == 1 else 'answers'} "
                     "to your flags")
    if digest.new_flags:
        parts.append(f"{plural(len(digest.new_flags), 'new flag')} on your data")
    if digest.band_changes:
        parts.append(f"{plural(len(digest.band_changes), 'decision')} changed data confidence")
    subject = "Lineage: " + (", ".join(parts) if parts else "nothing new") + f" since {_when(digest.since)}"
    name = digest.person["name"] if digest.person else digest.accounts[0]
    lines = [f"Hello {name},", "", f"Here is what is new for you since {_when(digest.since)}."]
    if digest.empty:
        lines += ["", "Nothing new this time."]
    if digest.updates:
        lines += ["", f"WHAT YOUR RECORDS HELPED TO DO ({len(digest.updates)})"]
        for update in digest.updates:
            kind = "AI tool" if update["subject_kind"] == "ai_tool" else "decision"
            lines += ["", *_wrapped(f"{update['subject_name']} ({kind}), {_day(update['date'])}", "* ", "  ")]
            lines += _wrapped(update["text"])
            figures = loop.figures_text(update["figures"])
            if figures:
                lines.append(f"  {figures}")
            if update["path"]:
                lines += _wrapped(f"How your records reach it: {update['path_text']}", "  ", "    ")
            edited = f", edited {_when(update['edited'])}" if update["edited"] else ""
            lines.append(f"  Posted by {update['author']} on {_when(update['created'])}{edited}")
    if digest.flag_replies:
        lines += ["", f"ANSWERS TO THE PROBLEMS YOU FLAGGED ({len(digest.flag_replies)})"]
        for event in digest.flag_replies:
            flag = event["flag"]
            about = f", {flag['dimension']}" if flag["dimension"] else ""
            lines += ["", *_wrapped(f"{flag['dataset_name'] or flag['dataset']}{about} (flag {flag['id']}, "
                                    f"raised {_when(flag['created'])})", "* ", "  ")]
            lines += _wrapped(flag["text"], "  > ")
            lines += _wrapped(f"{event['actor']} marked it {event['status_label']} on {_when(event['at'])}"
                              + (":" if event["reply"] else "."))
            if event["reply"]:
                lines += _wrapped(event["reply"])
            if event["score"] is not None:
                lines.append(f"  New {flag['dimension'] or 'quality'} score: {event['score']:g}")
    if digest.new_flags:
        lines += ["", f"NEW FLAGS ON DATA YOU OWN ({len(digest.new_flags)})"]
        for flag in digest.new_flags:
            about = f", {flag['dimension']}" if flag["dimension"] else ""
            records = f", {flag['records']:,} records" if flag["records"] is not None else ""
            lines += ["", *_wrapped(f"{flag['dataset_name'] or flag['dataset']}{about}{records} (flag {flag['id']}, "
                                    f"raised by {flag['flagger']} on {_when(flag['created'])})", "* ", "  ")]
            lines += _wrapped(flag["text"], "  > ")
    if digest.band_changes:
        lines += ["", f"DECISIONS WHOSE DATA CONFIDENCE CHANGED ({len(digest.band_changes)})"]
        for change in digest.band_changes:
            went = "fell" if change["worse"] else "rose"
            lines += ["", *_wrapped(f"{change['name']}: {went} from {change['band_from']} to {change['band_to']} "
                                    f"({_when(change['at'])})", "* ", "  ")]
            lines += _wrapped(change["why"])
            if change["owner_name"]:
                lines += _wrapped(f"Owner: {change['owner_name']}")
    lines += ["", "-- ", *_wrapped("You get this digest because your records, your flags, the data you own or "
                                   "the decisions you oversee are part of the lineage map. Reply to the owners "
                                   "through the app, not to this email.", "")]
    return Rendered(" ".join(subject.split()), "\n".join(lines) + "\n")


# -- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail (see the module's description)."""

    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The settings from ``LINEAGE_SMTP_*`` variables; None when no host is set."""
        env = os.environ if env is None else env
        host = (env.get("LINEAGE_SMTP_HOST") or "").strip()
        if not host:
            return None
        starttls = (env.get("LINEAGE_SMTP_STARTTLS") or "").strip().lower() in ("1", "true", "yes", "on")
        port_text = (env.get("LINEAGE_SMTP_PORT") or "").strip() or ("587" if starttls else "25")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise LineageError(f"LINEAGE_SMTP_PORT must be a port number from 1 to 65535, got '{port_text}'")
        return cls(host=host, port=int(port_text), user=(env.get("LINEAGE_SMTP_USER") or "").strip() or None,
                   password=env.get("LINEAGE_SMTP_PASSWORD") or None, sender=sender_of(env), starttls=starttls)


def sender_of(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (env.get("LINEAGE_SMTP_FROM") or "").strip() or DEFAULT_SENDER


def outbox_of(store: Store, env: Mapping[str, str] | None = None) -> Path:
    """``LINEAGE_OUTBOX``, or ``outbox`` in the database's folder."""
    env = os.environ if env is None else env
    configured = (env.get("LINEAGE_OUTBOX") or "").strip()
    if configured:
        return Path(configured)
    return (Path.cwd() if store.path == ":memory:" else Path(store.path).resolve().parent) / "outbox"


_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""CRLF line ends, and headers folded only past the RFC 5322 limit: Python folds a subject longer
than 70 characters straight after "Subject:", which its own parser then reads with a leading space."""


def email_message(digest: Digest, sender: str) -> EmailMessage:
    """The digest as a message to the person's address (which the caller checked exists)."""
    subject, body = render_text(digest)
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = digest.address
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(body, cte="quoted-printable")
    return message


@dataclass
class DeliverySummary:
    """What :func:`send_digests` did: ``mode`` is "smtp" or "outbox"."""

    mode: str
    destination: str
    sent: list[dict[str, str]] = field(default_factory=list)     # who, address
    written: list[str] = field(default_factory=list)             # .eml paths
    skipped: list[dict[str, str]] = field(default_factory=list)  # who, reason

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        if self.mode == "smtp":
            head = f"Sent {plural(len(self.sent), 'digest')} through {self.destination}"
        else:
            head = f"Wrote {plural(len(self.written), 'digest')} to {self.destination} (no SMTP server configured)"
        lines = [head + (f"; skipped {len(self.skipped)}:" if self.skipped else ".")]
        lines += [f"  {s['who']}: {s['reason']}" for s in self.skipped]
        return "\n".join(lines)


def send_digests(store: Store, g: LineageGraph, since: str | Date | datetime, *, person: str | None = None,
                 env: Mapping[str, str] | None = None, timeout: float = 30) -> DeliverySummary:
    """Send everyone's digest since ``since`` (or only ``person``'s: a person id or an account),
    one message per person with something new.

    With ``LINEAGE_SMTP_HOST`` set, over SMTP (one connection; a message the server refuses is
    skipped with its reason); otherwise each is written as ``<outbox>/<since>-<who>.eml``.

    Raises
    ------
    LineageError  the SMTP server cannot be reached or refuses the login (nothing was sent).
    """
    since_at = loop.instant(since)
    found = [digest_for(g, store, person, since_at)] if person else digests(g, store, since_at)
    found = [d for d in found if not d.empty]
    settings = SmtpSettings.from_env(env)
    sender = settings.sender if settings else sender_of(env)
    if settings is None:
        summary = DeliverySummary("outbox", str(outbox_of(store, env)))
    else:
        summary = DeliverySummary("smtp", f"{settings.host}:{settings.port}")
    ready = []
    for digest in found:
        if digest.address is None:
            reason = ("its account is not linked to a person" if digest.person is None else
                      f"no email address in its contact ({digest.person.get('contact') or 'none'})")
            summary.skipped.append({"who": digest.who, "reason": reason})
        else:
            ready.append((digest, email_message(digest, sender)))
    if not ready:
        return summary
    if settings is None:
        folder = private.make_folder(summary.destination)  # messages about people: 0700, files 0600
        stamp = since_at[:10]
        for digest, message in ready:
            path = folder / f"{stamp}-{re.sub(r'[^a-z0-9._-]', '_', digest.who.lower())}.eml"
            private.write_file(path, bytes(message))
            summary.written.append(str(path))
        return summary
    try:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise LineageError(f"cannot reach the SMTP server {summary.destination}: {error}") from None
    with connection:
        try:
            if settings.starttls:
                connection.starttls(context=ssl.create_default_context())
            if settings.user:
                connection.login(settings.user, settings.password or "")
        except (OSError, smtplib.SMTPException) as error:
            raise LineageError(f"the SMTP server {summary.destination} refused us: {error}") from None
        for digest, message in ready:
            try:
                connection.send_message(message)
            except smtplib.SMTPServerDisconnected as error:
                summary.skipped.append({"who": digest.who, "reason": f"the server disconnected: {error}"})
                break
            except smtplib.SMTPException as error:
                summary.skipped.append({"who": digest.who, "reason": f"refused: {error}"})
            else:
                summary.sent.append({"who": digest.who, "address": digest.address or ""})
        else:
            return summary
    done = {s["who"] for s in summary.sent} | {s["who"] for s in summary.skipped}
    summary.skipped += [{"who": d.who, "reason": "not sent: the server disconnected"}
                        for d, _ in ready if d.who not in done]
    return summary

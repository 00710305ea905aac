"""Closing the loop both ways: outcome updates to contributors, data-problem flags to owners.

**Outcome updates.** The owner of a decision or an AI tool posts what came of it: a short text,
optional figures (people helped, £ secured, days saved) and the date of the outcome. Everyone
whose records reach that decision sees it on their page, with the path that connects them
(:func:`updates_for_person`, :func:`updates_for_team`). Editing an update keeps every version
(``update_revisions``: version 1 is the post itself), so nothing is lost.

**Flags.** A signed-in contributor flags a problem on a dataset: which quality dimension, what is
wrong, optionally how many records (:func:`raise_flag`, which also says which decisions downstream
it may affect). The dataset's owner answers from an inbox (:func:`flags_for_owner`): acknowledged,
fixed, won't fix, with a reply the flagger sees. Every status change and reply is an event in
``flag_events`` (who, when, from, to, reply). Fixing a flag can record the dataset's new quality
score: written through :meth:`lineage.store.Store.change`, so it is versioned, audited, undoable,
and moves data confidence downstream on the next compiled graph.

The tables live in the lineage database beside the graph and are created on first use, like
``lineage.accounts``. They are not the graph: posting or flagging does not bump the graph version
(only recording a new quality score does). Every write checks :func:`lineage.policy.decide` and
raises :class:`~lineage.errors.ForbiddenError` when it says no; the web layer asks first, so that
is a second line of defence. Text is stored as typed (trimmed); escaping is the job of whatever
shows it.

Times are UTC ISO 8601 strings with microseconds (``created``, ``updated``, ``at``); ``since``
arguments take a date (``"2026-10-01"``, midnight UTC), a date and time, or a ``datetime``.

Examples
--------
>>> from lineage.graph import LineageGraph
>>> from lineage.policy import Actor
>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> with store.change("setup", "a small estate") as change:
...     for node in [{"id": "ali", "kind": "person", "name": "Ali"},
...                  {"id": "reg", "kind": "dataset", "name": "Register", "owner": "jo",
...                   "quality": {"timeliness": 0.55}},
...                  {"id": "bid", "kind": "decision", "name": "Grant bid", "owner": "claire"}]:
...         change.add_node(node)
...     change.add_edge({"source": "ali", "target": "reg", "kind": "enters", "records": 2300})
...     change.add_edge({"source": "reg", "target": "bid", "kind": "informs"})
>>> claire = Actor("claire", "owner", person="claire")
>>> update = post_update(store, "bid", actor=claire, text="Approved: £1.2m for 2027.",
...                      figures={"gbp_secured": 1_200_000}, date="2026-10-03")
>>> g = LineageGraph.from_store(store)
>>> [(u["subject"], u["path"]) for u in updates_for_person(g, store, "ali")]
[('bid', ['ali', 'reg', 'bid'])]
>>> flag = raise_flag(g, store, "reg", actor=Actor("ali", "contributor", person="ali"),
...                   dimension="timeliness", text="End dates entered weeks late", records=40)
>>> flag["status"], [d["id"] for d in flag["decisions"]]
('open', ['bid'])
>>> jo = Actor("jo", "owner", person="jo")
>>> set_flag_status(store, flag["id"], "fixed", actor=jo, reply="Backlog cleared", new_score=0.9)["status"]
'fixed'
>>> store.node("reg")["quality"]["timeliness"]["score"]
0.9
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date as Date
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from . import model
from .describe import money, number, path_text
from .errors import ConflictError, ForbiddenError, LineageError, NotFoundError, Problem, RateLimitError, ValidationError
from .graph import LineageGraph, paths
from .policy import Actor, decide
from .store import Store

# -- limits and vocabulary ----------------------------------------------------------------------

MAX_TEXT = 2000
"""Longest text of an update, a flag or a reply, in characters."""
FIGURES = ("people_helped", "gbp_secured", "days_saved")
"""The figures an update may carry, all numbers of at least zero."""
FIGURE_LABELS = {"people_helped": "people helped", "gbp_secured": "£ secured", "days_saved": "days saved"}
UPDATE_SUBJECTS = ("decision", "ai_tool")
FLAG_STATUSES = ("open", "acknowledged", "fixed", "wont_fix")
FLAG_STATUS_LABELS = {"open": "open", "acknowledged": "acknowledged", "fixed": "fixed", "wont_fix": "won't fix"}
FLAG_LIMIT = 20
"""Flags one account may raise in :data:`FLAG_WINDOW` seconds; more is a :class:`RateLimitError`."""
FLAG_WINDOW = 3600
STALE_DAYS = 14
"""Default age, in days, past which an open flag is stale; ``LINEAGE_FLAG_STALE_DAYS`` overrides it
(see :func:`stale_days`)."""
MAX_RECORDS = model.attribute_schemas("enters")["records"]["maximum"]
"""Most records a flag may say are affected: the schema's bound on a count of records."""
AFFECTED_LISTED = 20
"""Decisions downstream of a flagged dataset listed with the flag (the rest are counted)."""


_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # tests replace it


def _now() -> str:
    return _clock().astimezone(timezone.utc).isoformat(timespec="microseconds")


@contextmanager
def _transaction(store: Store) -> Iterator[Any]:
    with store.transaction() as conn:
        yield conn


def instant(value: str | Date | datetime | None, what: str = "since") -> str | None:
    """A moment as the stored form: UTC ISO 8601 with microseconds; a bare date is midnight UTC.

    >>> instant("2026-10-01")
    '2026-10-01T00:00:00.000000+00:00'
    >>> instant("2026-10-01T09:30:00+01:00")
    '2026-10-01T08:30:00.000000+00:00'
    """
    if value is None:
        return None
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, Date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValidationError(Problem(what, f"expected a date like 2026-10-01 or a date and time, "
                                                f"got '{text[:40]}'", what)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _text(value: Any, where: str, field: str = "text", *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is None or (required and not text):
        raise ValidationError(Problem(where, f"write 1 to {MAX_TEXT} characters", field))
    if len(text) > MAX_TEXT:
        raise ValidationError(Problem(where, f"at most {MAX_TEXT} characters ({len(text)} given)", field))
    problem = model.text_problem(text)
    if problem:
        raise ValidationError(Problem(where, problem, field))
    return text or None


def _require(actor: Actor, action: str, target: Any) -> None:
    verdict = decide(actor, action, target)
    if not verdict:
        raise ForbiddenError(verdict.reason, sign_in=verdict.sign_in)


def _node(store: Store, node_id: str, kinds: tuple[str, ...], where: str, field: str) -> dict[str, Any]:
    try:
        record = store.node(node_id)
    except NotFoundError:
        raise ValidationError(Problem(where, f"there is no node '{node_id}'", field)) from None
    if record["kind"] not in kinds:
        wanted = " or ".join(k.replace("_", " ") for k in kinds)
        raise ValidationError(Problem(where, f"'{node_id}' is a {record['kind'].replace('_', ' ')}, "
                                             f"not a {wanted}", field))
    return record


# -- outcome updates ----------------------------------------------------------------------------


def _figures(value: Mapping[str, Any] | None, where: str) -> dict[str, float | int]:
    figures = {}
    for name, figure in (value or {}).items():
        if name not in FIGURES:
            raise ValidationError(Problem(where, f"unknown figure '{name}'; use {', '.join(FIGURES)}", "figures"))
        if figure is None:
            continue
        if isinstance(figure, bool) or not isinstance(figure, (int, float)) or not math.isfinite(figure) \
                or figure < 0:
            raise ValidationError(Problem(where, "a figure is a number of at least 0", f"figures.{name}"))
        figures[name] = int(figure) if float(figure).is_integer() else float(figure)
    return figures


def _outcome_date(value: str | Date | None, where: str) -> str:
    if value is None:
        return _clock().astimezone(timezone.utc).date().isoformat()
    try:
        day = value if isinstance(value, Date) else Date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(Problem(where, f"expected a date like 2026-10-03, got '{str(value)[:40]}'",
                                      "date")) from None
    today = _clock().astimezone(timezone.utc).date()
    if day > today:  # an outcome is something that has happened (a day's grace for time zones)
        if day > today + timedelta(days=1):
            raise ValidationError(Problem(where, f"the outcome date {day.isoformat()} is in the future; an update says "
                                                 "what has already happened, so give today's date or an earlier one",
                                          "date"))
    return day.isoformat()


_UPDATE_COLUMNS = ("id", "subject", "author", "text", "figures", "date", "created", "edited", "editor", "version")


def _update_row(row: tuple) -> dict[str, Any]:
    update = dict(zip(_UPDATE_COLUMNS, row))
    update["figures"] = json.loads(update["figures"])
    return update


def get_update(store: Store, update_id: int) -> dict[str, Any]:
    """One update as it is now: id, subject, author, text, figures, date, created, edited, editor, version."""
    row = store.conn.execute(f"SELECT {', '.join(_UPDATE_COLUMNS)} FROM outcome_updates WHERE id = ?",
                             (update_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no outcome update {update_id}")
    return _update_row(row)


def updates_on(store: Store, subject: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """The updates on one decision or AI tool, newest posted first (for its own page)."""
    rows = store.conn.execute(f"SELECT {', '.join(_UPDATE_COLUMNS)} FROM outcome_updates WHERE subject = ? "
                              "ORDER BY created DESC, id DESC LIMIT ?", (subject, limit))
    return [_update_row(row) for row in rows]


def post_update(store: Store, subject: str, *, actor: Actor, text: str,
                figures: Mapping[str, Any] | None = None, date: str | Date | None = None) -> dict[str, Any]:
    """Post an outcome update on a decision or AI tool; only its owner and admins may.

    ``figures``: any of ``people_helped``, ``gbp_secured``, ``days_saved`` (numbers >= 0; None
    leaves one out). ``date``: when the outcome happened, default today. Returns the update.
    """
    where = f"update on '{subject}'"
    record = _node(store, subject, UPDATE_SUBJECTS, where, "subject")
    _require(actor, "post_update", record)
    text = _text(text, where)
    clean = _figures(figures, where)
    day = _outcome_date(date, where)
    now = _now()
    with _transaction(store) as conn:
        update_id = conn.execute(
            "INSERT INTO outcome_updates (subject, author, text, figures, date, created) VALUES (?, ?, ?, ?, ?, ?)",
            (subject, actor.name, text, json.dumps(clean), day, now)).lastrowid
        conn.execute("INSERT INTO update_revisions (update_id, version, at, actor, text, figures, date) "
                     "VALUES (?, 1, ?, ?, ?, ?, ?)", (update_id, now, actor.name, text, json.dumps(clean), day))
    return get_update(store, update_id)


_UNCHANGED: Any = object()


def edit_update(store: Store, update_id: int, *, actor: Actor, text: str | None = None,
                figures: Mapping[str, Any] | None = _UNCHANGED, date: str | Date | None = None,
                expected_version: int | None = None) -> dict[str, Any]:
    """Change an update's text, figures (replaced as a whole) or date; None keeps each as it is.

    The same people may edit as may post on its subject (its owner now, admins). Every version
    stays in :func:`update_history`. ``expected_version`` guards against a concurrent edit
    (:class:`~lineage.errors.ConflictError`).
    """
    current = get_update(store, update_id)
    where = f"update {update_id}"
    try:
        record = store.node(current["subject"])
    except NotFoundError:
        record = {"id": current["subject"], "owner": None}  # its subject was deleted: admins only
    _require(actor, "post_update", record)
    if expected_version is not None and expected_version != current["version"]:
        raise ConflictError(f"update {update_id} was changed by someone else (you edited version "
                            f"{expected_version}, it is now at version {current['version']}); reload and try again",
                            expected=expected_version, actual=current["version"])
    new_text = current["text"] if text is None else _text(text, where)
    new_figures = current["figures"] if figures is _UNCHANGED else _figures(figures, where)
    new_date = current["date"] if date is None else _outcome_date(date, where)
    if (new_text, new_figures, new_date) == (current["text"], current["figures"], current["date"]):
        return current  # nothing changed: no new version
    now, version = _now(), current["version"] + 1
    with _transaction(store) as conn:
        moved = conn.execute("UPDATE outcome_updates SET text = ?, figures = ?, date = ?, edited = ?, editor = ?, "
                             "version = ? WHERE id = ? AND version = ?",
                             (new_text, json.dumps(new_figures), new_date, now, actor.name, version, update_id,
                              current["version"])).rowcount
        if not moved:
            raise ConflictError(f"update {update_id} was changed by someone else; reload and try again")
        conn.execute("INSERT INTO update_revisions (update_id, version, at, actor, text, figures, date) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (update_id, version, now, actor.name, new_text, json.dumps(new_figures), new_date))
    return get_update(store, update_id)


def update_history(store: Store, update_id: int) -> list[dict[str, Any]]:
    """Every version of an update, oldest first: version, at, actor, text, figures, date."""
    get_update(store, update_id)
    rows = store.conn.execute("SELECT version, at, actor, text, figures, date FROM update_revisions "
                              "WHERE update_id = ? ORDER BY version", (update_id,))
    return [{**dict(zip(("version", "at", "actor", "text", "figures", "date"), row)),
             "figures": json.loads(row[4])} for row in rows]


def figures_text(figures: Mapping[str, Any]) -> str:
    """ "2,300 people helped, £1.2m secured, 14 days saved" (empty when there are none).

    >>> figures_text({"gbp_secured": 1_200_000, "people_helped": 2300})
    '2,300 people helped, £1.2m secured'
    """
    parts = []
    if figures.get("people_helped") is not None:
        parts.append(f"{number(figures['people_helped'])} people helped")
    if figures.get("gbp_secured") is not None:
        parts.append(f"{money(figures['gbp_secured'])} secured")
    if figures.get("days_saved") is not None:
        parts.append(f"{number(figures['days_saved'])} days saved")
    return ", ".join(parts)


def _reached_updates(g: LineageGraph, store: Store, starts: list[str], *, since: str | None,
                     last_visit: str | None, limit: int, shown_start: str | None) -> list[dict[str, Any]]:
    """Updates on subjects reachable from ``starts`` (people), each with one connecting path."""
    positions = np.array([g.position(s) for s in starts], dtype=np.int64)
    reach = g.bfs(positions)
    reached = np.zeros(len(g), dtype=bool)
    reached[reach.nodes] = True
    sql = "SELECT DISTINCT subject FROM outcome_updates" + (" WHERE created > ?" if since else "")
    subjects = [s for (s,) in store.conn.execute(sql, (since,) if since else ()) if s in g and
                reached[g.position(s)]]
    if not subjects:
        return []
    marks = ",".join("?" * len(subjects))
    rows = store.conn.execute(
        f"SELECT {', '.join(_UPDATE_COLUMNS)} FROM outcome_updates WHERE subject IN ({marks})"
        + (" AND created > ?" if since else "") + " ORDER BY created DESC, id DESC LIMIT ?",
        [*subjects, *([since] if since else []), limit]).fetchall()
    updates = [_update_row(row) for row in rows]
    wanted = sorted({u["subject"] for u in updates})
    connecting: dict[str, list[str]] = {}
    for path in paths(g, starts, wanted, per_target=1, max_paths=len(wanted), reach=reach):
        connecting.setdefault(path[-1], path)
    records = g.records({step for path in connecting.values() for step in path} | set(wanted)
                        | ({shown_start} if shown_start else set()))
    result = []
    for update in updates:
        path = connecting.get(update["subject"], [])
        if path and shown_start:
            path = [shown_start] + path[1:]
        subject = records[update["subject"]]
        result.append({**update, "subject_name": subject["name"], "subject_kind": subject["kind"],
                       "path": path, "path_text": path_text(g, path, records) if path else "",
                       "new": last_visit is not None and update["created"] > last_visit})
    return result


def updates_for_person(g: LineageGraph, store: Store, person_id: str, since: str | Date | datetime | None = None,
                       *, last_visit: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The outcome updates on decisions and AI tools the person's records reach, newest posted first.

    Each is the update (see :func:`get_update`) plus ``subject_name``, ``subject_kind``, the
    ``path`` (node ids, the person first) that connects them, ``path_text`` (names joined by
    arrows), and ``new``: posted after ``last_visit`` (see :func:`last_visit`). ``since`` keeps
    only updates posted after it. At most ``limit``.
    """
    if g.kind(person_id) != "person":
        raise LineageError(f"'{person_id}' is a {g.kind(person_id)}; updates are shown for a person or a team")
    return _reached_updates(g, store, [person_id], since=instant(since), last_visit=instant(last_visit, "last_visit"),
                            limit=limit, shown_start=None)


def updates_for_team(g: LineageGraph, store: Store, team_id: str, since: str | Date | datetime | None = None,
                     *, last_visit: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The updates its members' records reach, as :func:`updates_for_person`; paths start at the
    team, not at a member (team pages count people, they do not name them)."""
    if g.kind(team_id) != "team":
        raise LineageError(f"'{team_id}' is a {g.kind(team_id)}, not a team")
    members = [g.ids[i] for i in g.members(team_id).tolist()]
    if not members:
        return []
    return _reached_updates(g, store, members, since=instant(since), last_visit=instant(last_visit, "last_visit"),
                            limit=limit, shown_start=team_id)


def recent_updates(store: Store, since: str | Date | datetime | None = None, *,
                   limit: int | None = None) -> list[dict[str, Any]]:
    """Every update posted after ``since`` (all of them without it), newest first."""
    since = instant(since)
    rows = store.conn.execute(f"SELECT {', '.join(_UPDATE_COLUMNS)} FROM outcome_updates "
                              + ("WHERE created > ? " if since else "") + "ORDER BY created DESC, id DESC LIMIT ?",
                              [*([since] if since else []), -1 if limit is None else limit])
    return [_update_row(row) for row in rows]


# -- flags --------------------------------------------------------------------------------------

_FLAG_COLUMNS = ("id", "dataset", "dimension", "text", "records", "flagger", "flagger_person", "status", "reply",
                 "created", "updated")
_FLAG_SELECT = (f"SELECT {', '.join('f.' + c for c in _FLAG_COLUMNS)}, n.name, n.owner FROM flags f "
                "LEFT JOIN nodes n ON n.id = f.dataset")


def _flag_row(row: tuple) -> dict[str, Any]:
    flag = dict(zip(_FLAG_COLUMNS, row))
    flag["dataset_name"], flag["owner"] = row[len(_FLAG_COLUMNS)], row[len(_FLAG_COLUMNS) + 1]
    flag["status_label"] = FLAG_STATUS_LABELS[flag["status"]]
    return flag


def get_flag(store: Store, flag_id: int) -> dict[str, Any]:
    """One flag: id, dataset, dataset_name, owner (the dataset's, now), dimension, text, records,
    flagger, flagger_person, status, status_label, reply, created, updated."""
    row = store.conn.execute(_FLAG_SELECT + " WHERE f.id = ?", (flag_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no flag {flag_id}")
    return _flag_row(row)


def affected_decisions(g: LineageGraph, dataset: str, *, limit: int = AFFECTED_LISTED) -> tuple[int, list[dict]]:
    """How many decisions lie downstream of a dataset, and the ``limit`` affecting most people
    (id, name, people_affected). Empty when the dataset is not in ``g`` (compiled before it)."""
    if dataset not in g:
        return 0, []
    decisions = g.bfs(np.array([g.position(dataset)])).of_kind("decision")
    affected = np.nan_to_num(g.people_affected[decisions.nodes], nan=-1)
    chosen = decisions.nodes[np.lexsort((decisions.nodes, -affected))][:limit]
    records = g.records([g.ids[i] for i in chosen.tolist()])
    return decisions.count, [{"id": g.ids[i], "name": records[g.ids[i]]["name"],
                              "people_affected": records[g.ids[i]].get("people_affected")}
                             for i in chosen.tolist()]


def _count(number: int, thing: str) -> str:
    return f"{number:,} {thing}{'' if number == 1 else 's'}"


def _span(seconds: int) -> str:
    """ "an hour", "5 minutes", "30 seconds": a wait, rounded up to what people say.

    >>> _span(3600), _span(3410), _span(60), _span(30)
    ('an hour', '57 minutes', 'a minute', '30 seconds')
    """
    if seconds == 3600:
        return "an hour"
    if seconds < 60:
        return _count(seconds, "second")
    minutes = math.ceil(seconds / 60)
    return "a minute" if minutes == 1 else _count(minutes, "minute")


def count_recent_flags(store: Store, account: str, seconds: int = FLAG_WINDOW) -> int:
    """Flags ``account`` raised in the last ``seconds``."""
    after = (_clock().astimezone(timezone.utc) - timedelta(seconds=seconds)).isoformat(timespec="microseconds")
    return store.conn.execute("SELECT count(*) FROM flags WHERE flagger = ? AND created > ?",
                              (account, after)).fetchone()[0]


def raise_flag(g: LineageGraph, store: Store, dataset: str, *, actor: Actor, text: str,
               dimension: str | None = None, records: int | None = None,
               limit: int = FLAG_LIMIT, window: int = FLAG_WINDOW) -> dict[str, Any]:
    """Flag a problem on a dataset; any signed-in account may, up to ``limit`` flags in ``window`` seconds.

    ``dimension`` is one of :data:`lineage.model.QUALITY_DIMENSIONS` or None; ``records`` how
    many records are affected (a whole number >= 0, optional). Returns the flag (see
    :func:`get_flag`) with ``decision_count`` and ``decisions``: those downstream it may affect.

    Raises
    ------
    ForbiddenError  nobody signed in.
    ValidationError  not a dataset, unknown dimension, empty or too long text, bad record count.
    RateLimitError  the account raised ``limit`` flags in the last ``window`` seconds.
    """
    where = f"flag on '{dataset}'"
    _require(actor, "flag", None)
    _node(store, dataset, ("dataset",), where, "dataset")
    if dimension is not None and dimension not in model.QUALITY_DIMENSIONS:
        raise ValidationError(Problem(where, f"'{dimension}' is not a quality dimension; use one of "
                                             f"{', '.join(model.QUALITY_DIMENSIONS)}", "dimension"))
    text = _text(text, where)
    if records is not None and (isinstance(records, bool) or not isinstance(records, int)
                                or not 0 <= records <= MAX_RECORDS):
        raise ValidationError(Problem(where, f"the number of records is a whole number of at least 0 and at most {MAX_RECORDS:,}",
                                      "records"))
    now = _now()
    after = (_clock().astimezone(timezone.utc) - timedelta(seconds=window)).isoformat(timespec="microseconds")
    with _transaction(store) as conn:  # counted and written in one transaction: no race past the limit
        recent = conn.execute("SELECT count(*), min(created) FROM flags WHERE flagger = ? AND created > ?",
                              (actor.name, after)).fetchone()
        if recent[0] >= limit:
            oldest = datetime.fromisoformat(recent[1])
            retry = max(1, math.ceil((oldest + timedelta(seconds=window) - _clock()).total_seconds()))
            span = _span(window).removeprefix("an ").removeprefix("a ")  # "the last hour", "the last 5 minutes"
            raise RateLimitError(f"you have raised {_count(recent[0], 'flag')} in the last {span}, the most allowed; "
                                 f"try again in {_span(retry)}", retry_after=retry)
        flag_id = conn.execute(
            "INSERT INTO flags (dataset, dimension, text, records, flagger, flagger_person, status, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            (dataset, dimension, text, records, actor.name, actor.person, now, now)).lastrowid
        conn.execute("INSERT INTO flag_events (flag, at, actor, status_from, status_to) VALUES (?, ?, ?, NULL, 'open')",
                     (flag_id, now, actor.name))
    count, decisions = affected_decisions(g, dataset)
    return {**get_flag(store, flag_id), "decision_count": count, "decisions": decisions}


def list_flags(store: Store, *, owner: str | None = None, flagger: str | None = None,
               dataset: str | None = None, status: str | Iterable[str] | None = None,
               since: str | Date | datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Flags, newest first: on datasets ``owner`` (a person id) owns, raised by ``flagger`` (an
    account), on one ``dataset``, with a ``status`` (or any of several), raised after ``since``."""
    where, args = [], []
    if since is not None:
        where.append("f.created > ?")
        args.append(instant(since))
    if owner is not None:
        where.append("n.owner = ?")
        args.append(owner)
    if flagger is not None:
        where.append("f.flagger = ?")
        args.append(flagger)
    if dataset is not None:
        where.append("f.dataset = ?")
        args.append(dataset)
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        for s in statuses:
            if s not in FLAG_STATUSES:
                raise ValidationError(Problem("status", f"'{s}' is not a flag status; use one of "
                                                        f"{', '.join(FLAG_STATUSES)}", "status"))
        where.append(f"f.status IN ({','.join('?' * len(statuses))})")
        args += statuses
    sql = _FLAG_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY f.created DESC, f.id DESC LIMIT ?"
    return [_flag_row(row) for row in store.conn.execute(sql, [*args, limit])]


OPEN_STATUSES = ("open", "acknowledged")
"""Statuses of a flag still waiting for a fix."""


def open_flags_on(store: Store, datasets: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The open flags on each of ``datasets``, newest first, without who raised them (for pages
    that anyone may read): id, dimension, text, records, status, status_label, created."""
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = list(dict.fromkeys(datasets))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = store.conn.execute(
            f"SELECT id, dataset, dimension, text, records, status, created FROM flags WHERE dataset IN "
            f"({','.join('?' * len(chunk))}) AND status IN ({','.join('?' * len(OPEN_STATUSES))}) "
            "ORDER BY created DESC, id DESC", [*chunk, *OPEN_STATUSES])
        for flag_id, dataset, dimension, text, records, status, created in rows:
            found.setdefault(dataset, []).append({
                "id": flag_id, "dimension": dimension, "text": text, "records": records, "status": status,
                "status_label": FLAG_STATUS_LABELS[status], "created": created})
    return found


def flags_for_owner(store: Store, person_id: str, status: str | Iterable[str] | None = None, *,
                    limit: int = 200) -> list[dict[str, Any]]:
    """The owner's inbox: flags on the datasets ``person_id`` owns, newest first."""
    return list_flags(store, owner=person_id, status=status, limit=limit)


def flags_raised_by(store: Store, account: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """The flags an account raised, newest first, with their status and the owner's reply."""
    return list_flags(store, flagger=account, limit=limit)


def flag_history(store: Store, flag_id: int) -> list[dict[str, Any]]:
    """Every event of a flag, oldest first: at, actor, status_from, status_to, reply, score, change."""
    get_flag(store, flag_id)
    rows = store.conn.execute("SELECT at, actor, status_from, status_to, reply, score, change FROM flag_events "
                              "WHERE flag = ? ORDER BY id", (flag_id,))
    return [dict(zip(("at", "actor", "status_from", "status_to", "reply", "score", "change"), row)) for row in rows]


def set_flag_status(store: Store, flag_id: int, status: str, *, actor: Actor, reply: str | None = None,
                    new_score: float | None = None, dimension: str | None = None) -> dict[str, Any]:
    """Answer a flag: set its status, reply (kept until replaced; the flagger sees it), and, when
    fixing, optionally record the dataset's new quality score.

    Only the dataset's owner and admins may. ``new_score`` (0..1) needs status ``fixed`` and a
    dimension: the flag's, or ``dimension`` when the flag names none. It replaces that dimension's
    assessment with ``{"score", "note", "as_of"}`` in one graph change (versioned, audited,
    undoable); the flag event records the change. Returns the flag, with ``change`` (the graph
    change id, or None).
    """
    flag = get_flag(store, flag_id)
    where = f"flag {flag_id}"
    if status not in FLAG_STATUSES:
        raise ValidationError(Problem(where, f"'{status}' is not a flag status; use one of "
                                             f"{', '.join(FLAG_STATUSES)}", "status"))
    try:
        record = store.node(flag["dataset"])
    except NotFoundError:
        record = {"id": flag["dataset"], "owner": None}  # the dataset was deleted: admins only
    _require(actor, "answer_flag", record)
    reply = _text(reply, where, "reply", required=False)
    if status == flag["status"] and reply is None and new_score is None:
        raise ValidationError(Problem(where, f"the flag is {FLAG_STATUS_LABELS[status]} already; "
                                             "give a reply or another status", "status"))
    now = _now()

    def write(conn: Any, change: int | None) -> None:
        conn.execute("UPDATE flags SET status = ?, reply = coalesce(?, reply), updated = ? WHERE id = ?",
                     (status, reply, now, flag_id))
        conn.execute("INSERT INTO flag_events (flag, at, actor, status_from, status_to, reply, score, change) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (flag_id, now, actor.name, flag["status"], status, reply, new_score, change))

    change_id = None
    if new_score is None:
        with _transaction(store) as conn:
            write(conn, None)
    else:
        dimension = flag["dimension"] or dimension
        if status != "fixed":
            raise ValidationError(Problem(where, "a new quality score is recorded with a fix", "new_score"))
        if isinstance(new_score, bool) or not isinstance(new_score, (int, float)) or not 0 <= new_score <= 1:
            raise ValidationError(Problem(where, "a quality score is a number from 0 to 1", "new_score"))
        if dimension not in model.QUALITY_DIMENSIONS:
            raise ValidationError(Problem(where, "say which quality dimension the new score is for", "dimension"))
        if record.get("kind") != "dataset":
            raise NotFoundError(f"dataset '{flag['dataset']}' no longer exists, so no score can be recorded")
        note = f"Fixed after flag {flag_id}" + (f": {reply}" if reply else ".")
        quality = {**(record.get("quality") or {}),
                   dimension: {"score": float(new_score), "note": note[:10_000], "as_of": now[:10]}}
        summary = f"flag {flag_id} fixed: {dimension} of {flag['dataset']} is now {float(new_score):g}"
        with store.change(actor.name or "unknown", summary) as change:
            change.update_node(flag["dataset"], {"quality": quality})
            write(store.conn, change.id)
            change_id = change.id
    return {**get_flag(store, flag_id), "change": change_id}


def stale_days(env: Mapping[str, str] | None = None) -> float:
    """The days after which an open flag is stale: ``LINEAGE_FLAG_STALE_DAYS``, else :data:`STALE_DAYS`.

    >>> stale_days({}), stale_days({"LINEAGE_FLAG_STALE_DAYS": "30"})
    (14, 30.0)
    """
    text = ((os.environ if env is None else env).get("LINEAGE_FLAG_STALE_DAYS") or "").strip()
    if not text:
        return STALE_DAYS
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not math.isfinite(days) or days < 0:
        raise LineageError(f"LINEAGE_FLAG_STALE_DAYS must be a number of days (0 or more), got '{text[:40]}'")
    return days


def stale_flags(store: Store, days: float = STALE_DAYS, *, statuses: Iterable[str] = ("open",),
                limit: int = 200) -> list[dict[str, Any]]:
    """Flags still open (or in ``statuses``) after more than ``days`` days, oldest first, each
    with ``age_days``: for Insights."""
    statuses = list(statuses)
    now = _clock().astimezone(timezone.utc)
    before = (now - timedelta(days=days)).isoformat(timespec="microseconds")
    rows = store.conn.execute(_FLAG_SELECT + f" WHERE f.status IN ({','.join('?' * len(statuses))}) "
                              "AND f.created < ? ORDER BY f.created, f.id LIMIT ?", [*statuses, before, limit])
    flags = [_flag_row(row) for row in rows]
    for flag in flags:
        flag["age_days"] = (now - datetime.fromisoformat(flag["created"])).days
    return flags


def flag_events_since(store: Store, since: str | Date | datetime, *, flaggers: Iterable[str] | None = None,
                      person: str | None = None, others_only: bool = True) -> list[dict[str, Any]]:
    """Answers to flags after ``since``, newest first: each event (at, actor, status_from,
    status_to, reply, score) with its flag. ``flaggers`` (accounts) and ``person`` (the person an
    account was linked to when it flagged) keep the flags they raised; ``others_only`` leaves out
    what flaggers did themselves (raising a flag is not news to them)."""
    since_at = instant(since)
    where, args = ["e.at > ?", "e.status_from IS NOT NULL"], [since_at]
    if flaggers is not None or person is not None:
        flaggers = list(flaggers or ())
        whose = [f"f.flagger IN ({','.join('?' * len(flaggers))})"] if flaggers else []
        if person is not None:
            whose.append("f.flagger_person = ?")
        where.append("(" + " OR ".join(whose) + ")")
        args += flaggers + ([person] if person is not None else [])
    if others_only:
        where.append("e.actor != f.flagger")
    sql = (f"SELECT e.at, e.actor, e.status_from, e.status_to, e.reply, e.score, e.flag FROM flag_events e "
           f"JOIN flags f ON f.id = e.flag WHERE {' AND '.join(where)} ORDER BY e.at DESC, e.id DESC")
    rows = store.conn.execute(sql, args).fetchall()
    flags = {flag_id: get_flag(store, flag_id) for flag_id in {row[6] for row in rows}}
    return [{**dict(zip(("at", "actor", "status_from", "status_to", "reply", "score"), row[:6])),
             "status_label": FLAG_STATUS_LABELS[row[3]], "flag": flags[row[6]]} for row in rows]


# -- last visits --------------------------------------------------------------------------------


def last_visit(store: Store, account: str, page: str) -> str | None:
    """When ``account`` last visited ``page`` (a key like ``"my-impact"``), or None."""
    row = store.conn.execute("SELECT at FROM last_visits WHERE account = ? AND page = ?", (account, page)).fetchone()
    return row[0] if row else None


def mark_visit(store: Store, account: str, page: str, at: str | Date | datetime | None = None) -> str:
    """Note that ``account`` visited ``page`` now (or ``at``); returns the previous visit, or None.

    A page calls this once per view and marks as new what came after the visit it returns.
    """
    moment = instant(at, "at") if at is not None else _now()
    with _transaction(store) as conn:
        row = conn.execute("SELECT at FROM last_visits WHERE account = ? AND page = ?", (account, page)).fetchone()
        conn.execute("INSERT INTO last_visits (account, page, at) VALUES (?, ?, ?) "
                     "ON CONFLICT (account, page) DO UPDATE SET at = excluded.at", (account, page, moment))
    return row[0] if row else None


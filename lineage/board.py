"""The leader's home: what needs doing, worst first, each item with who must act.

One function, :func:`board`, gathers five lists from figures defined elsewhere (nothing here
recomputes a figure):

``decisions``
    Decisions resting on red or amber data (:mod:`lineage.confidence`), red before amber, then by the
    people they affect, then by the money (the ranking of Insights' "decisions at risk", read from the
    materialised estate body). Each comes with the first step of its path to green
    (:func:`lineage.confidence.path_to_green`) and the owners of the datasets that step fixes.
``ai_tools``
    AI tools without human review or without a transparency record that underpin a decision affecting
    at least :data:`MANY_PEOPLE` people (Insights' AI oversight rows), most people first.
``ownerless``
    Assets with no owner that at least one decision rests on (Insights' ownerless rows): "critical"
    here means a decision depends on it.
``stale_flags``
    Flags open longer than the stale limit (:func:`lineage.loop.stale_flags`), oldest first, each with
    the owner who must answer.
``changes``
    Decisions whose band changed since a moment (:func:`lineage.materialised.band_changes`), with why.

Every item carries ``action``, a sentence that starts with a verb and names who must act ("Ask Sandra
Bell to add a transparency record for Council Tax Reduction claim risk scoring"), ``owner`` (a person
or None) and ``target`` (kind and id of the page where to act: the web layer makes it a link).

>>> tool_action({"name": "Claim scoring", "owner": {"name": "Sandra Bell"}, "human_review": True,
...              "atrs_url": None})
'Ask Sandra Bell to add a transparency record for Claim scoring.'
>>> ownerless_action({"name": "Nominations", "kind": "dataset", "decisions": 5, "largest_people_affected": 171000})
'Name an owner for Nominations: a dataset 5 decisions rest on, the largest affecting about 170,000 people.'
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import loop, materialised
from .confidence import possessive, path_to_green
from .describe import about, plural
from .graph import LineageGraph
from .insights import write_csv

MANY_PEOPLE = 1000
"""An AI tool's oversight gap is on the board when a decision it underpins affects at least this many people."""
LISTED = 5
"""Items listed per section (the JSON twin and CSV carry the same; Insights has the longer lists)."""

Owner = dict[str, Any] | None


def _who(owner: Owner) -> str | None:
    return owner.get("name") if owner else None


def _kind_words(kind: str) -> str:
    return {"ai_tool": "an AI tool", "dataset": "a dataset", "system": "a system", "decision": "a decision",
            "process": "a process"}.get(kind, "an asset")


def fix_words(fix: dict[str, Any]) -> str:
    """ "raise Housing register's timeliness from 0.55 to 0.70" """
    now = f"{fix['score']:.2f}" if fix.get("score") is not None else f"{fix['rag']} (no score)"
    return f"raise {possessive(fix['dataset_name'])} {fix['dimension']} from {now} to {fix['target']:.2f}"


def decision_action(step: dict[str, Any] | None, decision_name: str, decision_owner: Owner = None) -> str:
    """The first thing to do for a decision at risk, from its path to green's first step."""
    if not step or not step["fixes"]:
        owner = _who(decision_owner)
        ask = f"Ask {owner} to" if owner else "Find an owner to"
        return f"{ask} get the data behind {decision_name} assessed: none of its main inputs has a quality score."
    fix = step["fixes"][0]
    owner = _who(fix.get("owner"))
    more = step["fix_count"] - 1
    rest = f" (and {more} more {'fix' if more == 1 else 'fixes'}, listed on the decision's page)" if more > 0 else ""
    if owner:
        return f"Ask {owner} to {fix_words(fix)}{rest}, to move {decision_name} to {step['band']}."
    return (f"Name an owner for {fix['dataset_name']}, who can then {fix_words(fix)}{rest}, "
            f"to move {decision_name} to {step['band']}.")


def tool_action(row: dict[str, Any]) -> str:
    """What to ask of an AI tool's owner: human review, a transparency record, or both."""
    missing = []
    if row.get("human_review") is not True:
        missing.append("a person who reviews its results")
    if not row.get("atrs_url"):
        missing.append("a transparency record")
    needs = " and ".join(missing) or "nothing more"
    owner = _who(row.get("owner"))
    if owner:
        return f"Ask {owner} to add {needs} for {row['name']}."
    return f"Name an owner for {row['name']}, who can then add {needs}."


def ownerless_action(row: dict[str, Any]) -> str:
    """Name an owner for an asset, saying why it matters."""
    why = f"{_kind_words(row['kind'])} {plural(row['decisions'], 'decision')} rest{'s' if row['decisions'] == 1 else ''} on"
    if row.get("largest_people_affected"):
        why += f", the largest affecting {about(row['largest_people_affected'])} people"
    return f"Name an owner for {row['name']}: {why}."


def flag_action(flag: dict[str, Any], owner: Owner) -> str:
    what = f"{possessive(flag.get('dataset_name') or flag['dataset'])} {flag['dimension']}" if flag.get("dimension") \
        else (flag.get("dataset_name") or flag["dataset"])
    days = plural(flag.get("age_days", 0), "day")
    name = _who(owner)
    ask = f"Ask {name} to" if name else "Name an owner who can"
    return f"{ask} answer the flag on {what}, open for {days}."


def risky_action(row: dict[str, Any]) -> str:
    """A decision on red or amber data (an Insights row): who owns it and what sets its band."""
    link = (row.get("confidence") or {}).get("link")
    owner = _who(row.get("owner"))
    ask = f"Ask {owner}, who owns {row['name']}, to" if owner else f"Name an owner for {row['name']}, who can then"
    if not link:
        return f"{ask} get the data behind it assessed."
    score = f" ({link['score']:.2f} now)" if link.get("score") is not None else ""
    return f"{ask} get {possessive(link['dataset_name'])} {link['dimension']}{score} raised: it sets the decision's band."


def readiness_action(row: dict[str, Any]) -> str:
    """A critical system that is not AI-ready (an Insights row)."""
    owner = _who(row.get("owner"))
    if owner:
        return f"Ask {owner} what it would take to make {row['name']} AI-ready."
    return f"Name an owner for {row['name']}, who can then say what it would take to make it AI-ready."


def hot_spot_action(spot: dict[str, Any], dimension: str) -> str:
    """A weak dataset on one quality dimension (an Insights hot spot)."""
    owner = _who(spot.get("owner"))
    score = f"{spot['score']:.2f}" if spot.get("score") is not None else spot["rag"]
    what = f"{possessive(spot['name'])} {dimension} ({score} now)"
    return f"Ask {owner} to improve {what}." if owner else f"Name an owner for {spot['name']}, who can then improve {what}."


def change_action(change: materialised.BandChange) -> str:
    went = "fell" if change.worse else "rose"
    return f"{change.name} {went} from {change.band_from} to {change.band_to}. {change.why}"


@dataclass
class Board:
    """The leader's home, ready for a page, its JSON twin and its CSV (:meth:`rows`)."""

    version: int
    since: str | None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    decisions_at_risk: int = 0
    ai_tools: list[dict[str, Any]] = field(default_factory=list)
    ai_tools_count: int = 0
    ownerless: list[dict[str, Any]] = field(default_factory=list)
    ownerless_count: int = 0
    stale_flags: list[dict[str, Any]] = field(default_factory=list)
    stale_days: float = loop.STALE_DAYS
    changes: list[dict[str, Any]] = field(default_factory=list)

    SECTIONS = ("decisions", "ai_tools", "ownerless", "stale_flags", "changes")

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items()}

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.SECTIONS)

    def rows(self) -> list[dict[str, Any]]:
        """One row per item, for the CSV: section, the thing, who must act, what to do, where."""
        out = []
        for section in self.SECTIONS:
            for item in getattr(self, section):
                owner = item.get("owner")
                out.append({"section": section, "kind": item["target"]["kind"], "id": item["target"]["id"],
                            "name": item["name"], "owner": (owner or {}).get("id"),
                            "owner_name": (owner or {}).get("name"), "action": item["action"],
                            "people_affected": item.get("people_affected")})
        return out


CSV_COLUMNS = ("section", "kind", "id", "name", "owner", "owner_name", "action", "people_affected")


def write_board_csv(result: Board) -> str:
    buffer = io.StringIO()
    write_csv(result.rows(), CSV_COLUMNS, buffer)
    return buffer.getvalue()


def _owners(step: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The distinct owners of a step's fixes, in the step's order (ownerless fixes as None once)."""
    seen: dict[Any, dict[str, Any] | None] = {}
    for fix in (step or {}).get("fixes", []):
        key = (fix.get("owner") or {}).get("id") or (fix.get("owner") or {}).get("name")
        seen.setdefault(key, fix.get("owner"))
    return [owner for owner in seen.values() if owner]


def board(g: LineageGraph, store: Any, estate: dict[str, Any], *, since: str | None = None,
          open_flags: Callable[[list[str]], dict[str, list[dict[str, Any]]]] | None = None,
          stale_days: float = loop.STALE_DAYS, limit: int = LISTED) -> Board:
    """The leader's home from ``estate`` (the materialised Insights body of the estate), the graph
    ``g`` (for paths to green), and ``store`` (flags and band changes since ``since``)."""
    result = Board(version=estate["graph_version"], since=since, stale_days=stale_days)
    risky = estate["risky_decisions"]
    result.decisions_at_risk = risky["counts"]["red"] + risky["counts"]["amber"]
    for row in risky["rows"][:limit]:
        if row["id"] not in g:  # the graph moved on since the estate was stored
            continue
        plan = path_to_green(g, row["id"], open_flags=open_flags).as_dict()
        step = plan["steps"][0] if plan["steps"] else None
        result.decisions.append({
            "target": {"kind": "decision", "id": row["id"]}, "name": row["name"], "band": row["confidence"]["band"],
            "confidence": row["confidence"]["text"], "people_affected": row["people_affected"],
            "value_gbp": row["value_gbp"], "organisation": row["organisation"], "decision_owner": row["owner"],
            "owner": (_owners(step) or [None])[0], "owners": _owners(step), "step": step,
            "steps": len(plan["steps"]), "action": decision_action(step, row["name"], row["owner"])})

    oversight = [row for row in estate["ai_oversight"]["rows"] if (row["largest_people_affected"] or 0) >= MANY_PEOPLE]
    oversight.sort(key=lambda row: (-(row["largest_people_affected"] or 0), -(row["largest_value_gbp"] or 0), row["id"]))
    result.ai_tools_count = len(oversight)
    result.ai_tools = [{"target": {"kind": "ai_tool", "id": row["id"]}, "name": row["name"], "owner": row["owner"],
                        "human_review": row["human_review"], "transparency_record": row["atrs_url"],
                        "decisions": row["decisions"], "people_affected": row["largest_people_affected"],
                        "value_gbp": row["largest_value_gbp"], "action": tool_action(row)}
                       for row in oversight[:limit]]

    ownerless = [row for row in estate["ownerless"]["rows"] if row["decisions"] > 0]
    result.ownerless_count = len(ownerless)
    result.ownerless = [{"target": {"kind": row["kind"], "id": row["id"]}, "name": row["name"], "owner": None,
                         "asset_kind": row["kind"], "decisions": row["decisions"],
                         "people_affected": row["largest_people_affected"], "value_gbp": row["largest_value_gbp"],
                         "action": ownerless_action(row)} for row in ownerless[:limit]]

    flags = loop.stale_flags(store, stale_days, limit=limit)
    owners = g.records([f["owner"] for f in flags if f.get("owner") and f["owner"] in g])
    for flag in flags:
        record = owners.get(flag.get("owner") or "")
        owner = {"id": flag["owner"], "kind": record["kind"], "name": record["name"]} if record else None
        result.stale_flags.append({"target": {"kind": "flag", "id": flag["id"]}, "name": flag.get("dataset_name")
                                   or flag["dataset"], "dataset": flag["dataset"], "dimension": flag.get("dimension"),
                                   "age_days": flag["age_days"], "text": flag["text"], "owner": owner,
                                   "action": flag_action(flag, owner)})

    for change in materialised.band_changes(store, since=since, limit=limit) if since is not None else []:
        owner = {"id": change.owner, "kind": "person", "name": change.owner_name} if change.owner else None
        result.changes.append({"target": {"kind": "decision", "id": change.id}, "name": change.name, "owner": owner,
                               "people_affected": change.people_affected, **change.as_dict(),
                               "action": change_action(change)})
    return result


ACTIONS = {"decision": decision_action, "tool": tool_action, "ownerless": ownerless_action, "flag": flag_action,
           "change": change_action, "risky": risky_action, "readiness": readiness_action, "hot_spot": hot_spot_action}
"""Every finding as a sentence that starts with what to do and names who: for templates."""


VISIT_PAGE = "leader-home"
VISIT_GAP_MINUTES = 30
"""Views of the home closer together than this are one visit: reloading it keeps what it showed."""
FIRST_VISIT_DAYS = 7
"""On a first visit (or for a reader with no account) the home shows changes of band in this many days."""


def since_last_visit(store: Any, account: str | None, *, now: datetime | None = None) -> tuple[str, bool]:
    """The moment the home counts changes of band from, and whether it is the reader's last visit.

    Per account (:func:`lineage.loop.mark_visit`, page ``leader-home``): a visit starts when the
    home is opened more than :data:`VISIT_GAP_MINUTES` after it was last opened; the changes shown
    are those since the start of the visit before, and stay the same while the visit lasts (a reload
    does not empty the list). With no account, or on a first visit, the last
    :data:`FIRST_VISIT_DAYS` days.
    """
    now = now or datetime.now(timezone.utc)
    fallback = (now - timedelta(days=FIRST_VISIT_DAYS)).isoformat(timespec="microseconds")
    if not account:
        return fallback, False
    last = loop.last_visit(store, account, VISIT_PAGE)
    if last is None:
        since = None
    elif now - datetime.fromisoformat(last) > timedelta(minutes=VISIT_GAP_MINUTES):
        since = last  # a new visit: count from the one before
        loop.mark_visit(store, account, VISIT_PAGE + ":since", at=last)
    else:
        since = loop.last_visit(store, account, VISIT_PAGE + ":since")
    loop.mark_visit(store, account, VISIT_PAGE, at=now)
    return (since, True) if since else (fallback, False)


def ago(moment: str | None, *, now: datetime | None = None) -> str:
    """A stored moment as people say it: "just now", "5 minutes ago", "3 hours ago", "on 4 December 2026".

    >>> at = datetime(2026, 12, 4, 18, 27, tzinfo=timezone.utc)
    >>> ago("2026-12-04T18:26:30+00:00", now=at), ago("2026-12-04T18:22:00+00:00", now=at)
    ('just now', '5 minutes ago')
    >>> ago("2026-12-04T15:00:00+00:00", now=at), ago("2026-11-20T09:00:00+00:00", now=at)
    ('3 hours ago', 'on 20 November 2026')
    """
    if not moment:
        return "at an unknown time"
    try:
        then = datetime.fromisoformat(moment)
    except ValueError:
        return f"at {moment}"
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    seconds = ((now or datetime.now(timezone.utc)) - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"on {then.day} {then:%B %Y}"

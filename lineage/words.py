"""Plain words for what contributors read: quality dimensions, scores, dates, changes and record issues.

The Government Data Quality Framework's words (completeness, timeliness...) come second, after
what they mean to someone entering records; scores are said in words first ("fair (0.71)").

>>> dimension_name("completeness")
'Records are missing details'
>>> score_words(0.71), score_words(0.95), score_words(0.4), score_words(None)
('fair', 'good', 'poor', 'not assessed')
>>> score_text(0.71, "amber")
'fair (0.71)'
>>> uk_time("2026-10-03T13:05:00+00:00")
'3 October 2026, 14:05'
>>> uk_time("2026-12-04T18:27:45.123456+00:00")
'4 December 2026, 18:27'
>>> uk_date("2026-10-03")
'3 October 2026'
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .model import QUALITY_DIMENSIONS, rag_for_score

UK = ZoneInfo("Europe/London")

DIMENSIONS: dict[str, tuple[str, str]] = {
    "completeness": ("Records are missing details", "Fields left empty, like household size or a date of birth."),
    "uniqueness": ("The same person or case is recorded twice", "Duplicates: one household with two records."),
    "consistency": ("Records disagree with each other or with other systems",
                    "One system says one thing, another says something else."),
    "timeliness": ("Records are entered or updated late", "A change of address or a move-out entered weeks after."),
    "validity": ("Records are in the wrong format or out of range", "A postcode that is not a postcode, a date in "
                 "the future."),
    "accuracy": ("Records do not match reality", "The details are filled in, but they are wrong."),
}
"""Per quality dimension: (plain name, hint)."""

FIXES: dict[str, str] = {
    "completeness": "Fill in the missing details the next time you open each case.",
    "uniqueness": "Search for the person before adding them, and ask the system's owner to merge the duplicates.",
    "consistency": "Check the record against the other system and correct whichever is wrong.",
    "timeliness": "Enter changes on the day you hear about them.",
    "validity": "Check dates, postcodes and numbers as you type them.",
    "accuracy": "Check the details with the person or the paperwork.",
}
"""Per quality dimension: what someone entering records can do about it."""


def dimension_fix(dimension: str | None) -> str:
    return FIXES.get(dimension or "", "Check these records and correct what is wrong.")


SCORE_WORDS = {"green": "good", "amber": "fair", "red": "poor"}
"""A RAG band in words."""
BANDS_EXPLAINED = "Good means a score of 0.9 or more out of 1, fair 0.7 to 0.9, poor below 0.7."


def dimension_name(dimension: str | None) -> str:
    """The plain name of a quality dimension ("Records are missing details")."""
    if not dimension:
        return "Something else"
    return DIMENSIONS.get(dimension, (dimension.replace("_", " ").capitalize(), ""))[0]


def dimension_hint(dimension: str | None) -> str:
    return DIMENSIONS.get(dimension or "", ("", ""))[1]


def dimension_label(dimension: str | None) -> str:
    """Plain name then the framework's word: "Records are missing details (completeness)"."""
    if not dimension or dimension not in DIMENSIONS:
        return dimension_name(dimension)
    return f"{dimension_name(dimension)} ({dimension})"


def score_words(score: float | None, rag: str | None = None) -> str:
    """good, fair or poor (the RAG band in words); "not assessed" with neither."""
    band = rag or (rag_for_score(score) if score is not None else None)
    return SCORE_WORDS.get(band or "", "not assessed")


def score_text(score: float | None, rag: str | None = None) -> str:
    """Words first, the number second: "fair (0.71)"."""
    words = score_words(score, rag)
    return f"{words} ({score:.2f})" if score is not None else words


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def uk_time(value: Any) -> str:
    """A stored time as people in the UK read it: "3 October 2026, 14:05" (UK local time)."""
    moment = _moment(value)
    if moment is None:
        return str(value)
    local = moment.astimezone(UK)
    return f"{local.day} {local:%B %Y, %H:%M}"


def uk_date(value: Any) -> str:
    """A date as people read it: "3 October 2026"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            return str(value)
    return f"{day.day} {day:%B %Y}"


_KIND_WORDS = {"ai_tool": "AI tool"}


def _thing(ref: str, names: dict[str, str]) -> str:
    return names.get(ref, ref)


def change_line(summary: str, items: list[dict[str, Any]], names: dict[str, str]) -> str:
    """A change-log line in words. A summary a person wrote is kept; the ones the tools write
    ("add feeds edge a -> b", "update node x") are said with names instead of ids.

    >>> change_line("add feeds edge housing-register -> bed-forecast by cli", [],
    ...             {"housing-register": "Housing register", "bed-forecast": "Bed forecast"})
    'A new link: Housing register now goes into Bed forecast'
    >>> change_line("Housing register refreshed nightly", [], {})
    'Housing register refreshed nightly'
    >>> change_line("update node housing-register", [], {"housing-register": "Housing register"})
    'Housing register was updated'
    """
    text = re.sub(r"\s+by \S+$", "", summary.strip())
    edge = re.match(r"^(add|remove|delete|update|change)\s+(\w+)\s+edge\s+(\S+)\s*->\s*(\S+)", text)
    if edge:
        action, _, source, target = edge.groups()
        a, b = _thing(source, names), _thing(target, names)
        if action == "add":
            return f"A new link: {a} now goes into {b}"
        if action in ("remove", "delete"):
            return f"A link was removed: {a} no longer goes into {b}"
        return f"The link from {a} into {b} was updated"
    node = re.match(r"^(add|create|remove|delete|update|change|edit)\s+(?:node\s+)?(\S+)$", text)
    if node and (node.group(2) in names or re.fullmatch(r"[a-z0-9][a-z0-9._-]*", node.group(2))) and \
            ("node" in text.split() or node.group(2) in names):
        action, ref = node.groups()
        verb = {"add": "was added", "create": "was added", "remove": "was removed", "delete": "was removed"}.get(
            action, "was updated")
        return f"{_thing(ref, names)} {verb}"
    if re.match(r"^(load|import|bulk|openlineage)\b", text, re.I):
        return "The map of the data was updated from a file"
    return text[:1].upper() + text[1:] if text else "A change"


def issue_text(issue: dict[str, Any]) -> str:
    """One record issue in words: "Household size missing: 40 records".

    >>> issue_text({"note": "Household size missing", "count": 40})
    'Household size missing: 40 records'
    """
    count = issue.get("count")
    note = (issue.get("note") or dimension_name(issue.get("dimension"))).rstrip(".")
    if count is None:
        return note
    return f"{note}: {count:,} record{'s' if count != 1 else ''}"


_ISSUE = re.compile(r"^\s*(?:\[(?P<dimension>[^\]]*)\]\s*)?(?P<note>.*?)(?::\s*(?P<count>[0-9][0-9,]*)(?:\s+records?)?)?\s*$")


def parse_issues(text: str, separator: str = ";") -> list[dict[str, Any]]:
    """Record issues from their short form: ``[dimension] note: count``, separated by ``separator``
    (a ``;`` in a CSV cell, a line in a form). The dimension and count are optional.

    >>> parse_issues("[completeness] Household size missing: 40; Duplicate applications: 1,200")
    [{'note': 'Household size missing', 'count': 40, 'dimension': 'completeness'}, \
{'note': 'Duplicate applications', 'count': 1200}]
    """
    issues = []
    parts = text.splitlines() if separator == "\n" else text.split(separator)
    for part in parts:
        if not part.strip():
            continue
        match = _ISSUE.match(part)
        issue: dict[str, Any] = {"note": match.group("note").strip()}
        if match.group("count"):
            issue["count"] = int(match.group("count").replace(",", ""))
        if match.group("dimension") is not None:
            issue["dimension"] = match.group("dimension").strip().lower()
        issues.append(issue)
    return issues


def issues_short(issues: list[dict[str, Any]], separator: str = "; ") -> str:
    """Record issues in their short form (what :func:`parse_issues` reads).

    >>> issues_short([{"note": "Household size missing", "count": 40, "dimension": "completeness"}])
    '[completeness] Household size missing: 40'
    """
    parts = []
    for issue in issues:
        text = f"[{issue['dimension']}] " if issue.get("dimension") else ""
        text += str(issue.get("note", ""))
        if issue.get("count") is not None:
            text += f": {issue['count']}"
        parts.append(text)
    return separator.join(parts)


__all__ = ["parse_issues", "issues_short", "dimension_fix", "FIXES", "DIMENSIONS", "QUALITY_DIMENSIONS", "dimension_name", "dimension_hint", "dimension_label",
           "score_words", "score_text", "uk_time", "uk_date", "change_line", "issue_text", "BANDS_EXPLAINED"]

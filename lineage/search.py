"""Finding a node by its name, among those a person may link to: the owner of a record (a person),
or the other end of an edge (the kinds the model allows there).

One function answers both the search-as-you-type list (:func:`linkable`) and the plain form
without JavaScript (:func:`resolve`: a typed name, or id, becomes one node, or a problem that
names the near matches).

>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> with store.change("setup", "people") as change:
...     change.add_node({"id": "owner-jo", "kind": "person", "name": "Jo Fletcher", "organisation": "Council"})
...     change.add_node({"id": "owner-jon", "kind": "person", "name": "Jon Smith", "organisation": "Trust"})
>>> [m["id"] for m in linkable(store, "jo", kinds=["person"])]
['owner-jo', 'owner-jon']
>>> resolve(store, "Jo Fletcher", kinds=["person"])["id"]
'owner-jo'
>>> resolve(store, "jo", kinds=["person"])
Traceback (most recent call last):
...
lineage.search.Ambiguous: 2 match ‘jo’: Jo Fletcher (Council), Jon Smith (Trust); type more of the name
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import model
from .errors import LineageError
from .store import Store

LIMIT = 20
"""Matches offered as someone types."""
MAX_TEXT = 200


class NoMatch(LineageError):
    """Nothing of the wanted kinds has that name or id."""


class Ambiguous(LineageError):
    """More than one thing matches what was typed."""

    def __init__(self, message: str, matches: list[dict[str, Any]]):
        super().__init__(message)
        self.matches = matches


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]


def linkable(store: Store, text: str, *, kinds: Sequence[str], exclude: Iterable[str] = (),
             limit: int = LIMIT) -> list[dict[str, Any]]:
    """Nodes of ``kinds`` whose name (or id) matches ``text`` (each word as a prefix), grouped by
    organisation, then by name: ``[{"id", "name", "kind", "organisation"}]``."""
    for kind in kinds:
        if kind not in model.NODE_KINDS:
            raise LineageError(f"kind must be one of: {', '.join(model.NODE_KINDS)}; got '{kind}'")
    text = text.strip()[:MAX_TEXT]
    words = _words(text)
    if not words or not kinds:
        return []
    excluded = set(exclude)
    marks = ",".join("?" * len(kinds))
    query = "name : (" + " ".join(f'"{w}"*' for w in words) + ")"  # names only, not descriptions
    sql = (f"SELECT n.id, n.name, n.kind, n.organisation FROM nodes_fts f JOIN nodes n ON n.key = f.rowid "
           f"WHERE nodes_fts MATCH ? AND n.kind IN ({marks}) ORDER BY f.rank LIMIT ?")
    rows = store.conn.execute(sql, [query, *kinds, limit + len(excluded) + 1]).fetchall()
    by_id = store.conn.execute(f"SELECT id, name, kind, organisation FROM nodes WHERE id = ? AND kind IN ({marks})",
                               [text.lower(), *kinds]).fetchall()
    found: dict[str, dict[str, Any]] = {}
    for node_id, name, kind, organisation in [*by_id, *rows]:
        if node_id not in excluded and node_id not in found:
            found[node_id] = {"id": node_id, "name": name, "kind": kind, "organisation": organisation}
    matches = list(found.values())[:limit]
    matches.sort(key=lambda m: (m["organisation"] is None, m["organisation"] or "", m["name"].lower(), m["id"]))
    return matches


def _label(match: dict[str, Any]) -> str:
    return f"{match['name']} ({match['organisation']})" if match.get("organisation") else match["name"]


def resolve(store: Store, text: str, *, kinds: Sequence[str], exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The one node of ``kinds`` that ``text`` names: its id, its exact name (ignoring case), or the
    only match of a search. Raises :class:`NoMatch` or :class:`Ambiguous` (with the matches)."""
    text = text.strip()
    wanted = " or ".join(k.replace("_", " ") for k in kinds)
    if not text:
        raise NoMatch(f"Enter the name of a {wanted}")
    matches = linkable(store, text, kinds=kinds, exclude=exclude, limit=LIMIT)
    exact = [m for m in matches if m["id"] == text.lower() or m["name"].lower() == text.lower()]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NoMatch(f"There is no {wanted} called ‘{text[:60]}’: check the spelling, or type part of the name")
    shown = exact if len(exact) > 1 else matches
    names = ", ".join(_label(m) for m in shown[:5])
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    raise Ambiguous(f"{len(shown)} match ‘{text[:60]}’: {names}{more}; type more of the name", shown)


def grouped(matches: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Matches grouped by organisation (in their order), "No organisation" last."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for match in matches:
        groups.setdefault(match.get("organisation") or "No organisation", []).append(match)
    return list(groups.items())

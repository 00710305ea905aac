"""Find nodes by name: what search-as-you-type lists, and what a form that takes a name resolves to.

:func:`find` ranks the nodes whose names match what was typed: the name itself (any case) first, then
names that start with it, then names with every word typed at the start of one of their words (the
store's full-text index), then names holding it anywhere; shorter names before longer ones at each
step. :func:`resolve` turns a typed name into one node, a choice between several, or, when nothing
matches, the closest names (``difflib``), so that a form can say "did you mean ...".

>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> with store.change("jo", "add") as change:
...     for node in [{"id": "reg", "kind": "dataset", "name": "Housing register"},
...                  {"id": "alloc", "kind": "decision", "name": "Social housing allocations"},
...                  {"id": "reg-2", "kind": "dataset", "name": "Housing register archive"}]:
...         change.add_node(node)
>>> [n["id"] for n in find(store, "housing reg").matches]
['reg', 'reg-2']
>>> resolve(store, "Social housing allocations").node["id"]
'alloc'
>>> [n["id"] for n in resolve(store, "housing register", kinds=["dataset"]).choices]
[]
>>> resolve(store, "housing register", kinds=["dataset"]).node["id"]  # the exact name wins
'reg'
>>> [n["id"] for n in resolve(store, "housing", kinds=["dataset"]).choices]
['reg', 'reg-2']
>>> [n["name"] for n in resolve(store, "Housing registre").suggestions][:1]
['Housing register']
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import model
from .errors import LineageError
from .io import openlineage_names

LIMIT = 10
"""Matches :func:`find` returns unless asked for another number (at most :data:`MAX_LIMIT`)."""
MAX_LIMIT = 50
SUGGESTIONS = 5
CLOSE = 0.6
"""How alike (``difflib`` ratio, 0 to 1) a name must be to be suggested."""
MAX_TEXT = 200
CANDIDATES = 200
"""Full-text matches ranked again by :func:`find` (the index orders by its own relevance)."""


@dataclass
class Found:
    """What :func:`find` found for ``text``: ``matches`` best first, and how many there were."""

    text: str
    kinds: list[str] | None
    matches: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check(text: str, kinds: Sequence[str] | None) -> tuple[str, list[str] | None]:
    text = " ".join((text or "").split())
    if len(text) > MAX_TEXT:
        raise LineageError(f"a name is at most {MAX_TEXT} characters; this one has {len(text)}")
    unknown = [k for k in kinds or [] if k not in model.NODE_KINDS]
    if unknown:
        raise LineageError(f"unknown kind '{unknown[0][:50]}'; kinds are: {', '.join(model.NODE_KINDS)}")
    return text, list(kinds) if kinds else None


def _rank(text: str, node: dict[str, Any], position: int) -> tuple:
    name = (node["name"] or "").casefold()
    wanted = text.casefold()
    step = 0 if name == wanted or node["id"] == text else 1 if name.startswith(wanted) else 2
    return step, len(name), position


def find(store: Any, text: str, *, kinds: Sequence[str] | None = None, limit: int = LIMIT,
         exclude: Iterable[str] = ()) -> Found:
    """Nodes by name, best first (see the module); at most ``limit``, ``more`` when there were more.
    ``exclude`` names ids to leave out (the node an edge starts from, when picking its other end)."""
    text, kinds = _check(text, kinds)
    if not 1 <= limit <= MAX_LIMIT:
        raise LineageError(f"limit must be from 1 to {MAX_LIMIT}; got {limit}")
    found = Found(text, kinds)
    if not text:
        return found
    left_out = set(exclude)
    rows = [row for row in store.find_names(text, kinds=kinds, limit=CANDIDATES) if row["id"] not in left_out]
    # An id typed in full is a match too, and so is a dataset's other OpenLineage name (a symlink,
    # its name before a rename): both as good as the name itself.
    aliases = set(openlineage_names.nodes_by_alias(store, text))
    by_id = store.node_names([text, *sorted(aliases)])
    for exact in by_id.values():
        if (not kinds or exact["kind"] in kinds) and exact["id"] not in left_out \
                and all(r["id"] != exact["id"] for r in rows):
            rows.insert(0, exact)
    ranked = sorted(enumerate(rows), key=lambda pair: (0,) + _rank(text, pair[1], pair[0])[1:]
                    if pair[1]["id"] in aliases else _rank(text, pair[1], pair[0]))
    found.matches = [row for _, row in ranked[:limit]]
    found.more = len(rows) > limit
    return found


def suggestions(store: Any, text: str, *, kinds: Sequence[str] | None = None,
                limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
    """The names closest to ``text`` (``difflib`` ratio of at least :data:`CLOSE`), closest first.

    On a large estate the names compared are those sharing a word's first three letters with ``text``.
    """
    text, kinds = _check(text, kinds)
    if not text:
        return []
    pool = store.names(kinds=kinds)
    if pool is None:
        words = [w[:3] for w in text.split() if len(w) >= 3]
        pool = [row for w in words for row in store.find_names(w, kinds=kinds, limit=2000, contains=False)]
    wanted = text.casefold()
    scored = []
    for row in pool:
        matcher = difflib.SequenceMatcher(None, wanted, (row["name"] or "").casefold())
        if matcher.real_quick_ratio() >= CLOSE and matcher.quick_ratio() >= CLOSE:
            ratio = matcher.ratio()
            if ratio >= CLOSE:
                scored.append((-ratio, row["name"], row["id"], row))
    scored.sort(key=lambda item: item[:3])
    seen, out = set(), []
    for *_, row in scored:
        if row["id"] not in seen:
            seen.add(row["id"])
            out.append(row)
    return out[:limit]


@dataclass
class Resolved:
    """A typed name resolved: one ``node``, or ``choices`` to pick from, or ``suggestions`` (nothing
    matched); ``text`` as typed."""

    text: str
    node: dict[str, Any] | None = None
    choices: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False
    suggestions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def message(self, what: str, *, listing: bool = False) -> str:
        """Why a form could not take the name, and what to do: for an error summary. With
        ``listing``, the names that match are in the message (a form with no list of choices)."""
        if self.choices and listing:
            names = ", ".join(f"{c['name']} ({c['organisation']})" if c.get("organisation") else c["name"]
                              for c in self.choices[:5])
            more = " and more" if self.more or len(self.choices) > 5 else ""
            return f"{len(self.choices)}{'+' if self.more else ''} match “{self.text}”: {names}{more}. " \
                   "Type more of the name, or choose one as you type"
        if self.choices:
            return f"{len(self.choices)}{'+' if self.more else ''} {what}s match “{self.text}”: choose one"
        closest = ", ".join(f"“{s['name']}”" for s in self.suggestions[:3])
        return f"No {what} is called “{self.text}”" + (f". Did you mean {closest}?" if closest else
                                                        ": check the spelling, or type part of the name")


def resolve(store: Any, text: str, *, kinds: Sequence[str] | None = None, limit: int = 20,
            exclude: Iterable[str] = ()) -> Resolved:
    """One node for a typed name (its id, its exact name in any case, or the only match), else the
    matches to choose from, else the closest names (``exclude``: ids never to resolve to)."""
    left_out = set(exclude)
    found = find(store, text, kinds=kinds, limit=min(limit, MAX_LIMIT), exclude=left_out)
    result = Resolved(found.text)
    if not found.matches:
        result.suggestions = [s for s in suggestions(store, found.text, kinds=kinds) if s["id"] not in left_out]
        return result
    wanted = found.text.casefold()
    exact = [m for m in found.matches if m["id"] == found.text] or \
        [m for m in found.matches if (m["name"] or "").casefold() == wanted]
    if len(exact) == 1:
        result.node = exact[0]
    elif len(found.matches) == 1:
        result.node = found.matches[0]
    else:
        result.choices, result.more = (exact if len(exact) > 1 else found.matches), found.more and len(exact) <= 1
    return result

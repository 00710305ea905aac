"""Selectors in the style of dbt's graph selector, shared by the CLI, the API and the web UI.

Grammar::

    selector   := term (" " term)*          union
    term       := atom ("," atom)*          intersection
    atom       := [N]["+"] base ["+"][N]    upstream / downstream, N levels (no N: all)
    base       := node-id | method ":" value
    method     := kind | owner | tag | organisation

``housing-register+`` is the register and everything downstream, ``2+allocations`` the
decision and two levels upstream, ``+x+`` both ways, ``kind:ai_tool`` every AI tool,
``owner:owner-jo,kind:dataset`` the datasets Jo owns.

Examples
--------
>>> selector = parse("2+allocations kind:ai_tool,owner:jo")
>>> [[(atom.method, atom.value) for atom in term.atoms] for term in selector.terms]
[[('id', 'allocations')], [('kind', 'ai_tool'), ('owner', 'jo')]]
>>> selector.terms[0].atoms[0].upstream_depth
2
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import model
from .errors import SelectorError
from .graph import MAX_DEPTH, LineageGraph

METHODS = ("kind", "owner", "tag", "organisation")
MAX_SELECTOR_LENGTH = 2000
_ATOM = re.compile(r"^(?:(\d*)\+)?([^+]+?)(?:\+(\d*))?$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Atom:
    method: str
    value: str
    upstream: bool
    upstream_depth: int | None
    downstream: bool
    downstream_depth: int | None
    position: int


@dataclass(frozen=True)
class Term:
    atoms: tuple[Atom, ...]


@dataclass(frozen=True)
class Selector:
    terms: tuple[Term, ...]


def _error(text: str, position: int, message: str) -> SelectorError:
    return SelectorError(f"{message}\n  {text}\n  {' ' * position}^")


def _depth(digits: str | None, text: str, position: int) -> int | None:
    if not digits:
        return None
    depth = int(digits)
    if depth > MAX_DEPTH:
        raise _error(text, position, f"depth {depth} is too deep; at most {MAX_DEPTH}")
    return depth


def parse(text: str) -> Selector:
    """Parse a selector; a :class:`SelectorError` points at the offending part."""
    if len(text) > MAX_SELECTOR_LENGTH:
        raise SelectorError(f"a selector is at most {MAX_SELECTOR_LENGTH} characters, got {len(text)}")
    if text.count('"') % 2:
        raise _error(text, text.rindex('"'),
                     'unbalanced quote: close it, as in organisation:"Northbridge Borough Council"')
    terms = []
    for term_match in re.finditer(r'(?:[^\s"]|"[^"]*")+', text):
        atoms = []
        offset = term_match.start()
        for part in term_match.group().split(","):
            if not part:
                raise _error(text, offset, "empty part: two commas, or a comma at an end")
            match = _ATOM.match(part)
            if not match:
                raise _error(text, offset, f"cannot read '{part}': expected [N+]node-id[+N] or method:value")
            up_digits, base, down_digits = match.groups()
            if ":" in base:
                method, _, value = base.partition(":")
                value = value.replace('"', "")
                if method not in METHODS:
                    raise _error(text, offset, f"unknown method '{method}'; expected one of: {', '.join(METHODS)}")
                if not value:
                    raise _error(text, offset + len(method) + 1, f"'{method}:' needs a value")
                if method == "kind" and value not in model.NODE_KINDS:
                    raise _error(text, offset + len(method) + 1,
                                 f"unknown kind '{value}'; expected one of: {', '.join(model.NODE_KINDS)}")
            else:
                method, value = "id", base
                if not _ID.match(base):
                    raise _error(text, offset + (len(up_digits) + 1 if up_digits is not None else 0),
                                 f"'{base}' is not a node id (lower-case letters, digits, '.', '_', '-')")
            atoms.append(Atom(method, value, up_digits is not None, _depth(up_digits, text, offset),
                              down_digits is not None, _depth(down_digits, text, offset), offset))
            offset += len(part) + 1
        terms.append(Term(tuple(atoms)))
    if not terms:
        raise SelectorError("empty selector: give a node id, kind:KIND, owner:ID, tag:TAG or organisation:NAME")
    return Selector(tuple(terms))


def _atom_nodes(g: LineageGraph, atom: Atom, text: str) -> np.ndarray:
    if atom.method == "id":
        if atom.value not in g:
            raise _error(text, atom.position, f"no node with id '{atom.value}'")
        base = np.array([g.position(atom.value)], dtype=np.int64)
    elif atom.method == "kind":
        base = g.of_kind(atom.value)
    else:
        base = g.find(atom.method, atom.value)
    parts = [base]
    if atom.upstream and base.size:
        parts.append(g.bfs(base, reverse=True, depth=atom.upstream_depth).nodes)
    if atom.downstream and base.size:
        parts.append(g.bfs(base, depth=atom.downstream_depth).nodes)
    return _distinct(np.concatenate(parts))


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, by sorting: ``np.unique`` hashes first in numpy 2.4, eight times
    slower on the half a million nodes upstream of a hub."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered


def positions(g: LineageGraph, selector: Selector | str) -> np.ndarray:
    """The graph indexes of the nodes a selector selects, ascending (which is id order)."""
    text = selector if isinstance(selector, str) else ""
    parsed = parse(selector) if isinstance(selector, str) else selector
    selected = np.zeros(0, dtype=np.int64)
    for term in parsed.terms:
        found = None
        for atom in term.atoms:
            nodes = _atom_nodes(g, atom, text)
            found = nodes if found is None else np.intersect1d(found, nodes, assume_unique=True)
        selected = _distinct(np.concatenate([selected, found]))
    return selected


def evaluate(g: LineageGraph, selector: Selector | str) -> list[str]:
    """The ids a selector selects, sorted."""
    return [g.ids[i] for i in positions(g, selector).tolist()]

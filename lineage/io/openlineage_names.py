"""One dataset, many names: OpenLineage ``symlinks`` and renames.

Spark names a table by where its files are (``hdfs://namenode:8020`` ``/warehouse/benefits.db/claims``)
and lists, in the ``symlinks`` facet, the name the metastore gives it (``hive://metastore:9083``
``benefits.claims``); a ``lifecycleStateChange`` of ``RENAME`` names the table's previous name.
Each such group of names is one node:

* the node is the one any of the names already resolves to (its own node, or an alias kept
  before); when none does, a new node named after the dataset as the event names it (not its
  symlink), the smallest such (namespace, name) when the events name several;
* after a ``RENAME``, the node takes the new name (its id stays: ids never change) and keeps
  the old one as an alias;
* every other name is kept on the node (``openlineage.aliases``) and in the table
  ``openlineage_aliases`` (beside the graph, like the registers), so that an event naming the table
  by any of them, :func:`lineage.find.find` and the Marquez read API all find the node;
* two names that are already two nodes are left as two (a warning says so): merging nodes is
  for a person to do.

>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> resolve(store, {("dataset", "hdfs", "/w/claims"), ("dataset", "hive", "claims")},
...         {(("dataset", "hdfs", "/w/claims"), ("dataset", "hive", "claims"))}).nodes[("dataset", "hive", "claims")]
'w-claims-d509e1e5'
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store

Key = tuple[str, str, str]
"""("job" or "dataset", namespace, name), as :mod:`lineage.io.openlineage` keys them."""


@dataclass
class Resolved:
    """Where each key goes: ``nodes`` key -> node id, ``keys`` node id -> the key it is named by,
    ``aliases`` node id -> its other names (new ones), ``warnings`` what was left alone."""

    nodes: dict[Key, str] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)
    aliases: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _groups(keys: Iterable[Key], links: Iterable[tuple[Key, Key]]) -> list[set[Key]]:
    parent: dict[Key, Key] = {}

    def root(key: Key) -> Key:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for key in keys:
        root(key)
    for one, other in links:
        a, b = root(one), root(other)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[Key, set[Key]] = {}
    for key in parent:
        groups.setdefault(root(key), set()).add(key)
    return list(groups.values())


def aliased(store: "Store", keys: Iterable[Key]) -> dict[Key, str]:
    """The node each dataset key is kept as an alias of, for the keys that are aliases."""
    wanted = [[namespace, name] for entity, namespace, name in keys if entity == "dataset"]
    rows = store.conn.execute(
        "SELECT a.namespace, a.name, a.node FROM openlineage_aliases a JOIN json_each(?) w "
        "ON a.namespace = json_extract(w.value, '$[0]') AND a.name = json_extract(w.value, '$[1]')",
        (json.dumps(wanted),))
    return {("dataset", namespace, name): node for namespace, name, node in rows}


def resolve(store: "Store", keys: set[Key], links: set[tuple[Key, Key]], renamed: set[Key] = frozenset()) -> Resolved:
    """The node of every key in ``keys`` (see the module), read inside the caller's transaction.

    ``links`` are (the dataset as an event names it, another name of it) pairs; a key in
    ``renamed`` (a table's name after a ``RENAME``) becomes its node's name, the name it had an alias.
    """
    from .openlineage import META, node_id

    every = keys | {key for pair in links for key in pair}
    known = aliased(store, every)
    own = {key: node_id(*key) for key in every}
    existing = {record["id"]: record for record in store.nodes(ids=set(own.values()) | set(known.values()))}
    known = {key: node for key, node in known.items() if node in existing}  # not a node deleted since
    target = {key: known.get(key) or (own[key] if own[key] in existing else None) for key in every}
    named_first = {first for first, _ in links}
    result = Resolved()

    def name_key(node: str, fallback: Key) -> Key:
        """An existing node keeps the name it has; a new one is named by ``fallback``."""
        meta = (existing.get(node) or {}).get(META)
        if isinstance(meta, dict) and "namespace" in meta:
            return (fallback[0], meta["namespace"], meta["name"])
        return fallback

    for group in _groups(every, links):
        found = sorted({target[key] for key in group if target[key]})
        canonical = min((group & renamed) or (group & named_first) or group)
        node = found[0] if found else own[canonical]
        if not group & renamed:
            canonical = name_key(node, canonical)
        elif name_key(node, canonical) != canonical:  # the name the node had before the rename
            result.aliases.setdefault(node, set()).add(name_key(node, canonical)[1:])
        if len(found) > 1:
            result.warnings.append(
                f"dataset '{canonical[1]}/{canonical[2]}' has other names that are already nodes of their own "
                f"({', '.join(found[1:])}); they are left apart: merge them by hand")
        for key in sorted(group):
            home = target[key] if target[key] and target[key] != node else node
            if key in keys:
                result.nodes[key] = home
                result.keys.setdefault(home, name_key(home, key) if home != node else canonical)
            if home == node and key != canonical and key[0] == "dataset":
                result.aliases.setdefault(node, set()).add(key[1:])
    return result


def write(store: "Store", aliases: dict[str, set[tuple[str, str]]]) -> None:
    """Keep each node's other names (inside the caller's transaction)."""
    store.conn.executemany(
        "INSERT INTO openlineage_aliases (namespace, name, node) VALUES (?, ?, ?) "
        "ON CONFLICT (namespace, name) DO UPDATE SET node = excluded.node",
        [(namespace, name, node) for node, names in aliases.items() for namespace, name in sorted(names)])


def forget(store: "Store", nodes: Iterable[str]) -> None:
    """Drop the aliases of nodes that are gone from the graph."""
    store.conn.execute("DELETE FROM openlineage_aliases WHERE node IN (SELECT value FROM json_each(?))",
                       (json.dumps(sorted(nodes)),))


def node_named(store: "Store", entity: str, namespace: str, name: str) -> str | None:
    """The node a job or dataset key names, by its own id or as an alias; None if neither is in the graph."""
    from .openlineage import node_id

    for candidate in (aliased(store, [(entity, namespace, name)]).get((entity, namespace, name)),
                      node_id(entity, namespace, name)):
        if candidate and store.kinds_of({candidate}).get(candidate):
            return candidate
    return None


def nodes_by_alias(store: "Store", text: str, limit: int = 20) -> list[str]:
    """Nodes with an alias whose name is ``text`` (any case), or whose ``namespace/name`` it is
    (both may hold slashes: every split is tried). Index look-ups only: find-as-you-type asks this
    at every key."""
    splits = [[text[:at], text[at + 1:]] for at, char in enumerate(text) if char == "/"]
    rows = store.conn.execute(
        "SELECT node FROM openlineage_aliases WHERE name = ? COLLATE NOCASE UNION "
        "SELECT a.node FROM openlineage_aliases a JOIN json_each(?) w ON a.namespace = json_extract(w.value, '$[0]') "
        "AND a.name = json_extract(w.value, '$[1]') ORDER BY 1 LIMIT ?", (text, json.dumps(splits), limit))
    return [node for (node,) in rows]


def aliases_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    """A node's other OpenLineage names, as kept on it."""
    from .openlineage import META

    meta = record.get(META)
    return [tuple(pair) for pair in (meta.get("aliases") or ())] if isinstance(meta, dict) else []

"""W3C PROV-JSON out (https://www.w3.org/submissions/prov-json/), readable by the ``prov`` package.

Nodes
-----
=================================  ==================================================
lineage                            PROV
=================================  ==================================================
``person``                         agent, ``prov:type`` ``prov:Person``
``team``                           agent, ``prov:type`` ``prov:Organization``
``dataset``, ``system``            entity (a system is the records held in it)
``process``, ``ai_tool``           activity
``decision``                       activity (deciding uses data and is informed by tools)
=================================  ==================================================

Edges, by what their ends are
-----------------------------
=======================  ===================  ============================================
from -> to               relation             lineage edges
=======================  ===================  ============================================
agent -> entity          ``wasAttributedTo``  ``enters``
agent -> agent           ``actedOnBehalfOf``  ``member_of`` (the person for the team)
entity -> entity         ``wasDerivedFrom``   ``supplies``, ``derives`` between datasets
entity -> activity       ``used``             ``feeds``, ``derives`` into a process,
                                              ``informs`` from a dataset
activity -> entity       ``wasGeneratedBy``   ``derives`` out of a process or tool,
                                              ``records_outcome``
activity -> activity     ``wasInformedBy``    ``informs`` from a tool or process, ``derives``
                                              between processes
activity -> activity     ``wasStartedBy``     ``part_of`` (the task, started by its job)
=======================  ===================  ============================================

Identifiers are ``lineage:<node id>`` in the namespace ``urn:lineage:``; relations are blank
nodes ``_:r1``, ``_:r2`` ... in (source, target) order. Every node's name is its ``prov:label``;
its kind and attributes are ``lineage:kind`` and ``lineage:<attribute>`` (quality flattened as in
CSV: ``lineage:quality.completeness``; lists and objects as JSON text). Each relation carries
its edge's ``lineage:kind`` and attributes.

Examples
--------
>>> document = prov_document([{"id": "ali", "kind": "person", "name": "Ali"},
...                           {"id": "register", "kind": "dataset", "name": "Register"}],
...                          [{"source": "ali", "target": "register", "kind": "enters", "records": 12}])
>>> document["wasAttributedTo"]["_:r1"]
{'prov:entity': 'lineage:register', 'prov:agent': 'lineage:ali', 'lineage:kind': 'enters', 'lineage:records': 12}
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from .. import model
from .graphml import flat_records

PREFIX = "lineage"
NAMESPACE = "urn:lineage:"

CLASS_OF = {"person": "agent", "team": "agent", "dataset": "entity", "system": "entity",
            "process": "activity", "ai_tool": "activity", "decision": "activity"}
"""What each node kind is in PROV."""
AGENT_TYPES = {"person": "prov:Person", "team": "prov:Organization"}

# (class of the source, class of the target) -> (relation, role of the source, role of the target)
RELATIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("agent", "entity"): ("wasAttributedTo", "prov:agent", "prov:entity"),
    ("agent", "agent"): ("actedOnBehalfOf", "prov:delegate", "prov:responsible"),
    ("entity", "entity"): ("wasDerivedFrom", "prov:usedEntity", "prov:generatedEntity"),
    ("entity", "activity"): ("used", "prov:entity", "prov:activity"),
    ("activity", "entity"): ("wasGeneratedBy", "prov:activity", "prov:entity"),
    ("activity", "activity"): ("wasInformedBy", "prov:informant", "prov:informed"),
    ("agent", "activity"): ("wasAssociatedWith", "prov:agent", "prov:activity"),
    ("entity", "agent"): ("wasAttributedTo", "prov:entity", "prov:agent"),
    ("activity", "agent"): ("wasAssociatedWith", "prov:activity", "prov:agent"),
}
"""Every pair of classes has a relation (the last three no edge the model allows makes)."""
RELATION_OF_KIND: dict[str, tuple[str, str, str]] = {"part_of": ("wasStartedBy", "prov:activity", "prov:starter")}
"""Edge kinds whose relation is not the one their ends' classes give."""
# PROV-JSON lists a relation's main roles first: the generated or informed thing, then the other.
_FIRST = ("prov:entity", "prov:activity", "prov:delegate", "prov:generatedEntity", "prov:informed")


def _qualified(node_id: str) -> str:
    return f"{PREFIX}:{node_id}"


def _value(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, (list, dict)) else value


def _attributes(row: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    return {f"{PREFIX}:{name}": _value(value) for name, value in row.items() if name not in skip}


def prov_document(nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The PROV-JSON document of records, as a dict (see the module's mapping)."""
    document: dict[str, Any] = {"prefix": {PREFIX: NAMESPACE}, "agent": {}, "entity": {}, "activity": {}}
    classes: dict[str, str] = {}
    for row in flat_records(nodes, model.NODE_CORE_FIELDS, lambda r: r["id"]):
        kind = row["kind"]
        classes[row["id"]] = CLASS_OF[kind]
        record: dict[str, Any] = {"prov:label": row["name"]}
        if kind in AGENT_TYPES:
            record["prov:type"] = {"$": AGENT_TYPES[kind], "type": "prov:QUALIFIED_NAME"}
        record.update(_attributes(row, ("id", "name")))
        document[CLASS_OF[kind]][_qualified(row["id"])] = record
    for number, row in enumerate(flat_records(edges, model.EDGE_CORE_FIELDS,
                                              lambda r: (r["source"], r["target"])), 1):
        source_class = classes.get(row["source"], "entity")  # an end not among the nodes: named all the same
        target_class = classes.get(row["target"], "entity")
        relation, source_role, target_role = (RELATION_OF_KIND.get(row["kind"])
                                              or RELATIONS[(source_class, target_class)])
        ends = {source_role: _qualified(row["source"]), target_role: _qualified(row["target"])}
        record = dict(sorted(ends.items(), key=lambda item: item[0] not in _FIRST))
        record.update(_attributes(row, ("source", "target")))
        document.setdefault(relation, {})[f"_:r{number}"] = record
    return {part: value for part, value in document.items() if value or part == "prefix"}


def write_prov_json(nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """Write records as a PROV-JSON document."""
    json.dump(prov_document(nodes, edges), out, ensure_ascii=False, indent=1)
    out.write("\n")

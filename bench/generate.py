"""Synthetic lineage estates for benchmarks: people -> systems -> datasets -> tools -> decisions.

``generate(nodes, seed=...)`` returns a native ``lineage-graph/1`` document (see DESIGN.md section 3);
the same (nodes, seed) always gives the same document. The command line writes it as JSON or as
``nodes.csv`` + ``edges.csv``, streaming records so that a million nodes need little memory::

    python -m bench.generate --nodes 100000 --seed 1 -o estate.json
    python -m bench.generate --nodes 100000 --format csv -o estate-csv/

Shape of the estate
-------------------
Kind mix: people 25%, teams 0.5%, systems 2%, datasets 32.5%, processes 6%, AI tools 4%, decisions
the rest (~30%); about 3 edges per node. Edges point the way data flows, every edge joins kinds the
model allows, and there is at most one edge per (source, target) pair. Ids are numbered at random
within each kind (``dataset-99`` says nothing about where it sits), except the hubs.

* **People** are ``member_of`` one team (team sizes skewed) and ``enters`` records into 1-3 systems
  or raw datasets, chosen with a Zipf-Mandelbrot preference: at 1M nodes the most popular entry
  points have ~43,000, ~27,000, ~20,000 ... contributors; most have a handful.
* **Systems** ``supplies`` raw datasets: every system at least one; a third of raw datasets have a
  supplier, the rest are typed into directly.
* **Datasets and processes** form a funnel of five layers: raw datasets (40% of datasets), three
  shrinking layers of derived datasets and processes, and a narrow shared layer (0.5% of datasets).
  Every node passes its data to a node of the next layer and every derived node receives at least
  one input; a few draw extra inputs from earlier layers, preferring popular sources; most nodes in
  layers 2-4 also read a grandparent directly. So downstream of a raw dataset is a narrow cone
  (tens of nodes) that always ends in the shared layer, while upstream of a shared dataset is
  wide. dataset -> dataset and process -> anything are ``derives``; dataset -> process is ``feeds``.
* **AI tools** are fed by a few datasets (``feeds``, role input or training).
* **Decisions** are ``informs`` by datasets, processes and tools: mostly 2-6 inputs, a few hundreds
  (Zipf tail). Many inputs are redundant paths (something upstream of another input), which adds
  edges but not reach. 0.5% of decisions, all with few inputs, have a ``records_outcome`` edge back
  into a dataset upstream of themselves, so the graph has (small) cycles.
* **Hubs** have stable ids and ``tags: ["hub"]`` (``HUBS``, ``hub_ids``). ``dataset-1..3`` are shared
  datasets beside the funnel (a few layer-3 inputs each) that inform 1% of all decisions each and
  feed the hub tools ``tool-1..3``, which inform another 1% each: thousands of decisions downstream
  at 1M nodes. ``decision-1..3`` (budget-scale decisions) are informed by 95%, 90% and 85% of the
  shared layer plus the hub datasets and tools, so more than half the estate is upstream of each.
  ``person-1..3`` enter all three hub datasets. Entry points upstream of the hub datasets get the
  least popular ranks, so reaching thousands of decisions stays the exception for ordinary people.

Measured with networkx (seed 1): ~3.0 edges per node; a person's median downstream reach is 93
nodes at 100k and 101 at 1M (p90 ~250-300; seeds 2-5 at 100k: 89-105); each hub decision has
61-64% of all nodes upstream (600k+ at 1M); each hub dataset ~20,000 nodes downstream at 1M.

Attributes: people have role and team; systems ai_ready and critical; datasets record_count,
shared, and quality (3-6 of the six Government Data Quality Framework dimensions as scores 0..1;
~10% unassessed); tools phase, human_review and (mostly) atrs_url; decisions decision_type,
frequency, people_affected and value_gbp; ~90% of non-person nodes have an owner (a person id);
``enters`` edges carry records, records_with_issues and period, ``feeds`` role, ``informs`` influence.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from lineage.io.csv import csv_writer

__all__ = ["HUBS", "Estate", "build", "generate", "hub_ids", "write_json", "write_csv", "main"]

FORMAT = "lineage-graph/1"
ORGANISATION = "Synthetic estate"
PERIOD = "2026-Q3"
MIN_NODES = 100

NODE_KINDS: tuple[str, ...] = ("person", "team", "system", "dataset", "process", "ai_tool", "decision")
EDGE_KINDS: tuple[str, ...] = ("enters", "member_of", "supplies", "derives", "feeds", "informs", "records_outcome")
PERSON, TEAM, SYSTEM, DATASET, PROCESS, AI_TOOL, DECISION = range(len(NODE_KINDS))
ENTERS, MEMBER_OF, SUPPLIES, DERIVES, FEEDS, INFORMS, RECORDS_OUTCOME = range(len(EDGE_KINDS))

ID_PREFIX: dict[str, str] = {
    "person": "person", "team": "team", "system": "system", "dataset": "dataset",
    "process": "process", "ai_tool": "tool", "decision": "decision",
}
NAME_PREFIX: dict[str, str] = {
    "person": "Person", "team": "Team", "system": "System", "dataset": "Dataset",
    "process": "Process", "ai_tool": "AI tool", "decision": "Decision",
}

HUB_COUNT = 3
HUBS: dict[str, tuple[str, ...]] = {
    kind: tuple(f"{ID_PREFIX[kind]}-{i}" for i in range(1, HUB_COUNT + 1))
    for kind in ("person", "dataset", "ai_tool", "decision")
}
"""The ids tagged ``hub``, the same for every size and seed."""

QUALITY_DIMENSIONS: tuple[str, ...] = (
    "completeness", "uniqueness", "consistency", "timeliness", "validity", "accuracy",
)
ROLES: tuple[str, ...] = (
    "Housing officer", "Ward nurse", "Field surveyor", "Caseworker", "Social worker",
    "Benefits assessor", "Customer services adviser", "Environmental health officer",
    "Care coordinator", "Revenues officer", "Data steward", "Analyst",
)
PHASES: tuple[str, ...] = ("pre-deployment", "beta-pilot", "production", "retired")
DECISION_TYPES: tuple[str, ...] = ("service", "funding", "policy", "operational")
FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly", "quarterly", "annually", "ad hoc")
ROLES_OF_FEEDS: tuple[str, ...] = ("input", "training")
INFLUENCES: tuple[str, ...] = ("primary", "supporting")

# --- Shape parameters ---------------------------------------------------------------------------
KIND_SHARE: dict[int, float] = {PERSON: 0.25, TEAM: 0.005, SYSTEM: 0.02, DATASET: 0.325,
                                PROCESS: 0.06, AI_TOOL: 0.04}
"""Share of all nodes per kind; decisions take the rest (~30%)."""
DATASET_LAYER_SHARE = (0.4, 0.28, 0.18, 0.135, 0.005)
"""Datasets per layer: raw, three derived layers, shared."""
PROCESS_LAYER_SHARE = (0.0, 0.4, 0.35, 0.25, 0.0)
LAYERS = len(DATASET_LAYER_SHARE)
ENTRIES_P = (0.45, 0.35, 0.20)
"""Probability that a person enters 1, 2 or 3 systems or raw datasets."""
ENTRY_EXPONENT, ENTRY_OFFSET = 1.2, 2.0
"""Zipf-Mandelbrot preference among entry points: weight (rank + offset) ** -exponent."""
TEAM_EXPONENT = 0.6
SUPPLY_P = (0.65, 0.32, 0.03)
"""Probability that a raw dataset has 0, 1 or 2 supplying systems."""
SUPPLY_EXPONENT = 0.3
DERIVE_EXPONENT = 0.7
"""Preference exponent among the inputs of derived nodes."""
DERIVE_IN_ZIPF, DERIVE_IN_CAP = 3.0, 40
"""Inputs drawn by each derived node, beyond the forward edges it receives: Zipf(a) - 1, capped
(most draw none; a derived node that no forward edge reached draws at least one)."""
DERIVE_FROM_PREVIOUS = 0.8
"""Share of drawn inputs that come from the layer just before (the rest from any earlier layer)."""
DERIVE_SHORTCUT = 1.0
"""Share of nodes in layers 2-4 that also read a grandparent (an edge that adds no reach)."""
TOOL_IN_ZIPF, TOOL_IN_CAP = 2.3, 60
TOOL_LAYER_WEIGHT = (0.25, 0.25, 0.25, 0.23, 0.02)
TOOL_TRAINING = 0.25
DECISION_IN_POISSON, DECISION_IN_ZIPF, DECISION_IN_CAP = 1.0, 2.3, 500
"""Drawn inputs of a decision: 1 + Poisson(mean) + Zipf(a) - 1, capped: mostly 1-4, a few hundreds."""
DECISION_SHORTCUTS = 3.0
"""Mean number of extra inputs per decision taken from upstream of its inputs (adds no reach)."""
DECISION_SOURCE_P = (0.55, 0.15, 0.30)
"""Where a decision's inputs come from: datasets, processes, tools."""
DECISION_LAYER_WEIGHT = (0.3, 0.25, 0.2, 0.23, 0.02)
DECISION_SOURCE_EXPONENT = 0.5
PRIMARY_INFLUENCE = 0.35
HUB_INFORMS_SHARE = 0.01
"""Share of all decisions that each hub dataset and each hub tool informs directly."""
HUB_INPUTS = 5
"""Inputs of each hub dataset (from layer 3): its upstream stays small, so few people reach it."""
HUB_DECISION_SHARED = (0.95, 0.9, 0.85)
"""Share of the shared layer that informs each hub decision."""
OUTCOME_SHARE, OUTCOME_MAX_INPUTS = 0.005, 2
"""Share of decisions with a records_outcome edge; only decisions with at most this many inputs."""
OWNER_SHARE, OWNER_POOL = 0.9, 0.02
"""~90% of non-person nodes have an owner, drawn from 2% of people."""
QUALITY_ASSESSED = 0.9


@dataclass(frozen=True)
class _Pool:
    """Nodes (global indices) with a power-law preference: draw() picks popular ones more often."""

    nodes: np.ndarray
    cdf: np.ndarray

    @classmethod
    def of(cls, rng: np.random.Generator, nodes: np.ndarray, exponent: float, offset: float = 1.0,
           scale: np.ndarray | None = None, last: np.ndarray | None = None) -> _Pool:
        """Weight (rank + offset) ** -exponent for a random rank per node, times ``scale`` if given.

        Nodes flagged in ``last`` take the last (least popular) ranks."""
        ranks = rng.permutation(len(nodes))
        if last is not None:  # keep the random order within each group, flagged group after
            order = np.argsort(ranks)
            order = np.concatenate((order[~last[order]], order[last[order]]))
            ranks[order] = np.arange(len(nodes))
        weights = (ranks.astype(np.float64) + offset) ** -exponent
        return cls(nodes, np.cumsum(weights if scale is None else weights * scale))

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if size == 0:
            return np.empty(0, dtype=np.int64)
        index = np.searchsorted(self.cdf, rng.random(size) * self.cdf[-1], side="right")
        return self.nodes[np.minimum(index, len(self.nodes) - 1)]


def _draw_mixed(rng: np.random.Generator, pools: list[_Pool], weights: Iterable[float], size: int) -> np.ndarray:
    """Draw ``size`` nodes, each from a pool chosen with the given weights."""
    weights = np.asarray(list(weights), dtype=np.float64)
    which = rng.choice(len(pools), size=size, p=weights / weights.sum())
    out = np.empty(size, dtype=np.int64)
    for i, pool in enumerate(pools):
        mask = which == i
        out[mask] = pool.draw(rng, int(mask.sum()))
    return out


def _zipf_counts(rng: np.random.Generator, size: int, a: float, cap: int,
                 base: int | np.ndarray = 1) -> np.ndarray:
    """Counts ``base + Zipf(a) - 1`` (a power-law tail P(k) ~ k**-a above the base), capped."""
    return np.minimum(base + rng.zipf(a, size) - 1, max(1, cap))


def _onto(rng: np.random.Generator, size: int, nodes: np.ndarray) -> np.ndarray:
    """``size`` random picks from ``nodes`` that cover every node when size allows."""
    picks = nodes[rng.integers(len(nodes), size=size)]
    covered = min(size, len(nodes))
    picks[rng.permutation(size)[:covered]] = rng.permutation(nodes)[:covered]
    return picks


def _kind_counts(nodes: int) -> np.ndarray:
    """Nodes per kind (indexed like NODE_KINDS), summing to ``nodes``."""
    counts = np.zeros(len(NODE_KINDS), dtype=np.int64)
    for kind, share in KIND_SHARE.items():
        counts[kind] = max(HUB_COUNT + 1, round(nodes * share))
    counts[DATASET] = max(counts[DATASET], 20)
    counts[DECISION] = nodes - counts.sum()
    return counts


def _split(total: int, shares: tuple[float, ...], minimum: tuple[int, ...]) -> list[int]:
    """Split ``total`` by ``shares``, each part at least its minimum; the first part takes the rest."""
    rest = [max(lo, round(total * share)) for share, lo in zip(shares[1:], minimum[1:])]
    first = total - sum(rest)
    if first < minimum[0]:
        raise ValueError(f"cannot split {total} into parts {shares}")
    return [first, *rest]


def _edge_kind_table() -> np.ndarray:
    """(source kind, target kind) -> the one edge kind this generator uses for it (-1: none)."""
    table = np.full((len(NODE_KINDS), len(NODE_KINDS)), -1, dtype=np.int8)
    table[PERSON, [SYSTEM, DATASET]] = ENTERS
    table[PERSON, TEAM] = MEMBER_OF
    table[SYSTEM, DATASET] = SUPPLIES
    table[DATASET, DATASET] = DERIVES
    table[PROCESS, [DATASET, PROCESS]] = DERIVES
    table[DATASET, [AI_TOOL, PROCESS]] = FEEDS
    table[[DATASET, AI_TOOL, PROCESS], DECISION] = INFORMS
    table[DECISION, DATASET] = RECORDS_OUTCOME
    return table


@dataclass
class Estate:
    """The random structure of one synthetic estate as numpy arrays (cheap to hold at 1M nodes).

    Nodes are addressed by a global index; ``kind[i]`` and ``number[i]`` give the id
    ``f"{ID_PREFIX[kind]}-{number}"``. ``nodes()`` and ``edges()`` turn the arrays into records
    lazily (``edge_json()`` straight into JSON text), so a writer can stream them.
    """

    kind: np.ndarray            # int8, per node
    number: np.ndarray          # int64, per node: its number within its kind (1-based, hubs are 1..3)
    hub: np.ndarray             # bool, per node
    owner: np.ndarray           # int64, per node: global index of the owning person, -1 for none
    attrs: dict[str, np.ndarray]  # per node attribute columns (meaning depends on kind; see nodes())
    quality: np.ndarray         # float64 (datasets x 6, by global index - first_dataset), NaN = not assessed
    first_dataset: int          # global index of the first dataset
    source: np.ndarray          # int64, per edge
    target: np.ndarray          # int64, per edge
    edge_kind: np.ndarray       # int8, per edge
    records: np.ndarray         # int64, per edge (enters only)
    records_with_issues: np.ndarray  # int64, per edge (enters only)
    label: np.ndarray           # int8, per edge: role of feeds / influence of informs
    fields_per_dataset: int = 0  # fields on every dataset (see with_fields)
    field_parent: np.ndarray | None = None  # int64, per node: the dataset a dataset's fields come from, -1 none

    @property
    def node_count(self) -> int:
        return len(self.kind)

    @property
    def edge_count(self) -> int:
        return len(self.source)

    def ids(self) -> list[str]:
        """Every node's id, by global index."""
        prefixes = [ID_PREFIX[k] + "-" for k in NODE_KINDS]
        return [prefixes[k] + str(n) for k, n in zip(self.kind.tolist(), self.number.tolist())]

    def order(self) -> np.ndarray:
        """Global indices in output order: by kind, then by number."""
        return np.lexsort((self.number, self.kind))

    def nodes(self, ids: list[str] | None = None, chunk: int = 65536) -> Iterator[dict[str, Any]]:
        """Node records in output order (kind, then number)."""
        ids = self.ids() if ids is None else ids
        order = self.order()
        a = self.attrs
        for start in range(0, len(order), chunk):
            part = order[start:start + chunk]
            cols = {name: col[part].tolist() for name, col in a.items()}
            datasets = part[self.kind[part] == DATASET]
            quality = iter(self.quality[datasets - self.first_dataset].tolist())
            kinds = self.kind[part].tolist()
            numbers = self.number[part].tolist()
            owners = self.owner[part].tolist()
            hubs = self.hub[part].tolist()
            for j, g in enumerate(part.tolist()):
                kind = kinds[j]
                kind_name = NODE_KINDS[kind]
                record: dict[str, Any] = {"id": ids[g], "kind": kind_name,
                                          "name": f"{NAME_PREFIX[kind_name]} {numbers[j]}"}
                if owners[j] >= 0:
                    record["owner"] = ids[owners[j]]
                if hubs[j]:
                    record["tags"] = ["hub"]
                if kind == PERSON:
                    record["role"] = ROLES[cols["code"][j]]
                    record["team"] = ids[cols["link"][j]]
                elif kind == SYSTEM:
                    record["ai_ready"] = cols["flag1"][j]
                    record["critical"] = cols["flag2"][j]
                elif kind == DATASET:
                    record["record_count"] = cols["count"][j]
                    record["shared"] = cols["flag1"][j]
                    scores = {d: s for d, s in zip(QUALITY_DIMENSIONS, next(quality)) if s == s}  # NaN: absent
                    if scores:
                        record["quality"] = scores
                    if self.fields_per_dataset:
                        record["fields"] = self._fields(g, ids)
                elif kind == AI_TOOL:
                    record["phase"] = PHASES[cols["code"][j]]
                    record["human_review"] = cols["flag1"][j]
                    if cols["flag2"][j]:
                        record["atrs_url"] = f"https://example.org/atrs/{ids[g]}"
                elif kind == DECISION:
                    record["decision_type"] = DECISION_TYPES[cols["code"][j]]
                    record["frequency"] = FREQUENCIES[cols["link"][j]]
                    record["people_affected"] = cols["count"][j]
                    record["value_gbp"] = cols["value"][j]
                yield record

    def _fields(self, node: int, ids: list[str]) -> list[dict[str, Any]]:
        """A dataset's fields: ``field_1`` .. ``field_N``, a quarter with a completeness, each linked to
        the field of the same name in the dataset it is made from (one in seven worked out, the
        rest copied)."""
        parent = int(self.field_parent[node]) if self.field_parent is not None else -1
        fields = []
        for i in range(1, self.fields_per_dataset + 1):
            item: dict[str, Any] = {"name": f"field_{i}", "type": FIELD_TYPES[i % len(FIELD_TYPES)]}
            if (node + i) % 4 == 0:
                item["quality"] = {"completeness": round(0.8 + 0.2 * ((node * 31 + i * 7) % 100) / 100, 2)}
            if parent >= 0:
                item["from"] = [{"node": ids[parent], "field": item["name"], "type": "DIRECT",
                                 "subtype": "TRANSFORMATION" if i % 7 == 3 else "IDENTITY"}]
            fields.append(item)
        return fields

    def _edge_columns(self, chunk: int) -> Iterator[tuple[int, int, int, int, int, int]]:
        """(source, target, kind, records, records_with_issues, label) per edge, a chunk of lists at a time."""
        for start in range(0, self.edge_count, chunk):
            stop = start + chunk
            yield from zip(self.source[start:stop].tolist(), self.target[start:stop].tolist(),
                           self.edge_kind[start:stop].tolist(), self.records[start:stop].tolist(),
                           self.records_with_issues[start:stop].tolist(), self.label[start:stop].tolist())

    def edges(self, ids: list[str] | None = None, chunk: int = 262144) -> Iterator[dict[str, Any]]:
        """Edge records, grouped by edge kind in flow order."""
        ids = self.ids() if ids is None else ids
        for s, t, k, records, issues, label in self._edge_columns(chunk):
            record: dict[str, Any] = {"source": ids[s], "target": ids[t], "kind": EDGE_KINDS[k]}
            if k == ENTERS:
                record["records"] = records
                record["records_with_issues"] = issues
                record["period"] = PERIOD
            elif k == FEEDS:
                record["role"] = ROLES_OF_FEEDS[label]
            elif k == INFORMS:
                record["influence"] = INFLUENCES[label]
            yield record

    def edge_json(self, ids: list[str] | None = None, chunk: int = 262144) -> Iterator[str]:
        """The records of ``edges()`` as compact JSON text, formatted directly (4x faster than
        encoding dicts; safe because ids are slugs and every other value is a number or a constant)."""
        ids = self.ids() if ids is None else ids
        labels = {FEEDS: [json.dumps(r) for r in ROLES_OF_FEEDS], INFORMS: [json.dumps(i) for i in INFLUENCES]}
        period = json.dumps(PERIOD)
        for s, t, k, records, issues, label in self._edge_columns(chunk):
            head = f'{{"source":"{ids[s]}","target":"{ids[t]}","kind":"{EDGE_KINDS[k]}"'
            if k == ENTERS:
                yield f'{head},"records":{records},"records_with_issues":{issues},"period":{period}}}'
            elif k == FEEDS:
                yield f'{head},"role":{labels[FEEDS][label]}}}'
            elif k == INFORMS:
                yield f'{head},"influence":{labels[INFORMS][label]}}}'
            else:
                yield head + "}"

    def document(self) -> dict[str, Any]:
        """The whole native document in memory."""
        ids = self.ids()
        return {"format": FORMAT, "organisation": ORGANISATION,
                "nodes": list(self.nodes(ids)), "edges": list(self.edges(ids))}


def build(nodes: int, *, seed: int = 1) -> Estate:
    """Build the random structure of an estate of ``nodes`` nodes (deterministic for nodes, seed)."""
    if nodes < MIN_NODES:
        raise ValueError(f"an estate needs at least {MIN_NODES} nodes, got {nodes}")
    rng = np.random.default_rng([seed, nodes])
    counts = _kind_counts(nodes)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    kind = np.repeat(np.arange(len(NODE_KINDS), dtype=np.int8), counts)

    def members(k: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        stop = int(counts[k]) if stop is None else stop
        return np.arange(offsets[k] + start, offsets[k] + stop, dtype=np.int64)

    people, teams, systems = members(PERSON), members(TEAM), members(SYSTEM)
    tools, decisions = members(AI_TOOL), members(DECISION)
    hub_people, hub_tools, hub_decisions = people[:HUB_COUNT], tools[:HUB_COUNT], decisions[:HUB_COUNT]
    plain_tools, plain_decisions = tools[HUB_COUNT:], decisions[HUB_COUNT:]

    # Layers: datasets 0..4 (raw .. shared), processes 1..3. The hubs open the shared layer.
    ds_sizes = _split(int(counts[DATASET]), DATASET_LAYER_SHARE, (1, 1, 1, 1, HUB_COUNT + 3))
    pr_sizes = [0, *_split(int(counts[PROCESS]), PROCESS_LAYER_SHARE[1:-1], (1, 1, 1)), 0]
    ds_starts, pr_starts = np.cumsum([0, *ds_sizes]), np.cumsum([0, *pr_sizes])
    ds_layers = [members(DATASET, ds_starts[i], ds_starts[i + 1]) for i in range(LAYERS)]
    pr_layers = [members(PROCESS, pr_starts[i], pr_starts[i + 1]) for i in range(LAYERS)]
    raw, shared = ds_layers[0], ds_layers[-1]
    hub_datasets = shared[:HUB_COUNT]
    # The funnel proper; the hub datasets sit beside it, fed by a few hand-picked inputs.
    layer_nodes = [np.concatenate(pair) for pair in zip(ds_layers, pr_layers)]
    layer_nodes[-1] = shared[HUB_COUNT:]
    hubs = np.concatenate((hub_people, hub_datasets, hub_tools, hub_decisions))

    edges = _EdgeList()

    # People: one team each (skewed sizes, none empty); what they enter comes last, below.
    team_of = _Pool.of(rng, teams, TEAM_EXPONENT).draw(rng, len(people))
    team_of[:len(teams)] = rng.permutation(teams)
    edges.add(people, team_of)

    # Systems supply raw datasets; every system supplies at least one.
    supplied = rng.choice(len(SUPPLY_P), size=len(raw), p=SUPPLY_P)
    first = rng.permutation(len(raw))[:len(systems)]  # each of these takes a different system first
    supplied[first] = np.maximum(supplied[first], 1)
    supply_src = _Pool.of(rng, systems, SUPPLY_EXPONENT).draw(rng, int(supplied.sum()))
    supply_src[(np.cumsum(supplied) - supplied)[first]] = rng.permutation(systems)[:len(first)]
    edges.add(supply_src, np.repeat(raw, supplied))

    # Datasets and processes: every node passes its data to the next layer (each node there
    # receiving some), and derived nodes draw extra inputs from earlier layers, preferring popular ones.
    layer_pools = [_Pool.of(rng, nodes_, DERIVE_EXPONENT) for nodes_ in layer_nodes]
    flow = _EdgeList()
    for layer in range(LAYERS - 1):
        here, after = layer_nodes[layer], layer_nodes[layer + 1]
        forward = _onto(rng, len(here), after)
        flow.add(here, forward)
        fed = np.zeros(len(kind), dtype=bool)
        fed[forward] = True
        drawn = _zipf_counts(rng, len(after), DERIVE_IN_ZIPF, DERIVE_IN_CAP, base=(~fed[after]).astype(np.int64))
        tgt = np.repeat(after, drawn)
        src = layer_pools[layer].draw(rng, len(tgt))
        earlier = rng.random(len(tgt)) >= DERIVE_FROM_PREVIOUS
        if layer > 0 and earlier.any():
            sizes = [len(pool.nodes) for pool in layer_pools[:layer]]
            src[earlier] = _draw_mixed(rng, layer_pools[:layer], sizes, int(earlier.sum()))
        flow.add(src, tgt)
    # Shortcuts: a derived node also reads its grandparent. Redundant for reach, common in practice.
    inputs = _Inputs(*flow.arrays(), len(kind))
    derived = np.concatenate(layer_nodes[2:])
    derived = derived[rng.random(len(derived)) < DERIVE_SHORTCUT]
    flow.add(inputs.pick(rng, inputs.pick(rng, derived)), derived)
    flow.add(rng.choice(ds_layers[-2], size=HUB_COUNT * HUB_INPUTS), np.repeat(hub_datasets, HUB_INPUTS))
    edges.extend(flow)

    # AI tools: fed by a few datasets; the hub tools by the hub datasets.
    ds_pools = [_Pool.of(rng, layer, DERIVE_EXPONENT) for layer in ds_layers]
    tool_in = _zipf_counts(rng, len(plain_tools), TOOL_IN_ZIPF, TOOL_IN_CAP)
    feeds = _EdgeList()
    feeds.add(_draw_mixed(rng, ds_pools, TOOL_LAYER_WEIGHT, int(tool_in.sum())), np.repeat(plain_tools, tool_in))
    feeds.add(np.tile(hub_datasets, HUB_COUNT), np.repeat(hub_tools, HUB_COUNT))
    edges.extend(feeds)
    inputs = _Inputs(*flow.concat(feeds).arrays(), len(kind))

    # Decisions: informed by datasets, processes and tools (a few by hundreds), and often also by
    # something upstream of one of those (another redundant path).
    decision_in = _zipf_counts(rng, len(plain_decisions), DECISION_IN_ZIPF,
                               min(DECISION_IN_CAP, int(counts[DATASET])),
                               base=1 + rng.poisson(DECISION_IN_POISSON, len(plain_decisions)))
    per_layer = np.repeat(np.asarray(DECISION_LAYER_WEIGHT) / np.asarray(ds_sizes), ds_sizes)
    informer_pools = [
        _Pool.of(rng, np.concatenate(ds_layers), DECISION_SOURCE_EXPONENT, scale=per_layer),
        _Pool.of(rng, np.concatenate(pr_layers), DECISION_SOURCE_EXPONENT),
        _Pool.of(rng, plain_tools, DECISION_SOURCE_EXPONENT),
    ]
    informs = _EdgeList()
    informs.add(_draw_mixed(rng, informer_pools, DECISION_SOURCE_P, int(decision_in.sum())),
                np.repeat(plain_decisions, decision_in))
    informed = _Inputs(*informs.arrays(), len(kind))
    shortcut = np.repeat(plain_decisions, rng.poisson(DECISION_SHORTCUTS, len(plain_decisions)))
    upstream = inputs.pick(rng, informed.pick(rng, shortcut))
    again = rng.random(len(shortcut)) < 0.5
    upstream[again] = inputs.pick(rng, upstream[again])
    informs.add(upstream, shortcut)
    hub_reach = min(len(plain_decisions), max(10, round(HUB_INFORMS_SHARE * len(plain_decisions))))
    for hub in np.concatenate((hub_datasets, hub_tools)):
        informs.add(np.full(hub_reach, hub), rng.choice(plain_decisions, size=hub_reach, replace=False))
    for hub, share in zip(hub_decisions, HUB_DECISION_SHARED):
        plain_shared = shared[HUB_COUNT:]
        chosen = rng.choice(plain_shared, size=max(1, round(share * len(plain_shared))), replace=False)
        fed_by = np.unique(np.concatenate((chosen, hub_datasets, hub_tools)))
        informs.add(fed_by, np.full(len(fed_by), hub))
    edges.extend(informs)

    # Outcomes: a few decisions record into a dataset upstream of themselves (a cycle). Only
    # decisions with few inputs, and never into the hubs' upstream: a loop behind a wide decision
    # would hand its whole upstream the loop's downstream, and loops would chain into a giant one.
    hub_upstream = _Inputs(*edges.arrays(), len(kind)).ancestors(hub_datasets)
    barred = np.zeros(len(kind), dtype=bool)
    barred[hub_upstream] = True
    wanted = max(1, round(OUTCOME_SHARE * len(plain_decisions)))
    narrow = rng.permutation(plain_decisions[decision_in <= OUTCOME_MAX_INPUTS])
    outcomes: list[tuple[int, int]] = []
    for decision, informer in zip(narrow.tolist(), informed.pick(rng, narrow).tolist()):
        if len(outcomes) == wanted:
            break
        dataset = inputs.upstream_dataset(informer, kind, rng)
        if not barred[dataset]:
            outcomes.append((decision, dataset))
    edges.add(*np.asarray(outcomes, dtype=np.int64).reshape(-1, 2).T)

    # People enter 1-3 systems or raw datasets, by popularity. The few entry points upstream of
    # the hub datasets are the least popular, so reaching thousands of decisions stays rare.
    entry_points = np.concatenate((systems, raw))
    entry_pool = _Pool.of(rng, entry_points, ENTRY_EXPONENT, ENTRY_OFFSET, last=np.isin(entry_points, hub_upstream))
    entries = rng.choice(len(ENTRIES_P), size=len(people), p=ENTRIES_P) + 1
    edges.add(np.repeat(people, entries), entry_pool.draw(rng, int(entries.sum())))
    edges.add(np.repeat(hub_people, HUB_COUNT), np.tile(hub_datasets, HUB_COUNT))

    source, target = _dedupe(*edges.arrays(), len(kind))
    edge_kind = _edge_kind_table()[kind[source], kind[target]]
    if (edge_kind < 0).any():  # a bug in this generator, never in the caller's input
        raise AssertionError("generated an edge the model does not allow")
    order = np.argsort(edge_kind, kind="stable")
    source, target, edge_kind = source[order], target[order], edge_kind[order]

    return Estate(
        kind=kind,
        number=_numbering(rng, kind, hubs),
        hub=np.isin(np.arange(len(kind)), hubs),
        owner=_owners(rng, kind, people, hubs),
        attrs=_node_attributes(rng, kind, team_of, offsets, shared),
        quality=_quality(rng, int(counts[DATASET])),
        first_dataset=int(offsets[DATASET]),
        source=source, target=target, edge_kind=edge_kind,
        **_edge_attributes(rng, edge_kind, kind[target]),
    )


class _EdgeList:
    """(source, target) index arrays collected piecewise; pairs with a -1 end are dropped."""

    def __init__(self) -> None:
        self.sources: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(self, source: np.ndarray, target: np.ndarray) -> None:
        source, target = np.asarray(source, dtype=np.int64), np.asarray(target, dtype=np.int64)
        keep = (source >= 0) & (target >= 0)
        self.sources.append(source[keep])
        self.targets.append(target[keep])

    def extend(self, other: _EdgeList) -> None:
        self.sources += other.sources
        self.targets += other.targets

    def concat(self, other: _EdgeList) -> _EdgeList:
        both = _EdgeList()
        both.extend(self)
        both.extend(other)
        return both

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.sources:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(self.sources), np.concatenate(self.targets)


class _Inputs:
    """The inputs of each node (compressed sparse rows over some edges), for walking upstream."""

    def __init__(self, source: np.ndarray, target: np.ndarray, nodes: int):
        order = np.argsort(target, kind="stable")
        self.source = source[order]
        self.start = np.searchsorted(target[order], np.arange(nodes + 1))

    def pick(self, rng: np.random.Generator, nodes: np.ndarray) -> np.ndarray:
        """One random input of each node; -1 for a node without inputs (or for -1)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        valid = nodes >= 0
        lo = np.where(valid, self.start[np.maximum(nodes, 0)], 0)
        count = np.where(valid, self.start[np.maximum(nodes, 0) + 1] - lo, 0)
        picked = np.full(len(nodes), -1, dtype=np.int64)
        has = count > 0
        picked[has] = self.source[lo[has] + (rng.random(int(has.sum())) * count[has]).astype(np.int64)]
        return picked

    def ancestors(self, nodes: np.ndarray) -> np.ndarray:
        """Every node upstream of ``nodes`` (not including them unless on a cycle), sorted."""
        seen = np.zeros(len(self.start) - 1, dtype=bool)
        frontier = np.unique(np.asarray(nodes, dtype=np.int64))
        while len(frontier):
            lo, hi = self.start[frontier], self.start[frontier + 1]
            count = hi - lo
            at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
            parents = np.unique(self.source[at])
            frontier = parents[~seen[parents]]
            seen[frontier] = True
        return np.flatnonzero(seen)

    def upstream_dataset(self, node: int, kind: np.ndarray, rng: np.random.Generator) -> int:
        """A dataset found by walking 1-3 steps upstream from ``node`` (a dataset, process or tool)."""
        steps = int(rng.integers(1, 4))
        while True:
            lo, hi = int(self.start[node]), int(self.start[node + 1])
            if hi == lo or (steps <= 0 and kind[node] == DATASET):
                if kind[node] != DATASET:  # only raw datasets lack inputs, so this cannot happen
                    raise AssertionError(f"no dataset upstream of node {node}")
                return node
            node = int(self.source[rng.integers(lo, hi)])
            steps -= 1


def _dedupe(source: np.ndarray, target: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop self-loops and repeated (source, target) pairs, keeping first occurrences in order."""
    keep = source != target
    source, target = source[keep], target[keep]
    _, first = np.unique(source * nodes + target, return_index=True)
    first.sort()
    return source[first], target[first]


def _numbering(rng: np.random.Generator, kind: np.ndarray, hubs: np.ndarray) -> np.ndarray:
    """Id numbers: a random permutation of 1..count within each kind (so ids say nothing about
    layers), except that each kind's hubs, in the order given, are numbered 1, 2, 3."""
    number = np.zeros(len(kind), dtype=np.int64)
    for k in range(len(NODE_KINDS)):
        members = np.flatnonzero(kind == k)
        own_hubs = hubs[kind[hubs] == k]
        rest = np.setdiff1d(members, own_hubs)
        number[own_hubs] = np.arange(1, len(own_hubs) + 1)
        number[rest] = rng.permutation(len(rest)) + len(own_hubs) + 1
    return number


def _owners(rng: np.random.Generator, kind: np.ndarray, people: np.ndarray, hubs: np.ndarray) -> np.ndarray:
    """An owning person for ~90% of non-person nodes (always for hubs), from a small pool of owners."""
    pool = rng.choice(people, size=max(1, round(OWNER_POOL * len(people))), replace=False)
    owner = rng.choice(pool, size=len(kind))
    ownerless = rng.random(len(kind)) >= OWNER_SHARE
    ownerless[hubs] = False
    owner[(kind == PERSON) | ownerless] = -1
    return owner


def _lognormal_int(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return np.rint(rng.lognormal(np.log(median), sigma, size)).astype(np.int64)


def _node_attributes(rng: np.random.Generator, kind: np.ndarray, team_of: np.ndarray,
                     offsets: np.ndarray, shared: np.ndarray) -> dict[str, np.ndarray]:
    """Per-node columns, read by Estate.nodes() according to kind:
    code (role / phase / decision_type), link (team / frequency), flag1, flag2, count, value."""
    n = len(kind)
    code = np.zeros(n, dtype=np.int64)
    link = np.zeros(n, dtype=np.int64)
    flag1 = np.zeros(n, dtype=bool)
    flag2 = np.zeros(n, dtype=bool)
    count = np.zeros(n, dtype=np.int64)
    value = np.zeros(n, dtype=np.int64)

    def span(k: int) -> slice:
        return slice(int(offsets[k]), int(offsets[k + 1]))

    person, system, dataset, tool, decision = (span(k) for k in (PERSON, SYSTEM, DATASET, AI_TOOL, DECISION))
    m = person.stop - person.start
    code[person] = rng.integers(len(ROLES), size=m)
    link[person] = team_of
    m = system.stop - system.start
    flag1[system] = rng.random(m) < 0.3
    flag2[system] = rng.random(m) < 0.4
    m = dataset.stop - dataset.start
    count[dataset] = _lognormal_int(rng, 20_000, 1.8, m)
    flag1[shared] = True
    m = tool.stop - tool.start
    code[tool] = rng.choice(len(PHASES), size=m, p=(0.15, 0.2, 0.55, 0.1))
    flag1[tool] = rng.random(m) < 0.85
    flag2[tool] = rng.random(m) < 0.75
    m = decision.stop - decision.start
    code[decision] = rng.choice(len(DECISION_TYPES), size=m, p=(0.45, 0.15, 0.1, 0.3))
    link[decision] = rng.choice(len(FREQUENCIES), size=m, p=(0.15, 0.3, 0.25, 0.15, 0.1, 0.05))
    count[decision] = _lognormal_int(rng, 500, 1.6, m)
    value[decision] = np.rint(rng.lognormal(np.log(50_000), 1.5, m)).astype(np.int64) // 100 * 100
    hubs = slice(decision.start, decision.start + HUB_COUNT)  # budget-scale decisions
    code[hubs] = DECISION_TYPES.index("funding")
    link[hubs] = FREQUENCIES.index("annually")
    count[hubs] = (250_000, 120_000, 60_000)
    value[hubs] = (450_000_000, 120_000_000, 35_000_000)
    return {"code": code, "link": link, "flag1": flag1, "flag2": flag2, "count": count, "value": value}


def _quality(rng: np.random.Generator, datasets: int) -> np.ndarray:
    """Quality scores (datasets x dimensions), 2 decimals: 3-6 dimensions for ~90% of datasets, NaN elsewhere."""
    quality = np.full((datasets, len(QUALITY_DIMENSIONS)), np.nan)
    assessed = np.flatnonzero(rng.random(datasets) < QUALITY_ASSESSED)
    dims = len(QUALITY_DIMENSIONS)
    how_many = rng.integers(3, dims + 1, size=len(assessed))
    rank = np.argsort(rng.random((len(assessed), dims)), axis=1)
    chosen = rank < how_many[:, None]
    scores = np.round(rng.beta(8, 2, size=(len(assessed), dims)), 2)
    quality[assessed] = np.where(chosen, scores, np.nan)
    return quality


def _edge_attributes(rng: np.random.Generator, edge_kind: np.ndarray,
                     target_kind: np.ndarray) -> dict[str, np.ndarray]:
    """Per-edge columns: records and records_with_issues (enters), label (feeds role, informs influence)."""
    e = len(edge_kind)
    records = np.zeros(e, dtype=np.int64)
    issues = np.zeros(e, dtype=np.int64)
    enters = edge_kind == ENTERS
    m = int(enters.sum())
    records[enters] = _lognormal_int(rng, 150, 1.2, m)
    issues[enters] = rng.binomial(records[enters], rng.beta(1.2, 20, m))
    label = np.zeros(e, dtype=np.int8)
    to_tools = (edge_kind == FEEDS) & (target_kind == AI_TOOL)
    label[to_tools] = rng.random(int(to_tools.sum())) < TOOL_TRAINING
    informs = edge_kind == INFORMS
    label[informs] = rng.random(int(informs.sum())) >= PRIMARY_INFLUENCE
    return {"records": records, "records_with_issues": issues, "label": label}


# --- Public API -----------------------------------------------------------------------------------

FIELD_TYPES = ("text", "integer", "date", "decimal", "boolean")


def with_fields(estate: Estate, per_dataset: int = 20) -> Estate:
    """The estate with ``per_dataset`` fields on every dataset (the field-level benchmark's shape):
    each derived dataset's fields come from the fields of the same name in one dataset it is made
    from, directly (``derives``) or through a process, so every field link is one the model's rule
    of flow supports (``lineage.fields``)."""
    kind, source, target = estate.kind, estate.source, estate.target
    parent = np.full(len(kind), -1, dtype=np.int64)
    process_input = np.full(len(kind), -1, dtype=np.int64)
    into_process = (kind[source] == DATASET) & (kind[target] == PROCESS)
    process_input[target[into_process]] = source[into_process]
    direct = (kind[source] == DATASET) & (kind[target] == DATASET) & (estate.edge_kind == DERIVES)
    parent[target[direct]] = source[direct]
    via = (kind[source] == PROCESS) & (kind[target] == DATASET)
    via &= parent[target] < 0
    parent[target[via]] = process_input[source[via]]
    return replace(estate, fields_per_dataset=per_dataset, field_parent=parent)


def generate(nodes: int, *, seed: int = 1) -> dict[str, Any]:
    """A synthetic native lineage document of ``nodes`` nodes, deterministic for (nodes, seed).

    >>> doc = generate(1000)
    >>> doc["format"], len(doc["nodes"]), hub_ids(doc)["decision"]
    ('lineage-graph/1', 1000, ['decision-1', 'decision-2', 'decision-3'])
    """
    return build(nodes, seed=seed).document()


def hub_ids(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Kind -> ids of the nodes tagged ``hub`` in a document, in document order."""
    hubs: dict[str, list[str]] = {}
    for node in doc["nodes"]:
        if "hub" in node.get("tags", ()):
            hubs.setdefault(node["kind"], []).append(node["id"])
    return hubs


def write_json(estate: Estate, out: TextIO) -> None:
    """Stream an estate as a compact native document, one node or edge per line."""
    encode: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    ids = estate.ids()
    sections = (("nodes", map(encode, estate.nodes(ids))), ("edges", estate.edge_json(ids)))
    out.write('{"format":%s,"organisation":%s' % (encode(FORMAT), encode(ORGANISATION)))
    for name, lines in sections:
        out.write(f',"{name}":[')
        separator = "\n"
        for line in lines:
            out.write(separator)
            out.write(line)
            separator = ",\n"
        out.write("\n]")
    out.write("}\n")


NODE_COLUMNS: tuple[str, ...] = (
    "id", "kind", "name", "owner", "tags", "role", "team", "ai_ready", "critical", "record_count", "shared",
    *(f"quality.{d}" for d in QUALITY_DIMENSIONS),
    "phase", "human_review", "atrs_url", "decision_type", "frequency", "people_affected", "value_gbp",
)
EDGE_COLUMNS: tuple[str, ...] = ("source", "target", "kind", "records", "records_with_issues", "period",
                                 "role", "influence")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return value


def write_csv(estate: Estate, directory: Path) -> None:
    """Write ``nodes.csv`` and ``edges.csv`` into ``directory`` (created if needed).

    Quality dimensions are ``quality.<dimension>`` columns, booleans ``true``/``false``, tags joined
    with ``;``, and a cell is empty where a record lacks the attribute.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ids = estate.ids()
    with open(directory / "nodes.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv_writer(f)
        writer.writerow(NODE_COLUMNS)
        for node in estate.nodes(ids):
            quality = node.pop("quality", {})
            node.update({f"quality.{d}": s for d, s in quality.items()})
            writer.writerow([_cell(node.get(column)) for column in NODE_COLUMNS])
    with open(directory / "edges.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv_writer(f)
        writer.writerow(EDGE_COLUMNS)
        for edge in estate.edges(ids):
            writer.writerow([_cell(edge.get(column)) for column in EDGE_COLUMNS])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Write a synthetic lineage estate (deterministic for --nodes and --seed).",
        epilog="examples:\n  python -m bench.generate --nodes 100000 --seed 1 -o estate.json\n"
               "  python -m bench.generate --nodes 10000 --format csv -o estate-csv/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000, help="number of nodes (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--format", choices=("json", "csv"), default="json",
                        help="json: one native document; csv: DIR/nodes.csv and DIR/edges.csv")
    parser.add_argument("-o", "--output", required=True,
                        help="output file for json ('-' for stdout), directory for csv")
    parser.add_argument("--fields", type=int, default=0,
                        help="fields on every dataset, with field links (json only; default 0)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        estate = build(args.nodes, seed=args.seed)
    except ValueError as error:
        parser.error(str(error))
    if args.fields:
        if args.format == "csv":
            parser.error("--fields is for json: a CSV keeps each node's fields as one JSON cell, which "
                         "the streaming CSV writer does not write")
        estate = with_fields(estate, args.fields)
    if args.format == "csv":
        write_csv(estate, Path(args.output))
    elif args.output == "-":
        write_json(estate, sys.stdout)
    else:
        with open(args.output, "w", encoding="utf-8", buffering=1 << 20) as out:
            write_json(estate, out)
    print(f"wrote {estate.node_count:,} nodes and {estate.edge_count:,} edges to {args.output} "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Pictures of the lineage graph: a focused, readable view, as a ``pydot.Dot`` and through Graphviz.

Three steps, each testable on its own:

1. :func:`view` picks what to draw around a focus (depth and direction) and keeps it readable: no
   picture draws more than ``max_nodes``; people are shown as their teams ("Housing options, 42
   people"); beyond that, siblings of one kind at one distance collapse into one node ("+ 37 more
   datasets") whose link expands them. The same graph and options always give the same view.
2. :func:`to_dot` turns a view into a ``pydot.Dot``: flow left to right, each kind its own shape
   *and* colour (a colour-blind-safe palette, never colour alone), AI tools marked as AI, decisions
   with their type and people affected, datasets with their weakest quality dimension as text,
   record counts on the edges from people, the focus and the paths through it in bold. Every label,
   tooltip and link is escaped: a name cannot add nodes or edges, and links are the app's own
   relative paths.
3. :func:`render` runs Graphviz ``dot`` on it, with a timeout, to SVG or PNG.

:mod:`lineage.describe` turns the same view into sentences and a table (the text twin).
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydot

from . import model
from .errors import LineageError
from .graph import MAX_DEPTH, LineageGraph, traverse

MAX_NODES = 150
"""Nodes a picture draws at most, by default."""
MIN_NODES = 20
"""The smallest limit: room for a focus and one group per kind on each side of it."""
FORMATS = ("svg", "png", "dot")
RENDER_TIMEOUT = 10.0
"""Seconds Graphviz may take before the picture is given up (the text twin still works)."""
LABEL_WIDTH = 24
"""Characters per line in a node label: long names wrap."""

# Shape and colour per kind (Okabe-Ito palette, safe for the common colour blindnesses), in flow order.
STYLE: dict[str, dict[str, str]] = {
    "person": {"shape": "ellipse", "fillcolor": "#F0E442"},
    "team": {"shape": "ellipse", "fillcolor": "#F0E442", "peripheries": "2"},
    "system": {"shape": "box3d", "fillcolor": "#E69F00"},
    "dataset": {"shape": "cylinder", "fillcolor": "#56B4E9"},
    "process": {"shape": "box", "fillcolor": "#CCCCCC"},
    "ai_tool": {"shape": "hexagon", "fillcolor": "#CC79A7"},
    "decision": {"shape": "octagon", "fillcolor": "#009E73"},
}
KIND_NAMES = {"person": "people", "team": "teams", "system": "systems", "dataset": "datasets",
              "process": "processes", "ai_tool": "AI tools", "decision": "decisions"}


class RenderError(LineageError):
    """Graphviz failed, took too long, or is not installed."""


@dataclass
class ViewNode:
    """One box in a picture: a node, a team standing for its people, or a collapsed group."""

    key: str                  # the DOT node name: never user data
    kind: str
    name: str
    distance: int             # negative upstream of the focus, positive downstream, 0 the focus
    node_id: str | None = None  # the lineage id, for a single node
    members: list[str] = field(default_factory=list)  # ids a team or a group stands for
    group: bool = False       # "+ N more ..." rather than a node or a team
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def focus(self) -> bool:
        return self.distance == 0


@dataclass
class ViewEdge:
    source: str
    target: str
    kind: str
    records: int = 0
    on_path: bool = False


@dataclass
class View:
    """What one picture shows (see :func:`view`)."""

    focus: list[str]
    nodes: list[ViewNode]
    edges: list[ViewEdge]
    depth: int
    direction: str
    hidden: int = 0           # nodes collapsed into groups

    def node(self, key: str) -> ViewNode:
        return next(n for n in self.nodes if n.key == key)


def view(g: LineageGraph, focus: str | list[str], *, depth: int = 2, direction: str = "both",
         max_nodes: int = MAX_NODES, expand: tuple[str, ...] = ()) -> View:
    """The part of the graph around ``focus`` to draw, collapsed to at most ``max_nodes`` boxes.

    ``expand`` names groups (their ``key``) to show in full even when that exceeds the limit.

    >>> g = LineageGraph.from_records(
    ...     [{"id": "p", "kind": "person", "name": "P"}, {"id": "q", "kind": "person", "name": "Q"},
    ...      {"id": "t", "kind": "team", "name": "Housing options"}, {"id": "d", "kind": "dataset", "name": "D"}],
    ...     [{"source": "p", "target": "t", "kind": "member_of"}, {"source": "q", "target": "t", "kind": "member_of"},
    ...      {"source": "p", "target": "d", "kind": "enters", "records": 12},
    ...      {"source": "q", "target": "d", "kind": "enters", "records": 30}])
    >>> [(n.name, n.distance, len(n.members)) for n in view(g, "d").nodes]
    [('Housing options', -1, 2), ('D', 0, 0)]
    >>> [(e.source, e.target, e.records) for e in view(g, "d").edges]
    [('team3', 'n0', 42)]
    """
    if not isinstance(max_nodes, int) or not MIN_NODES <= max_nodes <= 10_000:
        raise LineageError(f"max_nodes must be a whole number from {MIN_NODES} to 10000, got {max_nodes!r}")
    if not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise LineageError(f"depth must be a whole number from 0 to {MAX_DEPTH}, got {depth!r}")
    focus_ids = [focus] if isinstance(focus, str) else sorted(set(focus))
    distance: dict[int, int] = {g.position(i): 0 for i in focus_ids}
    for side, sign in (("downstream", 1), ("upstream", -1)):
        if direction in (side, "both"):
            reach = traverse(g, focus_ids, direction=side, depth=depth)
            for node, steps in zip(reach.nodes.tolist(), reach.distance.tolist()):
                distance.setdefault(node, sign * steps)

    boxes: dict[str, ViewNode] = {}
    box_of: dict[int, str] = {}
    # People stand as their teams (counted, not listed), unless a person is the focus.
    teams = _teams(g, [n for n, d in distance.items() if g.kind_codes[n] == 0 and d != 0])
    for node, steps in sorted(distance.items(), key=lambda item: (item[1], item[0])):
        if node in teams:
            team_key = f"team{teams[node]}" if teams[node] >= 0 else f"noteam{np.sign(steps)}"
            box = boxes.get(team_key)
            if box is None:
                name = g.ids[teams[node]] if teams[node] >= 0 else "People with no team"
                box = boxes[team_key] = ViewNode(team_key, "team", name, steps,
                                                 node_id=g.ids[teams[node]] if teams[node] >= 0 else None)
            box.members.append(g.ids[node])
            box.distance = max(box.distance, steps) if steps < 0 else min(box.distance, steps)
            box_of[node] = team_key
        else:
            key = f"n{node}"
            boxes[key] = ViewNode(key, model.NODE_KINDS[g.kind_codes[node]], g.ids[node], steps, node_id=g.ids[node])
            box_of[node] = key

    boxes, hidden = _collapse(boxes, box_of, max_nodes, expand)
    records = g.records([b.node_id for b in boxes.values() if b.node_id])
    for box in boxes.values():
        if box.node_id and box.node_id in records:
            box.record = records[box.node_id]
            box.name = box.record.get("name", box.name)

    edges: dict[tuple[str, str], ViewEdge] = {}
    nodes = np.fromiter(distance.keys(), dtype=np.int64, count=len(distance))
    positions, counts = g.out.gather(nodes)
    sources = np.repeat(nodes, counts)
    for source, target, code, edge in zip(sources.tolist(), g.out.indices[positions].tolist(),
                                          g.out.kinds[positions].tolist(), g.out.edge[positions].tolist()):
        if target not in distance:
            continue
        a, b = box_of[source], box_of[target]
        if a == b:
            continue
        d_source, d_target = distance[source], distance[target]
        on_path = d_target == d_source + 1 and (d_source >= 0 or d_target <= 0)
        current = edges.get((a, b))
        if current is None:
            current = edges[(a, b)] = ViewEdge(a, b, model.EDGE_KINDS[code])
        current.records += int(g.edge_records[edge]) if code == 0 else 0
        current.on_path = current.on_path or on_path
    ordered_nodes = sorted(boxes.values(), key=lambda b: (b.distance, model.NODE_KINDS.index(b.kind), b.key))
    return View(focus=focus_ids, nodes=ordered_nodes, edges=sorted(edges.values(), key=lambda e: (e.source, e.target)),
                depth=depth, direction=direction, hidden=hidden)


def _teams(g: LineageGraph, people: list[int]) -> dict[int, int]:
    """Each person's first team (by id), or -1."""
    team_of = {p: -1 for p in people}
    chosen = np.zeros(len(g), dtype=bool)
    chosen[people] = True
    inside = chosen[g.member_people]
    for person, team in sorted(zip(g.member_people[inside].tolist(), g.member_teams[inside].tolist())):
        if team_of[person] == -1:
            team_of[person] = team
    return team_of


def _collapse(boxes: dict[str, ViewNode], box_of: dict[int, str], max_nodes: int,
              expand: tuple[str, ...]) -> tuple[dict[str, ViewNode], int]:
    """Fold siblings of one kind at one distance into "+ N more" boxes until the view fits.

    Each group keeps the same number of boxes (the most that fits; a group cut short shows one
    fewer and a "+ N more"). When even one box per group is too many, groups merge across
    distances: one per kind on each side of the focus (fourteen at most).
    """
    if len(boxes) <= max_nodes:
        return boxes, 0
    focus = [b for b in boxes.values() if b.focus]
    if len(focus) > max_nodes - 2 * len(model.NODE_KINDS):
        raise LineageError(f"the picture would focus on {len(focus)} nodes; it shows {max_nodes} at most, with "
                           "room for what surrounds them: pick fewer nodes or allow more")
    rest = sorted((b for b in boxes.values() if not b.focus), key=lambda b: (b.distance, b.kind, b.name, b.key))

    def grouped(fine: bool) -> OrderedDict[str, list[ViewNode]]:
        groups: OrderedDict[str, list[ViewNode]] = OrderedDict()
        for box in rest:
            side = "up" if box.distance < 0 else "down"
            key = f"more-{box.kind}-{side}{abs(box.distance) if fine else ''}"
            groups.setdefault(key, []).append(box)
        return groups

    groups = grouped(fine=True)
    if len(focus) + len(groups) > max_nodes:
        groups = grouped(fine=False)
    sizes = [len(members) for members in groups.values()]

    def total(keep: int) -> int:
        return len(focus) + sum(size if size <= keep else keep for size in sizes)

    keep = 1
    while keep < max(sizes) and total(keep + 1) <= max_nodes:
        keep += 1
    kept: dict[str, ViewNode] = {b.key: b for b in focus}
    hidden = 0
    for group_key, members in groups.items():
        if len(members) <= keep or group_key in expand:
            kept.update((b.key, b) for b in members)
            continue
        shown, folded = members[:keep - 1], members[keep - 1:]
        kept.update((b.key, b) for b in shown)
        kind = folded[0].kind
        nearest = min((b.distance for b in folded), key=abs)
        kept[group_key] = ViewNode(group_key, kind, f"+ {len(folded)} more {KIND_NAMES[kind]}", nearest,
                                   members=[i for b in folded for i in (b.members or [b.node_id])], group=True)
        hidden += len(folded)
        folded_keys = {b.key for b in folded}
        for node, key in box_of.items():
            if key in folded_keys:
                box_of[node] = group_key
    return kept, hidden


# ---------------------------------------------------------------------------------------------
# DOT


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string: quotes, backslashes and line breaks cannot escape it.

    >>> dot_string('x" ]; evil -> y [label="')
    '"x\\\\" ]; evil -> y [label=\\\\""'
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{escaped}"'


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, LABEL_WIDTH, break_long_words=True) or [""])


def _number(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def node_label(box: ViewNode) -> str:
    """The words in a box: name, and what matters about its kind."""
    record = box.record
    lines = [_wrap(box.name)]
    if box.group:
        return lines[0]
    if box.kind == "team" and box.members:
        lines.append(f"{len(box.members)} {'person' if len(box.members) == 1 else 'people'}")
    elif box.kind == "ai_tool":
        lines.insert(0, "AI tool")
        lines.append("human review: " + ("yes" if record.get("human_review") is True else "no"))
    elif box.kind == "decision":
        facts = [f"{record['decision_type']} decision" if record.get("decision_type") else "decision"]
        if record.get("people_affected") is not None:
            facts.append(f"{_number(record['people_affected'])} people")
        lines.append(", ".join(facts))
    elif box.kind == "dataset":
        weakest = model.weakest_dimension(record.get("quality"))
        if weakest:
            dimension, score, rag = weakest
            lines.append(f"{dimension} {score:.2f} {rag.upper()}" if score is not None else f"{dimension} {rag.upper()}")
        else:
            lines.append("quality not assessed")
    return "\n".join(lines)


def node_link(box: ViewNode, focus: list[str]) -> str:
    """The app's own relative link for a box: its page, or for a group, the view with it expanded."""
    if box.group:
        return f"/nodes/{focus[0]}?expand={box.key}"
    if box.node_id:
        return f"/nodes/{box.node_id}"
    return f"/nodes/{focus[0]}"


def to_dot(v: View) -> pydot.Dot:
    """A ``pydot.Dot`` of a view (no Graphviz needed): see the module's visual language."""
    graph = pydot.Dot("lineage", graph_type="digraph", rankdir="LR", bgcolor="white", fontname="Helvetica",
                      tooltip=dot_string("lineage"))
    graph.set_node_defaults(style='"filled,rounded"', fontname="Helvetica", fontsize="11", penwidth="1",
                            color="#333333")
    graph.set_edge_defaults(color="#777777", fontname="Helvetica", fontsize="10", arrowsize="0.7")
    for box in v.nodes:
        style = dict(STYLE[box.kind])
        attributes = {
            "label": dot_string(node_label(box)),
            "tooltip": dot_string((box.record.get("description") or box.name)[:500]),
            "URL": dot_string(node_link(box, v.focus)),
            "target": '"_top"',
            **style,
        }
        if box.group:
            attributes["style"] = '"filled,dashed"'
        if box.focus:
            attributes.update(penwidth="3", color='"#000000"', fontsize="13")
        graph.add_node(pydot.Node(box.key, **attributes))
    for edge in v.edges:
        attributes: dict[str, str] = {"tooltip": dot_string(edge.kind)}
        if edge.kind == "enters" and edge.records:
            attributes["label"] = dot_string(f"{_number(edge.records)} records")
        if edge.on_path:
            attributes.update(penwidth="2.2", color='"#000000"')
        else:
            attributes["style"] = "dashed"
        graph.add_edge(pydot.Edge(edge.source, edge.target, **attributes))
    return graph


# ---------------------------------------------------------------------------------------------
# Graphviz


def render(graph: pydot.Dot, format: str = "svg", *, timeout: float = RENDER_TIMEOUT,
           command: str = "dot") -> bytes:
    """Lay out a graph with Graphviz: SVG or PNG bytes (or the DOT text itself for ``dot``).

    Raises :class:`RenderError` when Graphviz is missing, fails or takes longer than ``timeout``.
    """
    if format not in FORMATS:
        raise RenderError(f"unknown picture format '{format}'; expected one of: {', '.join(FORMATS)}")
    text = graph.to_string().encode("utf-8")
    if format == "dot":
        return text
    executable = shutil.which(command)
    if executable is None:
        raise RenderError(f"Graphviz '{command}' is not installed (Debian package graphviz): "
                          "the picture cannot be drawn; the text description still works")
    try:
        done = subprocess.run([executable, f"-T{format}", "-Gmclimit=0.5"], input=text, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz took longer than {timeout:g} s; draw fewer nodes (--max-nodes) "
                          "or a smaller depth") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError("Graphviz could not draw the picture: " + (message[0] if message else f"exit {done.returncode}"))
    return done.stdout


_CACHE: weakref.WeakKeyDictionary[LineageGraph, OrderedDict[tuple, bytes]] = weakref.WeakKeyDictionary()
CACHE_SIZE = 256
"""Pictures kept per graph (a graph is one version of the store: a new version, a new cache)."""


def picture(g: LineageGraph, focus: str | list[str], format: str = "svg", **options: Any) -> bytes:
    """View, DOT and Graphviz in one call, cached per graph on (focus, format, options)."""
    cache = _CACHE.setdefault(g, OrderedDict())
    key = (tuple([focus] if isinstance(focus, str) else sorted(focus)), format, tuple(sorted(options.items())))
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    data = cache[key] = render(to_dot(view(g, focus, **options)), format)
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return data

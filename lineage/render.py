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

import re
import shutil
import subprocess
import textwrap
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydot

from . import model
from .errors import LineageError
from .graph import MAX_DEPTH, LineageGraph, traverse
from .words import score_text

MAX_NODES = 150
"""Nodes a picture draws at most, by default."""
EDGES_PER_NODE = 2
"""Arrows a picture draws at most, per node it may draw (the text twin lists all of them)."""
DENSE_EDGES = 150
"""Above this many arrows Graphviz is told to settle for a quicker layout (seconds otherwise)."""
MIN_NODES = 20
"""The smallest limit: room for a focus and one group per kind on each side of it."""
FORMATS = ("svg", "png", "dot")
RENDER_TIMEOUT = 10.0
"""Seconds Graphviz may take before the picture is given up (the text twin still works)."""
LABEL_WIDTH = 24
"""Characters per line in a node label: long names wrap."""
LABEL_LINES = 4
"""Lines of a name in a node label at most: a longer one is cut with an ellipsis."""

# Shape and colour per kind (Okabe-Ito palette, safe for the common colour blindnesses), in flow order.
STYLE: dict[str, dict[str, str]] = {
    "person": {"shape": "ellipse", "fillcolor": "#F0E442"},
    "team": {"shape": "ellipse", "fillcolor": "#F0E442", "peripheries": "2"},
    "system": {"shape": "box3d", "fillcolor": "#E69F00"},
    "dataset": {"shape": "cylinder", "fillcolor": "#56B4E9"},
    "process": {"shape": "box", "fillcolor": "#CCCCCC"},
    "ai_tool": {"shape": "hexagon", "fillcolor": "#CC79A7"},
    "decision": {"shape": "octagon", "fillcolor": "#0072B2", "fontcolor": "#FFFFFF"},
}
"""Decisions are blue, never red, amber or green: those colours mean data confidence."""
KEY: tuple[tuple[str, str, str], ...] = (
    ("person", "Person or team", "yellow oval"), ("system", "System where records are entered", "orange box"),
    ("dataset", "Dataset", "light blue cylinder"), ("process", "Process or report", "grey box"),
    ("ai_tool", "AI tool", "pink hexagon"), ("decision", "Decision", "blue octagon"),
)
"""What each shape and colour means, for the key beside every picture: (kind, words, shape)."""
FONT_SIZE = 14
"""Label text size in SVG units: a picture shown at its natural size (see web/static/picture.js)
has labels of 14 px; it is never scaled below 12 px at first."""
_PERSON, _TEAM = model.NODE_KINDS.index("person"), model.NODE_KINDS.index("team")
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
    drawn: bool = True        # False for an arrow left out of the picture (the text twin keeps it)


@dataclass
class View:
    """What one picture shows (see :func:`view`)."""

    focus: list[str]
    starts: list[str]         # where paths start: the focus, with a team's members for the team
    nodes: list[ViewNode]
    edges: list[ViewEdge]
    depth: int
    direction: str
    hidden: int = 0           # nodes collapsed into groups
    hidden_edges: int = 0     # arrows left out of the picture to keep it readable

    def node(self, key: str) -> ViewNode:
        return next(n for n in self.nodes if n.key == key)


def view(g: LineageGraph, focus: str | list[str], *, depth: int = 2, direction: str = "both",
         max_nodes: int = MAX_NODES, expand: tuple[str, ...] = ()) -> View:
    """The part of the graph around ``focus`` to draw, collapsed to at most ``max_nodes`` boxes.

    ``expand`` names groups (their ``key``) to show in full even when that exceeds the limit.
    A team in the focus stands for its members' records, drawn as one box: its people are never
    listed. The work is done on arrays, so a hub's tens of thousands of neighbours cost milliseconds;
    Python objects are made only for the boxes drawn.

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
    team_of_focus = {int(member): g.position(i) for i in focus_ids if g.kind(i) == "team" for member in g.members(i)}
    starts = sorted({i for i in focus_ids if g.kind(i) != "team"} | {g.ids[m] for m in team_of_focus}) or focus_ids
    nodes, distance = _around(g, starts, depth, direction)
    boxes = _boxes(g, nodes, distance, team_of_focus)
    kept, groups = _collapse(boxes, max_nodes, expand)
    shown, drawn_as = _view_nodes(g, nodes, distance, boxes, kept, groups)
    edges = _view_edges(g, nodes, distance, drawn_as[boxes.of_node], list(shown))
    ordered = sorted(shown.values(), key=lambda b: (b.distance, model.NODE_KINDS.index(b.kind), b.key))
    return View(focus=focus_ids, starts=starts, nodes=ordered, edges=edges, depth=depth, direction=direction,
                hidden=sum(len(group.members) for group in groups),
                hidden_edges=_thin(edges, EDGES_PER_NODE * max_nodes))


def _thin(edges: list[ViewEdge], limit: int) -> int:
    """Leave out arrows beyond ``limit``, those off the paths from the focus first: how many.

    Many boxes of a deep view are groups joined to many others; drawing every arrow between them
    makes a hairball that also costs Graphviz seconds to lay out.
    """
    if len(edges) <= limit:
        return 0
    ranked = sorted(range(len(edges)), key=lambda i: (not edges[i].on_path, i))
    for index in ranked[limit:]:
        edges[index].drawn = False
    return len(edges) - limit


def _around(g: LineageGraph, starts: list[str], depth: int, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions within ``depth`` of the starts (sorted) and their signed distance: negative
    upstream, 0 a start; a node both upstream and downstream counts as downstream."""
    parts = [(np.array([g.position(i) for i in starts], dtype=np.int64), np.zeros(len(starts), np.int64))]
    for side, sign in (("downstream", 1), ("upstream", -1)):
        if direction in (side, "both"):
            reach = traverse(g, starts, direction=side, depth=depth)
            parts.append((reach.nodes.astype(np.int64), sign * reach.distance.astype(np.int64)))
    nodes, first = np.unique(np.concatenate([p[0] for p in parts]), return_index=True)
    return nodes, np.concatenate([p[1] for p in parts])[first]


@dataclass
class _Boxes:
    """Which box each node falls in: itself, or for people away from the focus their first team
    (``n + team``) or the people with no team on one side (``2n``, ``2n + 1``); a focused team's
    members fall in that team's box."""

    code: np.ndarray       # per box, sorted
    of_node: np.ndarray    # per node, index into code
    kind: np.ndarray       # per box, kind code
    distance: np.ndarray   # per box: its nearest upstream member if any, else its nearest downstream one
    size: int              # nodes in the graph


def _boxes(g: LineageGraph, nodes: np.ndarray, distance: np.ndarray, team_of_focus: dict[int, int]) -> _Boxes:
    n = len(g)
    code = nodes.copy()
    for member, team in team_of_focus.items():
        code[np.searchsorted(nodes, member)] = n + team
    people = (g.kind_codes[nodes] == _PERSON) & (distance != 0)
    if people.any():
        first_team = np.full(n, n, dtype=np.int64)
        chosen = np.zeros(n, dtype=bool)
        chosen[nodes[people]] = True
        inside = chosen[g.member_people]
        np.minimum.at(first_team, g.member_people[inside], g.member_teams[inside])
        team = first_team[nodes[people]]
        code[people] = np.where(team < n, n + team, 2 * n + (distance[people] > 0))
    codes, of_node = np.unique(code, return_inverse=True)
    kind = np.where(codes < n, g.kind_codes[np.minimum(codes, n - 1)], _TEAM)
    nearest_up = np.full(codes.size, np.iinfo(np.int64).min)
    nearest_down = np.full(codes.size, np.iinfo(np.int64).max)
    up = distance < 0
    np.maximum.at(nearest_up, of_node[up], distance[up])
    np.minimum.at(nearest_down, of_node[~up], distance[~up])
    box_distance = np.where(nearest_up > np.iinfo(np.int64).min, nearest_up, nearest_down)
    return _Boxes(codes, of_node, kind, box_distance, n)


@dataclass
class _Group:
    key: str
    kind: int
    distance: int
    boxes: np.ndarray      # box indexes folded into the group
    members: list[str] = field(default_factory=list)


def _collapse(boxes: _Boxes, max_nodes: int, expand: tuple[str, ...]) -> tuple[np.ndarray, list[_Group]]:
    """Fold siblings of one kind at one distance into "+ N more" groups until the view fits:
    the box indexes kept, and the groups.

    Each group keeps the same number of boxes (the most that fits; a group cut short shows one
    fewer and a "+ N more"), the first by (distance, id). When even one box per group is too
    many, groups merge across distances: one per kind on each side of the focus (fourteen at most).
    """
    count = boxes.code.size
    if count <= max_nodes:
        return np.arange(count), []
    focus = np.flatnonzero(boxes.distance == 0)
    if focus.size > max_nodes - 2 * len(model.NODE_KINDS):
        raise LineageError(f"the picture would focus on {focus.size} nodes; it shows {max_nodes} at most, with "
                           "room for what surrounds them: pick fewer nodes or allow more")
    rest = np.flatnonzero(boxes.distance != 0)
    side = (boxes.distance[rest] > 0).astype(np.int64)
    coarse = boxes.kind[rest].astype(np.int64) * 2 + side
    fine = coarse * (MAX_DEPTH + 1) + np.abs(boxes.distance[rest])
    by_distance = focus.size + np.unique(fine).size <= max_nodes
    label = fine if by_distance else coarse
    order = np.lexsort((boxes.code[rest], boxes.distance[rest], label))
    rest, label = rest[order], label[order]
    starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    sizes = np.diff(np.r_[starts, rest.size])
    keep = 1
    while keep < sizes.max() and focus.size + np.minimum(sizes, keep + 1).sum() <= max_nodes:
        keep += 1
    kept, groups = [focus], []
    for start, size in zip(starts.tolist(), sizes.tolist()):
        members = rest[start:start + size]
        kind = int(boxes.kind[members[0]])
        where = "down" if boxes.distance[members[0]] > 0 else "up"
        key = f"more-{model.NODE_KINDS[kind]}-{where}{abs(int(boxes.distance[members[0]])) if by_distance else ''}"
        if size <= keep or key in expand:
            kept.append(members)
            continue
        kept.append(members[:keep - 1])
        folded = members[keep - 1:]
        nearest = int(folded[np.argmin(np.abs(boxes.distance[folded]))])
        groups.append(_Group(key, kind, int(boxes.distance[nearest]), folded))
    return np.concatenate(kept), groups


def _view_nodes(g: LineageGraph, nodes: np.ndarray, distance: np.ndarray, boxes: _Boxes, kept: np.ndarray,
                groups: list[_Group]) -> tuple[dict[str, ViewNode], np.ndarray]:
    """The boxes drawn, keyed by DOT name (kept boxes, then groups), and for each box the index
    of the one drawing it. A team lists its people and a group what it folds, in (distance, id)
    order."""
    n = boxes.size
    owner = np.full(boxes.code.size, -1, dtype=np.int64)   # box -> the group folding it
    for index, group in enumerate(groups):
        owner[group.boxes] = index
    listed = np.zeros(boxes.code.size, dtype=bool)
    listed[kept[boxes.code[kept] >= n]] = True               # teams and teamless people list members
    order = np.lexsort((nodes, distance))
    ordered_ids, ordered_box = nodes[order], boxes.of_node[order]
    folded_into = owner[ordered_box]
    for index, group in enumerate(groups):
        group.members = [g.ids[i] for i in ordered_ids[folded_into == index].tolist()]
    shown: dict[str, ViewNode] = {}
    team_members: dict[int, list[str]] = {}
    listed_member = listed[ordered_box]
    for position, box in zip(ordered_ids[listed_member].tolist(), ordered_box[listed_member].tolist()):
        team_members.setdefault(box, []).append(g.ids[position])
    for box in kept.tolist():
        code, steps = int(boxes.code[box]), int(boxes.distance[box])
        if code < n:
            shown[f"n{code}"] = ViewNode(f"n{code}", model.NODE_KINDS[int(boxes.kind[box])], g.ids[code], steps,
                                         node_id=g.ids[code])
        elif code < 2 * n:
            team = g.ids[code - n]
            shown[f"team{code - n}"] = ViewNode(f"team{code - n}", "team", team, steps, node_id=team,
                                                members=team_members[box])
        else:
            key = f"noteam{1 if code - 2 * n else -1}"
            shown[key] = ViewNode(key, "team", "People with no team", steps, members=team_members[box])
    for group in groups:
        kind = model.NODE_KINDS[group.kind]
        shown[group.key] = ViewNode(group.key, kind, f"+ {len(group.members)} more {KIND_NAMES[kind]}",
                                    group.distance, members=group.members, group=True)
    records = g.records([b.node_id for b in shown.values() if b.node_id])
    for box in shown.values():
        if box.node_id and box.node_id in records:
            box.record = records[box.node_id]
            box.name = box.record.get("name", box.name)
    drawn_as = np.empty(boxes.code.size, dtype=np.int64)
    drawn_as[kept] = np.arange(kept.size)
    for index, group in enumerate(groups, start=kept.size):
        drawn_as[group.boxes] = index
    return shown, drawn_as


def _view_edges(g: LineageGraph, nodes: np.ndarray, distance: np.ndarray, drawn_as: np.ndarray,
                keys: list[str]) -> list[ViewEdge]:
    """Edges between the boxes drawn (``drawn_as``: box index -> index into ``keys``), one per
    pair: records summed over ``enters`` edges, bold when any edge it stands for leads away from
    the focus."""
    positions, counts = g.out.gather(nodes)
    source = np.repeat(np.arange(nodes.size), counts)
    local = np.full(len(g), -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    target = local[g.out.indices[positions]]
    inside = target >= 0
    source, target, positions = source[inside], target[inside], positions[inside]
    a, b = drawn_as[source], drawn_as[target]
    between = a != b
    source, target, positions, a, b = source[between], target[between], positions[between], a[between], b[between]
    if not a.size:
        return []
    d_source, d_target = distance[source], distance[target]
    on_path = (d_target == d_source + 1) & ((d_source >= 0) | (d_target <= 0))
    codes = g.out.kinds[positions]
    records = np.where(codes == 0, g.edge_records[g.out.edge[positions]], 0)
    pairs, first, inverse = np.unique(a * len(keys) + b, return_index=True, return_inverse=True)
    summed = np.bincount(inverse, weights=records)
    bold = np.bincount(inverse, weights=on_path) > 0
    edges = [ViewEdge(keys[pair // len(keys)], keys[pair % len(keys)], model.EDGE_KINDS[code], int(total), path)
             for pair, code, total, path in zip(pairs.tolist(), codes[first].tolist(), summed.tolist(), bold.tolist())]
    return sorted(edges, key=lambda e: (e.source, e.target))


# ---------------------------------------------------------------------------------------------
# DOT


_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""What Graphviz cannot take in a string (a NUL ended the picture of every view holding the node).
The store refuses these (:data:`lineage.model.CONTROL_CHARACTERS`); a database written before may
hold them, so they are drawn as U+FFFD."""


DOT_PIECE = 4000
"""Characters per quoted piece of a long DOT string: Graphviz refuses a quoted string longer than
16,384 bytes, so longer text is written as ``"..." + "..."`` (DOT's concatenation, which pydot
reads too), each piece at most 4,000 characters (16,000 bytes of UTF-8 once escaped)."""


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string: quotes, backslashes and line breaks cannot escape it.

    >>> dot_string('x" ]; evil -> y [label="')
    '"x\\\\" ]; evil -> y [label=\\\\""'
    >>> dot_string("a" * 4001)[-7:]
    '" + "a"'
    """
    text = _UNPRINTABLE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    pieces = [text[start:start + DOT_PIECE] for start in range(0, len(text), DOT_PIECE)] or [""]
    return " + ".join(f'"{_escaped(piece)}"' for piece in pieces)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def wrap_label(text: str) -> str:
    """A name as at most ``LABEL_LINES`` lines of ``LABEL_WIDTH`` characters, broken between words
    where it can be; a longer name ends in an ellipsis (the page and the tooltip have it all)."""
    words = " ".join(text[:LABEL_WIDTH * (LABEL_LINES + 1)].split())
    lines = textwrap.wrap(words, LABEL_WIDTH, break_long_words=True)
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        last = lines[-1][:LABEL_WIDTH - 1]
        lines[-1] = (last.rsplit(" ", 1)[0] if " " in last else last).rstrip() + "…"  # between words if it can
    return "\n".join(lines or [""])


def _number(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def node_label(box: ViewNode) -> str:
    """The words in a box: name, and what matters about its kind."""
    record = box.record
    lines = [wrap_label(box.name)]
    if box.group:
        return lines[0]
    if box.kind == "team" and box.members:
        lines.append(f"{len(box.members)} {'person' if len(box.members) == 1 else 'people'}")
    elif box.kind == "ai_tool":
        lines.insert(0, "AI tool")
        lines.append("a person checks it" if record.get("human_review") is True else "no person checks it")
    elif box.kind == "decision":
        facts = [f"{record['decision_type']} decision" if record.get("decision_type") else "decision"]
        if record.get("people_affected") is not None:
            facts.append(f"{_number(record['people_affected'])} people")
        lines.append(", ".join(facts))
    elif box.kind == "dataset":
        weakest = model.weakest_dimension(record.get("quality"))
        if weakest:
            dimension, score, rag = weakest
            lines.append(f"{dimension}: {score_text(score, rag)}")
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
                      tooltip=dot_string("lineage"), mclimit="0.5")
    graph.set_node_defaults(style='"filled,rounded"', fontname="Helvetica", fontsize=str(FONT_SIZE), penwidth="1",
                            color="#333333")
    graph.set_edge_defaults(color="#777777", fontname="Helvetica", fontsize=str(FONT_SIZE - 1), arrowsize="0.7")
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
            attributes.update(penwidth="3", color='"#000000"', fontsize=str(FONT_SIZE + 1))
            attributes.setdefault("id", dot_string("focus-" + box.key))  # where web/static/picture.js starts
        graph.add_node(pydot.Node(box.key, **attributes))
    drawn = [edge for edge in v.edges if edge.drawn]
    if len(drawn) > DENSE_EDGES:
        graph.set("nslimit", "1")
        graph.set("nslimit1", "1")
        graph.set("mclimit", "0.1")
    for edge in drawn:
        attributes: dict[str, str] = {"tooltip": dot_string(edge.kind)}
        if edge.kind == "enters" and edge.records:
            attributes["label"] = dot_string(f"{_number(edge.records)} records")
        if edge.on_path:
            attributes.update(penwidth="2.2", color='"#000000"')
        else:  # ranks follow the distance from the focus: a cross or back arrow does not add one
            attributes.update(style="dashed", constraint="false")
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
        done = subprocess.run([executable, f"-T{format}"], input=text, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz took longer than {timeout:g} s; draw fewer nodes (--max-nodes) "
                          "or a smaller depth") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError("Graphviz could not draw the picture: " + (message[0] if message else f"exit {done.returncode}"))
    return done.stdout


_CACHE: weakref.WeakKeyDictionary[LineageGraph, OrderedDict[tuple, bytes]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()  # web requests share the cache across threads
CACHE_SIZE = 256
"""Pictures kept per graph (a graph is one version of the store: a new version, a new cache)."""


def picture(g: LineageGraph, focus: str | list[str], format: str = "svg", *, prepared: View | None = None,
            **options: Any) -> bytes:
    """View, DOT and Graphviz in one call, cached per graph on (focus, format, options).

    ``prepared`` is the view of the same focus and options when the caller has made it already.
    """
    key = (tuple([focus] if isinstance(focus, str) else sorted(focus)), format, tuple(sorted(options.items())))
    with _CACHE_LOCK:
        cache = _CACHE.setdefault(g, OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    data = render(to_dot(prepared or view(g, focus, **options)), format)
    with _CACHE_LOCK:
        cache[key] = data
        if len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return data

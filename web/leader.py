"""The leader's journey: decisions, a decision's provenance, insights, explore and what-if.

Estate-wide results (the Insights page and the decisions table) are materialised in the database
(:mod:`lineage.materialised`), keyed on the graph version: a page reads the stored result. When
it is older than the graph, the page serves it labelled with its version ("as of change 41;
refreshing") while one background thread per app brings it up to date (single-flight: a write
during a refresh makes it run once more, never twice at once); when nothing is stored yet, the
first request computes it. After a write, call :func:`refresh_soon` (``lineage load`` and
``lineage import-csv`` refresh as they finish).

A decision's provenance, explore and what-if are computed per request on the query engine.
"""
from __future__ import annotations

import io
import logging
import re
import threading
from typing import Any

import numpy as np
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, NotFound

from lineage import board as boards
from lineage import find as finding
from lineage import loop, materialised, model, render, select
from lineage.errors import SelectorError
from lineage.graph import LineageGraph
from lineage.insights import RANKINGS, Insights, charts, decision_provenance, write_csv
from lineage.materialised import DECISIONS, ESTATE, SORTS, DecisionQuery, organisation_key
from lineage.store import Store
from lineage.confidence import path_to_green
from lineage.whatif import what_if

from . import params
from .auth import allowed, current_actor, people_rule, requires, visible
from .db import get_graph, get_store, refresh_graph
from .errors import wants_json
from .respond import MEDIA_TYPES, node_url, picture_and_twin, picture_options, picture_response, respond, route

bp = Blueprint("leader", __name__)
log = logging.getLogger(__name__)

PAGE_SIZE = 50
DECISION_DEPTH = 3
"""Steps upstream a decision's picture starts with."""
EXPLORE_FOCUS = 6
"""Nodes an Explore picture focuses on at most; a larger selection is listed, not drawn (many boxes
in one rank would shrink every label below 12 px on a 1280 px page)."""
EXPLORE_DEPTH = 1
"""Steps an Explore picture draws around its focus unless asked for more: one step keeps labels at
least 12 px on a 1280 px page; two or more spread it wider than the page and shrink them."""
EXPLORE_BOXES = max(render.MIN_NODES, EXPLORE_FOCUS + 2 * len(model.NODE_KINDS))
"""Boxes an Explore picture draws at most: its focus and a "+ N more" group per kind on each side
(the rest collapse into those groups, and the table lists them), so that its labels stay readable."""
EXPLORE_PAGE_SIZE = 50
MAX_TEXT = 200
MAX_SELECTOR = 1000
_OWNER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


# ---------------------------------------------------------------------------------------------
# Materialised results, and refreshing them


class Refresher:
    """Refreshes one app's materialised results, one refresh at a time.

    :meth:`soon` starts a background thread, or, if one is running, asks it to run once more when
    it finishes (a write during a refresh is never lost, and refreshes never pile up);
    :meth:`now` refreshes in the caller's thread, waiting for one in progress.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._running = threading.Lock()   # held while a refresh computes
        self._state = threading.Lock()     # guards _thread and _again
        self._thread: threading.Thread | None = None
        self._again = False
        self.last: materialised.RefreshSummary | None = None
        self.last_error: str | None = None

    @property
    def busy(self) -> bool:
        with self._state:
            return self._thread is not None

    def soon(self) -> threading.Thread:
        """Refresh in the background; the thread doing it (join it to wait)."""
        with self._state:
            if self._thread is not None:
                self._again = True
                return self._thread
            self._thread = threading.Thread(target=self._run, name="lineage-leader-refresh", daemon=True)
            self._thread.start()
            return self._thread

    def _run(self) -> None:
        while True:
            with self._state:
                self._again = False
            try:
                self.now()
            except Exception as error:  # a background thread has nobody to tell but the log
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception("refreshing the leader views failed")
            with self._state:
                if not self._again:
                    self._thread = None
                    return

    def now(self) -> materialised.RefreshSummary | None:
        """Refresh here and now (after any refresh in progress): the summary, or None if current."""
        with self._running, self.app.app_context():
            store = get_store()
            summary = None
            for _ in range(5):  # the graph may move on while we compute: catch up, a few times at most
                graph = refresh_graph()
                summary = materialised.refresh(store, graph) or summary
                if materialised.stored_version(store) == store.version:
                    break
            if summary is not None:
                self.last = summary
                self.last_error = None
            return summary

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background refresh to finish; whether none is running now."""
        with self._state:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy


def refresher(app: Flask | None = None) -> Refresher:
    app = app or current_app._get_current_object()
    found = app.extensions.get("lineage_leader")
    if found is None:
        found = app.extensions.setdefault("lineage_leader", Refresher(app))
    return found


def refresh_soon(app: Flask | None = None) -> threading.Thread:
    """Bring the leader views up to the graph's version in the background: call after a web write.

    ``app`` defaults to the current app. Returns the refreshing thread (join it to wait).
    """
    return refresher(app).soon()


def _current(name: str) -> tuple[materialised.Stored, dict[str, Any]]:
    """The stored result ``name`` and its status; computed now when nothing is stored yet, and
    refreshed in the background when it is older than the graph."""
    store = get_store()
    found = materialised.stored(store, name)
    if found is None:
        refresher().now()
        found = materialised.stored(store, name)
        if found is None:
            raise NotFound(f"there are no stored results called '{name}'")
    version = store.version
    if found.version < version:
        refresh_soon()
    status = {"version": found.version, "graph_version": version, "current": found.version >= version,
              "refreshing": found.version < version, "computed_at": found.computed_at,
              "seconds": round(found.seconds, 3)}
    return found, status


@bp.app_context_processor
def leader_helpers() -> dict[str, Any]:
    return {"sort_link": _sort_link, "target_url": target_url, "freshness": freshness, "actions": boards.ACTIONS,
            "score_band": model.rag_for_score}


def target_url(target: dict[str, Any]) -> str:
    """Where to act on a board item: a decision's provenance, a flag's page, or a node's page."""
    if target["kind"] == "decision":
        return url_for("leader.decision", node_id=target["id"])
    if target["kind"] == "flag":
        return url_for("loop.flag", flag_id=target["id"])
    return node_url(target["id"], target["kind"])


def freshness(status: dict[str, Any]) -> str:
    """How fresh stored figures are, in plain words: "Up to date (worked out 3 minutes ago)."."""
    ago = boards.ago(status["computed_at"])
    if status["current"]:
        return f"Up to date: worked out {ago}."
    return (f"Worked out {ago}, before the latest change to the map; "
            "they are being brought up to date. Reload the page in a moment for the latest.")


# ---------------------------------------------------------------------------------------------
# The leader's home: what needs doing


def _board(*, mark_visit: bool) -> tuple[boards.Board, dict[str, Any], bool]:
    """The board, the freshness of the figures under it, and whether "since" is the reader's last visit."""
    estate, status = _current(ESTATE)
    store = get_store()
    actor = current_actor()
    account = actor.name if actor.signed_in and mark_visit else None
    since, last_visit = boards.since_last_visit(store, account)
    if not mark_visit and actor.signed_in:  # the twins read the marker, never move it
        since = loop.last_visit(store, actor.name, boards.VISIT_PAGE + ":since") or since
    result = boards.board(get_graph(), store, estate.body, since=since, stale_days=loop.stale_days(),
                          open_flags=lambda ids: loop.open_flags_on(store, ids))
    return result, status, last_visit


@route(bp, "/leader", action="read_estate")
def home():
    result, status, last_visit = _board(mark_visit=not wants_json())
    data = {"status": status, **result.as_dict(), "csv": url_for("leader.home_csv")}
    return respond("leader/home.html", data, board=result, status=status, last_visit=last_visit,
                   many_people=boards.MANY_PEOPLE)


@bp.get("/leader.csv")
@requires("read_estate")
def home_csv():
    result, status, _ = _board(mark_visit=False)
    response = Response(boards.write_board_csv(result), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="what-needs-doing-v{status["version"]}.csv"'
    return response


# ---------------------------------------------------------------------------------------------
# Decisions


def _decision_query(choices: dict[str, Any]) -> DecisionQuery:
    ai = params.choice_arg("ai", ("yes", "no"))
    owner = params.text_arg("owner", 128)
    if owner is not None and not _OWNER.match(owner):
        raise BadRequest(f"owner is a person's id (lower-case letters, digits, '.', '_', '-'); got {owner[:50]!r}")
    if owner is not None and choices.get("owners") is not None \
            and owner not in {o["id"] for o in choices["owners"]}:
        raise BadRequest(f"owner must be the id of a person who owns a decision; {owner!r} owns none")
    sort = params.choice_arg("sort", tuple(SORTS), "confidence")
    return DecisionQuery(
        decision_type=params.choice_arg("type", choices["types"]),
        organisation=params.choice_arg("organisation", choices["organisations"]),
        frequency=params.choice_arg("frequency", choices["frequencies"]),
        ai=None if ai is None else ai == "yes", confidence=params.choice_arg("confidence", materialised.CONFIDENCES),
        owner=owner, text=params.text_arg("q", MAX_TEXT), sort=sort, order=params.choice_arg("order", ("asc", "desc")),
        page=params.int_arg("page", 1, 1, 10**7), page_size=PAGE_SIZE)


_FILTER_ARGS = ("type", "organisation", "frequency", "ai", "confidence", "owner", "q")


def _filters() -> dict[str, str]:
    return {name: request.args[name] for name in _FILTER_ARGS if request.args.get(name)}


def _sort_link(key: str, query: DecisionQuery) -> dict[str, Any]:
    """The header of a sortable column: its link (sorting by it, or reversing it) and aria-sort."""
    current = query.sort == key
    direction = ("asc" if query.direction == "desc" else "desc") if current else SORTS[key][1]
    return {"href": url_for("leader.decisions", **_filters(), sort=key, order=direction),
            "aria_sort": ("ascending" if query.direction == "asc" else "descending") if current else None,
            "current": current}


@route(bp, "/decisions", action="read_estate")
def decisions():
    found, status = _current(DECISIONS)
    choices = found.body
    query = _decision_query(choices)
    page = materialised.decision_page(get_store(), query)
    if query.page > page.pages:
        raise NotFound(f"there are {page.pages:,} pages of decisions; page {query.page} does not exist")
    data = {"status": status, "total": page.total, "count": choices["count"], "page": query.page,
            "pages": page.pages, "sort": query.sort, "order": query.direction, "filters": _filters(),
            "rows": page.rows}
    links = {"csv": url_for("leader.decisions_csv", **_filters(), sort=query.sort, order=query.direction),
             "json": url_for("leader.decisions_json", **request.args)}
    pages = {"prev": url_for("leader.decisions", **{**request.args, "page": query.page - 1}) if query.page > 1 else None,
             "next": url_for("leader.decisions", **{**request.args, "page": query.page + 1})
             if query.page < page.pages else None}
    owners = choices.get("owners") or []
    return respond("leader/decisions.html", data, query=query, choices=choices, links=links, pages=pages,
                   sorts=SORTS, status=status, owner_ids=[o["id"] for o in owners],
                   owner_names={o["id"]: o["name"] for o in owners},
                   frequency_labels={f: f.capitalize() for f in model.FREQUENCIES})


DECISION_CSV_COLUMNS = ("id", "name", "decision_type", "organisation", "frequency", "people_affected", "value_gbp",
                        "ai_involved", "confidence", "weakest_dataset", "weakest_dataset_name", "weakest_dimension",
                        "weakest_score", "human_in_loop", "owner", "owner_name")


@bp.get("/decisions.csv")
@requires("read_estate")
def decisions_csv():
    found, status = _current(DECISIONS)
    query = _decision_query(found.body)
    path = current_app.config["LINEAGE_DB"]

    def lines():
        buffer = io.StringIO()
        write_csv([], DECISION_CSV_COLUMNS, buffer)
        yield buffer.getvalue()
        store = Store(path)  # its own connection: the request's closes before the download ends
        try:
            batch = []
            for row in materialised.decision_table(store, query):
                batch.append(row)
                if len(batch) == 2000:
                    yield _csv_rows(batch)
                    batch = []
            if batch:
                yield _csv_rows(batch)
        finally:
            store.close()

    response = Response(lines(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="decisions-v{status["version"]}.csv"'
    return response


def _csv_rows(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    write_csv(rows, DECISION_CSV_COLUMNS, buffer)
    return buffer.getvalue().split("\n", 1)[1]  # without the header


def _decision_or_404(g: LineageGraph, node_id: str) -> None:
    if node_id not in g:
        raise NotFound(f"there is no decision with the id '{node_id}'")
    if g.kind(node_id) != "decision":
        raise NotFound(f"there is no decision with the id '{node_id}': it is a {g.kind(node_id).replace('_', ' ')}")


@route(bp, "/decisions/<node_id>", action="read")
def decision(node_id: str):
    g = get_graph()
    _decision_or_404(g, node_id)
    result = decision_provenance(g, node_id, name_people=people_rule().names_people)
    plan = path_to_green(g, node_id, open_flags=lambda ids: loop.open_flags_on(get_store(), ids))
    options = picture_options(DECISION_DEPTH, "upstream")
    shown = picture_and_twin(g, node_id, options)
    data = {**result.as_dict(), "path_to_green": plan.as_dict(), "picture": shown["twin"].as_dict()}
    downloads = ("nodes.picture_file", {**request.args, "node_id": node_id, "depth": options["depth"],
                                        "direction": options["direction"]})
    return respond("leader/decision.html", data, result=result, plan=plan, picture=shown, downloads=downloads)


# ---------------------------------------------------------------------------------------------
# Insights


@route(bp, "/insights", action="read_estate")
def insights_page():
    organisation = params.text_arg("organisation", MAX_TEXT)
    by = params.choice_arg("by", RANKINGS, "decisions")
    estate, status = _current(ESTATE)
    if organisation is not None and organisation not in estate.body["organisations"]:
        raise NotFound(f"there is no organisation called '{organisation}'; the organisations are: "
                       + ", ".join(estate.body["organisations"]))
    found = estate if organisation is None else _current(organisation_key(organisation))[0]
    result = Insights.from_dict(found.body)
    drawn = charts(result)
    stale = _stale_flags(organisation)
    data = {"status": status, "insights": found.body, "charts": [chart.as_dict() for chart in drawn],
            "stale_flags": {"days": loop.stale_days(), "flags": stale}}
    decisions_body = materialised.stored(get_store(), DECISIONS)
    return respond("leader/insights.html", data, result=result, status=status, by=by, rankings=RANKINGS,
                   charts=[(chart, Markup(chart.svg())) for chart in drawn], stale_flags=stale,
                   stale_days=loop.stale_days(), insight_actions=_insight_actions(result, stale),
                   decision_organisations=(decisions_body.body.get("organisations", []) if decisions_body else []))


FIRST_ACTIONS = 3
"""Findings each Insights section turns into actions before its folded detail."""


def _insight_actions(result: Insights, stale: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Each section's first findings as (what to do, naming who; where to do it)."""
    n = FIRST_ACTIONS
    people = get_graph().records([f["owner"] for f in stale[:n] if f.get("owner") and f["owner"] in get_graph()])
    hot = sorted(((spot, row["dimension"]) for row in result.quality["dimensions"] for spot in row["hot_spots"]),
                 key=lambda pair: (pair[0]["rag"] != "red", -pair[0]["decisions"], pair[0]["score"] or 0))
    seen: set[str] = set()
    hot_spots = []
    for spot, dimension in hot:
        if spot["id"] not in seen and len(hot_spots) < n:
            seen.add(spot["id"])
            hot_spots.append((boards.hot_spot_action(spot, dimension),
                              url_for("leader.what_if_page", dataset=spot["id"], dimension=dimension)))
    return {
        "risky": [(boards.risky_action(row), url_for("leader.decision", node_id=row["id"]) + "#path-to-green")
                  for row in result.risky_decisions["rows"][:n]],
        "tools": [(boards.tool_action(row), node_url(row["id"], "ai_tool")) for row in result.ai_oversight["rows"][:n]],
        "ownerless": [(boards.ownerless_action(row), target_url({"kind": row["kind"], "id": row["id"]}))
                      for row in result.ownerless["rows"][:n]],
        "readiness": [(boards.readiness_action(row), node_url(row["id"], "system"))
                      for row in result.readiness["rows"] if not row["ai_ready"]][:n],
        "hot_spots": hot_spots,
        "flags": [(boards.flag_action(f, {"name": people[f["owner"]]["name"]} if f.get("owner") in people else None),
                   url_for("loop.flag", flag_id=f["id"])) for f in stale[:n]],
    }


def _stale_flags(organisation: str | None) -> list[dict[str, Any]]:
    """Flags open longer than ``LINEAGE_FLAG_STALE_DAYS`` (on the organisation's datasets, if one is chosen)."""
    flags = loop.stale_flags(get_store(), loop.stale_days())
    if organisation is None:
        return flags
    g = get_graph()
    records = g.records([f["dataset"] for f in flags if f["dataset"] in g])
    return [f for f in flags if records.get(f["dataset"], {}).get("organisation") == organisation]


# ---------------------------------------------------------------------------------------------
# Names typed into forms


def _resolve(text: str, kinds: list[str] | None, what: str, *, need_one: bool = False) -> finding.Resolved:
    """A typed name resolved (:func:`lineage.find.resolve`), people the reader may not see left
    out. For a JSON twin, or with ``need_one`` (a download), anything but one node is an error: a
    404 when nothing matches, a 400 listing the ids when several do."""
    resolved = finding.resolve(get_store(), text, kinds=kinds)
    resolved.choices = visible(resolved.choices)
    resolved.suggestions = visible(resolved.suggestions)
    if resolved.node is not None and not visible([resolved.node]):
        resolved.node = None
    if (need_one or wants_json()) and resolved.node is None:
        if resolved.choices:
            raise BadRequest(resolved.message(what) + " by id: " + ", ".join(c["id"] for c in resolved.choices))
        raise NotFound(resolved.message(what))
    return resolved


# ---------------------------------------------------------------------------------------------
# Explore


def _explore_args() -> dict[str, Any]:
    text = params.text_arg("select", MAX_SELECTOR)
    return {"select": text, "name": params.text_arg("name", finding.MAX_TEXT), "kinds": params.kinds_arg(),
            "depth": params.depth_arg(EXPLORE_DEPTH),
            "direction": params.direction_arg("both"), "page": params.int_arg("page", 1, 1, 10**7)}


def _named(args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with a typed name turned into its node's selector (a download needs one node)."""
    if args["name"]:
        args["select"] = _resolve(args["name"], None, "node", need_one=True).node["id"]
    return args


def _selection(g: LineageGraph, args: dict[str, Any]) -> np.ndarray:
    found = select.positions(g, args["select"])
    if args["kinds"]:
        found = found[np.isin(g.kind_codes[found], [model.NODE_KINDS.index(k) for k in args["kinds"]])]
    return found


def _explore_query(args: dict[str, Any], **changes: Any) -> dict[str, Any]:
    query = {"name": args["name"], "select": None if args["name"] else args["select"],
             "kinds": ",".join(args["kinds"] or []) or None, "depth": args["depth"],
             "direction": args["direction"], **changes}
    return {k: v for k, v in query.items() if v is not None}


@route(bp, "/explore", action="read_estate")
def explore():
    args = _explore_args()
    context = {"args": args, "kinds": model.NODE_KINDS, "error": None, "resolved": None}
    data: dict[str, Any] = {"name": args["name"], "select": args["select"], "kinds": args["kinds"],
                            "depth": args["depth"], "direction": args["direction"]}
    if args["name"]:
        resolved = _resolve(args["name"], None, "node")
        if resolved.node is None:
            status = 200 if resolved.choices else 404
            return render_template("leader/explore.html", data={**data, "count": 0, "nodes": []},
                                   **{**context, "resolved": resolved}), status
        args["select"] = data["select"] = resolved.node["id"]
        data["node"] = resolved.node
    if not args["select"]:
        return respond("leader/explore.html", {**data, "count": 0, "nodes": []}, **context)
    g = get_graph()
    try:
        found = _selection(g, args)
    except SelectorError as error:
        if wants_json():
            raise
        return render_template("leader/explore.html", data=data, **{**context, "error": str(error)}), 400
    count = int(found.size)
    pages = max(1, -(-count // EXPLORE_PAGE_SIZE))
    if args["page"] > pages:
        raise NotFound(f"the selection has {pages:,} pages; page {args['page']} does not exist")
    chosen = found[(args["page"] - 1) * EXPLORE_PAGE_SIZE:args["page"] * EXPLORE_PAGE_SIZE]
    records = g.records([g.ids[i] for i in chosen.tolist()])
    nodes = [_explore_row(records[g.ids[i]]) for i in chosen.tolist()]
    by_kind = {kind: int(n) for kind, n in zip(model.NODE_KINDS, np.bincount(g.kind_codes[found],
                                                                             minlength=len(model.NODE_KINDS))) if n}
    shown = None
    if 0 < count <= EXPLORE_FOCUS:
        options = {"depth": args["depth"], "direction": args["direction"], "expand": params.expand_arg(),
                   "max_nodes": EXPLORE_BOXES}
        shown = picture_and_twin(g, [g.ids[i] for i in found.tolist()], options)
    query = _explore_query(args)
    data.update(count=count, by_kind=by_kind, page=args["page"], pages=pages, nodes=nodes,
                picture=shown["twin"].as_dict() if shown else None,
                url=url_for("leader.explore", **query))
    links = {"csv": url_for("leader.explore_csv", **query), "json": url_for("leader.explore_json", **query),
             "prev": url_for("leader.explore", **query, page=args["page"] - 1) if args["page"] > 1 else None,
             "next": url_for("leader.explore", **query, page=args["page"] + 1) if args["page"] < pages else None}
    downloads = ("leader.explore_picture", {**query, **({"expand": request.args.getlist("expand")}
                                                      if request.args.get("expand") else {})})
    return respond("leader/explore.html", data, **context, picture=shown, links=links, downloads=downloads,
                   focus_limit=EXPLORE_FOCUS)


EXPLORE_COLUMNS = ("id", "kind", "name", "organisation", "owner", "description")


def _explore_row(record: dict[str, Any]) -> dict[str, Any]:
    return {column: record.get(column) for column in EXPLORE_COLUMNS}


@bp.get("/explore.csv")
@requires("read_estate")
def explore_csv():
    args = _named(_explore_args())
    if not args["select"]:
        raise BadRequest("give a name or a selector: name=... or select=..., for example select=kind:ai_tool")
    g = get_graph()
    found = _selection(g, args)

    def lines():
        buffer = io.StringIO()
        write_csv([], EXPLORE_COLUMNS, buffer)
        yield buffer.getvalue()
        for start in range(0, found.size, 2000):
            chunk = [g.ids[i] for i in found[start:start + 2000].tolist()]
            records = g.records(chunk)
            buffer = io.StringIO()
            write_csv([_explore_row(records[i]) for i in chunk], EXPLORE_COLUMNS, buffer)
            yield buffer.getvalue().split("\n", 1)[1]

    response = Response(lines(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="selection.csv"'
    return response


@bp.get("/explore/picture.<format>")
@requires("read_estate")
def explore_picture(format: str):
    if format not in MEDIA_TYPES:
        raise NotFound(f"pictures come as {', '.join(MEDIA_TYPES)}; not '{format[:20]}'")
    args = _named(_explore_args())
    if not args["select"]:
        raise BadRequest("give a name or a selector: name=... or select=..., for example select=housing-register+1")
    g = get_graph()
    found = _selection(g, args)
    if not 0 < found.size <= EXPLORE_FOCUS:
        raise BadRequest(f"a picture focuses on 1 to {EXPLORE_FOCUS} nodes; this selection has {found.size:,}: "
                         "narrow the selector or choose fewer kinds")
    options = {"depth": args["depth"], "direction": args["direction"], "expand": params.expand_arg(),
               "max_nodes": EXPLORE_BOXES}
    return picture_response(g, [g.ids[i] for i in found.tolist()], format, options, "selection")


# ---------------------------------------------------------------------------------------------
# What if


@route(bp, "/what-if", action="read_estate")
def what_if_page():
    typed = params.text_arg("dataset", finding.MAX_TEXT)
    dimension = params.choice_arg("dimension", model.QUALITY_DIMENSIONS)
    raw_score = params.text_arg("score", 20)
    context: dict[str, Any] = {"dimensions": model.QUALITY_DIMENSIONS, "error": None, "result": None,
                               "record": None, "resolved": None, "typed": typed}
    data: dict[str, Any] = {"dataset": typed, "dimension": dimension, "score": raw_score, "result": None}
    if typed is None:
        return respond("leader/what_if.html", data, **context)
    g = get_graph()
    if typed in g and g.kind(typed) != "dataset":
        raise BadRequest(f"'{typed}' is a {g.kind(typed).replace('_', ' ')}; a what-if changes a dataset's quality")
    resolved = _resolve(typed, ["dataset"], "dataset")
    if resolved.node is None:
        return render_template("leader/what_if.html", data=data, **{**context, "resolved": resolved}), \
            200 if resolved.choices else 404
    dataset = data["dataset"] = resolved.node["id"]
    record = g.record(dataset)
    weakest = model.weakest_dimension(record.get("quality"))
    dimension = dimension or (weakest[0] if weakest else model.QUALITY_DIMENSIONS[0])
    data["dimension"] = dimension
    quality = record.get("quality") or {}
    context.update(record=record, weakest=weakest, quality_now={
        d: {"score": model.quality_score(quality[d]), "rag": model.quality_rag(quality[d])}
        for d in model.QUALITY_DIMENSIONS if d in quality})
    if raw_score is None:
        return respond("leader/what_if.html", data, **context)
    try:
        score = float(raw_score)
    except ValueError:
        score = None
    if score is None or not 0 <= score <= 1:
        message = f"score must be a number from 0 to 1, like 0.4; got {raw_score[:20]!r}"
        if wants_json():
            raise BadRequest(message)
        return render_template("leader/what_if.html", data=data, **{**context, "error": message}), 400
    result = what_if(g, dataset, {dimension: score})
    data["result"] = result.as_dict()
    return respond("leader/what_if.html", data, **{**context, "result": result})

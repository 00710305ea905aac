"""The data owner's journey: create, edit and delete nodes and edges; history and undo.

Every form carries the version it was filled from; a save based on a stale version gets the
conflict page (both versions side by side), never a silent overwrite. A delete shows what it
would disconnect first. Each save is one audited change that the history page can undo.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.main import wtforms_errors
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField
from markupsafe import Markup
from werkzeug.exceptions import BadRequest

from lineage import model, origin
from lineage.consequence import removal_consequence
from lineage.describe import KIND_LABELS, attribute_changes
from lineage.errors import ConflictError, NotFoundError, Problem, ValidationError
from lineage.policy import decide
from lineage.store import edge_ref

from . import forms, params
from .auth import authorize, current_actor, people_rule, requires
from .db import get_graph, get_store
from .find import pick
from .respond import node_url, respond, route
from .writes import apply, apply_undo, edge_ends, node_problems, stored_node, touched_targets

bp = Blueprint("edit", __name__)

HISTORY_PAGE = 20
ENTRIES_LISTED = 200
"""Entries of a change shown with their differences; a bulk load is counted beyond this."""


def _version(raw: str | None) -> int:
    """The version a form was filled from (its hidden field)."""
    if not (raw or "").isdigit() or len(raw) > len(str(params.MAX_INTEGER)):
        raise BadRequest("the form has no valid version: reload the page and try again")
    return int(raw)


def _undo_link(change: int, what: str | None = None, differences: list | None = None) -> Markup:
    """The success banner's words: what was saved and what changed, and the change to undo it."""
    said = ""
    if what:
        fields = list(dict.fromkeys(forms.label(name.split(".")[0] if not name.startswith("quality.")
                                                else ".".join(name.split(".")[:2])).lower()
                                    for name, _, _ in differences or []
                                    if name not in ("created", "updated", "version")))
        changed = f" ({', '.join(fields[:4])}{' and more' if len(fields) > 4 else ''} changed)" if fields else ""
        said = f"{what}{changed}. "
    return Markup('{}Saved as <a class="govuk-link" href="{}">change {}</a>, which you can undo.').format(
        said, url_for("edit.change", change=change), change)


def _resolver(exclude: tuple[str, ...] = (), stored: dict[str, Any] | None = None) -> forms.Resolver:
    """Names typed into a form (an owner, a team, an edge's other end) as node ids
    (:func:`web.find.pick`). A name left as the stored record shows it stays that node, even when
    another has the same name."""
    kept = {}
    for field in forms.REFERENCES:
        node_id = (stored or {}).get(field)
        if isinstance(node_id, str):
            kept[(forms.REFERENCES[field], (_name_of(node_id) or node_id).lower())] = node_id

    def resolve(text: str, kind: str) -> str:
        if (kind, text.strip().lower()) in kept:
            return kept[(kind, text.strip().lower())]
        kinds = kind.split(",")
        return pick(text, kinds, what=_kinds_in_words(kinds), exclude=exclude)["id"]
    return resolve


def _name_of(node_id: str) -> str | None:
    try:
        return get_store().node(node_id)["name"]
    except NotFoundError:
        return None


def _render_record_form(form: FlaskForm, kind: str, *, heading: str, record: dict[str, Any] | None,
                        cancel: str, edge: dict[str, Any] | None = None):
    summary = wtforms_errors(form)
    cross = (edge or {}).get("cross") or {}
    if cross.get("problem"):  # said after the other end's problem, where the page says it
        at = 1 if summary["errorList"] and summary["errorList"][0]["href"] == "#other" else 0
        summary["errorList"].insert(at, {"text": cross["problem"], "href": "#confirm_cross"})
    status = 400 if summary["errorList"] else 200
    return render_template("edit/record_form.html", form=form, kind=kind, heading=heading, record=record,
                           attributes=forms.attributes(kind), field_name=forms.field_name, hints=forms.HINTS,
                           dimension_hints=forms.DIMENSION_HINTS, references=forms.REFERENCES, summary=summary,
                           cancel=cancel, edge=edge, title=heading), status


# -- nodes ------------------------------------------------------------------------------------


class KindForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only chooses what the next form asks

    kind = RadioField("What do you want to add?", widget=GovRadioInput(),
                            choices=[(k, k.replace("_", " ").capitalize()) for k in model.NODE_KINDS])
    submit = SubmitField("Continue", widget=GovSubmitInput())


@bp.route("/nodes/new", methods=["GET", "POST"])
@requires("edit_node")
def new_node():
    kind = request.args.get("kind", "")
    if kind not in model.NODE_KINDS:
        if kind:
            raise BadRequest(f"kind must be one of: {', '.join(model.NODE_KINDS)}; got {kind[:50]!r}")
        form = KindForm(request.args)
        if "submit" in request.args:  # Continue without a choice
            form.kind.errors = ["Choose what you want to add"]
        return render_template("edit/choose_kind.html", form=form, title="Add a node"), 400 if form.kind.errors else 200
    form = forms.record_form_class(kind, with_id=True)()
    actor = current_actor()
    if request.method == "GET" and actor.person and "owner" in form:
        form.owner.data = _name_of(actor.person) or actor.person
    if form.validate_on_submit():
        changes, problems = forms.record_from_form(form, kind, None, resolve=_resolver())
        record = {"id": (form.id.data or "").strip(), "kind": kind,
                  **{k: v for k, v in changes.items() if v is not None}, origin.ATTRIBUTE: origin.by_hand()}
        problems += node_problems(record)
        if not problems:
            authorize("edit_node", record)
            try:
                change, _ = apply(f"add {kind} '{record['id']}'", lambda c: c.add_node(record))
            except ValidationError as error:
                problems = error.problems
            else:
                flash(_undo_link(change, f"{record.get('name') or record['id']} is added"))
                return redirect(node_url(record["id"], kind))
        forms.show_problems(form, problems)
    return _render_record_form(form, kind, heading=f"Add a {forms.label(kind).lower().replace('_', ' ')}",
                               record=None, cancel=url_for("home.index"))


@bp.route("/nodes/<node_id>/edit", methods=["GET", "POST"])
@requires("edit_node", target=stored_node)
def edit_node(node_id: str):
    store = get_store()
    record = store.node(node_id)
    kind = record["kind"]
    form_class = forms.record_form_class(kind)
    form = form_class(data=forms.form_data(record, kind, _name_of)) if request.method == "GET" else form_class()
    if form.validate_on_submit():
        changes, problems = forms.record_from_form(form, kind, record, resolve=_resolver(stored=record))
        proposed = {k: v for k, v in {**record, **changes}.items() if v is not None}
        problems += node_problems({k: v for k, v in proposed.items() if k not in ("created", "updated", "version")})
        if not problems:
            try:
                change, _ = apply(f"edit {kind} '{node_id}'", lambda c: c.update_node(
                    node_id, changes, expected_version=_version(form.version.data)))
            except ValidationError as error:
                problems = error.problems
            except ConflictError:
                return _conflict(form, kind, proposed, store.node(node_id))
            else:
                flash(_undo_link(change, f"{proposed.get('name', node_id)} is saved",
                                 attribute_changes(record, store.node(node_id))))
                return redirect(node_url(node_id, kind))
        forms.show_problems(form, problems)
    return _render_record_form(form, kind, heading=f"Edit {record['name']}", record=record,
                               cancel=node_url(node_id, kind))


def _conflict(form: FlaskForm, kind: str, mine: dict[str, Any], saved: dict[str, Any]):
    """Both versions side by side, and the choice: keep the saved one, or save yours over it."""
    rows = [(forms.label(name), theirs, yours) for name, theirs, yours in attribute_changes(saved, mine)]
    fields = [(field.name, field.data) for field in form if field.name not in ("csrf_token", "submit", "version")]
    return render_template("edit/conflict.html", rows=rows, fields=fields, saved=saved, kind=kind,
                           action=request.path, title="Someone else changed this first"), 409


@bp.route("/nodes/<node_id>/delete", methods=["GET", "POST"])
@requires("edit_node", target=stored_node)
def delete_node(node_id: str):
    store = get_store()
    record = store.node(node_id)
    if request.method == "POST":
        version = _version(request.form.get("version"))
        change, _ = apply(f"delete {record['kind']} '{node_id}'",
                          lambda c: c.delete_node(node_id, expected_version=version))
        flash(_undo_link(change, f"{record['name']} is deleted"))
        return redirect(url_for("nodes.node_list", kind=record["kind"]))
    consequence = removal_consequence(get_graph(), node=node_id)
    return render_template("edit/delete.html", record=record, consequence=consequence, edge=None,
                           names=_names(consequence), cancel=node_url(node_id, record["kind"]),
                           title=f"Delete {record['name']}")


def _names(consequence) -> dict[str, dict[str, Any]]:
    g = get_graph()
    return g.records(consequence.decisions + consequence.datasets)


# -- edges ------------------------------------------------------------------------------------


def _edge_kind_choices(end_kind: str, side: str) -> list[str]:
    """Edge kinds a node of ``end_kind`` may start (``side`` "source") or end ("target")."""
    at = 0 if side == "source" else 1
    return [kind for kind, rule in model.EDGE_RULES.items() if end_kind in rule[at]]


def _other_end_kinds(edge_kind: str, side: str) -> list[str]:
    return sorted(model.EDGE_RULES[edge_kind][1 if side == "source" else 0])


def _kinds_in_words(kinds: list[str]) -> str:
    names = [KIND_LABELS.get(k, (k,))[0] for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


EDGE_WORDS = {
    # (edge kind, the side the chosen node is on): how it reads from that node's side.
    ("enters", "source"): "A system or dataset they enter records into",
    ("enters", "target"): "A person who enters records into it",
    ("member_of", "source"): "A team they belong to",
    ("member_of", "target"): "A person who belongs to it",
    ("supplies", "source"): "A dataset it supplies",
    ("supplies", "target"): "A system that supplies it",
    ("derives", "source"): "Another dataset or process made from it",
    ("derives", "target"): "A dataset, process or AI tool it is made from",
    ("feeds", "source"): "An AI tool or process that uses it",
    ("feeds", "target"): "A dataset it uses",
    ("informs", "source"): "A decision it informs",
    ("informs", "target"): "A dataset, AI tool or process that informs it",
    ("records_outcome", "source"): "A dataset where its outcomes are recorded",
    ("records_outcome", "target"): "A decision whose outcomes are recorded in it",
    ("part_of", "source"): "A larger job (a pipeline or application) it is one step of",
    ("part_of", "target"): "A task that is one step of it",
}
QUESTIONS = {"source": "Where does this data go next?", "target": "Where does this data come from?"}


def _question(fixed: dict[str, Any], side: str) -> str:
    if fixed["kind"] == "person":
        return "What does this person enter records into, or belong to?" if side == "source" \
            else "Who does this concern?"
    if fixed["kind"] == "decision" and side == "source":
        return "Where are this decision’s outcomes recorded?"
    if fixed["kind"] == "team":
        return "Who belongs to this team?"
    return QUESTIONS[side]


@bp.route("/edges/new", methods=["GET", "POST"])
@requires("edit_edge")
def new_edge():
    store = get_store()
    side = "target" if request.args.get("target") else "source"
    fixed_id = request.args.get(side, "")
    if not fixed_id:
        raise BadRequest("say which node the edge starts from (?source=ID) or ends at (?target=ID)")
    fixed = store.node(fixed_id)
    edge_kinds = _edge_kind_choices(fixed["kind"], side)
    edge_kind = request.args.get("kind", "")
    if edge_kind not in edge_kinds:
        if edge_kind:
            raise BadRequest(f"a {fixed['kind']} can be the {side} of: {', '.join(edge_kinds) or 'no edge'}; "
                             f"not {edge_kind[:50]!r}")
        asked = bool(request.args.get("asked"))
        status = 400 if asked and edge_kinds else 200
        return render_template("edit/choose_edge_kind.html", fixed=fixed, side=side, edge_kinds=edge_kinds,
                               words=EDGE_WORDS, question=_question(fixed, side), asked=asked,
                               title=_question(fixed, side)), status
    other_side = "target" if side == "source" else "source"
    other_kinds = _other_end_kinds(edge_kind, side)
    form = forms.record_form_class(edge_kind, other=other_side)()
    cross = None
    if form.validate_on_submit():
        changes, problems = forms.record_from_form(form, edge_kind, None)
        other = None
        try:
            other_id = _resolver((fixed_id,))((form.other.data or "").strip(), ",".join(other_kinds))
            other = store.node(other_id)
        except ValueError as error:
            message = str(error)
            if message.startswith("Enter the name"):
                message = f"Enter the name of the {_kinds_in_words(other_kinds)} the data goes to" \
                    if side == "source" else f"Enter the name of the {_kinds_in_words(other_kinds)} the data comes from"
            problems.insert(0, Problem("form", message, "other"))
        if other is not None and fixed.get("organisation") and other.get("organisation") \
                and fixed["organisation"] != other["organisation"]:
            cross = {"from": fixed if side == "source" else other, "to": other if side == "source" else fixed}
            if request.form.get("confirm_cross") != "yes":
                problems.insert(1, Problem("form", f"Confirm that data goes from {cross['from']['organisation']} "
                                                   f"to {cross['to']['organisation']}", "confirm_cross"))
        if not problems and other is not None:
            ends = {side: fixed_id, other_side: other["id"]}
            record = {"source": ends["source"], "target": ends["target"], "kind": edge_kind,
                      **{k: v for k, v in changes.items() if v is not None}, origin.ATTRIBUTE: origin.by_hand()}
            authorize("edit_edge", (fixed, other) if side == "source" else (other, fixed))
            try:
                change, _ = apply(f"add {edge_kind} edge {edge_ref(record['source'], record['target'])}",
                                  lambda c: c.add_edge(record))
            except ValidationError as error:
                problems = [Problem(p.where, p.message, p.field if p.field in form._fields else "other")
                            for p in error.problems]
            else:
                source_name = (fixed if side == "source" else other)["name"]
                target_name = (other if side == "source" else fixed)["name"]
                flash(_undo_link(change, f"{source_name} now {EDGE_VERBS[edge_kind]} {target_name}"))
                return redirect(node_url(fixed_id, fixed["kind"]))
        forms.show_problems(form, [p for p in problems if p.field != "confirm_cross"])
        cross_problem = next((p.message for p in problems if p.field == "confirm_cross"), None)
        if cross is not None:
            cross["problem"] = cross_problem
    edge = {"kind": edge_kind, "side": side, "fixed": fixed, "other_side": other_side, "other_kinds": other_kinds,
            "words": EDGE_WORDS[(edge_kind, side)], "question": _question(fixed, side), "cross": cross}
    return _render_record_form(form, edge_kind, heading=EDGE_WORDS[(edge_kind, side)],
                               record=None, cancel=node_url(fixed_id, fixed["kind"]), edge=edge)


EDGE_VERBS = {"enters": "enters records into", "member_of": "belongs to", "supplies": "supplies",
              "derives": "feeds into", "feeds": "feeds", "informs": "informs", "records_outcome": "records its outcomes in",
              "part_of": "is one step of"}


@bp.route("/edges/<source>/<target>/edit", methods=["GET", "POST"])
@requires("edit_edge", target=edge_ends)
def edit_edge(source: str, target: str):
    store = get_store()
    record = store.edge(source, target)
    kind = record["kind"]
    if not forms.attributes(kind):
        raise BadRequest(f"a '{kind}' edge has no attributes to edit; delete it or add another")
    form_class = forms.record_form_class(kind)
    form = form_class(data=forms.form_data(record, kind)) if request.method == "GET" else form_class()
    if form.validate_on_submit():
        changes, problems = forms.record_from_form(form, kind, record)
        if not problems:
            try:
                change, _ = apply(f"edit edge {edge_ref(source, target)}", lambda c: c.update_edge(
                    source, target, changes, expected_version=_version(form.version.data)))
            except ValidationError as error:
                problems = error.problems
            except ConflictError:
                mine = {k: v for k, v in {**record, **changes}.items() if v is not None}
                return _conflict(form, kind, mine, store.edge(source, target))
            else:
                flash(_undo_link(change, f"The link from {store.node(source)['name']} to {store.node(target)['name']} "
                                         "is saved", attribute_changes(record, store.edge(source, target))))
                return redirect(node_url(source, store.node(source)["kind"]))
        forms.show_problems(form, problems)
    edge = {"kind": kind, "source": store.node(source), "target": store.node(target)}
    return _render_record_form(form, kind, heading=f"Edit the edge {edge_ref(source, target)}", record=record,
                               cancel=node_url(source, edge["source"]["kind"]), edge=edge)


@bp.route("/edges/<source>/<target>/delete", methods=["GET", "POST"])
@requires("edit_edge", target=edge_ends)
def delete_edge(source: str, target: str):
    store = get_store()
    record = store.edge(source, target)
    source_kind = store.node(source)["kind"]
    if request.method == "POST":
        version = _version(request.form.get("version"))
        change, _ = apply(f"delete edge {edge_ref(source, target)}",
                          lambda c: c.delete_edge(source, target, expected_version=version))
        flash(_undo_link(change, f"The link from {store.node(source)['name']} to {store.node(target)['name']} is deleted"))
        return redirect(node_url(source, source_kind))
    consequence = removal_consequence(get_graph(), edge=(source, target))
    return render_template("edit/delete.html", record=None, edge=record, consequence=consequence,
                           names=_names(consequence), cancel=node_url(source, source_kind),
                           title=f"Delete the edge {edge_ref(source, target)}")


# -- history and undo -------------------------------------------------------------------------


@route(bp, "/history", action="read_history")
def history():
    before = request.args.get("before", "")
    if before and not before.isdigit():
        raise BadRequest(f"before must be a change number; got {before[:50]!r}")
    listed = get_store().changes(before=int(before) if before else None, limit=HISTORY_PAGE)
    older = listed[-1]["change"] if len(listed) == HISTORY_PAGE and listed[-1]["change"] > 1 else None
    rule = people_rule()
    changes = [rule.change(c) for c in listed]
    data = {"changes": changes, "before": int(before) if before else None, "older": older}
    return respond("edit/history.html", data, changes=changes, older=older, title="History of changes")


@route(bp, "/changes/<int:change>", action="read_history")
def change(change: int):
    full = get_store().change_info(change)
    entries = full["entries"]
    may_undo = bool(entries) and _may_undo(entries)  # judged on everything the change touched
    info = people_rule().change(full)  # what the reader may see of it: people only counted
    shown = [{**entry, "differences": attribute_changes(entry["before"], entry["after"])}
             for entry in info["entries"][:ENTRIES_LISTED]]
    data = {**{k: v for k, v in info.items() if k != "entries"}, "count": len(entries), "entries": shown,
            "may_undo": may_undo}
    return respond("edit/change.html", data, info=info, entries=shown, count=len(entries), may_undo=may_undo,
                   label=forms.label, title=f"Change {change}")


def _may_undo(entries: list[dict[str, Any]]) -> bool:
    return bool(decide(current_actor(), "undo", touched_targets(entries)))


@bp.post("/changes/<int:change>/undo")
@requires("undo")
def undo(change: int):
    info = get_store().change_info(change)
    if not info["entries"]:
        abort(400, f"change {change} has nothing left to undo")
    authorize("undo", touched_targets(info["entries"]))
    new_change = apply_undo(change)
    flash(Markup('Change {} is undone by <a class="govuk-link" href="{}">change {}</a>, '
                 'which can itself be undone.').format(change, url_for("edit.change", change=new_change), new_change))
    return redirect(url_for("edit.change", change=new_change))

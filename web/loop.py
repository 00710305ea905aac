"""Closing the loop in the app: outcome updates (owners to contributors), flags (contributors to
owners), the owner's inbox and each person's digest.

The work is done by :mod:`lineage.loop` and :mod:`lineage.digest`; these views ask the policy
first (the gate, then :func:`web.auth.authorize` with the real record), turn form text into the
library's values, and show its problems against the fields they name. Only a fix that records a
new quality score changes the graph (so only it is followed by :func:`web.writes.after_write`).
"""
from __future__ import annotations

from datetime import date as Date
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (GovCharacterCount, GovRadioInput, GovSelect, GovSubmitInput,
                                               GovTextInput)
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, Forbidden, NotFound
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField

from lineage import digest as digests
from lineage import loop, model, words
from lineage.dates import read_date, read_date_text, read_money
from lineage.errors import ConflictError, LineageError, NotFoundError, Problem, ValidationError
from lineage.graph import LineageGraph
from lineage.report import teams_of

from . import params
from .auth import allowed, authorize, current_actor, get_accounts, people_rule, requires
from .db import get_graph, get_store
from .errors import wants_json
from .respond import respond, route
from .writes import after_write, count_write, stored_node

bp = Blueprint("loop", __name__)

DIGEST_DAYS = 7
"""A first digest covers this many days; after that, what came since the last one seen."""
DIMENSION_LABELS = {d: words.dimension_label(d) for d in model.QUALITY_DIMENSIONS}
"""Plain name first, the framework's word second: "Records are missing details (completeness)"."""


# -- targets for the gate -------------------------------------------------------------------------


def _update_subject(args: dict[str, Any]) -> dict[str, Any] | None:
    """The record an update is on (its owner may edit it); None when there is no such update
    (the view says 404, after the gate has asked anyone not signed in to sign in)."""
    store = get_store()
    try:
        subject = loop.get_update(store, args["update_id"])["subject"]
    except NotFoundError:
        return None
    try:
        return store.node(subject)
    except NotFoundError:
        return {"id": subject, "owner": None}  # deleted since: admins only


def _flag_dataset(args: dict[str, Any]) -> dict[str, Any] | None:
    """The dataset a flag is on (its owner answers it); None when there is no such flag."""
    store = get_store()
    try:
        dataset = loop.get_flag(store, args["flag_id"])["dataset"]
    except NotFoundError:
        return None
    try:
        return store.node(dataset)
    except NotFoundError:
        return {"id": dataset, "owner": None}


# -- forms ----------------------------------------------------------------------------------------


def _number(text: str | None, label: str, *, whole: bool = False) -> float | int | None:
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("£") or label.startswith("£"):  # money as people write it: £1.2m, 1,200,000
        try:
            amount = read_money(text)
        except ValueError as error:
            raise ValueError(str(error)) from None
        return int(amount) if amount.is_integer() else amount
    text = text.replace(",", "")
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise ValueError(f"Enter {label} as a {'whole ' if whole else ''}number, like "
                         f"{'40' if whole else '1200'}") from None
    if value < 0:
        raise ValueError(f"Enter {label} as a number of at least 0")
    return int(value) if not whole and float(value).is_integer() else value


def _show(form: FlaskForm, problems: list[Problem], fallback: str = "text") -> None:
    """Each problem against the field it names (``figures.people_helped`` -> ``people_helped``)."""
    for problem in problems:
        name = (problem.field or fallback).split(".")[-1]
        if name == "date" and "date_day" in form._fields:  # the date input's first box carries its error
            name = "date_day"
        field = form._fields.get(name) or form._fields[fallback]
        message = problem.message
        field.errors = [*list(field.errors or []), message[:1].upper() + message[1:]]


class UpdateForm(FlaskForm):
    text = TextAreaField("What came of it", widget=GovCharacterCount())
    date_day = StringField("Day", widget=GovTextInput())
    date_month = StringField("Month", widget=GovTextInput())
    date_year = StringField("Year", widget=GovTextInput())
    date = StringField("When it happened", widget=GovTextInput())  # one box: what the API and older forms send
    people_helped = StringField("People helped (optional)", widget=GovTextInput())
    gbp_secured = StringField("Money secured, in £ (optional)", widget=GovTextInput())
    days_saved = StringField("Days saved (optional)", widget=GovTextInput())
    version = HiddenField()
    submit = SubmitField("Post the update", widget=GovSubmitInput())

    def fill_date(self, iso: str) -> None:
        day = Date.fromisoformat(iso)
        self.date_day.data, self.date_month.data, self.date_year.data = str(day.day), str(day.month), str(day.year)

    def outcome_date(self) -> tuple[str | None, Problem | None]:
        """The date it happened (None: today), from the day, month and year boxes (or one box);
        a date that cannot be true, or is still to come, is a problem."""
        parts = [(f.data or "").strip() for f in (self.date_day, self.date_month, self.date_year)]
        try:
            if (self.date.data or "").strip():
                day = read_date_text(self.date.data)
            elif any(parts):
                day = read_date(*parts)
            else:
                return None, None
        except ValueError as error:
            return None, Problem("form", str(error), "date_day")
        if day > datetime.now(timezone.utc).date():
            return None, Problem("form", "The date it happened must be today or in the past", "date_day")
        return day.isoformat(), None

    def values(self) -> tuple[dict[str, Any], list[Problem]]:
        figures, problems = {}, []
        if not (self.text.data or "").strip():  # said with the figures' problems, not after them
            problems.append(Problem("form", f"Write 1 to {loop.MAX_TEXT} characters", "text"))
        self.iso_date, problem = self.outcome_date()
        if problem:
            problems.append(problem)
        for name, label in loop.FIGURE_LABELS.items():
            try:
                figures[name] = _number(getattr(self, name).data, label)
            except ValueError as error:
                problems.append(Problem("form", str(error), name))
        return figures, problems


class FlagForm(FlaskForm):
    dimension = RadioField("Which kind of problem is it?", widget=GovRadioInput(), default="",
                           choices=[*DIMENSION_LABELS.items(), ("", "Not sure, or something else")])
    text = TextAreaField("What is wrong", widget=GovCharacterCount())
    records = StringField("How many records are affected (optional)", widget=GovTextInput())
    submit = SubmitField("Flag the problem", widget=GovSubmitInput())


class AnswerForm(FlaskForm):
    status = RadioField("Status", widget=GovRadioInput(), choices=[
        ("open", "Open"), ("acknowledged", "Acknowledged: we are looking at it"), ("fixed", "Fixed"),
        ("wont_fix", "Won't fix")])
    reply = TextAreaField("Reply to the person who flagged it (optional)", widget=GovCharacterCount())
    new_score = StringField("New quality score, from 0 to 1 (optional, with a fix)", widget=GovTextInput())
    dimension = SelectField("For which quality dimension", widget=GovSelect(), default="",
                            choices=[("", "Choose one"), *DIMENSION_LABELS.items()])
    submit = SubmitField("Save the answer", widget=GovSubmitInput())


# -- outcome updates ------------------------------------------------------------------------------


def _subject_or_404(node_id: str) -> dict[str, Any]:
    record = get_store().node(node_id)
    if record["kind"] not in loop.UPDATE_SUBJECTS:
        raise NotFound(f"outcome updates are posted on decisions and AI tools; '{node_id}' is a "
                       f"{record['kind'].replace('_', ' ')}")
    return record


@bp.route("/nodes/<node_id>/updates/new", methods=["GET", "POST"])
@bp.route("/decisions/<node_id>/updates/new", methods=["GET", "POST"])
@requires("post_update", target=stored_node)
def new_update(node_id: str):
    record = _subject_or_404(node_id)
    form = UpdateForm()
    if request.method == "GET":
        form.fill_date(datetime.now(timezone.utc).date().isoformat())
    if form.validate_on_submit():
        figures, problems = form.values()
        if not problems:
            authorize("post_update", record)
            count_write()
            try:
                update = loop.post_update(get_store(), node_id, actor=current_actor(), text=form.text.data or "",
                                          figures=figures, date=form.iso_date)
            except ValidationError as error:
                problems = error.problems
            else:
                flash(f"Your update on {record['name']} is posted: everyone whose records reach it will see it.")
                return redirect(url_for("loop.update", update_id=update["id"]))
        _show(form, problems)
    return render_template("loop/update_form.html", form=form, record=record, update=None,
                           title=f"Post an update on {record['name']}"), 400 if form.errors else 200


def _update_view(update_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    store = get_store()
    update = loop.get_update(store, update_id)
    try:
        record = store.node(update["subject"])
    except NotFoundError:
        record = {"id": update["subject"], "kind": None, "name": update["subject"], "owner": None}
    return update, record


@route(bp, "/updates/<int:update_id>", action="read")
def update(update_id: int):
    found, record = _update_view(update_id)
    history = loop.update_history(get_store(), update_id)
    data = {"update": {**found, "figures_text": loop.figures_text(found["figures"])},
            "subject": {"id": record["id"], "kind": record["kind"], "name": record["name"]}, "history": history}
    who = posted_by(get_graph(), found["author"], found["subject"])["text"]
    editor = posted_by(get_graph(), found["editor"], found["subject"])["text"] if found.get("editor") else None
    return respond("loop/update.html", data, update=found, record=record, history=history, who=who, editor=editor,
                   figures_text=loop.figures_text, editable=allowed("post_update", record),
                   title=f"Update on {record['name']}")


@bp.route("/updates/<int:update_id>/edit", methods=["GET", "POST"])
@requires("post_update", target=_update_subject)
def edit_update(update_id: int):
    found, record = _update_view(update_id)
    authorize("post_update", record)
    if request.method == "GET":
        form = UpdateForm(data={"text": found["text"], "version": str(found["version"]),
                                **{k: f"{v:g}" for k, v in found["figures"].items()}})
        form.fill_date(found["date"])
    else:
        form = UpdateForm()
    if form.validate_on_submit():
        figures, problems = form.values()
        try:
            version = int(form.version.data)
        except (TypeError, ValueError):
            raise BadRequest("the form has no valid version: reload the page and try again") from None
        if not problems:
            count_write()
            try:
                loop.edit_update(get_store(), update_id, actor=current_actor(), text=form.text.data or "",
                                 figures=figures, date=form.iso_date, expected_version=version)
            except ValidationError as error:
                problems = error.problems
            except ConflictError as error:
                problems = [Problem("form", f"{error}. What you typed is below.", "text")]
                form.version.data = str(loop.get_update(get_store(), update_id)["version"])
            else:
                flash(f"Your update on {record['name']} is saved; the earlier version is kept in its history.")
                return redirect(url_for("loop.update", update_id=update_id))
        _show(form, problems)
    form.submit.label.text = "Save the update"
    return render_template("loop/update_form.html", form=form, record=record, update=found,
                           title=f"Edit your update on {record['name']}"), 400 if form.errors else 200


# -- flags ----------------------------------------------------------------------------------------


@bp.route("/nodes/<node_id>/flag", methods=["GET", "POST"])
@requires("flag")
def new_flag(node_id: str):
    store = get_store()
    record = store.node(node_id)
    if record["kind"] != "dataset":
        raise NotFound(f"problems are flagged on datasets; '{node_id}' is a {record['kind'].replace('_', ' ')}")
    form = FlagForm()
    if request.method == "GET" and request.args.get("dimension") in DIMENSION_LABELS:
        form.dimension.data = request.args["dimension"]
    if form.validate_on_submit():
        problems = []
        try:
            records = _number(form.records.data, "the number of records", whole=True)
        except ValueError as error:
            problems.append(Problem("form", str(error), "records"))
        if not problems:
            try:
                flag = loop.raise_flag(get_graph(), store, node_id, actor=current_actor(), text=form.text.data or "",
                                       dimension=form.dimension.data or None, records=records)
            except ValidationError as error:
                problems = error.problems
            else:
                count = flag["decision_count"]
                flash(f"Your flag is with the owner of {record['name']}. It may affect "
                      f"{count:,} decision{'' if count == 1 else 's'}.")
                return redirect(url_for("loop.flag", flag_id=flag["id"]))
        _show(form, problems)
    count, decisions = loop.affected_decisions(get_graph(), node_id)
    return render_template("loop/flag_form.html", form=form, record=record, decision_count=count,
                           decisions=decisions, title=f"Flag a problem with {record['name']}"), \
        400 if form.errors else 200


def _may_see(flag: dict[str, Any], dataset: dict[str, Any] | None) -> bool:
    """The flagger, the dataset's owner (and admins), and leaders see a flag; other people do not
    (contributors see each other only as counts)."""
    actor = current_actor()
    return (actor.name is not None and actor.name == flag["flagger"]) or \
        allowed("answer_flag", dataset or {"id": flag["dataset"], "owner": None}) or allowed("read_estate")


def _flag_page(flag_id: int, form: AnswerForm | None = None):
    store = get_store()
    flag = loop.get_flag(store, flag_id)
    dataset = _flag_dataset({"flag_id": flag_id})
    if not _may_see(flag, dataset):
        raise Forbidden("you can see the flags you raised and the flags on data you own")
    flag = people_rule().record(flag, "flagger_person")  # an owner answers the flag, not a named person
    events = loop.flag_history(store, flag_id)
    count, decisions = loop.affected_decisions(get_graph(), flag["dataset"])
    may_answer = allowed("answer_flag", dataset)
    if may_answer and form is None:
        form = AnswerForm(data={"status": "acknowledged" if flag["status"] == "open" else flag["status"]})
    data = {"flag": flag, "events": events, "decision_count": count, "decisions": decisions}
    return respond("loop/flag.html", data, flag=flag, events=events, decision_count=count, decisions=decisions,
                   form=form if may_answer else None, labels=loop.FLAG_STATUS_LABELS,
                   title=f"Flag {flag_id}: {flag['dataset_name'] or flag['dataset']}")


@route(bp, "/flags/<int:flag_id>", action="read")
def flag(flag_id: int):
    return _flag_page(flag_id)


@bp.post("/flags/<int:flag_id>/answer")
@requires("answer_flag", target=_flag_dataset)
def answer_flag(flag_id: int):
    store = get_store()
    loop.get_flag(store, flag_id)  # 404 for a flag that does not exist
    authorize("answer_flag", _flag_dataset({"flag_id": flag_id}))
    form = AnswerForm()
    if form.validate_on_submit():
        problems = []
        try:
            score = _number(form.new_score.data, "the new score")
        except ValueError as error:
            problems.append(Problem("form", str(error), "new_score"))
        if not problems:
            count_write()
            try:
                answered = loop.set_flag_status(store, flag_id, form.status.data, actor=current_actor(),
                                                reply=(form.reply.data or "").strip() or None,
                                                new_score=None if score is None else float(score),
                                                dimension=form.dimension.data or None)
            except ValidationError as error:
                problems = error.problems
            else:
                message = Markup("The flag is {}; the person who raised it sees your answer.").format(
                    answered["status_label"])
                if answered["change"]:
                    after_write()
                    message += Markup(' The new score is saved as <a class="govuk-link" href="{}">change {}</a>, '
                                      "which you can undo.").format(url_for("edit.change", change=answered["change"]),
                                                                     answered["change"])
                flash(message)
                return redirect(url_for("loop.flag", flag_id=flag_id))
        _show(form, problems, fallback="status")
    page = _flag_page(flag_id, form)
    return page, 400


@route(bp, "/flags", action="flag")
def flags_raised():
    actor = current_actor()
    found = loop.flags_raised_by(get_store(), actor.name)
    return respond("loop/flags.html", {"flags": found}, flags=found, title="Flags you raised")


@route(bp, "/inbox", action="read_inbox")
def inbox():
    actor = current_actor()
    status = request.args.get("status") or None
    if status is not None and status not in loop.FLAG_STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(loop.FLAG_STATUSES)}; got {status[:40]!r}")
    store = get_store()
    if actor.role == "admin":
        found = loop.list_flags(store, status=status)
        counts = {s: len(loop.list_flags(store, status=s, limit=-1)) for s in loop.FLAG_STATUSES}
    elif actor.person:
        found = loop.flags_for_owner(store, actor.person, status)
        counts = {s: len(loop.flags_for_owner(store, actor.person, s, limit=-1)) for s in loop.FLAG_STATUSES}
    else:
        found, counts = [], dict.fromkeys(loop.FLAG_STATUSES, 0)
    rule = people_rule()
    found = [rule.record(flag, "flagger_person") for flag in found]
    data = {"status": status, "counts": counts, "flags": found}
    return respond("loop/inbox.html", data, status=status, counts=counts, flags=found,
                   labels=loop.FLAG_STATUS_LABELS, title="Inbox: flags on your data")


# -- the digest -----------------------------------------------------------------------------------


@route(bp, "/digest", action="read")
def digest():
    actor = current_actor()
    if not actor.signed_in:
        raise Forbidden("the digest is for signed-in accounts")
    store = get_store()
    since = params.text_arg("since", 40)
    if since is None:
        previous = loop.last_visit(store, actor.name, "digest") if wants_json() else \
            loop.mark_visit(store, actor.name, "digest")
        since = previous or (datetime.now(timezone.utc) - timedelta(days=DIGEST_DAYS)).isoformat()
    found = digests.digest_for(get_graph(), store, actor.name, since)
    email = digests.render_text(found)
    data = {**found.as_dict(), "subject": email.subject}
    return respond("loop/digest.html", data, digest=found, email=email, figures_text=loop.figures_text,
                   labels=loop.FLAG_STATUS_LABELS, title="What is new for you")


# -- for other pages ------------------------------------------------------------------------------


def posted_by(g: LineageGraph, author: str, subject: str) -> dict[str, Any]:
    """Who posted an update, as the reader may see them: the name and role of the subject's owner
    (owners are named as owners on every page) or of anyone the reader may see by name; otherwise
    their role and team only (contributors see other people by team)."""
    try:
        account = get_accounts().get(author)
    except LineageError:
        return {"name": None, "role": None, "text": "someone who has since left"}
    person = account.get("person")
    record = g.record(person) if person and person in g else None
    role = (record or {}).get("role") or ROLE_WORDS.get(account["role"], account["role"])
    owner = g.record(subject).get("owner") if subject in g else None
    if record and (person == owner or allowed("read_person", person)):
        return {"name": record["name"], "role": role, "text": f"{record['name']}, {role[:1].lower() + role[1:]}"}
    team = next(iter(teams_of(g, person)), None) if record else None
    text = f"a {role[:1].lower() + role[1:]}" + (f" in {team['name']}" if team else "")
    return {"name": None, "role": role, "text": text}


ROLE_WORDS = {"owner": "Data owner", "leader": "Leader", "admin": "Lineage admin", "contributor": "Contributor"}



def impact_updates(subject: str, kind: str) -> list[dict[str, Any]]:
    """The updates on a My impact (or team) page, ``new`` since the actor's last visit to it;
    viewing the page (not its JSON twin) counts as a visit."""
    actor = current_actor()
    store = get_store()
    previous = None
    if actor.signed_in and (kind == "team" or actor.person == subject):
        page = f"impact:{subject}"
        previous = loop.last_visit(store, actor.name, page) if wants_json() else \
            loop.mark_visit(store, actor.name, page)
    find = loop.updates_for_team if kind == "team" else loop.updates_for_person
    return find(get_graph(), store, subject, last_visit=previous)


def node_updates(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The updates on a decision's or AI tool's own page."""
    return loop.updates_on(get_store(), record["id"]) if record["kind"] in loop.UPDATE_SUBJECTS else []


bp.add_app_template_global(loop.figures_text, "figures_text")

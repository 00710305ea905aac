"""Accounts in the app, for admins: list, add (with a one-time set-password link or a first
password), change a role, link to a person, reset a password, disable and enable. Every action
goes through :class:`lineage.accounts.Accounts`, which writes it to the account log.

Also the page a set-password link opens, for the person it was made for (no sign-in needed: the
link is the secret, and it works once).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from markupsafe import Markup
from werkzeug.exceptions import NotFound
from wtforms import PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from lineage.accounts import LINK_HOURS, MIN_PASSWORD, NAME_PATTERN, password_problem
from lineage.errors import NotFoundError, ValidationError
from lineage.policy import ROLES

from .auth import current_actor, get_accounts, requires
from .db import get_store
from .find import pick
from .respond import respond, route

bp = Blueprint("admin", __name__)

ROLE_CHOICES = [("contributor", "Contributor: sees where their own records go"),
                ("owner", "Owner: edits the data they own and answers its flags"),
                ("leader", "Leader: reads everything, including the estate-wide pages"),
                ("admin", "Admin: everything, including accounts")]
PASSWORD_CHOICES = [("link", "Make a link they use to set their own password (works once, for 3 days)"),
                    ("password", "Set a first password now and tell them it")]


class AccountForm(FlaskForm):
    name = StringField("Account name", widget=GovTextInput(),
                       validators=[InputRequired("Enter an account name, like jo.fletcher")])
    role = RadioField("What can they do?", widget=GovRadioInput(), choices=ROLE_CHOICES,
                      validators=[InputRequired("Choose what they can do")])
    person = StringField("Who they are in the map (optional)", widget=GovTextInput())
    how = RadioField("How do they get a password?", widget=GovRadioInput(), choices=PASSWORD_CHOICES,
                     validators=[InputRequired("Choose how they get a password")])
    password = PasswordField("First password", widget=GovPasswordInput(), validators=[Length(max=200)])
    submit = SubmitField("Add the account", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = RadioField("What can they do?", widget=GovRadioInput(), choices=ROLE_CHOICES,
                      validators=[InputRequired("Choose what they can do")])
    submit = SubmitField("Change the role", widget=GovSubmitInput())


class PersonForm(FlaskForm):
    person = StringField("Who they are in the map", widget=GovTextInput())
    submit = SubmitField("Link to this person", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", widget=GovPasswordInput(),
                             validators=[InputRequired(f"Enter a password of at least {MIN_PASSWORD} characters"),
                                         Length(max=200, message="Keep it to 200 characters")])
    again = PasswordField("The same password again", widget=GovPasswordInput(),
                          validators=[InputRequired("Enter the password again")])
    submit = SubmitField("Set my password", widget=GovSubmitInput())


def _person(text: str) -> tuple[str | None, str | None]:
    """A typed person (name or id) as an id, or a problem in words; blank is nobody."""
    if not text.strip():
        return None, None
    try:
        return pick(text, ["person"], what="person")["id"], None
    except ValueError as error:
        return None, str(error)


def _names(ids: list[str | None]) -> dict[str, str]:
    wanted = [i for i in ids if i]
    return {r["id"]: r["name"] for r in get_store().nodes(ids=wanted)} if wanted else {}


def _link(secret: str) -> str:
    return url_for("admin.set_password", secret=secret, _external=True)


@route(bp, "/admin/accounts", action="manage_users")
def accounts():
    users = get_accounts().list()
    names = _names([u["person"] for u in users])
    rows = [{**u, "person_name": names.get(u["person"])} for u in users]
    log = get_accounts().log(limit=20)
    return respond("admin/accounts.html", {"accounts": rows, "log": log}, rows=rows, log=log, title="Accounts")


@bp.route("/admin/accounts/new", methods=["GET", "POST"])
@requires("manage_users")
def new_account():
    form = AccountForm()
    if form.validate_on_submit():
        name = form.name.data.strip().lower()
        person, problem = _person(form.person.data or "")
        if not NAME_PATTERN.match(name):
            form.name.errors = ["Use 2 to 64 lower-case letters, digits, full stops, underscores or hyphens, like "
                                "jo.fletcher"]
        elif name in {u["name"] for u in get_accounts().list()}:
            form.name.errors = [f"There is already an account called {name}: choose another name"]
        if problem:
            form.person.errors = [problem]
        password = form.password.data or ""
        if form.how.data == "password" and (problem := password_problem(password)):
            form.password.errors = [problem[:1].upper() + problem[1:]]
        if not form.errors:
            actor = current_actor().name or "admin"
            try:
                get_accounts().add(name, password if form.how.data == "password" else None, role=form.role.data,
                                   person=person, actor=actor)
            except ValidationError as error:
                form.name.errors = [p.message[:1].upper() + p.message[1:] for p in error.problems]
            else:
                secret = get_accounts().new_password_link(name, actor=actor) if form.how.data == "link" else None
                flash(f"The account {name} is added as {form.role.data}.")
                if secret:
                    return render_template("admin/link.html", user=get_accounts().get(name), link=_link(secret),
                                           hours=LINK_HOURS, title=f"The set-password link for {name}")
                return redirect(url_for("admin.account", name=name))
    status = 400 if form.errors else 200
    return render_template("admin/new_account.html", form=form, min_password=MIN_PASSWORD, title="Add an account"), status


def _account_or_404(name: str) -> dict[str, Any]:
    try:
        return get_accounts().get(name)
    except NotFoundError:
        raise NotFound(f"there is no account called '{name[:64]}'") from None


def _account_page(user: dict[str, Any], *, role_form: RoleForm | None = None, person_form: PersonForm | None = None,
                  status: int = 200):
    names = _names([user["person"]])
    data = {"account": user, "person_name": names.get(user["person"]), "tokens": get_accounts().tokens(user["name"]),
            "log": get_accounts().log(user=user["name"], limit=50)}
    role_form = role_form or RoleForm(data={"role": user["role"]})
    person_form = person_form or PersonForm(data={"person": names.get(user["person"], "")})
    return respond("admin/account.html", data, user=user, role_form=role_form, person_form=person_form,
                   status=status, title=f"Account {user['name']}"), status


@route(bp, "/admin/accounts/<name>", action="manage_users")
def account(name: str):
    page, status = _account_page(_account_or_404(name))
    return page, status


@bp.post("/admin/accounts/<name>/role")
@requires("manage_users")
def change_role(name: str):
    user = _account_or_404(name)
    form = RoleForm()
    if not form.validate_on_submit():
        return _account_page(user, role_form=form, status=400)
    if name == current_actor().name and form.role.data != "admin":
        form.role.errors = ["You cannot take away your own admin role: ask another admin"]
        return _account_page(user, role_form=form, status=400)
    get_accounts().set_role(name, form.role.data, actor=current_actor().name or "admin")
    flash(f"{name} is now a{'n' if form.role.data[0] in 'aeiou' else ''} {form.role.data}.")
    return redirect(url_for("admin.account", name=name))


@bp.post("/admin/accounts/<name>/person")
@requires("manage_users")
def link_person(name: str):
    user = _account_or_404(name)
    form = PersonForm()
    if not form.validate_on_submit():
        return _account_page(user, person_form=form, status=400)
    person, problem = _person(form.person.data or "")
    if problem:
        form.person.errors = [problem]
        return _account_page(user, person_form=form, status=400)
    get_accounts().link_person(name, person, actor=current_actor().name or "admin")
    who = _names([person]).get(person) if person else None
    flash(f"{name} is now linked to {who}." if who else f"{name} is no longer linked to anyone in the map.")
    return redirect(url_for("admin.account", name=name))


@bp.post("/admin/accounts/<name>/reset")
@requires("manage_users")
def reset_password(name: str):
    user = _account_or_404(name)
    secret = get_accounts().new_password_link(name, actor=current_actor().name or "admin")
    flash(f"A new set-password link for {name} is made; any earlier link no longer works.")
    return render_template("admin/link.html", user=user, link=_link(secret), hours=LINK_HOURS,
                           title=f"The set-password link for {name}")


@bp.post("/admin/accounts/<name>/disable")
@requires("manage_users")
def disable(name: str):
    _account_or_404(name)
    try:
        get_accounts().set_disabled(name, True, actor=current_actor().name or "admin")
    except ValidationError as error:
        flash(error.problems[0].message[:1].upper() + error.problems[0].message[1:] + ".")
        return redirect(url_for("admin.account", name=name))
    flash(f"{name} is disabled: they cannot sign in, and their API tokens no longer work.")
    return redirect(url_for("admin.account", name=name))


@bp.post("/admin/accounts/<name>/enable")
@requires("manage_users")
def enable(name: str):
    _account_or_404(name)
    get_accounts().set_disabled(name, False, actor=current_actor().name or "admin")
    flash(f"{name} is enabled again.")
    return redirect(url_for("admin.account", name=name))


@bp.route("/set-password/<secret>", methods=["GET", "POST"])
@requires("view")
def set_password(secret: str):
    accounts = get_accounts()
    user = accounts.link_user(secret) if len(secret) < 100 else None
    if user is None:
        raise NotFound("this link has expired or was already used: ask an admin for a new one")
    form = SetPasswordForm()
    if form.validate_on_submit():
        if problem := password_problem(form.password.data):
            form.password.errors = [problem[:1].upper() + problem[1:]]
        elif form.again.data != form.password.data:
            form.again.errors = ["Enter the same password twice"]
        else:
            accounts.use_password_link(secret, form.password.data)
            flash(Markup("Your password is set. Sign in with your account name, <strong>{}</strong>, and your new "
                         "password.").format(user["name"]))
            return redirect(url_for("account.sign_in"))
    return render_template("admin/set_password.html", form=form, user=user, min_password=MIN_PASSWORD,
                           title="Set your password"), 400 if form.errors else 200


ROLES_IN_WORDS = dict(ROLE_CHOICES)
assert set(ROLES_IN_WORDS) == set(ROLES)

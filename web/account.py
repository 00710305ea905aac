"""Signing in and out, one's own password, and one's own API tokens.

Sessions end on the server's word, not only the browser's: a session cookie carries the
account's session generation, and signing out or changing the password moves it on, so a copied
cookie stops working (:meth:`lineage.accounts.Accounts.in_session`). Sign-in limits count failed
attempts only: 10 per account and 200 per address (a council's staff may share one proxy) in
five minutes; past them the page keeps the form and says when to try again.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from werkzeug.exceptions import NotFound
from wtforms import PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from lineage.accounts import actor_of, password_problem
from lineage.errors import LineageError

from .auth import (SESSION_GENERATION, RateLimiter, current_actor, get_accounts, requires, safe_next,
                   start_session)
from .db import get_store
from .home import front_door

bp = Blueprint("account", __name__)

SIGN_IN_ATTEMPTS = 10
ADDRESS_ATTEMPTS = 200
SIGN_IN_WINDOW = 300.0
"""At most 10 failed sign-ins per account name and 200 per address in 5 minutes."""
TOKEN_LIFETIMES = (("never", "Never: until you revoke it"), ("30", "In 30 days"), ("90", "In 90 days"),
                   ("365", "In a year"))


class SignInForm(FlaskForm):
    name = StringField("Account name", widget=GovTextInput(),
                       validators=[InputRequired("Enter your account name"), Length(max=64)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=200)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class TokenForm(FlaskForm):
    label = StringField("What the token is for", widget=GovTextInput(),
                        validators=[InputRequired("Say what the token is for, for example “Airflow”"),
                                    Length(max=100, message="Keep it to 100 characters")])
    # Not chosen for you (GOV.UK: no pre-selected radios where the choice matters).
    expires = RadioField("When should it stop working?", widget=GovRadioInput(), choices=TOKEN_LIFETIMES,
                         validators=[InputRequired("Choose when the token stops working")])
    submit = SubmitField("Make a token", widget=GovSubmitInput())


class PasswordForm(FlaskForm):
    current = PasswordField("Your current password", widget=GovPasswordInput(),
                            validators=[InputRequired("Enter your current password"), Length(max=200)])
    new = PasswordField("New password", widget=GovPasswordInput(),
                        validators=[InputRequired("Enter a new password"), Length(max=200)])
    confirm = PasswordField("New password again", widget=GovPasswordInput(),
                            validators=[InputRequired("Enter the new password again"), Length(max=200)])
    submit = SubmitField("Change your password", widget=GovSubmitInput())


def _limiters() -> tuple[RateLimiter, RateLimiter]:
    """Failed sign-ins per account name, and per address."""
    extensions = current_app.extensions
    return (extensions.setdefault("lineage_sign_in_limiter", RateLimiter(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW)),
            extensions.setdefault("lineage_address_limiter", RateLimiter(ADDRESS_ATTEMPTS, SIGN_IN_WINDOW)))


@bp.route("/sign-in", methods=["GET", "POST"])
@requires("view")
def sign_in():
    form = SignInForm()
    problem, wait = None, 0.0
    if form.validate_on_submit():
        name = form.name.data.strip().lower()
        by_name, by_address = _limiters()
        keys = (f"name:{name}", f"address:{request.remote_addr}")
        wait = max(by_name.wait(keys[0]), by_address.wait(keys[1]))
        if wait:
            problem = (f"Too many sign-in attempts for this account or from this address: try again in "
                       f"{int(wait) + 1} seconds")
        else:
            user = get_accounts().verify(name, form.password.data)
            if user is not None:
                by_name.reset(keys[0])
                start_session(user)
                # Straight to the page asked for, or to the role's front door (no hop through the home page).
                door = None if request.args.get("next") else front_door(actor_of(user))
                return redirect(door or safe_next(request.args.get("next")))
            by_name.hit(keys[0])  # only failures count: signing in often locks nobody out
            by_address.hit(keys[1])
            problem = "The account name or password is not right"
        form.password.errors = [problem]
    status = 429 if wait else 401 if problem else 400 if form.errors else 200
    response = current_app.make_response((render_template("account/sign_in.html", form=form, problem=problem,
                                                           title="Sign in"), status))
    if wait:
        response.headers["Retry-After"] = str(int(wait) + 1)
    return response


@bp.post("/sign-out")
@requires("view")
def sign_out():
    actor = current_actor()
    if actor.signed_in and "user" in session:
        # Every session of the account ends, not only this cookie: a copy of it is useless now.
        get_accounts().end_sessions(actor.name, actor=actor.name)
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("home.index"))


@bp.route("/account", methods=["GET", "POST"])
@requires("own_tokens")
def account():
    actor = current_actor()
    accounts = get_accounts()
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        secret = accounts.new_token(actor.name, form.label.data, actor=actor.name,
                                    expires_in=None if form.expires.data == "never" else int(form.expires.data))
        form = TokenForm(formdata=None)
    user = accounts.get(actor.name)
    person_name = None
    if user["person"]:
        try:
            person_name = get_store().node(user["person"])["name"]
        except LineageError:
            person_name = None
    return render_template("account/account.html", user=user, tokens=accounts.tokens(actor.name), form=form,
                           secret=secret, person_name=person_name, title="Your account"), 400 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@requires("own_tokens")
def password():
    actor = current_actor()
    accounts = get_accounts()
    form = PasswordForm()
    if form.validate_on_submit():
        if accounts.verify(actor.name, form.current.data) is None:
            form.current.errors = ["Your current password is not right"]
        elif form.new.data != form.confirm.data:
            form.confirm.errors = ["The two new passwords are not the same"]
        elif problem := password_problem(form.new.data):
            form.new.errors = [problem[0].upper() + problem[1:]]
        else:
            generation = accounts.set_password(actor.name, form.new.data, actor=actor.name)
            if "user" in session:
                session[SESSION_GENERATION] = generation  # this session goes on; every other one ended
            flash("Your password is changed. You are still signed in here; everywhere else you were signed "
                  "in, you have been signed out.")
            return redirect(url_for("account.account"))
    status = 400 if form.errors else 200
    return render_template("account/password.html", form=form, title="Change your password"), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@requires("own_tokens")
def revoke_token(token_id: int):
    """Ask first (GET), then revoke (POST)."""
    actor = current_actor()
    accounts = get_accounts()
    token = next((t for t in accounts.tokens(actor.name) if t["id"] == token_id), None)
    if token is None:
        raise NotFound("you have no token with that number; it may be revoked already")
    if request.method == "GET":
        return render_template("account/revoke.html", token=token, title=f"Revoke the token for {token['label']}?")
    accounts.revoke_token(actor.name, token_id, actor=actor.name)
    flash(f"The token for {token['label']} is revoked: nothing can use it any more.")
    return redirect(url_for("account.account"))

"""Signing in and out, and one's own API tokens."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from werkzeug.exceptions import NotFound
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from .auth import RateLimiter, current_actor, get_accounts, limit, requires, safe_next

bp = Blueprint("account", __name__)

SIGN_IN_ATTEMPTS = 10
SIGN_IN_WINDOW = 300.0
"""At most 10 sign-in attempts per account name and per address in 5 minutes."""


FRONT_DOORS = {"owner": "owner.your_data", "admin": "admin.accounts"}
"""Where a role lands after signing in without a page to go back to (others: the home page)."""


def front_door(role: str | None) -> str:
    return url_for(FRONT_DOORS.get(role or "", "home.index"))


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
    submit = SubmitField("Make a token", widget=GovSubmitInput())


def _sign_in_limiter() -> RateLimiter:
    return current_app.extensions.setdefault(
        "lineage_sign_in_limiter", RateLimiter(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW))


@bp.route("/sign-in", methods=["GET", "POST"])
@requires("view")
def sign_in():
    form = SignInForm()
    problem = None
    if form.validate_on_submit():
        name = form.name.data.strip().lower()
        limiter = _sign_in_limiter()
        limit(limiter, f"name:{name}", "sign-in attempts for this account")
        limit(limiter, f"address:{request.remote_addr}", "sign-in attempts from this address")
        user = get_accounts().verify(name, form.password.data)
        if user is not None:
            limiter.reset(f"name:{name}")
            session.clear()  # a fresh session: nothing from before signing in carries over
            session["user"] = user["name"]
            session.permanent = True
            return redirect(safe_next(request.args.get("next")) if request.args.get("next")
                            else front_door(user["role"]))
        problem = "The account name or password is not right"
        form.password.errors = [problem]
    status = 401 if problem else 400 if form.errors else 200
    return render_template("account/sign_in.html", form=form, problem=problem,
                           title="Sign in"), status


@bp.post("/sign-out")
@requires("view")
def sign_out():
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
        secret = accounts.new_token(actor.name, form.label.data, actor=actor.name)
        form = TokenForm(formdata=None)
    return render_template("account/account.html", user=accounts.get(actor.name), tokens=accounts.tokens(actor.name),
                           form=form, secret=secret, title="Your account")


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

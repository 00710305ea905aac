"""The lineage web app: an application factory, the store and the graph on ``g``, one error shape.

One blueprint per journey: ``home`` (home, search, accessibility), ``contributor`` (My impact
for a person or a team), ``nodes`` (every other node's page and pictures) and ``api`` (JSON).
Pages are GOV.UK Design System templates (govuk-frontend-jinja); every page that shows data has
a ``.json`` twin (or ``?format=json``).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import BadRequest

from . import (account, admin, api, auth, bulk, contributor, db, edit, errors, filters, home, leader, loop, nodes,
               openlineage, owner)

MAX_QUERY_STRING = 2048
"""Longest query string accepted, in bytes: no page needs more, and a long one costs parsing."""

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
"""Only the app's own scripts and styles; the nonce admits the one inline line of the GOV.UK page template."""
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app. ``LINEAGE_DB`` comes from ``test_config``, else the environment."""
    app = Flask(__name__)
    app.config.from_mapping(
        LINEAGE_DB=os.environ.get("LINEAGE_DB", "instance/lineage.db"),
        LINEAGE_TRUSTED_HEADER=os.environ.get("LINEAGE_TRUSTED_HEADER") or None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        SECRET_KEY=os.environ.get("LINEAGE_SECRET_KEY"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("LINEAGE_HTTPS", "") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _stored_secret(Path(app.config["LINEAGE_DB"]).parent / "secret_key")
    app.jinja_loader = ChoiceLoader([
        PackageLoader("web"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                      "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")}),
    ])
    WTFormsHelpers(app)
    filters.init_app(app)
    db.init_app(app)
    errors.init_app(app)
    for blueprint in (home.bp, account.bp, contributor.bp, nodes.bp, edit.bp, bulk.bp, leader.bp, api.bp,
                      openlineage.bp, loop.bp, owner.bp, admin.bp):
        app.register_blueprint(blueprint)
    auth.init_app(app)
    auth.check_every_view_declares_an_action(app)

    @app.before_request
    def refuse_long_query_strings() -> None:
        if len(request.query_string) > MAX_QUERY_STRING:
            raise BadRequest(f"the query string is {len(request.query_string):,} bytes; at most "
                             f"{MAX_QUERY_STRING:,} are accepted")

    @app.context_processor
    def script_nonce() -> dict[str, str]:
        g.csp_nonce = g.get("csp_nonce") or secrets.token_urlsafe(16)
        return {"cspNonce": g.csp_nonce}

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy",
                                    CONTENT_SECURITY_POLICY.format(nonce=g.get("csp_nonce") or "none"))
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def _stored_secret(path: Path) -> bytes:
    """The session-signing key kept beside the database, made on first use, so that sessions
    survive restarts and every process serving the same database accepts the same cookies."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
                file.write(key)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        return key

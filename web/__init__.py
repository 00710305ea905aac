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

from lineage import private

from . import (account, admin, api, auth, bulk, contributor, db, edit, errors, fields, filters, find, home, leader,
               loop, nodes, openlineage, owner, params, sources)

MAX_QUERY_STRING = 2048
"""Longest query string accepted, in bytes: no page needs more, and a long one costs parsing."""

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
"""Only the app's own scripts and styles; the nonce admits the one inline line of the GOV.UK page template."""
HSTS = "max-age=31536000; includeSubDomains"
"""A year of HTTPS only, for the site and its subdomains, once ``LINEAGE_HTTPS=1``."""
WWW_AUTHENTICATE = 'Bearer realm="lineage"'
"""On every 401: programs authenticate with an API token; people sign in on the sign-in page."""
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
        LINEAGE_HTTPS=os.environ.get("LINEAGE_HTTPS", "") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    if test_config:
        app.config.update(test_config)
    if app.config["LINEAGE_HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
    if not app.config["SECRET_KEY"]:
        try:
            app.config["SECRET_KEY"] = _stored_secret(Path(app.config["LINEAGE_DB"]).parent / "secret_key")
        except OSError as error:  # a read-only folder (a read-only database is still served)
            app.logger.warning("cannot keep a session key beside the database (%s): sign-ins last until the "
                               "app restarts; set LINEAGE_SECRET_KEY to keep them", error.strerror or error)
            app.config["SECRET_KEY"] = secrets.token_bytes(32)
    app.jinja_loader = ChoiceLoader([
        PackageLoader("web"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                      "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")}),
    ])
    app.url_map.converters["int"] = params.BoundedIntegerConverter  # before any route is added
    WTFormsHelpers(app)
    filters.init_app(app)
    db.init_app(app)
    errors.init_app(app)
    for blueprint in (home.bp, account.bp, contributor.bp, nodes.bp, edit.bp, bulk.bp, leader.bp, api.bp,
                      openlineage.bp, loop.bp, find.bp, owner.bp, admin.bp, fields.bp, sources.bp):
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
        if response.status_code == 401:  # every 401 says how to authenticate (RFC 9110)
            response.headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
        if app.config["LINEAGE_HTTPS"]:
            # Served over HTTPS (behind a proxy that ends TLS): browsers never try plain HTTP again.
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static" and auth.signed_in_request():
            # What a signed-in reader sees is theirs (their impact, tokens, inbox, names a leader
            # may see): no browser or proxy keeps a copy for the next person at the machine.
            response.headers["Cache-Control"] = "no-store"
        return response

    return app


def _stored_secret(path: Path) -> bytes:
    """The session-signing key kept beside the database, made on first use, so that sessions
    survive restarts and every process serving the same database accepts the same cookies."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        if not private.write_new(path, key):  # another process made it first
            return path.read_bytes()
        return key

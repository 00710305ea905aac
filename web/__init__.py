"""The lineage web app: an application factory, the store and the graph on ``g``, one error shape.

One blueprint per journey: ``home`` (home, search, accessibility), ``contributor`` (My impact
for a person or a team), ``nodes`` (every other node's page and pictures) and ``api`` (JSON).
Pages are GOV.UK Design System templates (govuk-frontend-jinja); every page that shows data has
a ``.json`` twin (or ``?format=json``).
"""
from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask, Response, g, request
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import BadRequest

from . import api, contributor, db, errors, filters, home, nodes

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
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        SECRET_KEY=os.environ.get("LINEAGE_SECRET_KEY") or os.urandom(32),
    )
    if test_config:
        app.config.update(test_config)
    app.jinja_loader = ChoiceLoader([
        PackageLoader("web"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    WTFormsHelpers(app)
    filters.init_app(app)
    db.init_app(app)
    errors.init_app(app)
    for blueprint in (home.bp, contributor.bp, nodes.bp, api.bp):
        app.register_blueprint(blueprint)

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

"""The lineage web app: an application factory, the store on ``g``, one error shape.

The contributor, owner and leader journeys arrive as blueprints of their own; this module wires
the store, the error handling and the home page and node API they share.
"""
from __future__ import annotations

import os
from typing import Any

from flask import Flask

from . import api, db, errors, home


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app. ``LINEAGE_DB`` comes from ``test_config``, else the environment."""
    app = Flask(__name__)
    app.config.from_mapping(
        LINEAGE_DB=os.environ.get("LINEAGE_DB", "instance/lineage.db"),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    db.init_app(app)
    errors.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(api.bp)
    return app

"""One error shape: ``{"error": {"status": ..., "message": ...}}`` for JSON, a page for HTML.

The library's typed errors become HTTP errors here and nowhere else.
"""
from __future__ import annotations

import sqlite3

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from lineage.errors import (BusyError, ConflictError, ForbiddenError, LineageError, NotFoundError, Problem,
                            RateLimitError, StoreError, ValidationError)
from lineage.store import storage_error

BUSY_RETRY_AFTER = 5
"""Seconds a client is asked to wait before retrying a write that found the database busy."""

_STATUS = ((NotFoundError, 404), (ConflictError, 409), (ForbiddenError, 403), (RateLimitError, 429),
           (StoreError, 503), (LineageError, 400))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or \
        request.args.get("format") == "json"


def error_response(status: int, message: str, problems: list[Problem] | None = None) -> tuple[Response | str, int]:
    """The error as JSON (with each problem's location, for invalid input) or as a page."""
    if wants_json():
        error: dict = {"status": status, "message": message}
        if problems:
            error["problems"] = [{"where": p.where, "field": p.field, "message": p.message} for p in problems]
        return jsonify({"error": error}), status
    return render_template("error.html", status=status, message=message, problems=problems or []), status


def _library_response(error: LineageError) -> Response:
    status = next(code for kind, code in _STATUS if isinstance(error, kind))
    response = make_response(*error_response(status, str(error),
                                             error.problems if isinstance(error, ValidationError) else None))
    if isinstance(error, RateLimitError):
        response.headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, BusyError):
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(LineageError)
    def library_error(error: LineageError):
        return _library_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response = make_response(*error_response(error.code or 500, error.description or error.name))
        # The headers the status requires survive the error page: Allow on a 405, WWW-Authenticate on a 401.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if error.code == 401 and "WWW-Authenticate" not in response.headers:
            response.headers["WWW-Authenticate"] = 'Bearer realm="lineage"'
        return response

    @app.errorhandler(sqlite3.Error)
    def database_error(error: sqlite3.Error):
        # A write outside the store's transactions (a token's last use, say) that met a full disk
        # or a read-only file is named as the store names it: a 503 with a plain page.
        named = storage_error(error, "the database")
        if named is not None:
            return _library_response(named)
        return unexpected(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "Something went wrong on our side. It has been logged.")

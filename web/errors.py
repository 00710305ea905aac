"""One error shape: ``{"error": {"status": ..., "message": ...}}`` for JSON, a page for HTML.

The library's typed errors become HTTP errors here and nowhere else.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from lineage.errors import (ConflictError, ForbiddenError, LineageError, NotFoundError, Problem, RateLimitError,
                            StoreError, ValidationError)

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


def init_app(app: Flask) -> None:
    @app.errorhandler(LineageError)
    def library_error(error: LineageError):
        status = next(code for kind, code in _STATUS if isinstance(error, kind))
        response, status = error_response(status, str(error),
                                          error.problems if isinstance(error, ValidationError) else None)
        if isinstance(error, RateLimitError):
            response = make_response(response, status)
            response.headers["Retry-After"] = str(error.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response, status = error_response(error.code or 500, error.description or error.name)
        response = make_response(response, status)
        # The headers the status needs (Allow on a 405, WWW-Authenticate on a 401) survive our page.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "Something went wrong on our side. It has been logged.")

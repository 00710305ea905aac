"""One error shape: ``{"error": {"status": ..., "message": ...}}`` for JSON, a page for HTML.

The library's typed errors become HTTP errors here and nowhere else.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from lineage.errors import ConflictError, LineageError, NotFoundError, StoreError

_STATUS = ((NotFoundError, 404), (ConflictError, 409), (StoreError, 503), (LineageError, 400))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or \
        request.args.get("format") == "json"


def error_response(status: int, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(LineageError)
    def library_error(error: LineageError):
        status = next(code for kind, code in _STATUS if isinstance(error, kind))
        return error_response(status, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return error_response(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "Something went wrong on our side. It has been logged.")

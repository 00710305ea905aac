"""OpenLineage in over HTTP, where OpenLineage clients send events: ``POST /api/v1/lineage``.

* ``POST /api/v1/lineage``: one event (what the clients' HTTP transport sends, gzip or not).
  201 with what it changed (and ``warnings``: what was read past, such as an empty description);
  400 with each problem's ``field`` (its JSON path in the event).
* ``POST /api/v1/lineage/batch``: a JSON array of events, or NDJSON. Good events are written
  together in one change, bad ones reported by position (``event``, numbered from 1 as
  ``lineage import-openlineage`` numbers them): 200 when all were accepted, 207 when some were,
  400 when none were.

Marquez's read API, for tools that read Marquez (:mod:`lineage.marquez` has the shapes), with the
``read`` action like every ``/api`` route (people never appear: Marquez shows jobs and datasets):

* ``GET /api/v1/namespaces``
* ``GET /api/v1/lineage?nodeId=dataset:NAMESPACE:NAME&depth=N`` (or ``job:...``)
* ``GET /api/v1/column-lineage?nodeId=...&depth=N&withDownstream=true|false``: the fields of
  datasets and their field links (``nodeId`` may also be ``datasetField:NAMESPACE:NAME:FIELD``)
* ``GET /api/v1/search?q=TEXT&filter=dataset|job&sort=name|updated_at&limit=N``

Writes need the ``ingest`` action: an owner's or admin's API token (``Authorization: Bearer``)
once the database has accounts, anyone before. Like every web write (:mod:`web.writes`), events
are judged per node by the policy (an owner's token cannot change what someone else owns, nor
give a node to someone else: 403), count against the account's rate limit, and bring the query
engine and the leader views up to date. Bodies over ``LINEAGE_OPENLINEAGE_MAX_BYTES``
(8 MiB by default, after decompression) are refused with 413. Owner names in ``ownership``
facets are mapped with ``LINEAGE_OPENLINEAGE_OWNERS`` (a mapping file) as well as by the
people and teams in the graph (:class:`lineage.io.openlineage.Owners`).
"""
from __future__ import annotations

import os
import zlib
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

from lineage import marquez
from lineage.errors import ForbiddenError, ValidationError
from lineage.io import openlineage

from .auth import requires
from .db import get_graph, get_store
from .params import choice_arg, int_arg
from .writes import import_events, writing

bp = Blueprint("openlineage", __name__, url_prefix="/api/v1")

MAX_BYTES = 8 * 1024 * 1024
"""Largest body accepted by default (after gzip is undone): a few thousand events."""
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq")


def _limit() -> int:
    return int(current_app.config.get("LINEAGE_OPENLINEAGE_MAX_BYTES")
               or os.environ.get("LINEAGE_OPENLINEAGE_MAX_BYTES") or MAX_BYTES)


def _too_large(size: int | None, limit: int) -> RequestEntityTooLarge:
    what = f"the body is {size:,} bytes" if size is not None else "the body is too large"
    return RequestEntityTooLarge(f"{what}; this endpoint accepts at most {limit:,} bytes ({limit / 2**20:g} MiB) "
                                 "of events per request: send fewer events per request")


def _body(*, ndjson: bool) -> bytes:
    """The request's events as bytes: JSON (or NDJSON for the batch form), gzip undone, within the limit."""
    if not (request.is_json or (ndjson and request.mimetype in NDJSON_TYPES)):
        expected = "application/json" + (" (or application/x-ndjson)" if ndjson else "")
        raise UnsupportedMediaType(f"send OpenLineage events as JSON with Content-Type: {expected}; "
                                   f"got {request.mimetype or 'no Content-Type'}")
    limit = _limit()
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(request.content_length, limit)
    request.max_content_length = limit  # a chunked body, with no length given, stops at the limit too
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise _too_large(None, limit) from None
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "gzip":
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflate.decompress(data, limit + 1)
        except zlib.error as error:
            raise BadRequest(f"the body is not valid gzip ({error})") from None
        if len(data) > limit or inflate.unconsumed_tail:
            raise _too_large(None, limit)
    elif encoding not in ("", "identity"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding} is not supported; send gzip or nothing")
    return data


def _owners() -> openlineage.Owners:
    store = get_store()
    path = current_app.config.get("LINEAGE_OPENLINEAGE_OWNERS") or os.environ.get("LINEAGE_OPENLINEAGE_OWNERS")
    return openlineage.Owners(store, openlineage.read_owner_map(path, store) if path else None)


def _problems(error: ValidationError) -> list[dict[str, Any]]:
    """The app's problem shape (:func:`web.errors.error_response`): where, field, message."""
    return [{"where": p.where, "field": p.field, "message": p.message} for p in error.problems]


def _rejected(status: int, message: str, **details: Any) -> tuple[Response, int]:
    """The app's one error shape, with details a client can act on."""
    return jsonify({"error": {"status": status, "message": message, **details}}), status


def _message(error: ValidationError) -> str:
    """Problems without the event's position, which is the request itself."""
    return "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in error.problems[:5]) + (
        f" (and {len(error.problems) - 5} more)" if len(error.problems) > 5 else "")


@bp.post("/lineage")
@requires("ingest")
def lineage():
    """One event, as OpenLineage clients send it."""
    data = _body(ndjson=False)
    raw = openlineage.split_events(data, "the request body")
    if len(raw) != 1 or data.lstrip().startswith(b"["):
        return _rejected(400, "send one event (a JSON object) here; send a list of events to /api/v1/lineage/batch")
    try:
        event = openlineage.parse_event(raw[0].document, "event")
    except ValidationError as error:
        return _rejected(400, _message(error), problems=_problems(error))
    with writing():
        result = import_events([event], f"openlineage {event.type} {_job_or_dataset(event)}", _owners())
    return jsonify({"accepted": 1, **result.as_dict()}), 201


@bp.post("/lineage/batch")
@requires("ingest")
def batch():
    """A list of events (a JSON array or NDJSON): good ones written in one change, bad ones reported."""
    raw = openlineage.split_events(_body(ndjson=True), "the request body")
    results: list[dict[str, Any]] = []
    events = []
    for number, item in enumerate(raw, 1):  # events are numbered from 1, as the command line numbers them
        where = f"event {number}"
        try:
            if item.problem:
                raise ValidationError(openlineage.EventProblem(where, item.problem))
            event = openlineage.parse_event(item.document, where)
        except ValidationError as error:
            results.append({"event": number, "status": "rejected", "message": _message(error),
                            "problems": _problems(error)})
            continue
        results.append({"event": number, "status": "accepted", "where": event.where})
        events.append(event)
    with writing():
        summary = _write(events, results)
    for result in results:
        result.pop("where", None)
    accepted = sum(1 for result in results if result["status"] == "accepted")
    if not accepted:
        # 403 when the policy alone refused them all (every event changes someone else's data).
        status = 403 if events and all(r.get("forbidden") for r in results) else 400
        return _rejected(status, f"none of the {len(raw):,} events was accepted; see results", results=results)
    body = {"accepted": accepted, "rejected": len(raw) - accepted,
            **{k: v for k, v in summary.as_dict().items() if k != "events"}, "results": results}
    return jsonify(body), 200 if accepted == len(raw) else 207


def _write(events: list[openlineage.Event], results: list[dict[str, Any]]) -> openlineage.ImportSummary:
    """Write the checked events of a batch in one change. Should they together break the model (a
    job drawn by hand as another kind, say) or the policy (a node someone else owns), each is
    tried on its own, to say which."""
    store, owners = get_store(), _owners()
    if not events:
        return openlineage.ImportSummary(version=store.version)
    try:
        return import_events(events, f"openlineage batch of {len(events):,} events", owners)
    except (ValidationError, ForbiddenError):
        pass
    total = openlineage.ImportSummary()
    by_where = {result.get("where"): result for result in results}
    for event in events:
        try:
            done = import_events([event], f"openlineage {event.type} {_job_or_dataset(event)}", owners)
        except ValidationError as error:
            by_where[event.where].update(status="rejected", message=str(error), problems=_problems(error))
            continue
        except ForbiddenError as error:
            by_where[event.where].update(status="rejected", message=str(error), forbidden=True)
            continue
        total.events += 1
        total.warnings += done.warnings
        for name in ("nodes_added", "nodes_changed", "edges_added", "kinds_changed"):
            setattr(total, name, getattr(total, name) + getattr(done, name))
    total.version = store.version
    return total


def _job_or_dataset(event: openlineage.Event) -> str:
    part = event.document.get("job") or event.document.get("dataset") or {}
    return f"{part.get('namespace')}/{part.get('name')}"


# -- Marquez's read API ---------------------------------------------------------------------------


@bp.get("/namespaces")
@requires("read")
def namespaces():
    return jsonify(marquez.namespaces(get_store()))


def _graph_around(build):
    g, store = get_graph(), get_store()
    node = marquez.resolve(g, store, request.args.get("nodeId", ""))
    return jsonify(build(g, store, node, depth=int_arg("depth", marquez.MAX_DEPTH, 0, marquez.MAX_DEPTH)))


@bp.get("/lineage")
@requires("read")
def read_lineage():
    """The jobs and datasets around a node, as Marquez's ``GET /api/v1/lineage`` gives them."""
    return _graph_around(marquez.lineage_graph)


@bp.get("/column-lineage")
@requires("read")
def column_lineage():
    """The fields around a dataset, job or field, as Marquez's ``GET /api/v1/column-lineage`` gives them."""
    g, store = get_graph(), get_store()
    node, field = marquez.resolve_column(g, store, request.args.get("nodeId", ""))
    downstream = choice_arg("withDownstream", ("true", "false"), "false") == "true"
    return jsonify(marquez.column_lineage(g, store, node, field=field, downstream=downstream,
                                          depth=int_arg("depth", marquez.MAX_DEPTH, 0, marquez.MAX_DEPTH)))


@bp.get("/search")
@requires("read")
def search():
    return jsonify(marquez.search(get_graph(), get_store(), request.args.get("q", ""),
                                  filter=request.args.get("filter"), sort=request.args.get("sort") or "name",
                                  limit=int_arg("limit", 100, 1, marquez.MAX_RESULTS)))

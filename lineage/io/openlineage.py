"""OpenLineage in: RunEvents, JobEvents and DatasetEvents (spec 1-0-x and 2-0-x) as nodes and edges.

Pipelines that public bodies already run (Airflow, dbt, Spark) emit OpenLineage events. This module
turns them into the lineage graph, so that the middle of the map (datasets, the jobs between them,
who owns them, how good they are) keeps itself true, while people, systems and decisions are drawn
by hand around it.

Reading
-------
:func:`split_events` reads a JSON array of events, one JSON object, or NDJSON (one event per line)
from a request's bytes, :func:`file_events` from a file (NDJSON a line at a time);
:func:`parse_event` checks one event against the parts of the spec lineage reads. A problem names the
event's position and the JSON path in it::

    events.ndjson: event 3 (line 3): inputs[2].name: required

Events without ``schemaURL`` (older producers) are accepted; their type comes from their shape
(``run`` and ``job``: a RunEvent, even with a stray ``dataset`` key). An empty text the spec requires
inside a facet (a description, an owner's name) is read as absent, with a warning, never refused.

Mapping
-------
* A job (namespace, name) becomes a ``process`` node, or an ``ai_tool`` when its ``tags`` job facet
  has a tag whose key or value is ``ai_tool`` (also ``ai-tool``), or its ``lineage`` job facet says
  ``{"kind": "ai_tool"}``. A dataset (namespace, name) becomes a ``dataset`` node.
* Node ids are derived from the key (:func:`node_id`): the name as a slug plus 8 hex digits of a
  hash of (job or dataset, namespace, name), so the same key is always the same node and a job and a
  dataset never collide. The node's ``openlineage`` attribute keeps the namespace and name.
* Each input -> job is a ``feeds`` edge (role ``input``), job -> each output a ``derives`` edge.
  Edges are added, never changed or removed: an edge drawn by hand between the same two nodes stays.
* Facets: ``documentation`` sets the description; ``ownership`` the owner (see :class:`Owners`);
  ``schema`` is kept as the ``schema`` attribute (fields with name, type, description and nested
  fields); ``dataQualityMetrics`` sets ``record_count`` (its rowCount);
  ``dataQualityMetrics`` and ``dataQualityAssertions`` set quality dimensions (:data:`QUALITY_RULE`).
  ``symlinks`` and a ``lifecycleStateChange`` of ``RENAME`` give a dataset other names: one node,
  every name kept (:mod:`lineage.io.openlineage_names`). ``lifecycleStateChange`` ``DROP`` sets
  ``dropped`` (and draws no edge from the dropping job); the other states clear it. The ``parent``
  run facet makes the job ``part_of`` its parent job (an Airflow DAG, a Spark application).
  Other facets are read past. Runs are not nodes: a run adds what it reveals and nothing else, so a
  job that runs every hour changes nothing after its first run. Every accepted event is kept as it
  came, bounded (:mod:`lineage.io.openlineage_kept`), so a later version can read it again.

Merging (idempotent, order-tolerant)
------------------------------------
Every attribute a facet sets is a register: the newest event wins (by ``eventTime``; between
events of the same instant, the greater digest of the value), whatever order events arrive in. A
``_deleted`` facet is a write like any other that removes what the facet sets. The time and digest
of each register's winning write are kept beside the graph (table ``openlineage_registers``), not
in it, so that a job running every hour with the same facets changes nothing in the graph, its
version or its history. So the same event twice changes nothing, the START and COMPLETE of a run
merge (edges are a union, facets the newest), a COMPLETE before its START gives the same graph,
and a hand edit stands until a newer event sets the same attribute (a replayed event does not undo
it).

Examples
--------
>>> from lineage.store import Store
>>> store = Store(":memory:", create=True)
>>> event = {"eventType": "COMPLETE", "eventTime": "2026-03-02T10:00:00Z", "producer": "https://example.org",
...          "run": {"runId": "0195f9a4-6f0e-7a43-9bd5-5c3c2b1d0a11"},
...          "job": {"namespace": "airflow", "name": "register.build"},
...          "inputs": [{"namespace": "postgres://cms:5432", "name": "public.applications"}],
...          "outputs": [{"namespace": "postgres://dw:5432", "name": "housing.register"}]}
>>> result = import_events(store, [parse_event(event, "example")], actor="airflow", summary="example")
>>> str(result)
'1 event: 3 nodes added, 0 changed; 2 edges added; graph version 1'
>>> node_id("dataset", "postgres://dw:5432", "housing.register")
'housing.register-0d246f8d'
>>> import_events(store, [parse_event(event, "example")], actor="airflow", summary="again").version
1
"""
from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .. import model
from ..bulk import gc_paused
from ..errors import ForbiddenError, NotFoundError, Problem, ValidationError
from ..origin import stamp
from ..policy import Actor, decide
from ..store import LoadSummary, Store, native_record
from ..validate import Batch, validate_records
from . import openlineage_names
from .openlineage_kept import Keeping, Pending, keep
from . import openlineage_columns as columns

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
"""Run states a RunEvent's ``eventType`` may take."""
SUPPORTED_MAJOR = (1, 2)
"""Spec major versions read: 1-0-x (older producers) and 2-0-x."""
MAX_EVENT_PROBLEMS = 20
"""Problems reported per event at most."""
MAX_FILE_PROBLEMS = 200
"""Problems reported per import at most: a file of junk should not print a million lines."""
MAX_FIELD_DEPTH = 32
"""Deepest nesting of ``schema`` fields (structs within structs) taken."""
NAME_LENGTH = 500
TEXT_LENGTH = 10_000
"""Longest name and description the model takes: longer ones are cut (the key keeps the full name)."""
KEY_LENGTH = 4_000
"""Longest namespace or name of a job or dataset: the node keeps its key whole (``openlineage``), and
an attribute holds at most 10,000 characters. A longer one is refused, naming the event and field."""
ALIASES_KEPT = 8_000
"""Characters (as JSON) of a node's other names kept on it (``openlineage.aliases``); the table
``openlineage_aliases`` keeps every one, so each still finds the node."""
AI_TAGS = frozenset({"ai_tool", "ai-tool"})
"""A job tag (key or value, any case) that makes the job an ``ai_tool``."""
META = "openlineage"
"""The node attribute that keeps a node's OpenLineage key (namespace, name) and the owner names its
``ownership`` facet gave (``owners``)."""

QUALITY_RULE = {
    "completeness": ("null", "complete", "missing", "empty", "row_count"),
    "uniqueness": ("unique", "distinct", "duplicate"),
    "timeliness": ("fresh", "recen", "timel", "stale", "latency"),
    "consistency": ("relationship", "referential", "foreign_key", "consisten"),
    "accuracy": ("accura",),
}
"""Which quality dimension a ``dataQualityAssertions`` assertion speaks to, by words in its
``assertion`` (lower case, first match in this order); any other assertion is about ``validity``.

The rule for quality, in full:

* ``dataQualityAssertions``: per dimension, the score is the share of its assertions that passed
  (``not_null`` and ``expect_column_values_to_not_be_null`` are completeness, ``unique`` uniqueness,
  ``freshness`` timeliness, ``relationships`` consistency, ``accepted_values`` validity ...).
* ``dataQualityMetrics``: completeness = 1 - (sum of ``nullCount``) / (``rowCount`` x number of
  columns with a ``nullCount``); it needs a ``rowCount`` above 0.
* Both in one event for the same dimension: the lower score. Each score carries a note saying how
  it was found and ``as_of``, the event's date.
"""
_DELETED = object()
"""A register value: removed by a ``_deleted`` facet."""

# Which attributes (registers) each facet sets, so that ``_deleted`` knows what to remove.
_QUALITY_SLOTS = tuple(f"quality.{d}" for d in model.QUALITY_DIMENSIONS)
DATASET_FACETS: dict[str, tuple[str, ...]] = {
    "documentation": ("description",),
    "ownership": ("owners",),
    "schema": ("schema",),
    "dataQualityMetrics": ("record_count", "quality.completeness"),
    "dataQualityAssertions": _QUALITY_SLOTS,
    "lifecycleStateChange": ("dropped",),
}
for _facet, _slots in columns.FACET_SLOTS.items():  # fields from columns: lineage.io.openlineage_columns
    DATASET_FACETS[_facet] = DATASET_FACETS.get(_facet, ()) + _slots
JOB_FACETS: dict[str, tuple[str, ...]] = {
    "documentation": ("description",),
    "ownership": ("owners",),
}
"""(A job's ``tags`` and ``lineage`` facets decide its kind: deleting them makes it a process.)"""


class EventProblem(Problem):
    """A problem in an event: ``where`` names the event, ``field`` the JSON path within it.

    >>> str(EventProblem("events.ndjson: event 3 (line 3)", "required", "inputs[2].name"))
    'events.ndjson: event 3 (line 3): inputs[2].name: required'
    """

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}" if self.field else f"{self.where}: {self.message}"


@dataclass(frozen=True)
class RawEvent:
    """One event as read, before checking: where it is, and the JSON value (or why it is not JSON)."""

    where: str
    document: Any = None
    problem: str | None = None


@dataclass(frozen=True)
class Event:
    """A checked event: its type (``RunEvent``, ``JobEvent`` or ``DatasetEvent``), ``eventTime`` in
    UTC (``2026-03-02T10:00:00.000000Z``, so that times compare as text) and the event itself."""

    where: str
    type: str
    time: str
    document: dict[str, Any]
    notes: tuple[str, ...] = ()
    """What was read past (``documentation.description: empty, so taken as absent``)."""


# ---------------------------------------------------------------------------------------------
# Reading


def _where(source: str, number: int, line: int | None) -> str:
    return f"{source}: event {number}" + (f" (line {line})" if line is not None else "")


def split_events(data: bytes | str, source: str) -> list[RawEvent]:
    """The events in a file or request body: a JSON array, one JSON object, or NDJSON.

    A body that is not JSON at all is a :class:`ValidationError`; in NDJSON, a line that is not
    JSON is that event's problem (so that a batch can report it with the others).

    >>> [e.where for e in split_events(b'{"a": 1}\\n\\n{"b": 2}\\n', "x.ndjson")]
    ['x.ndjson: event 1 (line 1)', 'x.ndjson: event 2 (line 3)']
    >>> split_events(b'[{"a": 1}, {"b": 2}]', "x.json")[1]
    RawEvent(where='x.json: event 2', document={'b': 2}, problem=None)
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(Problem(source, f"is not UTF-8 text (byte {error.start})")) from None
    text = data.strip()
    if not text:
        raise ValidationError(Problem(source, "is empty; expected OpenLineage events (a JSON array, one JSON "
                                              "object, or one JSON object per line)"))
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as whole:
        lines = data.split(b"\n")
        first = next(line for line in lines if line.strip())
        try:
            orjson.loads(first)
        except orjson.JSONDecodeError:
            raise ValidationError(Problem(f"{source}: line {whole.lineno}, column {whole.colno}",
                                          f"is not valid JSON ({whole.msg})")) from None
        return list(_ndjson(lines, source))
    if isinstance(document, list):
        return [RawEvent(_where(source, number, None), item) for number, item in enumerate(document, 1)]
    if b"\n" not in text:  # one line: NDJSON of one event, named as such
        return [RawEvent(_where(source, 1, data[:data.index(text)].count(b"\n") + 1), document)]
    return [RawEvent(source, document)]


def _ndjson(lines: list[bytes], source: str) -> Iterator[RawEvent]:
    number = 0
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        number += 1
        where = _where(source, number, line_number)
        try:
            yield RawEvent(where, orjson.loads(line))
        except orjson.JSONDecodeError as error:
            yield RawEvent(where, problem=f"is not valid JSON (column {error.colno}: {error.msg})")


class _Checker:
    """Collects (JSON path, message) pairs while an event is checked: problems in ``found``, and in
    ``notes`` what was read past (an empty text the spec requires, taken as absent)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []
        self.notes: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.found.append((path, message))

    def get(self, parent: dict[str, Any], key: str, path: str, expected: str, test: Callable[[Any], bool],
            required: bool = False) -> Any:
        value = parent.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            if required:
                self.add(where, "required")
            return None
        if not test(value):
            self.add(where, f"expected {expected}, got {_shown(value)}")
            return None
        return value

    def text(self, parent: dict[str, Any], key: str, path: str, required: bool = False,
             blank_absent: bool = False) -> str | None:
        """A text value. An empty one where ``required`` is a problem, unless ``blank_absent``: a
        facet's own required text (a description, an owner's name) that producers send empty (the
        spec allows it: Flink's integration does) only makes that part absent, with a note."""
        value = self.get(parent, key, path, "text", lambda v: type(v) is str, required)
        if required and value is not None and (value == "" or (blank_absent and not value.strip())):
            where = f"{path}.{key}" if path else key
            if blank_absent:
                self.notes.append((where, "empty, so taken as absent"))
            else:
                self.add(where, "required (it is empty)")
            return None
        return value

    def object(self, parent: dict[str, Any], key: str, path: str, required: bool = False) -> dict | None:
        return self.get(parent, key, path, "an object", lambda v: type(v) is dict, required)

    def array(self, parent: dict[str, Any], key: str, path: str, required: bool = False) -> list | None:
        return self.get(parent, key, path, "a list", lambda v: type(v) is list, required)

    def count(self, parent: dict[str, Any], key: str, path: str) -> int | None:
        return self.get(parent, key, path, "a whole number >= 0", _is_count)

    def items(self, values: list | None, path: str) -> Iterator[tuple[str, dict]]:
        """The objects in a list, each with its path; anything else in it is a problem."""
        for index, item in enumerate(values or ()):
            item_path = f"{path}[{index}]"
            if type(item) is dict:
                yield item_path, item
            else:
                self.add(item_path, f"expected an object, got {_shown(item)}")


def _is_count(value: Any) -> bool:
    return (type(value) is int or (type(value) is float and value.is_integer())) and value >= 0


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


_SCHEMA_URL = re.compile(r"/spec/(\d+)-(\d+)-(\d+)/[^#]*(?:#/(?:\$defs|definitions)/(\w+))?")
"""A spec schema URL: its version and, after ``#/$defs/`` (2-0-x) or ``#/definitions/`` (1-0-x),
the event type."""


def _event_type(document: dict[str, Any], check: _Checker) -> str | None:
    url = check.text(document, "schemaURL", "")
    if url:
        match = _SCHEMA_URL.search(url)
        if match:
            major = int(match.group(1))
            if major not in SUPPORTED_MAJOR:
                check.add("schemaURL", f"spec version {'-'.join(match.groups()[:3])} is not supported; "
                                       f"expected 1-x-x or 2-0-x")
                return None
            if match.group(4) in ("RunEvent", "JobEvent", "DatasetEvent"):
                return match.group(4)
    # By shape: run and job make a RunEvent even with a stray dataset key (example events carry one).
    if "run" in document and "job" in document:
        return "RunEvent"
    if "dataset" in document:
        return "DatasetEvent"
    if "run" in document:
        return "RunEvent"
    if "job" in document:
        return "JobEvent"
    check.add("", "expected a RunEvent (with run and job), a JobEvent (with job) or a DatasetEvent (with dataset)")
    return None


def utc_time(text: str) -> str | None:
    """An ISO 8601 date-time as UTC text that sorts in time order; None if it is not one.
    A time without a zone is taken as UTC; RFC 3339 allows a lower-case ``t`` and ``z``.

    >>> utc_time("2026-03-02T11:00:00.5+01:00"), utc_time("2026-03-02T10:00:00"), utc_time("soon")
    ('2026-03-02T10:00:00.500000Z', '2026-03-02T10:00:00.000000Z', None)
    >>> utc_time("2026-03-02t10:00:00z")
    '2026-03-02T10:00:00.000000Z'
    """
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_job(check: _Checker, document: dict[str, Any], key: str) -> None:
    job = check.object(document, key, "", required=True)
    if job is None:
        return
    _check_key(check, job, key)
    _check_facets(check, job, "facets", key, _JOB_FACET_CHECKS)


def _check_dataset(check: _Checker, dataset: dict[str, Any], path: str, extra: str | None) -> None:
    _check_key(check, dataset, path)
    _check_facets(check, dataset, "facets", path, _DATASET_FACET_CHECKS)
    if extra:
        _check_facets(check, dataset, extra, path, _DATASET_FACET_CHECKS)


def _check_facets(check: _Checker, parent: dict[str, Any], key: str, path: str,
                  known: dict[str, Callable[[_Checker, dict, str], None]]) -> None:
    facets = check.object(parent, key, path)
    for name, facet in (facets or {}).items():
        facet_path = f"{path}.{key}.{name}"
        if type(facet) is not dict:
            check.add(facet_path, f"expected a facet object, got {_shown(facet)}")
            continue
        deleted = check.get(facet, "_deleted", facet_path, "true or false", lambda v: type(v) is bool)
        if not deleted and name in known:
            known[name](check, facet, facet_path)


def _check_documentation(check: _Checker, facet: dict, path: str) -> None:
    check.text(facet, "description", path, required=True, blank_absent=True)


def _check_ownership(check: _Checker, facet: dict, path: str) -> None:
    for owner_path, owner in check.items(check.array(facet, "owners", path), f"{path}.owners"):
        check.text(owner, "name", owner_path, required=True, blank_absent=True)
        check.text(owner, "type", owner_path)


def _check_schema(check: _Checker, facet: dict, path: str, depth: int = 1) -> None:
    for field_path, schema_field in check.items(check.array(facet, "fields", path), f"{path}.fields"):
        check.text(schema_field, "name", field_path, required=True, blank_absent=True)
        check.text(schema_field, "type", field_path)
        check.text(schema_field, "description", field_path)
        if schema_field.get("fields"):
            if depth >= MAX_FIELD_DEPTH:
                # Kept as an attribute: SQLite's JSON functions refuse documents nested ~1000 deep.
                check.add(f"{field_path}.fields", f"nested more than {MAX_FIELD_DEPTH} levels deep")
            else:
                _check_schema(check, schema_field, field_path, depth + 1)


def _check_metrics(check: _Checker, facet: dict, path: str) -> None:
    check.count(facet, "rowCount", path)
    columns = check.object(facet, "columnMetrics", path)
    for column, metrics in (columns or {}).items():
        column_path = f"{path}.columnMetrics.{column}"
        if type(metrics) is not dict:
            check.add(column_path, f"expected an object, got {_shown(metrics)}")
        else:
            check.count(metrics, "nullCount", column_path)


def _check_assertions(check: _Checker, facet: dict, path: str) -> None:
    assertions = check.array(facet, "assertions", path, required=True)
    for item_path, assertion in check.items(assertions, f"{path}.assertions"):
        check.text(assertion, "assertion", item_path, required=True)
        check.get(assertion, "success", item_path, "true or false", lambda v: type(v) is bool, required=True)
        check.text(assertion, "column", item_path)


def _check_tags(check: _Checker, facet: dict, path: str) -> None:
    for tag_path, tag in check.items(check.array(facet, "tags", path), f"{path}.tags"):
        check.text(tag, "key", tag_path, required=True)
        check.text(tag, "value", tag_path)


def _check_lineage(check: _Checker, facet: dict, path: str) -> None:
    check.get(facet, "kind", path, "process or ai_tool", lambda v: v in ("process", "ai_tool"))


LIFECYCLE_STATES = ("ALTER", "CREATE", "DROP", "OVERWRITE", "RENAME", "TRUNCATE")
"""What a ``lifecycleStateChange`` facet may say happened to a dataset."""


def _check_key(check: _Checker, identifier: dict, path: str) -> None:
    """A job's or dataset's (namespace, name), both required, neither longer than :data:`KEY_LENGTH`."""
    for part in ("namespace", "name"):
        value = check.text(identifier, part, path, required=True)
        if value is not None and len(value) > KEY_LENGTH:
            check.add(f"{path}.{part}" if path else part,
                      f"expected at most {KEY_LENGTH:,} characters, got {len(value):,}")


def _check_symlinks(check: _Checker, facet: dict, path: str) -> None:
    for item_path, identifier in check.items(check.array(facet, "identifiers", path), f"{path}.identifiers"):
        _check_key(check, identifier, item_path)


def _check_lifecycle(check: _Checker, facet: dict, path: str) -> None:
    check.get(facet, "lifecycleStateChange", path, "one of: " + ", ".join(LIFECYCLE_STATES),
              lambda v: v in LIFECYCLE_STATES, required=True)
    previous = check.object(facet, "previousIdentifier", path)
    if previous is not None:
        _check_key(check, previous, f"{path}.previousIdentifier")


def _check_parent(check: _Checker, facet: dict, path: str) -> None:
    job = check.object(facet, "job", path, required=True)
    if job is not None:
        _check_key(check, job, f"{path}.job")


_RUN_FACET_CHECKS: dict[str, Callable[[_Checker, dict, str], None]] = {"parent": _check_parent}
_DATASET_FACET_CHECKS: dict[str, Callable[[_Checker, dict, str], None]] = {
    "documentation": _check_documentation, "ownership": _check_ownership, "schema": _check_schema,
    "dataQualityMetrics": _check_metrics, "dataQualityAssertions": _check_assertions,
    "symlinks": _check_symlinks, "lifecycleStateChange": _check_lifecycle,
}
_DATASET_FACET_CHECKS["columnLineage"] = columns.check_column_lineage
_JOB_FACET_CHECKS: dict[str, Callable[[_Checker, dict, str], None]] = {
    "documentation": _check_documentation, "ownership": _check_ownership, "tags": _check_tags,
    "lineage": _check_lineage,
}


def event_problems(document: Any) -> list[tuple[str, str]]:
    """What is wrong with one event, as (JSON path, message) pairs; empty when nothing.

    >>> event_problems({"eventTime": "2026-03-02T10:00:00Z", "producer": "p", "run": {"runId": "r"},
    ...                 "job": {"namespace": "n", "name": "j"}, "inputs": [{"namespace": "n"}]})
    [('inputs[0].name', 'required')]
    """
    return _inspect(document).found


def _inspect(document: Any) -> _Checker:
    check = _Checker()
    if type(document) is not dict:
        check.add("", f"expected a JSON object (an OpenLineage event), got {_shown(document)}")
        return check
    kind = _event_type(document, check)
    time = check.text(document, "eventTime", "", required=True)
    if time and utc_time(time) is None:
        check.add("eventTime", f"expected an ISO 8601 date-time such as 2026-03-02T10:00:00Z, got {_shown(time)}")
    check.text(document, "producer", "", required=True)
    if kind == "DatasetEvent":
        dataset = check.object(document, "dataset", "", required=True)
        if dataset is not None:
            _check_dataset(check, dataset, "dataset", None)
    elif kind in ("RunEvent", "JobEvent"):
        if kind == "RunEvent":
            run = check.object(document, "run", "", required=True)
            if run is not None:
                check.text(run, "runId", "run", required=True)
                _check_facets(check, run, "facets", "run", _RUN_FACET_CHECKS)
            check.get(document, "eventType", "", "one of: " + ", ".join(EVENT_TYPES), lambda v: v in EVENT_TYPES)
        _check_job(check, document, "job")
        for part, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
            for path, dataset in check.items(check.array(document, part, ""), part):
                _check_dataset(check, dataset, path, extra)
    return check


def parse_event(document: Any, where: str) -> Event:
    """Check one event; raise :class:`ValidationError` (of :class:`EventProblem`) naming each problem."""
    check = _inspect(document)
    found = check.found
    if found:
        shown = found[:MAX_EVENT_PROBLEMS]
        problems: list[Problem] = [EventProblem(where, message, path or None) for path, message in shown]
        if len(found) > len(shown):
            problems.append(EventProblem(where, f"and {len(found) - len(shown)} more problems"))
        raise ValidationError(problems)
    kind = _event_type(document, _Checker())
    return Event(where, kind or "RunEvent", utc_time(document["eventTime"]) or "", document,
                 tuple(f"{path}: {message}" for path, message in check.notes))


def checked(raw: Iterable[RawEvent], problems: list[Problem]) -> Iterator[Event]:
    """The good events of ``raw``, one at a time; the problems of the bad ones go to ``problems``
    (at most 200, then a last one saying so)."""
    for item in raw:
        if len(problems) >= MAX_FILE_PROBLEMS:
            problems.append(Problem("...", "stopped after this many problems"))
            return
        if item.problem:
            problems.append(EventProblem(item.where, item.problem))
            continue
        try:
            yield parse_event(item.document, item.where)
        except ValidationError as error:
            problems += error.problems


def parse_events(raw: Iterable[RawEvent]) -> list[Event]:
    """Check every event; one :class:`ValidationError` names every bad event (so a file with one
    bad event imports nothing)."""
    problems: list[Problem] = []
    events = list(checked(raw, problems))
    if problems:
        raise ValidationError(problems)
    return events


def file_events(path: str | Path) -> Iterator[RawEvent]:
    """The events in a file, as :func:`split_events` reads them; NDJSON is read a line at a time,
    so that a file of a hundred thousand events is never in memory all at once."""
    source = str(path)
    with open(path, "rb") as file:
        line_number, first = 0, b""
        for line in file:
            line_number += 1
            if line.strip():
                first = line[3:] if line_number == 1 and line.startswith(b"\xef\xbb\xbf") else line
                break
        try:
            document = orjson.loads(first)
        except orjson.JSONDecodeError:
            document = None
        if type(document) is not dict:  # an array, one object over several lines, or not JSON at all
            file.seek(0)
            yield from split_events(file.read(), source)
            return
        number = 1
        yield RawEvent(_where(source, number, line_number), document)
        for line in file:
            line_number += 1
            if not line.strip():
                continue
            number += 1
            where = _where(source, number, line_number)
            try:
                yield RawEvent(where, orjson.loads(line))
            except orjson.JSONDecodeError as error:
                yield RawEvent(where, problem=f"is not valid JSON (column {error.colno}: {error.msg})")


def read_events(paths: Sequence[str | Path]) -> list[Event]:
    """Read and check the events in files (JSON array, one object, or NDJSON), all or nothing."""
    with gc_paused():
        return parse_events(item for path in paths for item in file_events(path))


# ---------------------------------------------------------------------------------------------
# Mapping events to registers


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug[:110].rstrip("-._")


def node_id(entity: str, namespace: str, name: str) -> str:
    """The node id of a job or dataset: its name as a slug and 8 hex digits of a hash of the key.

    >>> node_id("job", "airflow", "Housing / build register")
    'housing-build-register-03f2787a'
    """
    digest = hashlib.sha1(f"{entity}\n{namespace}\n{name}".encode()).hexdigest()[:8]
    return f"{_slug(name) or entity}-{digest}"


Key = tuple[str, str, str]
"""("job" or "dataset", namespace, name)."""


def _digest(value: Any) -> str:
    """A digest of a register value's canonical JSON ("" for a deletion): it breaks ties between
    events of the same instant, and tells a replayed event from a different one."""
    if value is _DELETED:
        return ""
    return hashlib.sha1(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass
class Folded:
    """Events folded into registers per job and dataset, and the edges they name.

    Folding is commutative and idempotent: the same events in any order, any number of times,
    give the same registers.
    """

    registers: dict[Key, dict[str, tuple[str, str, Any]]] = field(default_factory=dict)
    """Per job or dataset: register -> (time, digest, value)."""
    links: set[tuple[Key, Key]] = field(default_factory=set)
    """(a dataset as an event names it, another name of it): ``symlinks`` and renames
    (:mod:`lineage.io.openlineage_names`)."""
    renamed: set[Key] = field(default_factory=set)
    """Datasets named after a ``RENAME``: the name their node takes."""
    edges: set[tuple[Key, Key, str]] = field(default_factory=set)
    events: int = 0
    warnings: list[str] = field(default_factory=list)
    """What events said that was read past, where (at most :data:`MAX_FILE_PROBLEMS`)."""
    kept: Pending = field(default_factory=Pending)
    """The events as they came, to keep (:mod:`lineage.io.openlineage_kept`)."""

    def add(self, event: Event) -> None:
        self.events += 1
        self.kept.add(event)
        room = MAX_FILE_PROBLEMS - len(self.warnings)
        self.warnings += [f"{event.where}: {note}" for note in event.notes[:max(room, 0)]]
        document, time = event.document, event.time
        if event.type == "DatasetEvent":
            dataset = document["dataset"]
            self._dataset(self._key("dataset", dataset), dataset.get("facets") or {}, time)
            return
        job = self._key("job", document["job"])
        self._job(job, document["job"].get("facets") or {}, time)
        parent = ((document.get("run") or {}).get("facets") or {}).get("parent")
        if parent and not parent.get("_deleted"):
            parent_job = self._key("job", parent["job"])
            if parent_job != job:  # the DAG's own run names itself, in some producers
                self.edges.add((job, parent_job, "part_of"))
        for part, extra, inward in (("inputs", "inputFacets", True), ("outputs", "outputFacets", False)):
            for dataset in document.get(part) or ():
                key = self._key("dataset", dataset)
                facets = dataset.get("facets") or {}
                if dataset.get(extra):
                    facets = {**facets, **dataset[extra]}
                self._dataset(key, facets, time)
                if _state(facets) == "DROP":
                    continue  # the job dropped the table: it did not produce it
                self.edges.add((key, job, "feeds") if inward else (job, key, "derives"))

    def _key(self, entity: str, record: dict[str, Any]) -> Key:
        key = (entity, record["namespace"], record["name"])
        if key not in self.registers:
            self.registers[key] = {}
        return key

    def _write(self, key: Key, slot: str, time: str, value: Any) -> None:
        registers = self.registers[key]
        held = registers.get(slot)
        digest = _digest(value)
        if held is None or (time, digest) > held[:2]:
            registers[slot] = (time, digest, value)

    def _deletions(self, key: Key, facets: dict[str, Any], time: str, slots: dict[str, tuple[str, ...]]) -> None:
        for name, facet in facets.items():
            if name in slots and facet.get("_deleted"):
                for slot in slots[name]:
                    self._write(key, slot, time, _DELETED)

    def _common(self, key: Key, facets: dict[str, Any], time: str,
                slots: dict[str, tuple[str, ...]]) -> dict[str, Any]:
        """What jobs and datasets share: ``_deleted`` facets, documentation and ownership; the
        facets that are not deleted."""
        self._deletions(key, facets, time, slots)
        live = {name: facet for name, facet in facets.items() if not facet.get("_deleted")}
        description = (live.get("documentation") or {}).get("description")
        if description and description.strip():  # an empty description says nothing
            self._write(key, "description", time, description[:TEXT_LENGTH])
        owners = _owners(live["ownership"]) if "ownership" in live else None
        if owners is not None:
            self._write(key, "owners", time, owners)
        return live

    def _job(self, key: Key, facets: dict[str, Any], time: str) -> None:
        if not facets:
            return
        live = self._common(key, facets, time, JOB_FACETS)
        kind = job_kind(live)
        if kind is None and any(facets[name].get("_deleted") for name in ("tags", "lineage") if name in facets):
            kind = "process"  # what said it was an AI tool is gone
        if kind is not None:
            self._write(key, "kind", time, kind)

    def _dataset(self, key: Key, facets: dict[str, Any], time: str) -> None:
        if not facets:
            return
        live = self._common(key, facets, time, DATASET_FACETS)
        if "schema" in live:
            self._write(key, "schema", time, _fields(live["schema"].get("fields")))
        metrics = live.get("dataQualityMetrics")
        if metrics and metrics.get("rowCount") is not None:
            # Not outputStatistics: its rowCount is what one run wrote, not the size of the dataset.
            self._write(key, "record_count", time, int(metrics["rowCount"]))
        for dimension, assessment in quality_from_facets(live, time[:10]).items():
            self._write(key, f"quality.{dimension}", time, assessment)
        for link in (live.get("symlinks") or {}).get("identifiers") or ():
            self._link(key, link)
        state = _state(live)
        if state == "DROP":
            self._write(key, "dropped", time, time[:10])
        elif state:  # created, overwritten, truncated, altered or renamed: the table is there
            self._write(key, "dropped", time, _DELETED)
            if state == "TRUNCATE" and not (metrics and metrics.get("rowCount") is not None):
                self._write(key, "record_count", time, 0)  # emptied, unless the event counts rows itself
            previous = live["lifecycleStateChange"].get("previousIdentifier")
            if state == "RENAME" and previous:
                self._link(key, previous)
                self.renamed.add(key)
        columns.fold(self, key, live, time)

    def _link(self, key: Key, other: dict[str, Any]) -> None:
        other_key = ("dataset", other["namespace"], other["name"])
        if other_key != key:
            self.links.add((key, other_key))


def _state(facets: Mapping[str, Any]) -> str | None:
    """A dataset's ``lifecycleStateChange`` (``DROP``, ``CREATE`` ...), or None."""
    facet = facets.get("lifecycleStateChange")
    return facet.get("lifecycleStateChange") if facet and not facet.get("_deleted") else None


def _owners(facet: dict[str, Any]) -> Any:
    """The owner names an ``ownership`` facet gives; _DELETED for none; None when every name is
    empty (the facet then says nothing)."""
    listed = facet.get("owners") or ()
    names = [owner["name"] for owner in listed if owner["name"].strip()]
    return names or (None if listed else _DELETED)


def _fields(fields: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Schema fields as kept: name, type, description and nested fields, empty parts left out."""
    kept = []
    for schema_field in fields or ():
        if not schema_field["name"].strip():
            continue  # a field without a name is noted when the event is read, and not kept
        item = {k: schema_field[k] for k in ("name", "type", "description") if schema_field.get(k) is not None}
        if schema_field.get("fields"):
            item["fields"] = _fields(schema_field["fields"])
        kept.append(item)
    return kept


def job_kind(facets: Mapping[str, Any]) -> str | None:
    """What a job's facets say it is: ``ai_tool``, ``process``, or None when they do not say.

    >>> job_kind({"tags": {"tags": [{"key": "kind", "value": "AI_TOOL"}]}}), job_kind({"tags": {"tags": []}})
    ('ai_tool', 'process')
    >>> job_kind({"lineage": {"kind": "ai_tool"}}), job_kind({"documentation": {"description": "x"}})
    ('ai_tool', None)
    """
    said = (facets.get("lineage") or {}).get("kind")
    if said:
        return said
    if "tags" in facets:
        tags = facets["tags"].get("tags") or ()
        named = {str(tag.get(part, "")).strip().lower() for tag in tags for part in ("key", "value")}
        return "ai_tool" if named & AI_TAGS else "process"
    return None


def _dimension(assertion: str) -> str:
    words = assertion.lower()
    return next((dimension for dimension, marks in QUALITY_RULE.items() if any(m in words for m in marks)),
                "validity")


def quality_from_facets(facets: Mapping[str, Any], as_of: str) -> dict[str, dict[str, Any]]:
    """Quality dimensions from a dataset's ``dataQualityAssertions`` and ``dataQualityMetrics``
    facets, by :data:`QUALITY_RULE`.

    >>> facets = {"dataQualityAssertions": {"assertions": [
    ...     {"assertion": "not_null", "success": True, "column": "id"},
    ...     {"assertion": "unique", "success": False, "column": "id"},
    ...     {"assertion": "accepted_values", "success": True, "column": "status"}]},
    ...           "dataQualityMetrics": {"rowCount": 200, "columnMetrics": {"id": {"nullCount": 0},
    ...                                                                      "status": {"nullCount": 10}}}}
    >>> quality = quality_from_facets(facets, "2026-03-02")
    >>> {d: q["score"] for d, q in quality.items()}
    {'completeness': 0.975, 'uniqueness': 0.0, 'validity': 1.0}
    >>> quality["completeness"]["note"][:65]
    'OpenLineage dataQualityMetrics: 10 nulls in 2 columns of 200 rows'
    """
    found: dict[str, tuple[float, str]] = {}
    assertions = (facets.get("dataQualityAssertions") or {}).get("assertions") or ()
    by_dimension: dict[str, list[dict[str, Any]]] = {}
    for assertion in assertions:
        by_dimension.setdefault(_dimension(assertion["assertion"]), []).append(assertion)
    for dimension, items in by_dimension.items():
        passed = sum(1 for a in items if a["success"])
        listed = ", ".join(f"{a['assertion']}({a['column']})" if a.get("column") else a["assertion"]
                           for a in items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
        found[dimension] = (round(passed / len(items), 4),
                            f"dataQualityAssertions: {passed} of {len(items)} passed: {listed}")
    metrics = facets.get("dataQualityMetrics") or {}
    rows = metrics.get("rowCount")
    nulls = [m["nullCount"] for m in (metrics.get("columnMetrics") or {}).values() if m.get("nullCount") is not None]
    if rows and nulls:
        score = round(max(0.0, 1 - sum(nulls) / (rows * len(nulls))), 4)
        note = (f"dataQualityMetrics: {int(sum(nulls)):,} nulls in {len(nulls)} column{'s' if len(nulls) != 1 else ''} "
                f"of {int(rows):,} rows")
        if "completeness" in found:
            other_score, other_note = found["completeness"]
            note = f"{note} (lower than {other_note})" if score <= other_score else f"{other_note} (lower than {note})"
            score = min(score, other_score)
        found["completeness"] = (score, note)
    return {dimension: {"score": score, "note": f"OpenLineage {note}"[:TEXT_LENGTH], "as_of": as_of}
            for dimension, (score, note) in sorted(found.items(), key=lambda item: item[0])}


# ---------------------------------------------------------------------------------------------
# Owners


class Owners:
    """How owner names in ``ownership`` facets become person or team ids.

    In order: an explicit ``mapping`` (owner name as in the facet -> node id, from
    ``lineage import-openlineage --owners FILE`` or the app's ``LINEAGE_OPENLINEAGE_OWNERS``), then a
    person or team whose id, contact (e-mail) or name equals the owner name, ignoring case and a
    ``user:``/``team:``-style prefix (``user:jo.smith@council.gov.uk`` finds the person whose
    contact that is). The first owner listed that maps to exactly one node wins. Owners that map
    to nobody are kept as text in ``owner_text``, which ``lineage check`` reports.
    """

    def __init__(self, store: Store, mapping: Mapping[str, str] | None = None):
        self.store = store
        self.mapping = {name.lower(): node for name, node in (mapping or {}).items()}
        self._found: dict[str, str | None] = {}

    @staticmethod
    def candidates(name: str) -> list[str]:
        """What an owner name may be known as here.

        >>> Owners.candidates("user:Jo.Smith@council.gov.uk")
        ['user:jo.smith@council.gov.uk', 'jo.smith@council.gov.uk']
        """
        name = name.strip().lower()
        prefix, _, rest = name.partition(":")
        if rest and re.fullmatch(r"[a-z_-]+", prefix) and not rest.startswith("//"):
            return [name, rest.strip()]
        return [name]

    def prefetch(self, names: Iterable[str]) -> None:
        """Look every name up at once (one query), before :meth:`resolve` is asked about them."""
        wanted = {c for name in names if name.lower() not in self.mapping for c in self.candidates(name)}
        wanted -= set(self._found)
        if not wanted:
            return
        matches = self.store.agents_matching(wanted)
        for candidate in wanted:
            ids = matches.get(candidate, [])
            self._found[candidate] = ids[0] if len(ids) == 1 else None

    def resolve(self, names: Sequence[str]) -> str | None:
        """The node id of the first owner that maps to one person or team, or None."""
        self.prefetch(names)
        for name in names:
            if name.lower() in self.mapping:
                return self.mapping[name.lower()]
            for candidate in self.candidates(name):
                if self._found.get(candidate):
                    return self._found[candidate]
        return None


def read_owner_map(path: str | Path, store: Store) -> dict[str, str]:
    """An owner mapping file: CSV with the columns ``owner`` and ``node``, or a JSON object
    ``{"user:jdoe": "owner-jo"}``. Every node must be a person or team in ``store``."""
    source = str(path)
    text = Path(path).read_text("utf-8-sig")
    entries: list[tuple[str, str, str]] = []  # (where, owner, node)
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(Problem(f"{source}: line {error.lineno}, column {error.colno}",
                                          f"is not valid JSON ({error.msg})")) from None
        for owner, node in document.items():
            if not isinstance(node, str):
                raise ValidationError(Problem(source, f"expected a node id (text), got {_shown(node)}", owner))
            entries.append((source, owner, node))
    else:
        reader = csv.DictReader(_io.StringIO(text, newline=""))
        if not reader.fieldnames or not {"owner", "node"} <= {f.strip() for f in reader.fieldnames}:
            raise ValidationError(Problem(f"{source}: line 1", "expected the columns owner and node"))
        for row in reader:
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if row.get("owner") or row.get("node"):
                entries.append((f"{source}: line {reader.line_num}", row.get("owner", ""), row.get("node", "")))
    kinds = store.kinds_of({node for _, _, node in entries})
    problems = [Problem(where, f"'{node}' is not a person or team in the graph", "node")
                for where, owner, node in entries if kinds.get(node) not in ("person", "team")]
    problems += [Problem(where, "required", "owner") for where, owner, _ in entries if not owner]
    if problems:
        raise ValidationError(problems)
    return {owner: node for _, owner, node in entries}


# ---------------------------------------------------------------------------------------------
# Applying folded events to a store


@dataclass
class ImportSummary:
    """What an import did."""

    events: int = 0
    nodes_added: int = 0
    nodes_changed: int = 0
    edges_added: int = 0
    kinds_changed: int = 0
    version: int = 0
    warnings: list[str] = field(default_factory=list)
    """What was read past (an empty description, say), each naming its event and field."""

    def __str__(self) -> str:
        flipped = f"; {self.kinds_changed} changed kind" if self.kinds_changed else ""
        noted = (f"; {len(self.warnings):,} warning{'s' if len(self.warnings) != 1 else ''}: "
                 + "; ".join(self.warnings[:5]) + (" ..." if len(self.warnings) > 5 else "")) if self.warnings else ""
        return (f"{self.events:,} event{'s' if self.events != 1 else ''}: {self.nodes_added:,} nodes added, "
                f"{self.nodes_changed:,} changed{flipped}; {self.edges_added:,} edges added; "
                f"graph version {self.version}{noted}")

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "warnings": list(self.warnings)}


def _current(record: dict[str, Any], slot: str) -> Any:
    if slot.startswith("fields:"):
        return columns.current(record, slot)
    if slot == "owners":
        return record[META].get("owners")
    if slot.startswith("quality."):
        return (record.get("quality") or {}).get(slot[8:])
    return record.get(slot)


def _put(record: dict[str, Any], slot: str, value: Any) -> None:
    """Set (or, for a deletion, remove) the attribute a register holds."""
    if slot.startswith("fields:"):
        return columns.put(record, slot, value, _DELETED)
    if slot == "owners":
        target, name = record[META], "owners"
    elif slot.startswith("quality."):
        target, name = record.setdefault("quality", {}), slot[8:]
    else:
        target, name = record, slot
    if value is _DELETED:
        target.pop(name, None)
    else:
        target[name] = value
    if slot.startswith("quality.") and not record["quality"]:
        del record["quality"]


Held = dict[str, tuple[str, str]]
"""A node's registers as stored: register -> (time, digest) of the write that won."""


def merge_record(key: Key, registers: Mapping[str, tuple[str, str, Any]], before: dict[str, Any] | None,
                 held: Held, owners: Owners, aliases: Iterable[tuple[str, str]] = ()) -> tuple[dict[str, Any], Held]:
    """The node a job or dataset should be, and the registers that moved on.

    ``before`` is the node as stored (native), ``held`` its stored registers, ``registers`` the
    folded events, ``aliases`` other (namespace, name) it is known by, added to those it has.
    A register moves on when the folded write is newer (time, then digest); the attribute changes
    only if the value differs from what the node holds.
    """
    entity, namespace, name = key
    if before is None:
        record: dict[str, Any] = {"id": node_id(*key), "kind": "dataset" if entity == "dataset" else "process",
                                  "name": name[:NAME_LENGTH] if name.strip() else node_id(*key), "origin": stamp(META, namespace)}
    else:
        record = json.loads(json.dumps(before))  # a deep copy: nested quality and metadata change below
        if entity == "dataset" or record["kind"] not in ("process", "ai_tool"):
            # A node drawn by hand with this id as another kind: validation says it cannot change.
            record["kind"] = "dataset" if entity == "dataset" else "process"
    meta = record.get(META) if isinstance(record.get(META), dict) else {}
    if before is not None and meta.get("name") is not None and (meta.get("namespace"), meta["name"]) != (namespace, name):
        # Renamed: the node takes the new name, unless a person gave it one of their own.
        if record["name"] == (meta["name"][:NAME_LENGTH] if meta["name"].strip() else record["id"]) and name.strip():
            record["name"] = name[:NAME_LENGTH]
    record[META] = meta = {**meta, "namespace": namespace, "name": name}
    known = sorted({tuple(pair) for pair in meta.get("aliases") or ()} | set(aliases))
    if known:
        kept, size = [], 0
        for pair in known:  # as many as fit in an attribute (the alias table keeps them all)
            size += len(json.dumps(pair))
            if size > ALIASES_KEPT:
                break
            kept.append(list(pair))
        meta["aliases"] = kept
    previous_owners = meta.get("owners")
    moved: Held = {}
    for slot, (time, digest, value) in registers.items():
        if held.get(slot) is not None and (time, digest) <= held[slot]:
            continue  # older, or this very write again
        moved[slot] = (time, digest)
        if _current(record, slot) != value:
            _put(record, slot, value)
    names = meta.get("owners")
    if names:
        owner = owners.resolve(names)
        if owner:
            record["owner"] = owner
            record.pop("owner_text", None)
        else:
            record["owner_text"] = ", ".join(names)[:TEXT_LENGTH]
    elif previous_owners and "owners" in moved:  # the ownership facet was deleted: what it set goes
        record.pop("owner_text", None)
        if record.get("owner") and record["owner"] == owners.resolve(previous_owners):
            del record["owner"]
    return record, moved


class Registers:
    """When each register was last set, beside the graph: table ``openlineage_registers``.

    Not graph data (not exported, not audited): bookkeeping that makes merging order-tolerant.
    Writes keep the greater (time, digest), so two imports writing at once cannot go backwards.
    """

    def __init__(self, store: Store):  # the table is the store's (lineage.migrations)
        self.conn = store.conn

    def read(self, ids: Iterable[str]) -> dict[str, Held]:
        held: dict[str, Held] = {}
        rows = self.conn.execute("SELECT node, slot, time, digest FROM openlineage_registers "
                                 "WHERE node IN (SELECT value FROM json_each(?))", (json.dumps(sorted(ids)),))
        for node, slot, time, digest in rows:
            held.setdefault(node, {})[slot] = (time, digest)
        return held

    def forget(self, ids: Iterable[str]) -> None:
        """Drop the registers of nodes that are not in the graph (deleted by hand since)."""
        self.conn.execute("DELETE FROM openlineage_registers WHERE node IN (SELECT value FROM json_each(?))",
                          (json.dumps(sorted(ids)),))

    def write(self, moved: Mapping[str, Held]) -> None:
        self.conn.executemany(
            "INSERT INTO openlineage_registers (node, slot, time, digest) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (node, slot) DO UPDATE SET time = excluded.time, digest = excluded.digest "
            "WHERE (excluded.time, excluded.digest) > (time, digest)",
            [(node, slot, time, digest) for node, slots in moved.items() for slot, (time, digest) in slots.items()])


def import_events(store: Store, events: Iterable[Event], *, actor: str, summary: str,
                  owners: Owners | None = None, by: Actor | None = None,
                  keeping: Keeping | None = None) -> ImportSummary:
    """Fold checked events and write what they change in one change (nothing if nothing changes).

    ``by``: the account sending them, whose :func:`~lineage.policy.decide` ``ingest`` verdict
    on each node and edge they would change is asked first (None: the operator, at the command line).
    The events are kept as they came, within ``keeping``'s bounds (by default, as configured:
    :class:`~lineage.io.openlineage_kept.Keeping`).

    Raises
    ------
    ValidationError
        When the result would break the model (a job drawn by hand as another kind, a kind
        change that would strand an edge). Nothing is written.
    ForbiddenError
        When ``by`` may not change something the events would (a node someone else owns, say).
        Nothing is written.
    """
    folded = Folded(kept=Pending(keeping or Keeping.configured()))
    with gc_paused():
        for event in events:
            folded.add(event)
        return apply(store, folded, actor=actor, summary=summary, owners=owners, by=by)


def _check_policy(by: Actor, stored: Mapping[str, dict[str, Any]], nodes: list[dict[str, Any]],
                  new_edges: list[dict[str, Any]]) -> None:
    """The policy's word on what the events would change, as the API asks it of each node (a
    :class:`ForbiddenError` naming the first thing ``by`` may not change)."""
    after = {record["id"]: record for record in nodes}
    targets: list[tuple[str, Any]] = [("node", (stored.get(record["id"]), record)) for record in nodes]
    targets += [("edge", tuple(after.get(edge[end]) or stored.get(edge[end]) or {"id": edge[end]}
                               for end in ("source", "target"))) for edge in new_edges]
    verdict = decide(by, "ingest", targets)
    if not verdict:
        raise ForbiddenError(verdict.reason)


def apply(store: Store, folded: Folded, *, actor: str, summary: str, owners: Owners | None = None,
          by: Actor | None = None) -> ImportSummary:
    """Write folded events to ``store`` in one change (see :func:`import_events`).

    Everything is read inside the change's write transaction, so that imports running at once
    (the web app's threads) cannot overwrite each other, nor change an owner between the
    policy's check and the write.
    """
    owners = owners or Owners(store)
    registers = Registers(store)
    result = ImportSummary(events=folded.events, warnings=list(folded.warnings))
    moved: dict[str, Held] = {}
    with store.change(actor, summary) as change:
        # Every name of a dataset (symlinks, renames) resolves to its one node.
        names = openlineage_names.resolve(store, set(folded.registers), folded.links, folded.renamed)
        result.warnings += names.warnings
        ids = names.nodes
        home = {node_id(*key): node for key, node in ids.items() if key[0] == "dataset"}
        by_node: dict[str, dict[str, tuple[str, str, Any]]] = {}
        for key, folded_registers in folded.registers.items():
            merged = by_node.setdefault(ids[key], {})
            for slot, write in columns.resolved(folded_registers, home).items():
                if slot.startswith(columns.USED) and slot in merged:
                    merged[slot] = columns.merged_used(merged[slot], write, _digest)
                elif slot not in merged or write[:2] > merged[slot][:2]:
                    merged[slot] = write
        stored = {record["id"]: native_record(record) for record in store.nodes(ids=by_node)}
        registers.forget(set(by_node) - set(stored))
        openlineage_names.forget(store, set(by_node) - set(stored))
        held = registers.read(stored)
        owners.prefetch(name for value in folded.registers.values() if "owners" in value
                        and value["owners"][2] is not _DELETED for name in value["owners"][2])
        owners.prefetch(name for record in stored.values() for name in (record.get(META) or {}).get("owners") or ())

        nodes, flips = [], []
        for node, folded_registers in by_node.items():
            after, moved[node] = merge_record(names.keys[node], folded_registers, stored.get(node),
                                              held.get(node, {}), owners, names.aliases.get(node, ()))
            before = stored.get(node)
            if after != before:
                nodes.append(after)
                if before is not None and {after["kind"], before["kind"]} == {"process", "ai_tool"}:
                    flips.append(after)

        # A job whose facets now say it is (or is no longer) an AI tool: a node's kind is fixed, so
        # it is deleted and added again, with its edges, in this same change (all audited).
        kind_now = {record["id"]: record["kind"] for record in flips}
        edges: dict[tuple[str, str], dict[str, Any]] = {}
        for record in flips:
            for edge in store.edges(touching=record["id"]):
                edge = native_record(edge)
                kinds = {end: kind_now.get(edge[end]) or store.node(edge[end])["kind"] for end in ("source", "target")}
                problem = model.edge_rule_problem(kinds["source"], kinds["target"], edge["kind"])
                if problem:
                    raise ValidationError(Problem(
                        f"OpenLineage job '{record[META]['namespace']}/{record[META]['name']}'",
                        f"its facets make '{record['id']}' "
                        f"{'an AI tool' if record['kind'] == 'ai_tool' else 'a process'}, but its edge {edge['source']} -> {edge['target']} would then break the model "
                        f"({problem}); change that edge first", "kind"))
                edges[(edge["source"], edge["target"])] = edge
            change.delete_node(record["id"])
        restored = len(edges)
        restored_pairs = set(edges)
        for source_key, target_key, kind in sorted(folded.edges):
            pair = (ids[source_key], ids[target_key])
            if pair[0] == pair[1]:
                continue  # a job reading and writing one table under two of its names
            if pair in edges or (pair[0] in stored and pair[1] in stored and _edge_exists(store, *pair)):
                continue  # edges are added, never changed: one drawn by hand stays as it is
            edges[pair] = ({"source": pair[0], "target": pair[1], "kind": kind, "role": "input"} if kind == "feeds"
                           else {"source": pair[0], "target": pair[1], "kind": kind})
            edges[pair]["origin"] = stamp(META, (source_key if source_key[0] == "job" else target_key)[1])
        edge_list = list(edges.values())
        if by is not None:
            _check_policy(by, stored, nodes, [e for pair, e in edges.items() if pair not in restored_pairs])

        def locate_node(index: int) -> str:
            meta = nodes[index][META]
            return (f"OpenLineage {'dataset' if nodes[index]['kind'] == 'dataset' else 'job'} "
                    f"'{meta['namespace']}/{meta['name']}' (node '{nodes[index]['id']}')")

        data = validate_records([Batch(nodes, locate_node)],
                                [Batch(edge_list, lambda i: f"OpenLineage edge {edge_list[i]['source']} -> "
                                                            f"{edge_list[i]['target']}")],
                                existing_kinds=store.kinds_of)
        loaded: LoadSummary = change.load(data)
        registers.write(moved)
        openlineage_names.write(store, names.aliases)
        keep(store, folded.kept)
        result.nodes_added = loaded.nodes_added - len(flips)
        result.nodes_changed = loaded.nodes_changed + len(flips)
        result.edges_added = loaded.edges_added - restored
        result.kinds_changed = len(flips)
        graph_changed = change.writes > 0
    if not graph_changed and (any(moved.values()) or folded.kept.items):
        # The graph did not change (so the change left no trace), but registers moved on (newer
        # events repeating what the graph holds) or events came: their times and the events are
        # kept, in a transaction of their own.
        with store.transaction():
            registers.write(moved)
            openlineage_names.write(store, names.aliases)
            keep(store, folded.kept)
    result.version = store.version
    return result


def _edge_exists(store: Store, source: str, target: str) -> bool:
    try:
        store.edge(source, target)
    except NotFoundError:
        return False
    return True


def import_files(store: Store, paths: Sequence[str | Path], *, actor: str,
                 owners_file: str | Path | None = None, keeping: Keeping | None = None) -> ImportSummary:
    """What ``lineage import-openlineage`` does: read and check every event of every file, folding
    each as it is read (only the newest, within ``keeping``'s bounds, are held to be kept), then
    write what they change in one change. A bad event anywhere imports nothing."""
    owners = Owners(store, read_owner_map(owners_file, store) if owners_file else None)
    names = ", ".join(Path(p).name for p in paths)
    return import_raw(store, (item for path in paths for item in file_events(path)), actor=actor,
                      summary=f"import-openlineage {names}"[:500], owners=owners, keeping=keeping)


def import_raw(store: Store, raw: Iterable[RawEvent], *, actor: str, summary: str, owners: Owners | None = None,
               keeping: Keeping | None = None) -> ImportSummary:
    """Check and fold events as they are read, then write what they change in one change; a bad
    event anywhere (every one named) imports nothing."""
    folded, problems = Folded(kept=Pending(keeping or Keeping.configured())), []
    with gc_paused():
        for event in checked(raw, problems):
            if not problems:  # past the first bad event, only checking goes on
                folded.add(event)
        if problems:
            raise ValidationError(problems)
        return apply(store, folded, actor=actor, summary=summary, owners=owners)

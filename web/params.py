"""Query-string arguments, checked in one place: a bad value is a 400 that says what is allowed."""
from __future__ import annotations

import re
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, ValidationError

from lineage.graph import DIRECTIONS
from lineage.model import NODE_KINDS

MAX_DEPTH = 12
"""Deepest view a page draws: enough for the longest path from a person to a decision in the samples."""
MAX_EXPANDED = 20
_GROUP_KEY = re.compile(r"more-[a-z_]+-(up|down)[0-9]{0,4}")


MAX_INTEGER = 2**63 - 1
"""The largest whole number SQLite stores: ids, versions and counts beyond it are refused, not overflowed."""


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` in every route: a whole number up to :data:`MAX_INTEGER`. A longer one
    (``/changes/99999999999999999999``) matches no route, so it is a 404 like any id that does
    not exist, not an overflow in the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_INTEGER)):  # refused before int() parses a thousand digits
            raise ValidationError()
        return super().to_python(value)


def whole_number(raw: Any, name: str, low: int = 0, high: int = MAX_INTEGER) -> int:
    """``raw`` (text or a number) as a whole number from ``low`` to ``high``; a 400 that says so otherwise."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or (isinstance(raw, str) and len(raw) > 30):
        raise BadRequest(f"{name} must be a whole number from {low:,} to {high:,}, got {str(raw)[:50]!r}")
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number from {low:,} to {high:,}, got {raw[:50]!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low:,} to {high:,}, got {str(value)[:50]}")
    return value


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return whole_number(raw, name, low, high)


def depth_arg(default: int) -> int:
    return int_arg("depth", default, 0, MAX_DEPTH)


def direction_arg(default: str) -> str:
    value = request.args.get("direction") or default
    if value not in DIRECTIONS:
        raise BadRequest(f"direction must be one of: {', '.join(DIRECTIONS)}; got {value[:50]!r}")
    return value


def kinds_arg() -> list[str] | None:
    """``kinds=dataset,decision`` or ``kinds=dataset&kinds=decision``; None when not given."""
    values = [part.strip() for raw in request.args.getlist("kinds") for part in raw.split(",") if part.strip()]
    unknown = [value for value in values if value not in NODE_KINDS]
    if unknown:
        raise BadRequest(f"unknown kind {unknown[0][:50]!r}; kinds are: {', '.join(NODE_KINDS)}")
    return values or None


def kind_arg() -> str | None:
    value = request.args.get("kind") or None
    if value is not None and value not in NODE_KINDS:
        raise BadRequest(f"unknown kind {value[:50]!r}; kinds are: {', '.join(NODE_KINDS)}")
    return value


def expand_arg() -> tuple[str, ...]:
    """Groups of a picture to show in full (their keys, as the picture's links give them)."""
    values = request.args.getlist("expand")
    if len(values) > MAX_EXPANDED:
        raise BadRequest(f"at most {MAX_EXPANDED} groups can be expanded at once")
    for value in values:
        if not _GROUP_KEY.fullmatch(value):
            raise BadRequest(f"expand names a group of the picture, like 'more-dataset-down2'; got {value[:50]!r}")
    return tuple(sorted(set(values)))


def choice_arg(name: str, allowed: tuple[str, ...] | list[str], default: str | None = None) -> str | None:
    """One of ``allowed`` (or ``default`` when the argument is missing or empty)."""
    value = request.args.get(name) or default
    if value is not None and value not in allowed:
        shown = ", ".join(allowed) if len(allowed) <= 30 else ", ".join(allowed[:30]) + ", ..."
        raise BadRequest(f"{name} must be one of: {shown}; got {value[:50]!r}")
    return value


def text_arg(name: str, limit: int) -> str | None:
    """Free text of at most ``limit`` characters, stripped (None when missing or blank)."""
    value = (request.args.get(name) or "").strip()
    if len(value) > limit:
        raise BadRequest(f"{name} is at most {limit} characters; this one has {len(value)}")
    return value or None

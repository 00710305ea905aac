"""GOV.UK forms for nodes and edges, built from the model's schema.

Every field is entered as text (or a choice) and turned into the typed value here; the model's
own validation (:func:`lineage.model.validate_node`) then judges the record, and each problem it
finds is shown against the field it names. So the rules live in one place, the schema, and a
form never accepts what a file import would refuse.

The GOV.UK Design System's rules for errors hold: every problem is found at once (a field that
cannot be read is judged with the rest, not in a later round), each field says at most one
thing, in plain words that say how to fix it ("Enter a score from 0 to 1, like 0.85"), and the
error summary lists them in the order of the page (fields are made in that order).

Each quality dimension has its score, a note and the date it was assessed (a GOV.UK date input:
day, month, year; "3 October 2026" typed in the first box is read too). An owner (a person) and
a person's team are typed as names and found with :func:`web.find.pick`.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date as Date
from datetime import datetime, timezone
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (GovCharacterCount, GovRadioInput, GovSelect, GovSubmitInput,
                                               GovTextArea, GovTextInput)
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField

from lineage import model
from lineage.dates import read_date, read_money
from lineage.errors import Problem
from lineage.words import dimension_hint, dimension_name, issues_short, parse_issues

LABELS = {
    "id": "Id", "name": "Name", "description": "Description", "owner": "Owner", "organisation": "Organisation",
    "tags": "Tags", "role": "Role", "team": "Team", "contact": "Contact", "ai_ready": "Ready for AI",
    "critical": "Critical system", "dropped": "Dropped (no longer exists) on",
    "openlineage": "Name in the pipelines (OpenLineage)", "record_count": "Number of records", "refresh": "How often it is refreshed",
    "sensitivity": "Sensitivity", "shared": "Shared with other organisations", "purpose": "Purpose",
    "technique": "Technique", "phase": "Phase", "human_review": "A person reviews its outputs",
    "appeals": "How people can appeal", "third_party": "Supplied by a third party",
    "atrs_url": "Algorithmic Transparency Recording Standard record", "risks": "Risks",
    "decision_type": "Type of decision", "frequency": "How often it is made",
    "people_affected": "People affected", "value_gbp": "Value (£)", "human_in_loop": "A person takes the decision",
    "outcome": "Outcome", "records": "Records entered", "period": "Period",
    "records_with_issues": "Records with issues", "influence": "Influence",
    "issues": "What the issues are",
}
HINTS = {
    "id": "A short, permanent name for links: lower-case letters, digits, '.', '_' and '-', like housing-register",
    "owner": "Start typing the name of the person who owns it, like Jo Fletcher",
    "team": "Start typing the name of their team",
    "tags": "Separate tags with commas",
    "risks": "One risk per line",
    "atrs_url": "A web address starting with https://",
    "quality": "Each dimension is a score from 0 (worst) to 1 (best): good is 0.9 or more, fair 0.7 or more, poor "
               "below. Leave a dimension blank if it has not been assessed.",
    "period": "For example 2026-Q3",
    "issues": "One issue per line: the kind in square brackets (optional), what is wrong, then a colon and how many "
              "records, like [completeness] Household size missing: 40",
    "value_gbp": "For example £1.2m or 1,200,000",
}
DIMENSION_HINTS = {dimension: f"Low when: {dimension_name(dimension).lower()}. {dimension_hint(dimension)}"
                   for dimension in model.QUALITY_DIMENSIONS}
"""Under each quality dimension's heading: what it means to the people who enter the records."""
REFERENCES = {"owner": "person", "team": "team"}
"""Fields that name another node: typed as a name, stored as its id."""
_BOOLEAN_CHOICES = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known")]
_LINES = {"risks", "issues"}
NOT_IN_FORMS = frozenset({"fields", "all_fields_from"})
"""Attributes the edit forms leave as stored: fields and their links are lists of objects, edited
through files, CSV, the API and OpenLineage (lineage.fields), not one text box."""
_INTEGER = re.compile(r"^-?[0-9][0-9,]*$")
DATE_PARTS = ("day", "month", "year")
Resolver = Callable[[str, str], str]
"""(text typed, kind wanted) -> the node's id; raises ValueError saying what to fix."""


def label(name: str) -> str:
    if name.startswith("quality."):
        parts = name.split(".")
        text = parts[1].capitalize()
        part = {"note": "note", "as_of": "date assessed", "score": "score", "rag": "rating"}.get(parts[-1], parts[-1])
        return text if len(parts) == 2 else f"{text}: {part}"
    return LABELS.get(name, name.replace("_", " ").capitalize())


def field_name(attribute: str) -> str:
    """A form field's name for an attribute (``quality.timeliness`` -> ``quality_timeliness``)."""
    return attribute.replace(".", "_")


def _field(name: str, schema: dict[str, Any]):
    text = label(name)
    if "enum" in schema:
        return SelectField(text, choices=[("", "Not stated")] + [(v, v.replace("-", " ").capitalize())
                                                                 for v in schema["enum"]], widget=GovSelect())
    kind = schema.get("type")
    if kind == "boolean":
        return RadioField(text, choices=_BOOLEAN_CHOICES, widget=GovRadioInput(), validate_choice=False)
    if kind == "array" and name in _LINES or schema.get("maxLength", 0) >= 10_000:
        return TextAreaField(text, widget=GovCharacterCount() if "maxLength" in schema else GovTextArea())
    return StringField(text, widget=GovTextInput())


class _RecordForm(FlaskForm):
    version = HiddenField()


def attributes(kind: str) -> list[str]:
    """The attributes a form edits, in the order it shows them (quality dimensions expanded)."""
    names = ["name"] if kind in model.NODE_KINDS else []
    for name in model.attribute_schemas(kind):
        if name == "quality":
            names += [f"quality.{d}" for d in model.QUALITY_DIMENSIONS]
        elif name != "name" and name not in NOT_IN_FORMS:
            names.append(name)
    return names


def record_form_class(kind: str, *, with_id: bool = False, other: str | None = None) -> type[FlaskForm]:
    """A form class for a node or edge kind: one field per attribute, made in page order (so the
    error summary lists problems in that order). ``other`` adds the edge's other end first."""
    fields: dict[str, Any] = {}
    if other:
        fields["other"] = StringField(other.capitalize(), widget=GovTextInput())
    if with_id:
        fields["id"] = StringField(label("id"), widget=GovTextInput())
    schemas = model.attribute_schemas(kind)
    for name in attributes(kind):
        if name.startswith("quality."):
            base = field_name(name)
            fields[base] = StringField(f"{label(name)} score", widget=GovTextInput())
            fields[f"{base}_note"] = TextAreaField(f"{label(name)}: note", widget=GovTextArea())
            for part in DATE_PARTS:
                fields[f"{base}_as_of_{part}"] = StringField(part.capitalize(), widget=GovTextInput())
        elif name == "name":
            fields["name"] = StringField(label("name"), widget=GovTextInput())
        else:
            fields[name] = _field(name, schemas[name])
    fields["submit"] = SubmitField("Save", widget=GovSubmitInput())
    return type(f"{kind.title()}Form", (_RecordForm,), fields)


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "issues" and isinstance(value, list):
        return issues_short([v for v in value if isinstance(v, dict)], "\n")
    if isinstance(value, list):
        return ("\n" if name in _LINES else ", ").join(str(v) for v in value)
    if isinstance(value, dict):  # a quality assessment: its score is the field's value
        return _text(value.get("score"), name)
    if name == "value_gbp" and isinstance(value, (int, float)):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    if isinstance(value, float) and value.is_integer() and not name.startswith("quality."):
        return str(int(value))
    return str(value)


def form_data(record: dict[str, Any], kind: str, name_of: Callable[[str], str | None] | None = None) -> dict[str, Any]:
    """The form's fields filled from a stored record (an owner or team shown by name)."""
    quality = record.get("quality") or {}
    data: dict[str, Any] = {}
    for name in attributes(kind):
        if name.startswith("quality."):
            assessment = quality.get(name.split(".", 1)[1])
            base = field_name(name)
            data[base] = _text(assessment, name) or ""
            if isinstance(assessment, dict):
                data[f"{base}_note"] = assessment.get("note") or ""
                as_of = str(assessment.get("as_of") or "")
                try:
                    day = Date.fromisoformat(as_of[:10])
                except ValueError:
                    day = None
                if day:
                    data.update({f"{base}_as_of_day": str(day.day), f"{base}_as_of_month": str(day.month),
                                 f"{base}_as_of_year": str(day.year)})
            continue
        value = record.get(name)
        if name in REFERENCES and isinstance(value, str) and name_of:
            value = name_of(value) or value
        boolean = model.attribute_schemas(kind).get(name, {}).get("type") == "boolean"
        data[field_name(name)] = None if boolean and value is None else _text(value, name)
    data["version"] = str(record.get("version", ""))
    return data


def _convert(name: str, text: str, schema: dict[str, Any]) -> Any:
    """A field's text as the attribute's value (None for blank); ValueError says how to fix it."""
    text = text.strip()
    if text == "":
        return None
    kind = schema.get("type")
    if name.startswith("quality."):
        try:
            score = float(text)
        except ValueError:
            score = -1.0
        if not 0 <= score <= 1:
            raise ValueError(f"Enter a score for {label(name).lower()} from 0 to 1, like 0.85")
        return score
    if name == "value_gbp":
        value = read_money(text)
        return value
    if kind == "number":
        try:
            return float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"Enter {label(name).lower()} as a number, like 1,200.50") from None
    if kind == "integer":
        if not _INTEGER.match(text) or text.startswith("-"):
            raise ValueError(f"Enter {label(name).lower()} as a whole number, like 1,240")
        return int(text.replace(",", ""))
    if kind == "boolean":
        return {"yes": True, "no": False}.get(text)
    if name == "issues":
        return parse_issues(text, "\n") or None
    if kind == "array":
        parts = text.splitlines() if name in _LINES else text.split(",")
        return [part.strip() for part in parts if part.strip()] or None
    return text


def _date(form: FlaskForm, base: str, today: Date) -> tuple[str | None, str | None]:
    """The ISO date of a quality dimension's date input (None if blank), or a problem."""
    parts = [(getattr(form, f"{base}_as_of_{part}").data or "").strip() for part in DATE_PARTS]
    if not any(parts):
        return None, None
    try:
        day = read_date(*parts)
    except ValueError as error:
        return None, str(error)
    if day > today:
        return None, "The date assessed must be today or in the past"
    return day.isoformat(), None


def record_from_form(form: FlaskForm, kind: str, stored: dict[str, Any] | None, *,
                     resolve: Resolver | None = None, today: Date | None = None
                     ) -> tuple[dict[str, Any], list[Problem]]:
    """The changes a submitted form makes to ``stored`` (None-valued: remove), and every problem
    reading it, in page order.

    Attributes the form does not show (ones the schema does not name) are left as stored; a
    quality assessment keeps its rating and other keys unless the form changes them.
    """
    today = today or datetime.now(timezone.utc).date()
    schemas = model.attribute_schemas(kind)
    changes: dict[str, Any] = {}
    problems: list[Problem] = []
    quality = dict((stored or {}).get("quality") or {})
    for name in attributes(kind):
        raw = getattr(form, field_name(name)).data or ""
        schema = {"type": "number"} if name.startswith("quality.") else schemas.get(name, {"type": "string"})
        try:
            value = _convert(name, raw, schema)
            if name in REFERENCES and value is not None and resolve is not None:
                value = resolve(value, REFERENCES[name])
        except ValueError as error:
            problems.append(Problem("form", str(error), name))
            value = None
            if not name.startswith("quality."):
                continue
        if name.startswith("quality."):
            dimension = name.split(".", 1)[1]
            base = field_name(name)
            note = (getattr(form, f"{base}_note").data or "").strip()
            as_of, problem = _date(form, base, today)
            if problem:
                problems.append(Problem("form", problem, f"{name}.as_of"))
            previous = quality.get(dimension)
            extra = {k: v for k, v in previous.items() if k not in ("score", "note", "as_of")} \
                if isinstance(previous, dict) else {}
            if value is None and not note and not as_of and not extra:
                if not (raw.strip() and problems):  # a score that could not be read leaves it as it was
                    quality.pop(dimension, None)
                continue
            if value is None and raw.strip():
                continue  # unreadable: said above
            assessment = {**extra, **({"score": value} if value is not None else {}),
                          **({"note": note} if note else {}), **({"as_of": as_of} if as_of else {})}
            if value is not None and list(assessment) == ["score"]:
                quality[dimension] = value
            else:
                quality[dimension] = assessment
        else:
            changes[name] = value
    if "quality" in schemas:
        changes["quality"] = quality or None
    return changes, problems


_PLAIN = [
    (re.compile(r"^expected text: A stable, human-readable slug"), "Enter an id of lower-case letters, digits, "
     "'.', '_' and '-', starting with a letter or digit, like housing-register"),
    (re.compile(r"^expected text, got \"\"$"), "Enter {the}"),
    (re.compile(r"^(is )?required"), "Enter {the}"),
    (re.compile(r"^expected a number from 0 to 1"), "Enter a score for {what} from 0 to 1, like 0.85"),
    (re.compile(r"^expected a whole number >= 0"), "Enter {what} as a whole number of 0 or more, like 1,240"),
    (re.compile(r"^expected a number >= 0"), "Enter {what} as an amount of 0 or more, like £1.2m"),
    (re.compile(r"^expected one of: (.*), got"), "Choose {what} from the list"),
    (re.compile(r"^expected text, got"), "Enter {what} in the right form: {hint}"),
]


def plain(problem: Problem) -> str:
    """A model problem in words that say how to fix it, never a model path."""
    field = (problem.field or "name").split("[", 1)[0]
    what = label(field).lower()
    message = problem.message
    for pattern, words in _PLAIN:
        if pattern.search(message):
            return words.format(what=what, the=f"a {what}" if field == "name" else what,
                                hint=HINTS.get(field, "see the hint")).replace("  ", " ")
    return message[:1].upper() + message[1:]


def _target(form: FlaskForm, problem: Problem):
    field = problem.field or "name"
    if field.endswith(".as_of"):
        return form._fields.get(f"{field_name(field[:-len('.as_of')])}_as_of_day")
    name = field_name(field).split("[", 1)[0]
    if name not in form._fields:
        name = field_name(field.split(".", 1)[0])
    return form._fields.get(name) or form._fields.get("name") or form._fields.get("other") \
        or next(iter(form._fields.values()))


def show_problems(form: FlaskForm, problems: list[Problem]) -> None:
    """Put each problem on the field it names, in plain words; one message per field (the first)."""
    for problem in problems:
        field = _target(form, problem)
        if field.errors:
            continue
        field.errors = [problem.message if problem.where == "form" and not problem.message.startswith("expected")
                        and problem.message[:1].isupper() else plain(problem)]

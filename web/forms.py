"""GOV.UK forms for nodes and edges, built from the model's schema.

Every field is entered as text (or a choice) and turned into the typed value here; the model's
own validation (:func:`lineage.model.validate_node`) then judges the record, and each problem it
finds is shown against the field it names. So the rules live in one place, the schema, and a
form never accepts what a file import would refuse.
"""
from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (GovCharacterCount, GovRadioInput, GovSelect, GovSubmitInput,
                                               GovTextArea, GovTextInput)
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField

from lineage import model
from lineage.errors import Problem
from lineage.words import issues_short, parse_issues

LABELS = {
    "id": "Id", "name": "Name", "description": "Description", "owner": "Owner", "organisation": "Organisation",
    "tags": "Tags", "role": "Role", "team": "Team", "contact": "Contact", "ai_ready": "Ready for AI",
    "critical": "Critical system", "record_count": "Number of records", "refresh": "How often it is refreshed",
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
    "owner": "The id of the person who owns it, like owner-jo",
    "team": "The id of their team",
    "tags": "Separate tags with commas",
    "risks": "One risk per line",
    "atrs_url": "A web address starting with https://",
    "quality": "Scores from 0 (worst) to 1 (best). Leave a dimension blank if it has not been assessed.",
    "period": "For example 2026-Q3",
    "issues": "One issue per line: the kind in square brackets (optional), what is wrong, then a colon and how many "
              "records, like [completeness] Household size missing: 40",
}
_BOOLEAN_CHOICES = [("yes", "Yes"), ("no", "No"), ("", "Not known")]
_LINES = {"risks", "issues"}
NOT_IN_FORMS = frozenset({"fields", "all_fields_from"})
"""Attributes the edit forms leave as stored: fields and their links are lists of objects, edited
through files, CSV, the API and OpenLineage (lineage.fields), not one text box."""
_INTEGER = re.compile(r"^-?[0-9][0-9,]*$")


def label(name: str) -> str:
    if name.startswith("quality."):
        return name.split(".", 1)[1].capitalize()
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
        return RadioField(text, choices=_BOOLEAN_CHOICES, default="", widget=GovRadioInput())
    if kind == "array" and name in _LINES or schema.get("maxLength", 0) >= 10_000:
        return TextAreaField(text, widget=GovCharacterCount() if "maxLength" in schema else GovTextArea())
    return StringField(text, widget=GovTextInput())


class _RecordForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())


def record_form_class(kind: str, *, with_id: bool = False) -> type[FlaskForm]:
    """A form class for a node or edge kind: one field per attribute the schema names."""
    fields: dict[str, Any] = {}
    if with_id:
        fields["id"] = StringField(label("id"), widget=GovTextInput())
    for name, schema in model.attribute_schemas(kind).items():
        if name in NOT_IN_FORMS:
            continue
        if name == "quality":
            for dimension in model.QUALITY_DIMENSIONS:
                fields[field_name(f"quality.{dimension}")] = StringField(label(f"quality.{dimension}"),
                                                                        widget=GovTextInput())
        else:
            fields[name] = _field(name, schema)
    if kind in model.NODE_KINDS:
        fields["name"] = StringField(label("name"), widget=GovTextInput())
    return type(f"{kind.title()}Form", (_RecordForm,), fields)


def attributes(kind: str) -> list[str]:
    """The attributes a form edits, in the order it shows them (quality dimensions expanded)."""
    names = ["name"] if kind in model.NODE_KINDS else []
    for name in model.attribute_schemas(kind):
        if name == "quality":
            names += [f"quality.{d}" for d in model.QUALITY_DIMENSIONS]
        elif name != "name" and name not in NOT_IN_FORMS:
            names.append(name)
    return names


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "issues" and isinstance(value, list):
        return issues_short([v for v in value if isinstance(v, dict)], "\n")
    if isinstance(value, list):
        return ("\n" if name in _LINES else ", ").join(str(v) for v in value)
    if isinstance(value, dict):  # a quality assessment: its score is what the form edits
        return _text(value.get("score"), name)
    if isinstance(value, float) and value.is_integer() and name != "value_gbp" and not name.startswith("quality."):
        return str(int(value))
    return str(value)


def form_data(record: dict[str, Any], kind: str) -> dict[str, str]:
    """The form's fields filled from a stored record."""
    quality = record.get("quality") or {}
    data = {}
    for name in attributes(kind):
        value = quality.get(name.split(".", 1)[1]) if name.startswith("quality.") else record.get(name)
        data[field_name(name)] = _text(value, name)
    data["version"] = str(record.get("version", ""))
    return data


def _convert(name: str, text: str, schema: dict[str, Any]) -> Any:
    """A field's text as the attribute's value (None for blank); ValueError says what was expected."""
    text = text.strip()
    if text == "":
        return None
    kind = schema.get("type")
    if name.startswith("quality.") or kind == "number":
        try:
            return float(text.replace(",", "").removeprefix("£"))
        except ValueError:
            raise ValueError(f"Enter {label(name).lower()} as a number, like "
                             f"{'0.85' if name.startswith('quality.') else '1200.50'}") from None
    if kind == "integer":
        if not _INTEGER.match(text):
            raise ValueError(f"Enter {label(name).lower()} as a whole number, like 1240")
        return int(text.replace(",", ""))
    if kind == "boolean":
        return text == "yes"
    if name == "issues":
        return parse_issues(text, "\n") or None
    if kind == "array":
        parts = text.splitlines() if name in _LINES else text.split(",")
        return [part.strip() for part in parts if part.strip()] or None
    return text


def record_from_form(form: FlaskForm, kind: str, stored: dict[str, Any] | None) -> tuple[dict[str, Any], list[Problem]]:
    """The changes a submitted form makes to ``stored`` (None-valued: remove), and conversion problems.

    Attributes the form does not show (ones the schema does not name) are left as stored.
    """
    schemas = model.attribute_schemas(kind)
    changes: dict[str, Any] = {}
    problems: list[Problem] = []
    quality = dict((stored or {}).get("quality") or {})
    for name in attributes(kind):
        raw = getattr(form, field_name(name)).data or ""
        schema = {"type": "number"} if name.startswith("quality.") else schemas.get(name, {"type": "string"})
        try:
            value = _convert(name, raw, schema)
        except ValueError as error:
            problems.append(Problem("form", str(error), name))
            continue
        if name.startswith("quality."):
            dimension = name.split(".", 1)[1]
            previous = quality.get(dimension)
            if value is None:
                quality.pop(dimension, None)
            elif isinstance(previous, dict):  # keep the note and RAG; the score is what changed
                if previous.get("score") != value:
                    quality[dimension] = {**previous, "score": value}
            else:
                quality[dimension] = value
        else:
            changes[name] = value
    if "quality" in schemas:
        changes["quality"] = quality or None
    return changes, problems


def show_problems(form: FlaskForm, problems: list[Problem]) -> None:
    """Put each problem on the field it names (the first field when it names none)."""
    for problem in problems:
        name = field_name(problem.field or "name").split("[", 1)[0]
        if name not in form._fields:
            name = field_name(problem.field.split(".", 1)[0]) if problem.field else "name"
        field = form._fields.get(name) or form._fields.get("name") or next(iter(form._fields.values()))
        message = problem.message
        if message.startswith("expected "):
            message = f"{label(problem.field or 'name')}: {message}"
        field.errors = [*list(field.errors or []), message[0].upper() + message[1:]]

"""Algorithmic Transparency Recording Standard (ATRS) records in, as ``ai_tool`` nodes.

Two shapes are read:

* The record as GOV.UK publishes it: a content item (JSON, ``document_type``
  ``algorithmic_transparency_record``) whose ``details.metadata`` holds the facets (organisation,
  phase, function, capability, region, date published, ATRS version; keys with or without the
  ``algorithmic_transparency_record_`` prefix) and whose ``details.body`` holds the tier 1 and tier 2
  answers under numbered headings ("1 - Name", "3.4 - Human decisions and review").
* The v2.1 CSV data standard: one record per row, columns named by the standard's attributes
  (:data:`CSV_COLUMNS`; ``name``, ``description`` and ``organisation`` required). Attributes with
  several values (risks, impact assessments) take one value per line within the cell.

Each record becomes or updates an ``ai_tool`` node: name, organisation, purpose, phase, human
decisions and review (``human_review`` true, the answer in ``human_decisions``), appeals, risks,
impact assessments, the record's link (``atrs_url``) and ``atrs_version``, with the other facets
under ``atrs``. A record matches an existing AI tool by its link first, then by its name (ignoring
case); otherwise it is a new node whose id is its name as a slug.
"""
from __future__ import annotations

import csv
import io as _io
import json
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from itertools import zip_longest
from pathlib import Path
from typing import Any

from ..errors import Problem, ValidationError
from ..importers import Imported
from ..store import Store

PREFIX = "algorithmic_transparency_record_"
FACETS = ("organisation", "organisation_type", "phase", "function", "capability", "task", "region",
          "date_published", "atrs_version")
"""The content item's metadata facets read (after the prefix)."""
CSV_COLUMNS = ("id", "standard_version", "date_completion", "name", "description", "website", "contact_email",
               "organisation", "team", "senior_responsible_owner", "external_supplier", "scope", "benefit",
               "alternatives", "phase", "process_integration", "provided_information", "frequency_and_scale",
               "human_decisions", "required_training", "appeals_and_review", "impact_assessment_name",
               "impact_assessment_description", "impact_assessment_date", "impact_assessment_link",
               "risk_name", "risk_description", "risk_mitigation")
"""The v2.1 data standard's attributes this reads (others in the file are read past)."""
CSV_REQUIRED = ("name", "description", "organisation")
PHASES = {"pre-deployment": "pre-deployment", "idea": "pre-deployment", "design": "pre-deployment",
          "development": "pre-deployment", "alpha": "pre-deployment", "beta": "beta-pilot", "pilot": "beta-pilot",
          "beta-pilot": "beta-pilot", "beta/pilot": "beta-pilot", "production": "production", "live": "production",
          "retired": "retired", "decommissioned": "retired"}
"""ATRS phases (and common words for them) as the model's."""
ANSWERS = {
    "name": ("name",),
    "purpose": ("description", "how and why"),
    "human_decisions": ("human decisions", "human review"),
    "appeals": ("appeal",),
    "risks": ("risks", "risk"),
    "impact_assessments": ("impact assessment",),
    "organisation": ("organisation", "department"),
    "phase": ("phase",),
    "third_party": ("third party", "external supplier"),
    "website": ("website",),
}
"""Which answer goes where: words in its heading (without its number), first match in this order."""
_NUMBERED = re.compile(r"^\s*(\d+(?:\.\d+)*)\s*[-–—.:]?\s*(.+?)\s*$")


class _Sections(HTMLParser):
    """The answers of a record's body: (number, heading) -> list of paragraphs and list items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, str, list[str]]] = []
        self._heading: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("h2", "h3", "h4", "h5"):
            self._flush()
            self._heading = []
        elif tag in ("p", "li", "br", "tr"):
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3", "h4", "h5") and self._heading is not None:
            text = " ".join("".join(self._heading).split())
            self._heading = None
            match = _NUMBERED.match(text)
            self.sections.append((match.group(1), match.group(2), []) if match else ("", text, []))
        elif tag in ("p", "li", "td", "tr"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        else:
            self._text.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if text and self.sections:
            self.sections[-1][2].append(text)


def body_answers(html: str) -> dict[str, list[str]]:
    """The answers in a record's body by :data:`ANSWERS` (a numbered heading each), as paragraphs.

    >>> body_answers("<h2>Tier 1</h2><h3>1 - Name</h3><p>Housing model</p><h3>3.6 - Appeals and review</h3>"
    ...              "<p>Ask for a review.</p><ul><li>By phone</li></ul>")
    {'name': ['Housing model'], 'appeals': ['Ask for a review.', 'By phone']}
    """
    parser = _Sections()
    parser.feed(html)
    parser.close()
    parser._flush()
    found: dict[str, list[str]] = {}
    for number, heading, paragraphs in parser.sections:
        if not number or not paragraphs:
            continue
        words = heading.lower()
        key = next((k for k, marks in ANSWERS.items() if any(m in words for m in marks)), None)
        if key and key not in found:
            found[key] = paragraphs
    return found


def _phase(text: Any) -> str | None:
    words = str(text or "").strip().lower().replace("_", "-")
    return PHASES.get(words) or next((v for k, v in PHASES.items() if k in words), None)


def _yes(text: str) -> bool:
    return text.strip().lower().startswith(("yes", "true", "y"))


def _slug(text: str) -> str:
    return (re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "tool")


def _record(answers: Mapping[str, Any], where: str, imported: Imported) -> dict[str, Any]:
    """An ``ai_tool`` record from what a record says (text values, risk and assessment lists)."""
    name = str(answers.get("name") or "").strip()
    record: dict[str, Any] = {"id": _slug(name), "kind": "ai_tool", "name": name[:500]}
    for attribute in ("organisation", "purpose", "human_decisions", "appeals"):
        if answers.get(attribute):
            record[attribute] = str(answers[attribute])[:10_000 if attribute != "organisation" else 500]
    if record.get("human_decisions"):
        record["human_review"] = True
    phase = _phase(answers.get("phase"))
    if phase:
        record["phase"] = phase
    elif answers.get("phase"):
        imported.notes.append(f"{where}: phase '{str(answers['phase'])[:50]}' is not one lineage knows "
                              f"(expected one of: {', '.join(sorted(set(PHASES.values())))}); left out")
    if answers.get("third_party") is not None:
        record["third_party"] = bool(answers["third_party"])
    for attribute in ("risks", "impact_assessments"):
        if answers.get(attribute):
            record[attribute] = [str(item)[:10_000] for item in answers[attribute]]
    if answers.get("link"):
        record["atrs_url"] = str(answers["link"])[:2000]
    if answers.get("atrs_version"):
        record["atrs_version"] = str(answers["atrs_version"])[:20]
    if answers.get("facets"):
        record["atrs"] = answers["facets"]
    return record


def content_item(document: Any, where: str, imported: Imported) -> None:
    """One GOV.UK content item (an ATRS record) into ``imported``."""
    if not isinstance(document, dict) or not isinstance(document.get("details"), dict):
        raise ValidationError(Problem(where, "expected a GOV.UK content item of an algorithmic transparency record "
                                             "(an object with details.body and details.metadata)"))
    details = document["details"]
    metadata = details.get("metadata") if isinstance(details.get("metadata"), dict) else {}
    facets = {}
    for facet in FACETS:
        value = metadata.get(PREFIX + facet, metadata.get(facet))
        if value not in (None, "", []):
            # GOV.UK lists a facet's values as slugs: kept as the words they stand for
            facets[facet] = ", ".join(str(v).replace("-", " ") for v in value) if isinstance(value, list) else value
    if not isinstance(details.get("body"), str):
        raise ValidationError(Problem(where, "expected the record's answers as HTML text", "details.body"))
    answers: dict[str, Any] = dict(body_answers(details["body"]))
    joined = {k: "\n\n".join(v) for k, v in answers.items() if k not in ("risks", "impact_assessments")}
    organisations = ((document.get("links") or {}).get("organisations") or [])
    organisation = (organisations[0].get("title") if organisations and isinstance(organisations[0], dict) else None) \
        or joined.get("organisation")
    if not organisation and facets.get("organisation"):
        organisation = str(facets["organisation"]).split(",")[0].title()
    name = (joined.get("name") or str(document.get("title") or "").split(":", 1)[-1]).strip()
    if not name:
        raise ValidationError(Problem(where, "the record has no name (tier 1, '1 - Name', or a title)", "details.body"))
    base = document.get("base_path")
    link = f"https://www.gov.uk{base}" if isinstance(base, str) and base.startswith("/") else document.get("web_url")
    version = facets.pop("atrs_version", None)
    values = {**joined, "name": name, "organisation": organisation, "risks": answers.get("risks"),
              "impact_assessments": answers.get("impact_assessments"), "link": link,
              "phase": facets.get("phase") or joined.get("phase"),
              "third_party": _yes(joined["third_party"]) if joined.get("third_party") else None,
              "atrs_version": version,
              "facets": {k: v for k, v in facets.items() if k not in ("organisation", "phase")}}
    imported.node(_record(values, where, imported), where)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def csv_records(text: str, source: str, imported: Imported) -> None:
    """The v2.1 CSV data standard: each row an ``ai_tool``."""
    reader = csv.DictReader(_io.StringIO(text, newline=""))
    header = {(name or "").strip().lower() for name in reader.fieldnames or ()}
    missing = [column for column in CSV_REQUIRED if column not in header]
    if missing:
        raise ValidationError(Problem(f"{source}: line 1", f"missing the column{'s' if len(missing) > 1 else ''} "
                                      f"{', '.join(missing)}; expected the ATRS v2.1 data standard's columns "
                                      f"({', '.join(CSV_COLUMNS[:8])} ...)"))
    problems = []
    for row in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        where = f"{source}: line {reader.line_num}"
        if not any(row.values()):
            continue
        for column in CSV_REQUIRED:
            if not row.get(column):
                problems.append(Problem(where, "required; the ATRS v2.1 standard asks for it", column))
        if any(p.where == where for p in problems):
            continue
        # Several risks or assessments: one per line, the nth line of each column together.
        risks = [" - ".join(part for part in parts if part) for parts in
                 zip_longest(*(_lines(row.get(c)) for c in ("risk_name", "risk_description", "risk_mitigation")))]
        assessments = [" - ".join(part for part in parts if part) for parts in
                       zip_longest(*(_lines(row.get(c)) for c in ("impact_assessment_name", "impact_assessment_date",
                                                                  "impact_assessment_description",
                                                                  "impact_assessment_link")))]
        facets = {k: row[k] for k in ("team", "senior_responsible_owner", "contact_email", "date_completion",
                                      "frequency_and_scale", "website") if row.get(k)}
        imported.node(_record({
            "name": row["name"], "organisation": row["organisation"], "purpose": row["description"],
            "human_decisions": row.get("human_decisions"), "appeals": row.get("appeals_and_review"),
            "phase": row.get("phase"), "risks": [r for r in risks if r], "impact_assessments": [a for a in assessments if a],
            "third_party": bool(row.get("external_supplier")) if "external_supplier" in row else None,
            # The data standard has no column for the record's own address: its website stands in.
            "link": next((row[c] for c in ("record_url", "website") if row.get(c, "").startswith(("http://", "https://"))),
                         None),
            "atrs_version": row.get("standard_version") or "2.1", "facets": facets}, where, imported), where)
    if problems:
        raise ValidationError(problems)


def read_records(files: Sequence[tuple[str, bytes]]) -> Imported:
    """ATRS records from files, as (name, content): ``.json`` content items (one, or a list), ``.csv``
    the v2.1 data standard."""
    name = ", ".join(Path(f).name for f, _ in files)[:200]
    imported = Imported("atrs", name)
    for filename, content in files:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(Problem(filename, f"is not UTF-8 text (byte {error.start})")) from None
        if filename.lower().endswith(".csv"):
            csv_records(text, filename, imported)
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            cut = " (the file looks cut short)" if error.pos >= len(text.rstrip()) else ""
            raise ValidationError(Problem(f"{filename}: line {error.lineno}, column {error.colno}",
                                          f"is not valid JSON{cut}; expected a GOV.UK content item of an "
                                          "algorithmic transparency record")) from None
        items = document if isinstance(document, list) else [document]
        for index, item in enumerate(items):
            content_item(item, f"{filename}: record {index + 1}" if isinstance(document, list) else filename, imported)
    imported.resolve = match_existing
    return imported


def read_files(paths: Sequence[str | Path]) -> Imported:
    """:func:`read_records` of files on disk (``lineage import-atrs``)."""
    return read_records([(str(p), Path(p).read_bytes()) for p in paths])


def match_existing(store: Store, imported: Imported) -> None:
    """Give each record the id of the AI tool it describes, if there is one: the same link, or the
    same name (ignoring case)."""
    by_link, by_name = {}, {}
    for tool in store.nodes(kind="ai_tool"):
        if tool.get("atrs_url"):
            by_link.setdefault(tool["atrs_url"].rstrip("/"), tool["id"])
        by_name.setdefault(tool["name"].strip().lower(), tool["id"])
    for record in imported.nodes:
        found = by_link.get(str(record.get("atrs_url", "")).rstrip("/")) or by_name.get(record["name"].strip().lower())
        if found:
            record["id"] = found


def looks_like(content: bytes, filename: str) -> bool:
    """Whether an uploaded file is an ATRS record (for the bulk page to tell it from native files)."""
    head = content[:4096].decode("utf-8", "replace").lower()
    if filename.lower().endswith(".csv"):
        # Nodes and edges CSVs always have a kind column; a file of tools without one is ATRS.
        columns = head.split("\n", 1)[0].replace(" ", "").replace('"', "").split(",")
        return "kind" not in columns and "name" in columns and any(c in columns for c in CSV_COLUMNS if c != "name")
    return "algorithmic_transparency_record" in head or PREFIX in head

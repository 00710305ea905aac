"""What templates use to say numbers, money, dates and kinds the way people do."""
from __future__ import annotations

from typing import Any

from flask import Flask

from lineage import model
from lineage import origin, words
from lineage.render import KEY
from lineage.describe import KIND_LABELS, about, money, number

from . import params
from .respond import node_url


def kind_label(kind: str, count: int = 1) -> str:
    singular, many = KIND_LABELS.get(kind, (kind, kind + "s"))
    return singular if count == 1 else many


def kind_plural(kind: str) -> str:
    return kind_label(kind, 2)


def when(stamp: str) -> str:
    """ "2026-11-22T15:55:34+00:00" -> "22 November 2026, 15:55" (UK time)."""
    return words.uk_time(stamp)


FLOW_WORDS = {"enters": "records entered", "supplies": "goes into", "derives": "goes into", "feeds": "goes into",
              "informs": "helps decide", "records_outcome": "results recorded in", "member_of": "member of",
              "part_of": "part of"}
"""How one thing leads to the next, in words (not the edge kinds)."""


def field_label(name: str) -> str:
    """An attribute's name as people read it ("atrs_url" -> "Algorithmic Transparency Recording Standard record")."""
    from .forms import LABELS  # forms import the app's widgets: only when a page needs a label
    extra = {"created": "Added", "updated": "Last changed", "ai_tools": "AI tools",
             # what the transparency-record importer keeps (lineage.io.atrs)
             "atrs": "About its transparency record", "atrs_version": "Transparency record version",
             "human_decisions": "How people make the decisions", "owner_text": "Owner (as the source names them)"}
    return LABELS.get(name) or extra.get(name) or name.replace("_", " ").capitalize()


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def quality_rows(quality: dict[str, Any]) -> list[tuple[str, float | None, str | None, str | None]]:
    """(dimension, score, rag, note) for each assessed dimension, in framework order."""
    return [(d, model.quality_score(quality[d]), model.quality_rag(quality[d]),
             quality[d].get("note") if isinstance(quality[d], dict) else None)
            for d in model.QUALITY_DIMENSIONS if d in quality]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(number=lambda value: number(value or 0), money=money, when=when,
                                 kind_label=kind_label, kind_plural=kind_plural, capitalize_first=capitalize_first,
                                 about=about, about_money=lambda value: about(value, as_money=True),
                                 day=words.uk_date, dimension_name=words.dimension_name,
                                 dimension_label=words.dimension_label, dimension_hint=words.dimension_hint, dimension_fix=words.dimension_fix,
                                 score_words=words.score_words, issue_text=words.issue_text,
                                 where_from=origin.describe)
    app.jinja_env.globals.update(node_url=node_url, quality_rows=quality_rows, max_depth=params.MAX_DEPTH,
                                 score_text=words.score_text, change_line=words.change_line,
                                 bands_explained=words.BANDS_EXPLAINED, flow_words=FLOW_WORDS,
                                 picture_key_items=KEY, field_label=field_label, trust_words={"green": "well", "amber": "only in part", "red": "poorly"})

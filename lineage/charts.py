"""Charts for people who would rather look than read: accessible SVG drawn on the server.

A :class:`Chart` is data first (categories, series, values): its :meth:`Chart.as_dict` is the
table twin a page shows beside the picture and a JSON twin returns, and :meth:`Chart.svg` draws
horizontal stacked bars. The SVG is one image to assistive technology (``role="img"``, labelled by
its ``<title>`` and by a ``<desc>`` holding the chart's summary in words); every bar segment has a
pattern as well as a colour and every bar a line of text with its figures, so nothing is said by
colour alone; every text is escaped; colours are presentation attributes, never ``style``, so the
app's Content Security Policy holds.

>>> chart = Chart("readiness", "AI readiness of systems", "2 of 3 critical systems are AI-ready.",
...               ["Critical systems", "Other systems"], [READY, NOT_READY], [[2, 1], [0, 4]], unit="systems")
>>> svg = chart.svg()
>>> svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" role="img"'), "<desc id=\\"readiness-desc\\">2 of 3" in svg
(True, True)
>>> chart.as_dict()["rows"][0]
{'category': 'Critical systems', 'values': {'ai_ready': 2, 'not_ready': 1}, 'total': 3}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .describe import number

WIDTH = 680
LABEL_WIDTH = 190
BAR_WIDTH = 380
ROW_HEIGHT = 58
BAR_HEIGHT = 22
LEGEND_HEIGHT = 40
TEXT = "#0b0c0c"
SECONDARY_TEXT = "#505a5f"
_ID = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Series:
    """One kind of bar segment: a key for data, a label for people, a fill colour and a pattern
    (``solid``, ``hatch`` or ``dots``) with the colour the pattern is drawn in."""

    key: str
    label: str
    colour: str
    pattern: str = "solid"
    ink: str = "#ffffff"


RED = Series("red", "Red", "#d4351c", "hatch", "#ffffff")
AMBER = Series("amber", "Amber", "#ffdd00", "dots", TEXT)
GREEN = Series("green", "Green", "#00703c", "solid")
UNKNOWN = Series("unknown", "Not assessed", "#b1b4b6", "dots", TEXT)
READY = Series("ai_ready", "AI-ready", "#1d70b8", "solid")
NOT_READY = Series("not_ready", "Not AI-ready", "#b1b4b6", "hatch", TEXT)


@dataclass
class Chart:
    """Horizontal stacked bars: one bar per category, one segment per series."""

    id: str
    title: str
    summary: str
    categories: list[str]
    series: list[Series]
    values: list[list[float]]
    unit: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"a chart id is lower-case letters, digits and '-', got {self.id!r}")
        if len(self.values) != len(self.categories) or any(len(row) != len(self.series) for row in self.values):
            raise ValueError("a chart needs one value per series for every category")

    def rows(self) -> list[dict[str, Any]]:
        return [{"category": category, "values": {s.key: value for s, value in zip(self.series, row)},
                 "total": sum(row)} for category, row in zip(self.categories, self.values)]

    def as_dict(self) -> dict[str, Any]:
        """The chart as data: what its table twin and a JSON twin show."""
        return {"id": self.id, "title": self.title, "summary": self.summary, "unit": self.unit,
                "series": [{"key": s.key, "label": s.label} for s in self.series], "rows": self.rows()}

    def svg(self) -> str:
        """The chart as an SVG document fragment, ready to sit inline in a page."""
        height = LEGEND_HEIGHT + ROW_HEIGHT * len(self.categories) + 8
        most = max((sum(row) for row in self.values), default=0) or 1
        parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="app-chart__svg" '
                  f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{self.id}-title {self.id}-desc" '
                  f'font-family="inherit" font-size="15">'),
                 f'<title id="{self.id}-title">{escape(self.title)}</title>',
                 f'<desc id="{self.id}-desc">{escape(self.summary)}</desc>', "<defs>"]
        for index, series in enumerate(self.series):
            parts.append(_pattern(f"{self.id}-p{index}", series))
        parts.append("</defs>")
        x = LABEL_WIDTH
        for index, series in enumerate(self.series):  # the legend: a swatch and a label per series
            parts.append(f'<rect x="{x}" y="8" width="18" height="18" fill="url(#{self.id}-p{index})" '
                         f'stroke="{TEXT}" stroke-width="1"/>')
            parts.append(f'<text x="{x + 24}" y="22" fill="{TEXT}">{escape(series.label)}</text>')
            x += 24 + 9 * len(series.label) + 24
        for row_index, (category, row) in enumerate(zip(self.categories, self.values)):
            y = LEGEND_HEIGHT + row_index * ROW_HEIGHT
            total = sum(row)
            parts.append(f'<text x="{LABEL_WIDTH - 10}" y="{y + BAR_HEIGHT - 6}" text-anchor="end" fill="{TEXT}">'
                         f'{escape(_clip(category))}</text>')
            left = float(LABEL_WIDTH)
            for index, (series, value) in enumerate(zip(self.series, row)):
                width = BAR_WIDTH * value / most
                if width > 0:
                    parts.append(f'<rect class="app-chart__segment" x="{left:.1f}" y="{y}" width="{width:.1f}" '
                                 f'height="{BAR_HEIGHT}" fill="url(#{self.id}-p{index})" stroke="{TEXT}" '
                                 f'stroke-width="0.5"><title>{escape(f"{category}, {series.label}: {number(value)}")}'
                                 f'</title></rect>')
                left += width
            parts.append(f'<text x="{left + 8:.1f}" y="{y + BAR_HEIGHT - 6}" fill="{TEXT}" font-weight="bold">'
                         f'{number(total)}</text>')
            figures = ", ".join(f"{s.label} {number(v)}" for s, v in zip(self.series, row))
            parts.append(f'<text x="{LABEL_WIDTH}" y="{y + BAR_HEIGHT + 20}" fill="{SECONDARY_TEXT}" font-size="14">'
                         f'{escape(figures)}</text>')
        parts.append("</svg>")
        return "".join(parts)


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _pattern(pattern_id: str, series: Series) -> str:
    """A fill that shows the series without its colour: solid, diagonal hatching or dots."""
    base = f'<rect width="8" height="8" fill="{series.colour}"/>'
    if series.pattern == "hatch":
        marks = f'<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="{series.ink}" stroke-width="1.5"/>'
    elif series.pattern == "dots":
        marks = f'<circle cx="4" cy="4" r="1.6" fill="{series.ink}"/>'
    else:
        marks = ""
    return (f'<pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f"{base}{marks}</pattern>")

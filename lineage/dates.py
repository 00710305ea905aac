"""Dates and sums of money as people type them, read into values, with messages that say how to
fix what could not be read (the GOV.UK Design System's words).

>>> read_date("3", "October", "2026")
datetime.date(2026, 10, 3)
>>> read_date("3 October 2026", "", "")
datetime.date(2026, 10, 3)
>>> read_date("31", "2", "2026")
Traceback (most recent call last):
...
ValueError: Enter a real date, like 3 10 2026
>>> read_money("£1.2m"), read_money("1,200,000"), read_money("£350k"), read_money("2.5 billion")
(1200000.0, 1200000.0, 350000.0, 2500000000.0)
"""
from __future__ import annotations

import re
from datetime import date as Date

MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")), start=1) for name in names}
EXAMPLE = "3 10 2026"
_MONEY = re.compile(r"^(?P<number>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>k|thousand|m|mn|million|bn|b|billion)?$")
_UNITS = {None: 1, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "b": 1e9, "billion": 1e9}


def _month(text: str) -> int | None:
    text = text.strip().lower().rstrip(".")
    if text.isdigit():
        return int(text)
    return MONTHS.get(text)


def read_date_text(text: str) -> Date:
    """One date written out: "3 October 2026", "3 Oct 2026", "03/10/2026", "2026-10-03"."""
    text = text.strip()
    try:
        return Date.fromisoformat(text)
    except ValueError:
        pass
    parts = [p for p in re.split(r"[\s/.,-]+", text) if p]
    if len(parts) != 3:
        raise ValueError(f"Enter the date as day, month and year, like {EXAMPLE} or 3 October 2026")
    return read_date(*parts)


def read_date(day: str, month: str, year: str) -> Date:
    """A date from the three boxes of a GOV.UK date input. The month may be a number or a name; the
    whole date may be typed into the first box. Raises ValueError saying what to fix."""
    day, month, year = (day or "").strip(), (month or "").strip(), (year or "").strip()
    if day and not month and not year and not day.isdigit():
        return read_date_text(day)
    missing = [name for name, value in (("day", day), ("month", month), ("year", year)) if not value]
    if missing:
        raise ValueError(f"The date must include a {' and a '.join(missing)}")
    number = _month(month)
    if not day.isdigit() or number is None or not year.isdigit():
        raise ValueError(f"Enter a real date, like {EXAMPLE}")
    if len(year) != 4:
        raise ValueError("Enter the year as 4 digits, like 2026")
    try:
        return Date(int(year), number, int(day))
    except ValueError:
        raise ValueError(f"Enter a real date, like {EXAMPLE}") from None


def read_money(text: str) -> float:
    """A sum of pounds as people write it: "£1.2m", "1,200,000", "£350k", "2.5 billion"."""
    cleaned = text.strip().lower().replace("£", "").replace("gbp", "").strip()
    found = _MONEY.match(cleaned)
    if not found:
        raise ValueError("Enter an amount in pounds, like £1.2m or 1,200,000")
    return float(found["number"].replace(",", "")) * _UNITS[found["unit"]]

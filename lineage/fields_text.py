"""Fields in plain words, for pages and the command line: names people read, not ids or paths.

>>> field_words("household_size"), field_words("address.postcode")
('household size', 'address postcode')
>>> share_words(0.0323), share_words(0.17), share_words(0.0004)
('3%', '17%', 'under 1%')
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .fields import DatasetField, EnteredField, FieldReach, RestingField

HOW = {"IDENTITY": "Copied from", "TRANSFORMATION": "Worked out from", "AGGREGATION": "Added up from",
       "FILTER": "Its rows are chosen by", "JOIN": "Its records are matched on", "GROUP_BY": "Grouped by",
       "SORT": "Ordered by", "WINDOW": "Worked out across records from", "CONDITIONAL": "Set by a rule from"}
"""OpenLineage's transformation subtypes, as the words before the inputs."""


def field_words(name: str) -> str:
    """A field's name as words: underscores and dots become spaces."""
    return " ".join(name.replace("_", " ").replace(".", " ").split())


def share_words(share: float) -> str:
    """A share (0..1) as a whole percentage; "under 1%" for a small share above nothing."""
    if 0 < share < 0.005:
        return "under 1%"
    return f"{round(share * 100):.0f}%"


def _names(ids: Sequence[str], names: Mapping[str, str]) -> list[str]:
    return [names.get(node_id, node_id) for node_id in ids]


def _listed(items: list[str], limit: int = 2) -> str:
    shown = items[:limit]
    more = len(items) - len(shown)
    text = " and ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + " and " + shown[-1]
    if more:
        text = ", ".join(shown) + f" and {more} more"
    return text


def ids_named(reach: FieldReach) -> set[str]:
    """Every node a sentence or a list of routes about ``reach`` may name (for one look-up of their
    names): not every decision a hub's field reaches, only those sentences name."""
    return {reach.start[0], *reach.decisions[:2], *reach.models, *(n for n, _ in reach.fields),
            *(n for route in reach.routes.values() for n, _ in route)}


def goes_to_words(reach: FieldReach, names: Mapping[str, str]) -> str:
    """Where a field goes, in one sentence.

    >>> from lineage.fields import FieldReach
    >>> r = FieldReach(("reg", "household_size"), [("model", "household size")], [], ["homes"],
    ...                {"model": ["household size"]}, {})
    >>> goes_to_words(r, {"model": "the prioritisation model", "homes": "Allocations"})
    'Feeds the prioritisation model (as household size) and reaches 1 decision: Allocations.'
    """
    parts = []
    if reach.models:
        models = [f"{names.get(m, m)} (as {_listed([field_words(f) for f in fs])})" for m, fs in reach.models.items()]
        parts.append("Feeds " + _listed(models))
    if reach.decisions:
        count = len(reach.decisions)
        decisions = _listed(_names(reach.decisions, names))
        parts.append(f"reaches {count} decision{'s' if count != 1 else ''}: {decisions}")
    if not parts:
        return "Reaches no decision." if not reach.fields else \
            f"Copied or worked into {len(reach.fields)} other field{'s' if len(reach.fields) != 1 else ''}; reaches no decision."
    text = " and ".join(parts)
    return text[0].upper() + text[1:] + "."


def comes_from_words(sources: list[dict[str, Any]], names: Mapping[str, str]) -> str:
    """Where a field comes from, in one sentence ("" when it names no inputs).

    >>> comes_from_words([{"node": "cms", "field": "date_of_birth", "subtype": "TRANSFORMATION", "masking": True},
    ...                   {"node": "cms", "field": "today"}], {"cms": "Case system"})
    'Worked out from date of birth and today in Case system (hidden on the way).'
    """
    if not sources:
        return ""
    how = HOW.get(sources[0].get("subtype", ""), "Made from")
    by_node: dict[str, list[str]] = {}
    for source in sources:
        words = field_words(source["field"])
        if words not in by_node.setdefault(source["node"], []):
            by_node[source["node"]].append(words)
    items = _listed([f"{_listed(fields, 3)} in {names.get(node, node)}" for node, fields in by_node.items()])
    masked = " (hidden on the way)" if any(s.get("masking") for s in sources) else ""
    return f"{how} {items}{masked}."


def ask_words(row: EnteredField, names: Mapping[str, str], such_as: str | None = None) -> str:
    """The ask for one field a person fills in: how often it is left blank, and what it feeds.

    ``such_as`` is a decision the first model it feeds informs (an id, :func:`lineage.fields.lead_decision`):
    the sentence then follows that line; without it, it counts the decisions reached.

    >>> from lineage.fields import EnteredField, FieldReach
    >>> r = FieldReach(("cms", "household_size"), [], [], ["grant", "homes"], {"model": ["household size"]}, {})
    >>> names = {"model": "the model that ranks who gets a home", "homes": "Allocations", "grant": "Grant bid"}
    >>> ask_words(EnteredField("cms", "household_size", 0.08, "your records", r), names, such_as="homes")
    '8% of your records leave household size blank; it feeds the model that ranks who gets a home, which informs Allocations.'
    >>> ask_words(EnteredField("cms", "household_size", 0.08, "all records", r), {"cms": "the case system"})
    '8% of all records in the case system leave household size blank; it reaches 2 decisions, such as grant.'
    """
    field = field_words(row.field)
    where = names.get(row.node, row.node)
    if row.missing is None:
        start = f"You fill in {field}"
    elif row.missing_from == "your records":
        start = f"{share_words(row.missing)} of your records leave {field} blank" if row.missing else \
            f"None of your records leave {field} blank"
    else:
        start = (f"{share_words(row.missing)} of all records in {where} leave {field} blank" if row.missing
                 else f"No records in {where} leave {field} blank")
    models, decisions = list(row.reach.models), row.reach.decisions
    if models and such_as:  # one real line, field -> model -> decision, as people say it
        return f"{start[0].upper() + start[1:]}; it feeds {names.get(models[0], models[0])}, which informs " \
               f"{names.get(such_as, such_as)}."
    named = names.get(decisions[0], decisions[0]) if decisions else ""
    reaches = f"reaches {len(decisions)} decisions, such as {named}" if len(decisions) > 1 else f"reaches {named}"
    return f"{start[0].upper() + start[1:]}; it {reaches}."


def rests_on_words(row: RestingField, names: Mapping[str, str]) -> str:
    """One field a decision rests on, in words.

    >>> rests_on_words(RestingField("cms", "household_size", 2, 1, 0.97), {"cms": "Case system"})
    'Household size in Case system (3% left blank)'
    """
    text = f"{field_words(row.field)} in {names.get(row.node, row.node)}"
    if row.completeness is not None:
        text += f" ({share_words(1 - row.completeness)} left blank)"
    return text[0].upper() + text[1:]


def node_fields_text(rows: list[DatasetField], names: Mapping[str, str]) -> str:
    """A node's fields and where each goes, one line each (for the command line)."""
    lines = []
    for row in rows:
        blank = f", {share_words(1 - row.completeness)} left blank" if row.completeness is not None else ""
        lines.append(f"{row.name}{' (' + row.type + blank + ')' if row.type else ''}: "
                     f"{comes_from_words(row.sources, names) + ' ' if row.sources else ''}"
                     f"{goes_to_words(row.reach, names)}")
    return "\n".join(lines) or "No fields are recorded."

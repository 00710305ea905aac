"""``lineage fields``: field-level lineage at the command line (thin over :mod:`lineage.fields`)."""
from __future__ import annotations

from collections.abc import Iterable

import click

from . import fields as lf
from . import fields_text
from .graph import LineageGraph


def _graph(ctx: click.Context) -> LineageGraph:
    from .cli import _graph  # the command line's own helpers; imported late, as cli imports this module

    return _graph(ctx)


def _print_json(value: object) -> None:
    from .cli import _print_json

    _print_json(value)


def _names(g: LineageGraph, ids: Iterable[str]) -> dict[str, str]:
    wanted = {i for i in ids if i in g}
    return {node_id: record["name"] for node_id, record in g.records(wanted).items()}


@click.group("fields")
def fields_group() -> None:
    """Fields (columns) and where each goes: from the form a person fills in to the decisions.

    \b
    Examples:
        lineage fields list housing-register
        lineage fields downstream housing-cms household_size
        lineage fields upstream housing-need-model "household size"
        lineage fields decision social-housing-allocations
        lineage fields person officer-ali
    """


@fields_group.command("list")
@click.argument("node")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
@click.pass_context
def list_command(ctx: click.Context, node: str, as_json: bool) -> None:
    """A node's fields, each with where it comes from and where it goes."""
    g = _graph(ctx)
    rows = lf.node_fields(g, node)
    if as_json:
        _print_json([row.as_dict() for row in rows])
        return
    names = _names(g, {i for row in rows for i in fields_text.ids_named(row.reach)} |
                   {s["node"] for row in rows for s in row.sources})
    click.echo(fields_text.node_fields_text(rows, names))


def _reach_command(ctx: click.Context, node: str, field: str, as_json: bool, upstream: bool) -> None:
    g = _graph(ctx)
    reach = (lf.field_upstream if upstream else lf.field_downstream)(g, node, field)
    if as_json:
        _print_json(reach.as_dict())
        return
    names = _names(g, fields_text.ids_named(reach))
    for node_id, name in reach.fields:
        click.echo(f"{names.get(node_id, node_id)}: {name}")
    if not upstream:
        click.echo(fields_text.goes_to_words(reach, names))
    elif not reach.fields:
        click.echo("It names no fields it comes from.")
    if reach.truncated:
        click.echo(f"Stopped after {lf.MAX_STATES:,} steps; there is more.", err=True)


@fields_group.command("downstream")
@click.argument("node")
@click.argument("field")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def downstream_command(ctx: click.Context, node: str, field: str, as_json: bool) -> None:
    """Where a field goes: the fields made from it, the models that take it, the decisions it reaches."""
    _reach_command(ctx, node, field, as_json, upstream=False)


@fields_group.command("upstream")
@click.argument("node")
@click.argument("field")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def upstream_command(ctx: click.Context, node: str, field: str, as_json: bool) -> None:
    """Where a field comes from: every field it is made from, nearest first."""
    _reach_command(ctx, node, field, as_json, upstream=True)


@fields_group.command("decision")
@click.argument("decision")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Fields to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
@click.pass_context
def decision_command(ctx: click.Context, decision: str, limit: int, as_json: bool) -> None:
    """The fields a decision rests on most."""
    g = _graph(ctx)
    rows = lf.decision_fields(g, decision, limit=limit)
    if as_json:
        _print_json([row.as_dict() for row in rows])
        return
    names = _names(g, {row.node for row in rows})
    for row in rows:
        click.echo(f"{fields_text.rests_on_words(row, names)}: reaches {row.routes} of its inputs")
    if not rows:
        click.echo("No fields are recorded on the data it rests on.")


@fields_group.command("person")
@click.argument("person")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
@click.pass_context
def person_command(ctx: click.Context, person: str, as_json: bool) -> None:
    """The fields a person fills in that reach decisions, with how often each is left blank."""
    g = _graph(ctx)
    from .cli import _store

    rows = lf.person_fields(g, person, _store(ctx).edge)
    if as_json:
        _print_json([row.as_dict() for row in rows])
        return
    names = _names(g, {i for row in rows for i in fields_text.ids_named(row.reach)})
    for row in rows:
        click.echo(fields_text.ask_words(row, names, lf.lead_decision(g, row.reach)))
    if not rows:
        click.echo("None of the fields this person fills in is recorded as reaching a decision.")

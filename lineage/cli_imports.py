"""``lineage import-dbt``, ``import-sql``, ``import-atrs``, ``sources`` and ``remove-source``: thin over
:mod:`lineage.importers` and :mod:`lineage.origin`.

Every import is shown as what it would add and change (``--dry-run`` stops there), then applied as
one change in the history, which ``lineage`` can undo like any other.
"""
from __future__ import annotations

import click

from . import importers, origin
from .changeset import Changeset, apply_changeset, preview
from .cli import ACTOR, _print_json, _store, refresh_leader_views
from .io import atrs, dbt, sql


def _report(changes: Changeset, dry_run: bool, summary: str, ctx: click.Context, as_json: bool) -> None:
    """Print what a changeset does (its notes on stderr), then apply it unless ``dry_run``."""
    store = _store(ctx, create=True)
    shown = preview(store, changes)
    counts = shown.counts()
    result = {"counts": counts, "unchanged": shown.unchanged, "notes": changes.notes, "applied": False,
              "change": None}
    for note in changes.notes:
        click.echo(f"Note: {note}", err=True)
    if not dry_run and not shown.empty:
        result["change"] = apply_changeset(store, changes, actor=ACTOR, summary=summary[:500])
        result["applied"] = True
    if as_json:
        _print_json(result)
    else:
        what = "; ".join(f"{counts[f'{entity}s_{how}']:,} {entity}s {how}" for entity in ("node", "edge")
                         for how in ("added", "changed", "removed") if counts[f"{entity}s_{how}"] or how != "removed")
        what += f"; {shown.unchanged:,} unchanged"
        if result["applied"]:
            click.echo(f"Changed: {what}; change {result['change']} (undo it in the web app's history).")
        else:
            click.echo(f"{'Would change' if dry_run else 'Nothing to change'}: {what}.")
    if result["applied"]:
        refresh_leader_views(store)


def _imported(imported: importers.Imported) -> str:
    """The change's summary in the history, in words ("Imported the dbt project housing_warehouse")."""
    return f"Imported {origin.describe(importers.source_stub(imported))}"


_DRY_RUN = click.option("--dry-run", is_flag=True, help="Show what would change, and change nothing.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.command("import-dbt")
@click.argument("target", type=click.Path(exists=True))
@_DRY_RUN
@_JSON
@click.pass_context
def import_dbt(ctx: click.Context, target: str, dry_run: bool, as_json: bool) -> None:
    """Import a dbt project's artefacts: TARGET is its target/ folder (or a zip of it).

    Reads manifest.json (sources, seeds, snapshots and models become datasets, depends_on their
    lineage, exposures processes, AI tools or decisions), catalog.json (columns as fields),
    run_results.json and sources.json (tests and freshness as quality). Importing the same
    artefacts again changes nothing; a model gone from the project is reported, not deleted.

    \b
    Example:
        lineage import-dbt jaffle_shop/target/
    """
    imported = dbt.read_target(target)
    _report(importers.changeset(_store(ctx, create=True), imported, target), dry_run,
            _imported(imported), ctx, as_json)


@click.command("import-sql")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dialect", default=None, help="The SQL dialect (postgres, snowflake, bigquery, tsql, ...); "
                                              "sqlglot's generic SQL when not given.")
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False),
              help="A JSON file of tables and their columns, {\"staging.orders\": {\"id\": \"int\"}}, to "
                   "resolve SELECT *.")
@_DRY_RUN
@_JSON
@click.pass_context
def import_sql(ctx: click.Context, files: tuple[str, ...], dialect: str | None, schema_file: str | None,
               dry_run: bool, as_json: bool) -> None:
    """Import table and column lineage from SQL: CREATE VIEW, CREATE TABLE AS, INSERT ... SELECT, MERGE.

    Statements that cannot be read are listed with their file and line.

    \b
    Example:
        lineage import-sql warehouse/*.sql --dialect postgres --schema schema.json
    """
    imported = sql.read_sql_files(list(files), dialect=dialect, schema_path=schema_file)
    _report(importers.changeset(_store(ctx, create=True), imported, imported.name), dry_run,
            _imported(imported), ctx, as_json)


@click.command("import-atrs")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@_DRY_RUN
@_JSON
@click.pass_context
def import_atrs(ctx: click.Context, files: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Import Algorithmic Transparency Recording Standard records as AI tools.

    FILES are GOV.UK content items (.json) or the v2.1 CSV data standard (.csv). A record updates
    the AI tool with the same link or name, or adds one.

    \b
    Example:
        lineage import-atrs housing-prioritisation-model.json atrs-records.csv
    """
    imported = atrs.read_files(list(files))
    _report(importers.changeset(_store(ctx, create=True), imported, imported.name), dry_run,
            _imported(imported), ctx, as_json)


@click.command("sources")
@_JSON
@click.pass_context
def sources_command(ctx: click.Context, as_json: bool) -> None:
    """List where the nodes and edges came from: each source, and how many it added.

    \b
    Example:
        lineage sources
    """
    found = origin.sources(_store(ctx, create=True))
    if as_json:
        _print_json(found)
        return
    for item in found:
        click.echo(f"{item['key']}\t{item['nodes']:,} nodes, {item['edges']:,} edges\t{item['words']}")
    click.echo(f"{len(found)} source{'s' if len(found) != 1 else ''}.", err=True)


@click.command("remove-source")
@click.argument("source")
@_DRY_RUN
@_JSON
@click.pass_context
def remove_source(ctx: click.Context, source: str, dry_run: bool, as_json: bool) -> None:
    """Remove everything one SOURCE added (TYPE:NAME, as `lineage sources` lists), as one change.

    Edges drawn by hand to what it added go too (a node's edges go with it); the numbers say
    how many. Undo it in the web app's history.

    \b
    Example:
        lineage remove-source dbt:jaffle_shop --dry-run
    """
    store = _store(ctx)
    words = origin.describe(dict(zip(("type", "name"), origin.parse_key(source))))
    _report(origin.removal(store, source), dry_run, f"Removed everything that came from {words}", ctx, as_json)


COMMANDS = (import_dbt, import_sql, import_atrs, sources_command, remove_source)

"""The ``lineage`` command: a thin shell over the library, one library call per command.

Every library error becomes one clear line on stderr and exit code 1, in one place
(:class:`LineageGroup`).
"""
from __future__ import annotations

import json
import re
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import __version__, accounts, checks, describe, io, loop, materialised, render, select
from .confidence import path_to_green
from .errors import LineageError, ValidationError
from .io import openlineage, openlineage_kept
from .graph import DIRECTIONS, MAX_DEPTH, LineageGraph, impact, provenance, single_points_of_failure
from .policy import ROLES
from .loop import FLAG_STATUSES
from .store import Store, storage_error

DEFAULT_DB = "instance/lineage.db"
ACTOR = os.environ.get("USER", "cli")


class LineageGroup(click.Group):
    """Turns the library's typed errors (and unreadable files) into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ValidationError as error:
            more = error.problems[1:]
            detail = "".join(f"\n  {problem}" for problem in more)
            raise click.ClickException(f"{error.problems[0]}{detail}" if error.problems else str(error)) from None
        except LineageError as error:
            raise click.ClickException(str(error)) from None
        except sqlite3.Error as error:
            where = ctx.obj["db"] if ctx.obj else "the database"
            named = storage_error(error, where)  # disk full, read-only, busy: said plainly
            raise click.ClickException(str(named) if named else f"{where}: {error}") from None
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise click.ClickException(f"{where}{error.strerror or error}") from None


def _store(ctx: click.Context, *, create: bool = False) -> Store:
    return Store(ctx.obj["db"], create=create)


def _graph(ctx: click.Context) -> LineageGraph:
    return LineageGraph.from_store(_store(ctx))


def _progress(message: str) -> None:
    """A note on long work, for people watching a terminal (not for pipes, logs or tests)."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


_TERMINAL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal would act on rather than show (escape sequences, line breaks, bidirectional
overrides): names are user data, and an OpenLineage producer may send any of these."""


def _row(*values: Any) -> str:
    """One line of tab-separated values, with control characters in them shown escaped (``\\n``,
    ``\\x1b``), so that a name can neither break the line nor drive the terminal."""
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char) or (
            f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
    return "\t".join(_TERMINAL_CONTROLS.sub(escape, str(value)) for value in values)


@click.group(cls=LineageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="LINEAGE_DB", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
              help="The SQLite database (or set LINEAGE_DB).")
@click.version_option(__version__, prog_name="lineage")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """Map how the records people enter flow into datasets, AI tools and decisions.

    \b
    Example:
        lineage load sample_graphs/council_housing.json
        lineage impact officer-ali
    """
    ctx.obj = {"db": db}


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create an empty lineage database (does nothing to one that exists).

    \b
    Example:
        lineage --db instance/lineage.db init
    """
    store = _store(ctx, create=True)
    click.echo(f"Lineage database ready at {store.path} (graph version {store.version}).")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def load(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Load native JSON graphs (all files, or nothing on any error).

    Nodes and edges that exist already are replaced; loading the same file twice changes
    nothing the second time.

    \b
    Example:
        lineage load sample_graphs/council_housing.json sample_graphs/nhs_trust.json
    """
    store = _store(ctx, create=True)
    started = time.perf_counter()
    _progress(f"Reading and checking {len(files)} file{'s' if len(files) != 1 else ''} ...")
    data = io.read_files(list(files), store)
    _progress(f"Checked {len(data.nodes):,} nodes and {len(data.edges):,} edges in "
              f"{time.perf_counter() - started:.1f} s; writing ...")
    summary = store.load(data, actor=ACTOR, summary=f"load {', '.join(Path(f).name for f in files)}")
    click.echo(f"Loaded {len(files)} file{'s' if len(files) != 1 else ''}: {summary} "
               f"({time.perf_counter() - started:.1f} s).")
    refresh_leader_views(store)


def refresh_leader_views(store: Store) -> None:
    """Materialise the leader views (insights, decisions table) at the version just written;
    call after any command that writes the graph."""
    _progress("Refreshing the leader views ...")
    summary = materialised.refresh(store, LineageGraph.from_store(store))
    if summary is not None:
        click.echo(str(summary)[:1].upper() + str(summary)[1:] + ".")


@cli.command("import-csv")
@click.argument("nodes_csv", type=click.Path(exists=True, dir_okay=False))
@click.argument("edges_csv", type=click.Path(exists=True, dir_okay=False), required=False)
@click.pass_context
def import_csv(ctx: click.Context, nodes_csv: str, edges_csv: str | None) -> None:
    """Import nodes.csv (and edges.csv), all or nothing.

    nodes.csv has the columns id, kind, name, then attributes (quality as quality.completeness
    and so on); edges.csv has source, target, kind, then attributes.

    \b
    Example:
        lineage import-csv nodes.csv edges.csv
    """
    store = _store(ctx, create=True)
    data = io.read_csv(nodes_csv, edges_csv, existing_kinds=store.kinds_of)
    summary = store.load(data, actor=ACTOR, summary=f"import {Path(nodes_csv).name}"
                                                    + (f", {Path(edges_csv).name}" if edges_csv else ""))
    click.echo(f"Imported: {summary}.")
    refresh_leader_views(store)


@cli.command("import-openlineage")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--owners", type=click.Path(exists=True, dir_okay=False),
              help="Map owner names in ownership facets to people or teams: a CSV with the columns owner "
                   "and node, or a JSON object {\"user:jdoe\": \"owner-jo\"}.")
@click.pass_context
def import_openlineage(ctx: click.Context, files: tuple[str, ...], owners: str | None) -> None:
    """Import OpenLineage events (RunEvent, JobEvent, DatasetEvent), all files or nothing.

    Each file holds a JSON array of events, one event, or one event per line (NDJSON). Jobs become
    processes (AI tools when tagged ai_tool), datasets datasets; inputs feed the job, the job
    derives its outputs. The same events twice change nothing; their order does not matter.

    \b
    Examples:
        lineage import-openlineage events.ndjson
        lineage import-openlineage --owners owners.csv airflow/*.json
    """
    _progress(f"Reading {len(files)} file{'s' if len(files) != 1 else ''} of OpenLineage events ...")
    started = time.perf_counter()
    store = _store(ctx, create=True)
    result = openlineage.import_files(store, list(files), actor=ACTOR, owners_file=owners)
    click.echo(f"Imported {result} ({time.perf_counter() - started:.1f} s).")
    refresh_leader_views(store)


@cli.command("rederive-openlineage")
@click.option("--owners", type=click.Path(exists=True, dir_okay=False),
              help="Map owner names in ownership facets to people or teams (as import-openlineage).")
@click.pass_context
def rederive_openlineage(ctx: click.Context, owners: str | None) -> None:
    """Read the kept OpenLineage events again, with what this version reads in them.

    Every accepted event is kept as it came (LINEAGE_OPENLINEAGE_KEEP_EVENTS and
    LINEAGE_OPENLINEAGE_KEEP_BYTES bound how many; the oldest go first). After an upgrade, this
    adds what an older version read past; what it had read already changes nothing.

    \b
    Example:
        lineage rederive-openlineage
    """
    store = _store(ctx)
    mapping = openlineage.read_owner_map(owners, store) if owners else None
    count, size = openlineage_kept.kept_count(store)
    _progress(f"Reading {count:,} kept events ({size / 2**20:.1f} MiB) ...")
    result = openlineage_kept.rederive(store, actor=ACTOR, owners=openlineage.Owners(store, mapping))
    click.echo(f"Re-derived {result}.")
    refresh_leader_views(store)


@cli.command()
@click.option("--format", "format_", type=click.Choice(io.EXPORT_FORMATS), default="json", show_default=True,
              help="json: one native file; csv: a folder with nodes.csv and edges.csv; graphml: for Gephi, "
                   "yEd, networkx; dot: for Graphviz; prov-json: W3C PROV.")
@click.argument("path", type=click.Path())
@click.pass_context
def export(ctx: click.Context, format_: str, path: str) -> None:
    """Export the whole graph to PATH (- for standard output, except csv).

    \b
    Examples:
        lineage export estate.json
        lineage export --format csv estate-csv/
        lineage export --format graphml estate.graphml
        lineage export --format dot - | dot -Tsvg -o estate.svg
        lineage export --format prov-json estate.prov.json
    """
    if path == "-" and format_ == "csv":
        raise click.UsageError("csv writes a folder of two files; give a folder, not -")
    written = io.export(_store(ctx), format_, path)
    if written:
        click.echo("Wrote " + ", ".join(str(p) for p in written))


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """List problems: errors first, then warnings. Exit code 1 when there are errors.

    With FILES, checks those native JSON files (without loading them); otherwise the database.

    \b
    Examples:
        lineage check
        lineage check sample_graphs/council_housing.json
    """
    if files:
        try:
            data = io.read_files(list(files))
        except ValidationError as error:
            findings = checks.findings_from_validation(error)
        else:
            findings = checks.check_graph(LineageGraph.from_records(data.nodes, data.edges))
    else:
        findings = checks.check_graph(_graph(ctx))
    errors = sum(f.severity == "error" for f in findings)
    if as_json:
        _print_json({"errors": errors, "warnings": len(findings) - errors,
                     "findings": [f.as_dict() for f in findings]})
    else:
        for finding in findings:
            click.echo(str(finding))
        click.echo(f"{errors} error{'s' if errors != 1 else ''}, {len(findings) - errors} "
                   f"warning{'s' if len(findings) - errors != 1 else ''}.")
    if errors:
        ctx.exit(1)


@cli.command("impact")
@click.argument("subject")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000),
              help="Decisions to describe in detail (totals always count all).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def impact_command(ctx: click.Context, subject: str, limit: int, as_json: bool) -> None:
    """What a person's (or a team's) records feed: decisions, paths, people, £ and AI tools.

    \b
    Example:
        lineage impact officer-ali
    """
    g = _graph(ctx)
    result = impact(g, subject, limit=limit)
    if as_json:
        _print_json(result.as_dict())
    else:
        click.echo(describe.impact_text(g, result))


@cli.command("provenance")
@click.argument("decision")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="Nodes listed per kind (counts always count all).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def provenance_command(ctx: click.Context, decision: str, limit: int, as_json: bool) -> None:
    """Everything a decision rests on: by kind, teams counted, data confidence, single points of failure.

    \b
    Example:
        lineage provenance social-housing-allocations
    """
    g = _graph(ctx)
    result = provenance(g, decision, limit=limit)
    failures = single_points_of_failure(g, decision)
    if as_json:
        _print_json({**result.as_dict(), "single_points_of_failure": failures})
    else:
        click.echo(describe.provenance_text(g, result, failures))


@cli.command("path-to-green")
@click.argument("decision")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def path_to_green_command(ctx: click.Context, decision: str, as_json: bool) -> None:
    """The smallest set of quality fixes that moves a red or amber decision up a band, and to green.

    Each fix names the dataset's owner, the open flags on it and the other decisions it helps.

    \b
    Example:
        lineage path-to-green social-housing-allocations
        lineage path-to-green --json prevention-grant-bid
    """
    store = _store(ctx)
    plan = path_to_green(_graph(ctx), decision, open_flags=lambda ids: loop.open_flags_on(store, ids))
    if as_json:
        _print_json(plan.as_dict())
    else:
        click.echo(describe.path_to_green_text(plan))


@cli.command()
@click.argument("selector", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the nodes as JSON.")
@click.pass_context
def show(ctx: click.Context, selector: tuple[str, ...], as_json: bool) -> None:
    """List the nodes a selector picks.

    \b
    Selectors (dbt style):
        housing-register+      the node and everything downstream
        2+allocations          the node and two levels upstream
        +model+                both ways
        kind:ai_tool           every AI tool (also owner:ID, tag:TAG, organisation:NAME)
        a b                    union (space); a,b: intersection (comma)
    \b
    Example:
        lineage show "housing-register+ kind:ai_tool"
    """
    g = _graph(ctx)
    ids = select.evaluate(g, " ".join(selector))
    records = g.records(ids)
    rows = [{"id": i, "kind": records[i]["kind"], "name": records[i]["name"]} for i in ids]
    if as_json:
        _print_json({"count": len(rows), "nodes": rows})
        return
    for row in rows:
        click.echo(_row(row["id"], row["kind"], row["name"]))
    click.echo(f"{len(rows)} node{'s' if len(rows) != 1 else ''}.", err=True)


@cli.command()
@click.argument("selector", nargs=-1, required=True)
@click.option("--depth", default=2, show_default=True, type=click.IntRange(0, MAX_DEPTH),
              help="Steps from the focus to draw.")
@click.option("--direction", type=click.Choice(DIRECTIONS), default="both", show_default=True)
@click.option("--max-nodes", default=render.MAX_NODES, show_default=True,
              type=click.IntRange(render.MIN_NODES, 10_000),
              help="Boxes at most; beyond, siblings collapse into '+ N more' groups.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the picture: .svg, .png or .dot (without it, print the text description).")
@click.pass_context
def draw(ctx: click.Context, selector: tuple[str, ...], depth: int, direction: str, max_nodes: int,
         output: str | None) -> None:
    """Draw the lineage around the nodes a selector picks (or describe it in words).

    \b
    Examples:
        lineage draw officer-ali --depth 6 --direction downstream -o ali.svg
        lineage draw social-housing-allocations --direction upstream
    """
    g = _graph(ctx)
    focus = select.evaluate(g, " ".join(selector))
    if not focus:
        raise click.ClickException(f"the selector '{' '.join(selector)}' picks no nodes")
    picture = render.view(g, focus, depth=depth, direction=direction, max_nodes=max_nodes)
    if output is None:
        click.echo(describe.view_text(g, picture))
        return
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in render.FORMATS:
        raise click.ClickException(f"{output}: the picture format comes from the file name; "
                                   f"expected .{', .'.join(render.FORMATS)}")
    Path(output).write_bytes(render.render(render.to_dot(picture), suffix))
    folded = f", {picture.hidden} more folded into groups" if picture.hidden else ""
    click.echo(f"Drew {len(picture.nodes)} boxes and {len(picture.edges)} arrows{folded} to {output}.")


@cli.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@click.pass_context
def search(ctx: click.Context, text: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Full-text search over names and descriptions (words match as prefixes).

    \b
    Example:
        lineage search housing register
    """
    matches = _store(ctx).search(" ".join(text), limit=limit)
    if as_json:
        _print_json({"count": len(matches), "results": matches})
        return
    for match in matches:
        click.echo(_row(match["id"], match["kind"], match["name"]))
    if not matches:
        click.echo("No matches.", err=True)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def backup(ctx: click.Context, path: str) -> None:
    """Copy the database with SQLite's online backup (safe while the app runs).

    \b
    Example:
        lineage backup backups/lineage-2026-11-22.db
    """
    _store(ctx).backup(path)
    click.echo(f"Backed up to {path}.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="0 picks a free port (printed when the app is served).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Serve the web app with waitress (a production WSGI server).

    \b
    Example:
        PORT=8080 lineage serve
    """
    import waitress

    from web import create_app
    from web.db import get_graph

    app = create_app({"LINEAGE_DB": ctx.obj["db"]})
    started = time.perf_counter()
    with app.app_context():  # the first visitor should not wait for the query engine
        nodes = len(get_graph())
    click.echo(f"Query engine ready: {nodes:,} nodes in {time.perf_counter() - started:.1f} s")
    server = waitress.create_server(app, host=host, port=port, threads=threads)
    # Printed once the socket listens, so a supervisor (or a test) can wait for this line.
    click.echo(f"Serving lineage on http://{host}:{server.effective_port}/ (database {ctx.obj['db']})")
    server.run()


# -- accounts ---------------------------------------------------------------------------------


def _accounts(ctx: click.Context) -> accounts.Accounts:
    return accounts.Accounts(_store(ctx))


def _new_password(password_file: str | None) -> str:
    """A password from a file (for scripts; first line) or typed twice at a hidden prompt."""
    if password_file:
        return Path(password_file).read_text("utf-8").splitlines()[0] if Path(password_file).stat().st_size else ""
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.group()
def user() -> None:
    """Manage accounts: who can sign in, their role, and the person they are in the graph.

    \b
    Roles: contributor (their own impact), owner (edits what they own),
    leader (reads everything), admin (everything, and accounts).

    \b
    Example:
        lineage user add jo --role owner --person owner-jo
        lineage user token jo --label airflow
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--person", help="The person node this account is (its id).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False),
              help="Read the password from this file instead of asking for it.")
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, person: str | None, password_file: str | None) -> None:
    """Add an account.

    \b
    Example:
        lineage user add jo --role owner --person owner-jo
    """
    added = _accounts(ctx).add(name, _new_password(password_file), role=role, person=person, actor=ACTOR)
    click.echo(f"Added {added['name']} ({added['role']}{', ' + added['person'] if added['person'] else ''}).")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List the accounts."""
    found = _accounts(ctx).list()
    if as_json:
        _print_json(found)
        return
    for account in found:
        click.echo(f"{account['name']:<20} {account['role']:<12} {account['person'] or '-'}"
                   f"{'  (disabled)' if account.get('disabled') else ''}")
    if not found:
        click.echo("No accounts: anyone can read and nobody can edit. Add one with 'lineage user add'.")


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def user_set_role(ctx: click.Context, name: str, role: str) -> None:
    """Change an account's role.  Example: lineage user set-role jo leader"""
    _accounts(ctx).set_role(name, role, actor=ACTOR)
    click.echo(f"{name} is now a {role}.")


@user.command("link-person")
@click.argument("name")
@click.argument("person")
@click.pass_context
def user_link_person(ctx: click.Context, name: str, person: str) -> None:
    """Link an account to the person node it is.  Example: lineage user link-person ali officer-ali"""
    _accounts(ctx).link_person(name, person, actor=ACTOR)
    click.echo(f"{name} is {person} in the graph.")


@user.command("password")
@click.argument("name")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def user_password(ctx: click.Context, name: str, password_file: str | None) -> None:
    """Set an account's password."""
    _accounts(ctx).set_password(name, _new_password(password_file), actor=ACTOR)
    click.echo(f"Password changed for {name}.")


@user.command("remove")
@click.argument("name")
@click.pass_context
def user_remove(ctx: click.Context, name: str) -> None:
    """Remove an account and its API tokens."""
    _accounts(ctx).remove(name, actor=ACTOR)
    click.echo(f"Removed {name}.")


@user.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Disable an account: it cannot sign in and its API tokens stop working (enable it again with
    'lineage user enable').  Example: lineage user disable jo"""
    _accounts(ctx).set_disabled(name, True, actor=ACTOR)
    click.echo(f"{name} is disabled.")


@user.command("enable")
@click.argument("name")
@click.pass_context
def user_enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled account again.  Example: lineage user enable jo"""
    _accounts(ctx).set_disabled(name, False, actor=ACTOR)
    click.echo(f"{name} is enabled.")


@user.command("password-link")
@click.argument("name")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True, help="Where the app is served.")
@click.pass_context
def user_password_link(ctx: click.Context, name: str, base_url: str) -> None:
    """Make a one-time link with which the account's person sets their own password (printed once;
    it works for 72 hours).  Example: lineage user password-link jo --base-url https://lineage.example.gov.uk"""
    secret = _accounts(ctx).new_password_link(name, actor=ACTOR)
    click.echo(f"{base_url.rstrip('/')}/set-password/{secret}")


@user.command("token")
@click.argument("name")
@click.option("--label", default="API token", show_default=True, help="What the token is for.")
@click.option("--expires-in", "expires_in", type=click.IntRange(1, accounts.MAX_TOKEN_DAYS), metavar="DAYS",
              help="Stop the token working after this many days (default: it works until revoked).")
@click.pass_context
def user_token(ctx: click.Context, name: str, label: str, expires_in: int | None) -> None:
    """Make an API token for an account (printed once; send it as 'Authorization: Bearer TOKEN').

    \b
    Example:
        lineage user token jo --label airflow --expires-in 90
    """
    click.echo(_accounts(ctx).new_token(name, label, actor=ACTOR, expires_in=expires_in))


@user.command("demo")
@click.pass_context
def user_demo(ctx: click.Context) -> None:
    """Create the demo accounts (one per role, on the sample graphs) and print them."""
    click.echo("Demo accounts (for trying lineage out; never on a real deployment):")
    for account in accounts.ensure_demo_accounts(_accounts(ctx), actor=ACTOR):
        person = f" as {account['person']}" if account["person"] else ""
        click.echo(f"  {account['role']:<12} {account['name']:<6} password {account['password']}{person}")


# -- closing the loop: outcome updates, flags, digests ----------------------------------------


@cli.command("digest")
@click.option("--since", required=True, help="What is new after this date (2026-10-01) or date and time.")
@click.option("--send", is_flag=True, help="Email each digest (LINEAGE_SMTP_HOST), or write it to the outbox.")
@click.option("--person", help="Only this person's digest (a person id or an account name).")
@click.pass_context
def digest_command(ctx: click.Context, since: str, send: bool, person: str | None) -> None:
    """What is new for each contributor: outcome updates their records reach, answers to their flags
    and, for owners, new flags on their data.

    Without --send, print the digests. With --send, email each to the person's contact over the
    SMTP server in LINEAGE_SMTP_HOST (see LINEAGE_SMTP_PORT, _USER, _PASSWORD, _FROM, _STARTTLS);
    with no server configured, write .eml files to LINEAGE_OUTBOX (default: outbox beside the
    database).

    \b
    Example:
        lineage digest --since 2026-10-01
        lineage digest --since 2026-10-01 --send
    """
    from . import digest as digests

    store = _store(ctx)
    g = LineageGraph.from_store(store)
    if send:
        click.echo(str(digests.send_digests(store, g, since, person=person)))
        return
    found = [digests.digest_for(g, store, person, since)] if person else digests.digests(g, store, since)
    for number, one in enumerate(found):
        subject, body = digests.render_text(one)
        click.echo(("\n" + "=" * 72 + "\n" if number else "") +
                   f"To: {one.address or '(no email address)'}\nSubject: {subject}\n\n{body}", nl=False)
    if not found:
        click.echo(f"Nothing new for anyone since {since}.")


@cli.group("update")
def update_group() -> None:
    """Outcome updates: owners of decisions and AI tools tell contributors what came of their records.

    \b
    Example:
        lineage update post prevention-grant-bid --as claire --text "The bid was approved" --gbp 1200000
    """


@update_group.command("post")
@click.argument("subject")
@click.option("--as", "account", required=True, help="The account posting: the owner of SUBJECT, or an admin.")
@click.option("--text", required=True, help="What happened, in up to 2,000 characters.")
@click.option("--people-helped", type=click.IntRange(0), help="People helped.")
@click.option("--gbp", type=click.FloatRange(0), help="Pounds secured or saved.")
@click.option("--days-saved", type=click.FloatRange(0), help="Days saved.")
@click.option("--date", "when", help="When the outcome happened (default today).")
@click.pass_context
def update_post(ctx: click.Context, subject: str, account: str, text: str, people_helped: int | None,
                gbp: float | None, days_saved: float | None, when: str | None) -> None:
    """Post an outcome update on a decision or AI tool, for everyone whose records reach it.

    \b
    Example:
        lineage update post prevention-grant-bid --as claire --date 2026-10-03 \\
            --text "Approved: £1.2m for 2027, based on the assessments you recorded" \\
            --gbp 1200000 --people-helped 2300
    """
    from . import loop

    store = _store(ctx)
    actor = accounts.actor_of(accounts.Accounts(store).get(account))
    posted = loop.post_update(store, subject, actor=actor, text=text, date=when,
                              figures={"people_helped": people_helped, "gbp_secured": gbp, "days_saved": days_saved})
    click.echo(f"Posted update {posted['id']} on {subject} ({posted['date']}).")


@cli.command("flags")
@click.option("--owner", help="Only flags on the datasets this person owns (their inbox).")
@click.option("--status", type=click.Choice(FLAG_STATUSES), help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="Print the flags as JSON.")
@click.pass_context
def flags_command(ctx: click.Context, owner: str | None, status: str | None, as_json: bool) -> None:
    """List data-problem flags, newest first: id, status, dataset, dimension, raised, by whom, what.

    \b
    Example:
        lineage flags --owner owner-jo --status open
    """
    from . import loop

    found = loop.list_flags(_store(ctx), owner=owner, status=status)
    if as_json:
        _print_json(found)
        return
    for flag in found:
        text = " ".join(flag["text"].split())
        click.echo(f"{flag['id']}\t{flag['status_label']}\t{flag['dataset']}\t{flag['dimension'] or '-'}\t"
                   f"{flag['created'][:10]}\t{flag['flagger']}\t{text[:80] + ('…' if len(text) > 80 else '')}")
    click.echo(f"{len(found)} flag{'s' if len(found) != 1 else ''}.", err=True)


if __name__ == "__main__":  # pragma: no cover - python -m lineage.cli: run the package's module, in which
    from lineage.cli import main as _main  # the command modules below find these helpers (not in __main__)

    sys.exit(_main())

from .cli_fields import fields_group  # noqa: E402 (it uses the helpers above)

cli.add_command(fields_group)

from .cli_imports import COMMANDS as IMPORT_COMMANDS  # noqa: E402 (it uses the helpers above)

for _command in IMPORT_COMMANDS:
    cli.add_command(_command)


def main() -> None:  # pragma: no cover - the console script entry point
    cli(prog_name="lineage")


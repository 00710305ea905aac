"""Where things came from: the sources that added the graph's nodes and edges (dbt projects, SQL
files, transparency records, OpenLineage, spreadsheets, people in the web app), and removing
everything one source added as one change, after a preview, undoable.

The source is named in the query string (``?source=dbt:jaffle_shop``): its name can hold any
character (an OpenLineage namespace is an address).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import BadRequest

from lineage import origin
from lineage.changeset import apply_changeset, policy_targets, preview
from lineage.errors import ConflictError

from . import forms
from .auth import allowed, authorize, requires
from .db import get_store
from .respond import respond, route
from .writes import actor_name, writing

bp = Blueprint("sources", __name__)


def _source_arg() -> str:
    source = request.values.get("source", "").strip()
    if not source:
        raise BadRequest("say which source (?source=TYPE:NAME, as the list of sources shows it)")
    origin.parse_key(source)  # a ValidationError (400) naming what was expected
    return source


@route(bp, "/sources", action="read")
def source_list():
    found = origin.sources(get_store())
    return respond("sources/list.html", {"sources": found}, sources=found, may_remove=allowed("bulk_change"),
                   title="Where the map came from")


@route(bp, "/sources/remove", action="bulk_change")
def remove_preview():
    source = _source_arg()
    store = get_store()
    changes = origin.removal(store, source)
    authorize("bulk_change", policy_targets(store, changes))
    shown = preview(store, changes)
    words = origin.describe(dict(zip(("type", "name"), origin.parse_key(source))))
    data = {"source": source, "words": words, **shown.as_dict()}
    return respond("sources/remove.html", data, preview=shown, source=source, words=words, label=forms.label,
                   title=f"Remove what came from {words}")


@bp.post("/sources/remove")
@requires("bulk_change")
def remove():
    source = _source_arg()
    store = get_store()
    changes = origin.removal(store, source)
    authorize("bulk_change", policy_targets(store, changes))
    version = request.form.get("version", type=int)
    words = origin.describe(dict(zip(("type", "name"), origin.parse_key(source))))
    try:
        with writing():
            change = apply_changeset(store, changes, actor=actor_name(),
                                     summary=f"Removed everything that came from {words}", expected_version=version)
    except ConflictError:
        flash("The graph changed after you looked, so nothing was removed. Check what would go now.")
        return redirect(url_for("sources.remove_preview", source=source))
    flash(Markup('Removed everything that came from {} as <a class="govuk-link" href="{}">change {}</a>, '
                 'which you can undo.').format(words, url_for("edit.change", change=change), change))
    return redirect(url_for("edit.change", change=change))

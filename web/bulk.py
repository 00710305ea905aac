"""Bulk changes by upload: a dry-run preview of what a file adds, changes and removes, then
apply (all of it or nothing).

The uploaded file waits, between preview and apply, in an ``uploads`` folder beside the
database, named by a random token and kept for at most a day. Apply re-reads it and refuses if
the graph has changed since the preview, so what is applied is exactly what was shown.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovRadioInput, GovSubmitInput
from markupsafe import Markup
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from wtforms import RadioField, SubmitField

from lineage.changeset import apply_changeset, parse_changeset, policy_targets, preview
from lineage.errors import ConflictError, ValidationError

from . import forms
from .auth import authorize, requires
from .db import get_store
from .respond import respond, route
from .writes import actor_name, after_write, count_write

bp = Blueprint("bulk", __name__)

MAX_UPLOAD = 5 * 1024 * 1024
"""Largest file accepted for a bulk change, in bytes. Bigger estates load with ``lineage load``."""
KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class UploadForm(FlaskForm):
    file = FileField("Upload a file", widget=GovFileInput())
    blanks = RadioField("What should a blank cell in a spreadsheet do?", widget=GovRadioInput(), choices=[
        ("keep", "Nothing: keep what is stored (usual)"),
        ("clear", "Clear the stored value")], validate_choice=False)
    submit = SubmitField("Preview the changes", widget=GovSubmitInput())


def _folder() -> Path:
    folder = Path(current_app.config["LINEAGE_DB"]).resolve().parent / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _tidy(folder: Path) -> None:
    """Forget uploads nobody applied within a day."""
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _pending(token: str) -> tuple[dict[str, Any], bytes]:
    """An upload waiting to be applied: its details and content; only its uploader's."""
    if not _TOKEN.match(token):
        raise NotFound("there is no upload with that reference")
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text("utf-8"))
        content = (folder / f"{token}.upload").read_bytes()
    except FileNotFoundError:
        raise NotFound("that upload has expired or was already applied; upload the file again") from None
    if meta["actor"] != actor_name():
        raise NotFound("there is no upload with that reference")
    return meta, content


def _forget(token: str) -> None:
    for suffix in (".json", ".upload"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


@bp.route("/bulk", methods=["GET", "POST"])
@requires("bulk_change")
def upload():
    request.max_content_length = MAX_UPLOAD + 64 * 1024  # the file and the form around it
    form = UploadForm()
    problems: list = []
    if form.validate_on_submit():
        file = form.file.data
        if not file or not file.filename:
            form.file.errors = ["Choose a .json, .csv, .sql or .zip file to upload"]
        else:
            content = file.read(MAX_UPLOAD + 1)
            if len(content) > MAX_UPLOAD:
                raise RequestEntityTooLarge(f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB; "
                                            "load big files with 'lineage load' instead")
            clear = form.blanks.data == "clear"
            try:
                changes = parse_changeset(content, file.filename, get_store(), clear_blanks=clear)
            except ValidationError as error:
                problems = error.problems
                form.file.errors = [f"{file.filename} has {len(problems)} problem{'s' if len(problems) != 1 else ''}"
                                    f"; nothing was changed"]
            else:
                authorize("bulk_change", policy_targets(get_store(), changes))
                folder = _folder()
                _tidy(folder)
                token = secrets.token_urlsafe(24)
                (folder / f"{token}.upload").write_bytes(content)
                meta = {"actor": actor_name(), "filename": changes.source, "version": get_store().version,
                        "clear_blanks": clear}
                (folder / f"{token}.json").write_text(json.dumps(meta), "utf-8")
                return redirect(url_for("bulk.preview_page", token=token))
    status = 400 if form.errors else 200
    return render_template("bulk/upload.html", form=form, problems=problems[:100], problem_count=len(problems),
                           max_mb=MAX_UPLOAD // (1024 * 1024), title="Upload changes"), status


@route(bp, "/bulk/<token>", action="bulk_change")
def preview_page(token: str):
    meta, content = _pending(token)
    store = get_store()
    changes = parse_changeset(content, meta["filename"], store, clear_blanks=meta.get("clear_blanks", False))
    shown = preview(store, changes)
    stale = shown.version != meta["version"]
    data = {"filename": meta["filename"], **shown.as_dict(), "previewed_at_version": meta["version"],
            "clear_blanks": meta.get("clear_blanks", False), "notes": changes.notes}
    if stale:  # the graph moved on: the preview is redone, and applying it asks for this version
        meta["version"] = shown.version
        (_folder() / f"{token}.json").write_text(json.dumps(meta), "utf-8")
    return respond("bulk/preview.html", data, preview=shown, filename=meta["filename"], token=token,
                   stale=stale, clear_blanks=meta.get("clear_blanks", False), notes=changes.notes,
                   is_csv=meta["filename"].lower().endswith(".csv"), label=forms.label, title="Check the changes")


@bp.post("/bulk/<token>/apply")
@requires("bulk_change")
def apply(token: str):
    meta, content = _pending(token)
    store = get_store()
    changes = parse_changeset(content, meta["filename"], store, clear_blanks=meta.get("clear_blanks", False))
    authorize("bulk_change", policy_targets(store, changes))
    count_write()
    try:
        change = apply_changeset(store, changes, actor=actor_name(), summary=f"upload {meta['filename']}",
                                 expected_version=meta["version"])
    except ConflictError:
        flash("The graph changed after your preview, so nothing was applied. Check this new preview.")
        return redirect(url_for("bulk.preview_page", token=token))
    _forget(token)
    after_write()
    flash(Markup('Applied {} as <a class="govuk-link" href="{}">change {}</a>, which you can undo.').format(
        meta["filename"], url_for("edit.change", change=change), change))
    return redirect(url_for("edit.change", change=change))


@bp.post("/bulk/<token>/cancel")
@requires("bulk_change")
def cancel(token: str):
    _pending(token)
    _forget(token)
    flash("The upload was discarded; nothing was changed.")
    return redirect(url_for("bulk.upload"))

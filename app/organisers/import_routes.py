"""Organisers: bulk import of units and their contact accounts (upload → preview → confirm), and its template file."""

from __future__ import annotations

import base64
import binascii

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from app import db
from app.committing import committing
from app.labels import LABELS
from app.models import UnitKind
from app.services import unit_import
from app.spreadsheets import to_csv, to_xlsx

from .routes import bp


class ImportUploadForm(FlaskForm):
    file = FileField(validators=[FileRequired()])


class ImportConfirmForm(FlaskForm):
    filename = HiddenField()
    content = HiddenField()


def _preview(filename: str, data: bytes):
    """Render the preview of a file: its plan, or the reason the file cannot be read."""
    try:
        rows = unit_import.read_table(filename, data)
    except unit_import.ImportFileError as exc:
        flash(str(exc), "error")
        return render_template("organisers/units_import.html", form=ImportUploadForm(), plan=None), 400
    plan = unit_import.plan_import(db.session, rows)
    db.session.rollback()
    confirm = ImportConfirmForm(
        formdata=None, filename=filename, content=base64.b64encode(data).decode("ascii") if plan.ok else ""
    )
    return render_template(
        "organisers/units_import.html", form=ImportUploadForm(), plan=plan, confirm=confirm, filename=filename
    )


@bp.route("/units/import", methods=["GET", "POST"])
def import_units():
    """GET: the upload form; POST: the preview of the uploaded file (nothing is written)."""
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        return _preview(upload.filename or "", upload.read(unit_import.MAX_BYTES + 1))
    return render_template("organisers/units_import.html", form=form, plan=None)


@bp.route("/units/import/confirm", methods=["POST"])
def confirm_import_units():
    """Apply the previewed file in one transaction; it is checked again, and nothing happens if a row is now bad."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("organisers.import_units"))
    try:
        data = base64.b64decode(form.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        return redirect(url_for("organisers.import_units"))
    filename = form.filename.data or ""
    try:
        rows = unit_import.read_table(filename, data)
    except unit_import.ImportFileError as exc:
        flash(str(exc), "error")
        return redirect(url_for("organisers.import_units"))
    plan = unit_import.plan_import(db.session, rows)
    if not plan.ok:
        db.session.rollback()
        return _preview(filename, data)
    with committing() as outcome:
        result = unit_import.apply_import(db.session, actor=current_user, plan=plan, invite=True, filename=filename)
    if outcome.ok:
        flash(
            _(
                "Import done: %(created)d units created, %(updated)d updated, %(invited)d accounts invited.",
                created=result.created,
                updated=result.updated,
                invited=result.invited,
            ),
            "success",
        )
    return redirect(url_for("organisers.units"))


@bp.route("/units/import/template.<fmt>")
def import_template(fmt: str):
    """The import template with Vietnamese headers (XLSX with a sheet of unit kinds, or CSV)."""
    with force_locale("vi"):
        kinds = [(kind.value, str(LABELS[UnitKind][kind])) for kind in UnitKind]
    if fmt == "csv":
        body, mime = to_csv(unit_import.TEMPLATE_HEADERS, []), "text/csv"
    elif fmt == "xlsx":
        body = to_xlsx(
            [
                ("Đơn vị", unit_import.TEMPLATE_HEADERS, []),
                ("Loại đơn vị", ["Mã loại", "Tên loại"], kinds),
            ]
        )
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        return Response(status=404)
    return Response(
        body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="mau-nhap-don-vi.{fmt}"'}
    )

"""Importing partners in steps: upload, map columns and preview, then import."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Invalid
from ..forms import ConfirmForm, ImportForm
from ..services import partner_import as service
from .helpers import field_error, refuse
from .partners import campaign_and_access, partners_page

bp = Blueprint("partner_import", __name__)


def _mapping_from_form(sheet) -> dict:
    """Read the column choices; anything that is not a real column index counts as unset."""
    mapping = {}
    for column in service.COLUMNS:
        raw = request.form.get(f"map_{column}", "")
        mapping[column] = int(raw) if raw.isdigit() and int(raw) < len(sheet.headers) else None
    return mapping


def _choices_from_form() -> dict[int, str]:
    """The organiser's answer for each flagged row (skip, import or merge), by line."""
    return {
        int(key.removeprefix("choice_")): value
        for key, value in request.form.items()
        if key.startswith("choice_") and key.removeprefix("choice_").isdigit()
    }


def _posted_sheet(campaign):
    """The sheet carried by a preview form, or None (with a message) if it is unusable."""
    if not ConfirmForm().validate_on_submit():
        return None
    try:
        return service.unseal(request.form.get("sealed", ""), campaign)
    except Invalid as exc:
        refuse(exc.reason)
        return None


def _preview_page(campaign, sheet, mapping, *, status=200, problem=None):
    preview = None
    try:
        preview = service.build_preview(campaign, sheet, mapping)
    except Invalid as exc:
        problem = problem or exc.reason
    return render_template(
        "partners/import_preview.html",
        campaign=campaign,
        sheet=sheet,
        sealed=service.seal(sheet, campaign),
        mapping=mapping,
        columns=service.COLUMNS,
        required=service.REQUIRED,
        choices=service.CHOICES,
        preview=preview,
        problem=problem,
        form=ConfirmForm(formdata=None),
    ), status


@bp.post("/c/<slug>/partners/import")
@login_required
def upload(slug):
    """Step 1: read the uploaded file and show the preview with guessed columns."""
    campaign, access = campaign_and_access(slug, manage=True)
    form = ImportForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            sheet = service.read_upload(upload_file.filename or "", upload_file.read())
        except Invalid as exc:
            field_error(form, exc)
        else:
            return _preview_page(campaign, sheet, service.guess_mapping(sheet.headers))
    return partners_page(campaign, access, import_form=form, status=400)


@bp.post("/c/<slug>/partners/import/preview")
@login_required
def preview(slug):
    """Step 2: show the preview again under the organiser's column choices."""
    campaign, _access = campaign_and_access(slug, manage=True)
    sheet = _posted_sheet(campaign)
    if sheet is None:
        return redirect(url_for("partners.index", slug=slug, _anchor="import"))
    return _preview_page(campaign, sheet, _mapping_from_form(sheet))


@bp.post("/c/<slug>/partners/import/confirm")
@login_required
def confirm(slug):
    """Step 3: import every row in one transaction, or nothing and the list of problems."""
    campaign, _access = campaign_and_access(slug, manage=True)
    sheet = _posted_sheet(campaign)
    if sheet is None:
        return redirect(url_for("partners.index", slug=slug, _anchor="import"))
    mapping = _mapping_from_form(sheet)
    try:
        preview = service.build_preview(campaign, sheet, mapping)
        done = service.commit_preview(campaign, current_user, preview, choices=_choices_from_form())
    except service.ImportRejected:
        return _preview_page(
            campaign,
            sheet,
            mapping,
            status=400,
            problem="Nothing was imported: fix the rows listed below.",
        )
    except Invalid as exc:
        return _preview_page(campaign, sheet, mapping, status=400, problem=exc.reason)
    flash(
        f"Imported {len(done.added)} partners"
        + (f", updated {len(done.updated)} already on the list" if done.updated else "")
        + (f" and skipped {done.skipped} rows" if done.skipped else "")
        + ". Nothing is sent until you invite them.",
        "success",
    )
    return redirect(url_for("partners.index", slug=slug))

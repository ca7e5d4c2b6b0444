"""Downloads for organisers and staff: signed PDFs, the signatory CSV/XLSX, the ZIP."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..errors import Invalid, NotFound
from ..extensions import db
from ..forms import ConfirmForm
from ..models import Blob, ExportStatus, RenderStatus
from ..services.campaigns import get_target, require_organiser
from ..services.evidence import certificate_pdf, current_certificate
from ..services.export_jobs import expires_at, get_run, start_export
from ..services.export_zip import certificate_name, zip_name
from ..services.rendering import render_now, request_render
from ..services.roster import letter_roster
from ..services.signatory_lists import (
    FULL_LIST_CONTENTS,
    XLSX_MIME,
    full_list,
    signatories_csv,
    signatories_xlsx,
)
from .helpers import campaign_or_404, keep_despite_status, refuse

bp = Blueprint("exports", __name__)


@bp.get("/c/<slug>/letter.pdf")
@login_required
def pdf(slug):
    """The signed PDF: served from storage when unchanged, otherwise rendered by a job."""
    campaign = campaign_or_404(slug)
    target = None
    if request.args.get("target"):
        try:
            target = get_target(campaign, int(request.args["target"]))
        except (ValueError, NotFound):
            abort(404)
    # With Redis a worker renders after this request's commit, and the page waits for it.
    # Without Redis the render is made here, in this request's transaction, so the first
    # click gets the PDF: the one commit at the end of the request stores it.
    in_process = not current_app.config.get("REDIS_URL")
    try:
        rendered = request_render(campaign, target, queue=not in_process)
        if in_process and rendered.status == RenderStatus.PENDING:
            render_now(rendered)
    except Invalid as exc:
        return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
    if rendered.status != RenderStatus.READY:
        code = 202 if rendered.status == RenderStatus.PENDING else 409
        # A failed render is kept with its reason: the campaign page and export show it.
        keep_despite_status()
        return render_template("exports/pending.html", campaign=campaign, rendered=rendered), code
    blob = db.session.get(Blob, rendered.pdf_sha256)
    name = f"{campaign.slug}-signed-letter{'-' + str(target.id) if target else ''}.pdf"
    data, sha = bytes(blob.data), blob.sha256
    if request.args.get("with") == "certificate":
        # The letter with its audit certificate appended, sealed as one document.
        try:
            data, doc = certificate_pdf(campaign, before=data)
        except Invalid as exc:
            return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
        name, sha = name.removesuffix(".pdf") + "-with-certificate.pdf", doc.sha256
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": sha},
    )


@bp.get("/c/<slug>/certificate.pdf")
@login_required
def certificate(slug):
    """The audit certificate: every signature, how and for which text, and the chain head."""
    campaign = campaign_or_404(slug)
    try:
        pdf, doc = current_certificate(campaign)
    except Invalid as exc:
        return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{certificate_name(campaign)}"',
            "X-Content-SHA256": doc.sha256,
        },
    )


@bp.get("/c/<slug>/signatories.csv")
@login_required
def csv(slug):
    """The active signatories as CSV."""
    campaign = campaign_or_404(slug)
    return Response(
        signatories_csv(campaign),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{campaign.slug}-signatories.csv"'},
    )


@bp.get("/c/<slug>/signatories.xlsx")
@login_required
def xlsx(slug):
    """The active signatories as an Excel workbook."""
    campaign = campaign_or_404(slug)
    return Response(
        signatories_xlsx(campaign),
        mimetype=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="{campaign.slug}-signatories.xlsx"'},
    )


@bp.get("/c/<slug>/signatories/full")
@login_required
def full_list_page(slug):
    """What the organisers' full list holds, and the audited button that downloads it."""
    campaign = campaign_or_404(slug)
    # The full list is for the campaign's organisers only: staff get 403.
    require_organiser(current_user, campaign)
    return render_template(
        "exports/full_list.html",
        campaign=campaign,
        roster=letter_roster(campaign),
        contents=FULL_LIST_CONTENTS,
        confirm=ConfirmForm(),
    )


@bp.post("/c/<slug>/signatories/full")
@login_required
def full_list_download(slug):
    """The full list, recorded in the campaign's audit chain before it is sent."""
    campaign = campaign_or_404(slug)
    require_organiser(current_user, campaign)
    if not ConfirmForm().validate_on_submit():
        refuse("The form expired; press the button again.")
        return redirect(url_for("exports.full_list_page", slug=slug))
    fmt = request.form.get("format", "csv")
    try:
        data = full_list(campaign, fmt, user=current_user)
    except Invalid as exc:
        refuse(f"{exc.field}: {exc.reason}")
        return redirect(url_for("exports.full_list_page", slug=slug))
    # The audit entry is committed at the request's end, before the file leaves: a
    # failed commit is a 500 and no file.
    mimetype = "text/csv" if fmt == "csv" else XLSX_MIME
    name = f"{campaign.slug}-signatories-full.{fmt}"
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/c/<slug>/exports")
@login_required
def start_zip(slug):
    """Start making the export ZIP (or join the one under way) and show its progress."""
    campaign = campaign_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        refuse("The form expired; press Export ZIP again.")
        return redirect(url_for("campaigns.show", slug=slug))
    try:
        run = start_export(campaign, current_user)
    except Invalid as exc:
        refuse(exc.reason)
        return redirect(url_for("campaigns.show", slug=slug))
    # The job runs after the request's commit: without Redis in this process, before the
    # redirect is answered; with it, by a worker.
    return redirect(url_for("exports.zip_run", slug=slug, run_id=run.id))


@bp.get("/c/<slug>/exports/<int:run_id>")
@login_required
def zip_run(slug, run_id):
    """An export's progress, then its file list and download, or why it failed."""
    campaign = campaign_or_404(slug)
    run = _run_or_404(campaign, run_id)
    return render_template(
        "exports/run.html",
        campaign=campaign,
        run=run,
        files=_manifest(run),
        expires_at=expires_at(run),
        confirm=ConfirmForm(),
    )


@bp.get("/c/<slug>/exports/<int:run_id>/progress")
@login_required
def zip_progress(slug, run_id):
    """The export's progress as JSON, polled by the export page."""
    run = _run_or_404(campaign_or_404(slug), run_id)
    return jsonify(status=run.status, done=run.done, total=run.total, step=run.step)


@bp.get("/c/<slug>/exports/<int:run_id>/download")
@login_required
def zip_download(slug, run_id):
    """The finished export ZIP."""
    campaign = campaign_or_404(slug)
    run = _run_or_404(campaign, run_id)
    if run.status != ExportStatus.READY:
        return redirect(url_for("exports.zip_run", slug=slug, run_id=run.id))
    blob = db.session.get(Blob, run.zip_sha256)
    return Response(
        bytes(blob.data),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{zip_name(campaign)}"',
            "X-Content-SHA256": blob.sha256,
        },
    )


def _run_or_404(campaign, run_id: int):
    try:
        return get_run(campaign, run_id)
    except NotFound:
        abort(404)


def _manifest(run) -> list[tuple[str, str]]:
    """(name, sha256) of each file in a finished export."""
    return [tuple(reversed(line.split("  ", 1))) for line in run.manifest.splitlines()]

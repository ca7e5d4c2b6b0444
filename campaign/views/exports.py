"""Downloads for organisers and staff: signed PDFs, the signatory CSV/XLSX, the ZIP."""

import io

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required

from .. import jobs
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Blob
from ..services.campaigns import get_target
from ..services.evidence import certificate_pdf
from ..services.export_bundle import certificate_name, write_zip, zip_name
from ..services.exports import XLSX_MIME, signatories_csv, signatories_xlsx
from ..services.rendering import request_render
from .helpers import campaign_or_404

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
    try:
        rendered = request_render(campaign, target)
    except Invalid as exc:
        return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
    db.session.commit()
    # Without Redis the render job runs in this process right after the commit.
    jobs.run_ready()
    db.session.refresh(rendered)
    if rendered.status != "ready":
        code = 202 if rendered.status == "pending" else 409
        return render_template("exports/pending.html", campaign=campaign, rendered=rendered), code
    blob = db.session.get(Blob, rendered.pdf_sha256)
    name = f"{campaign.slug}-signed-letter{'-' + str(target.id) if target else ''}.pdf"
    data, sha = bytes(blob.data), blob.sha256
    if request.args.get("with") == "certificate":
        # The letter with its audit certificate appended, sealed as one document.
        try:
            data, doc = certificate_pdf(campaign, before=data)
        except Invalid as exc:
            db.session.rollback()
            return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
        db.session.commit()
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
        pdf, doc = certificate_pdf(campaign)
    except Invalid as exc:
        db.session.rollback()
        return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
    db.session.commit()
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


@bp.get("/c/<slug>/export.zip")
@login_required
def zip_export(slug):
    """Every target's signed PDF, the audit certificate and the signatory lists in one ZIP."""
    campaign = campaign_or_404(slug)
    out = io.BytesIO()
    try:
        write_zip(campaign, out)
    except Invalid as exc:
        db.session.commit()  # keep the failed render, so the campaign page shows why
        return render_template("exports/pending.html", campaign=campaign, error=exc.reason), 409
    db.session.commit()
    return Response(
        out.getvalue(),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{zip_name(campaign)}"'},
    )

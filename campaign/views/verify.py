"""Public verification of issued PDFs: /verify (upload) and /v/<code> (the printed link)."""

from flask import Blueprint, current_app, render_template, request
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db, limiter
from ..forms import Form
from ..models import Campaign
from ..services.evidence import check_pdf, issued_by_code

bp = Blueprint("verify", __name__)

#: Issued letters are far smaller; the site-wide MAX_CONTENT_LENGTH still applies first.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# Anyone may check a file, so a per-IP limit keeps it from being used to burn CPU.
limiter.limit(lambda: current_app.config.get("VERIFY_RATE_LIMIT", "30/minute;300/hour"))(bp)


class VerifyForm(Form):
    """One PDF file to check."""

    file = FileField("PDF file to check")


def _max_bytes() -> int:
    config = current_app.config
    caps = [config.get("VERIFY_MAX_BYTES", DEFAULT_MAX_BYTES), config.get("MAX_CONTENT_LENGTH")]
    return min(cap for cap in caps if cap)


@bp.after_request
def _no_referrer(response):
    # The code in /v/<code> names a document: it must not leak to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _too_large_message() -> str:
    size = _max_bytes()
    shown = f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
    return f"The file is larger than {shown}, more than any document this site issues."


# The site-wide cap stops a huge upload while the CSRF check reads the form: say so here.
@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    form = VerifyForm(formdata=None)
    form.file.errors = [_too_large_message()]
    return render_template("verify/check.html", form=form, record=None, verdict=None), 413


def _record(doc) -> dict | None:
    """What a record page may show: no signer data beyond the count."""
    if doc is None:
        return None
    campaign = db.session.get(Campaign, doc.campaign_id)
    return {
        "code": doc.code,
        "kind": "audit certificate" if doc.kind == "certificate" else "signed letter",
        "campaign": campaign.title,
        "lead_organisation": campaign.lead_organisation,
        "version": doc.version_number,
        "letter_sha256": doc.letter_sha256,
        "signatories": doc.signatory_count,
        "made_at": f"{doc.made_at:%Y-%m-%d %H:%M} UTC",
        "sha256": doc.sha256,
    }


def _check(form: VerifyForm, expected=None):
    """Validate the upload's shape and check it; None with a form error when unusable."""
    upload = form.file.data
    data = upload.read() if upload else b""
    if not data:
        form.file.errors = ["Choose a PDF file to check."]
        return None
    if len(data) > _max_bytes():
        form.file.errors = [_too_large_message()]
        return None
    if not data.startswith(b"%PDF-"):
        form.file.errors = ["This is not a PDF file. Choose the PDF you received."]
        return None
    return check_pdf(data, expected)


def _status(form: VerifyForm, verdict) -> int:
    """400 for an unusable upload, 413 for one too large, else 200."""
    if request.method != "POST" or verdict is not None:
        return 200
    return 413 if _too_large_message() in form.file.errors else 400


@bp.route("/verify", methods=["GET", "POST"])
def check():
    """Upload a PDF and learn whether this site issued it, unaltered."""
    form = VerifyForm()
    verdict = None
    if form.validate_on_submit():
        verdict = _check(form)
    status = _status(form, verdict)
    record = _record(verdict.document) if verdict else None
    return render_template("verify/check.html", form=form, verdict=verdict, record=record), status


@bp.route("/v/<code>", methods=["GET", "POST"])
def code(code):
    """The record behind a printed verification code, and a check of a file against it."""
    doc = issued_by_code(code)
    if doc is None:
        return render_template("verify/unknown.html"), 404
    form = VerifyForm()
    verdict = None
    if form.validate_on_submit():
        verdict = _check(form, expected=doc)
    status = _status(form, verdict)
    return render_template(
        "verify/record.html", form=form, verdict=verdict, record=_record(doc)
    ), status

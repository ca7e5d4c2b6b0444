"""The outbox: every email the campaign sent or queued, readable in the app, with retry.

Emails are shown as their recipients see them, but with every personal link hidden
(mail.masking): a signing or confirmation link read here would let anyone with access to
the campaign act as its recipient.
"""

import io

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..forms import ConfirmForm
from ..mail.masking import mask_links, safe_html
from ..mail.outbox import retry as retry_email
from ..models import Blob, EmailStatus, OutboundEmail
from ..services.roster import letter_roster
from .helpers import campaign_or_404, editor_required, refuse

bp = Blueprint("outbox", __name__)
#: The HTML part is framed from its own address under this policy: no script, nothing
#: loaded from anywhere (images only if embedded), no forms, an opaque origin.
EMAIL_HTML_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)
EMAIL_HTML_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "</head><body>{}</body></html>"
)

#: Statuses an organiser may send again by hand.
RETRYABLE = (EmailStatus.FAILED, EmailStatus.UNKNOWN)


#: The kinds of email an organiser can filter the outbox by, with their labels.
KINDS = {
    "invitation": "Invitations",
    "letter": "Letters to targets",
    "signed_confirmation": "Signing confirmations",
    "withdrawal_confirmation": "Withdrawals",
    "public_confirmation": "Public sign-up confirmations",
    "reminder": "Reminders",
    "reconsent": "Re-confirmation requests",
    "followup": "Follow-up letters",
    "reply_notice": "Reply notices",
    "followup_notice": "Follow-up notices",
    "alert": "Alerts to organisers",
}
PER_PAGE = 100


def _private_for_staff(campaign) -> set[int]:
    """Partners staff must not see named: those whose signature is private (roster.py)."""
    if current_user.can_edit:
        return set()
    return letter_roster(campaign).private_partner_ids()


@bp.get("/c/<slug>/outbox")
@login_required
def index(slug):
    """A campaign's emails, newest first, a page at a time, optionally of one kind."""
    campaign = campaign_or_404(slug)
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    stmt = select(OutboundEmail).where(OutboundEmail.campaign_id == campaign.id)
    if kind:
        stmt = stmt.where(OutboundEmail.kind == kind)
    hidden = _private_for_staff(campaign)
    if hidden:
        stmt = stmt.where(
            OutboundEmail.partner_id.is_(None) | OutboundEmail.partner_id.not_in(hidden)
        )
    page = db.paginate(
        stmt.order_by(OutboundEmail.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "outbox/index.html",
        campaign=campaign,
        emails=page.items,
        page=page,
        kind=kind,
        kinds=KINDS,
        form=ConfirmForm(),
        retryable=RETRYABLE,
    )


@bp.app_template_filter("mask_links")
def mask_links_filter(text):
    """Jinja filter: the text with every personal link hidden."""
    return mask_links(text)


def _email_or_404(campaign, email_id: int) -> OutboundEmail:
    """An email of this campaign; another campaign's email is a 404 like a missing one."""
    email = db.session.get(OutboundEmail, email_id)
    if email is None or email.campaign_id != campaign.id:
        abort(404)
    if email.partner_id in _private_for_staff(campaign):
        abort(404)
    return email


@bp.get("/c/<slug>/outbox/<int:email_id>")
@login_required
def show(slug, email_id):
    """One email as it was sent, with its personal links hidden."""
    campaign = campaign_or_404(slug)
    email = _email_or_404(campaign, email_id)
    return render_template(
        "outbox/show.html", campaign=campaign, email=email, form=ConfirmForm(), retryable=RETRYABLE
    )


@bp.get("/c/<slug>/outbox/<int:email_id>/html")
@login_required
def html_part(slug, email_id):
    """The email's HTML part, sanitised and masked, for the sandboxed frame on its page."""
    campaign = campaign_or_404(slug)
    email = _email_or_404(campaign, email_id)
    if not email.html_body:
        abort(404)
    response = make_response(EMAIL_HTML_PAGE.format(safe_html(email.html_body)))
    response.headers["Content-Security-Policy"] = EMAIL_HTML_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/c/<slug>/outbox/<int:email_id>/attachment")
@login_required
def attachment(slug, email_id):
    """Download the email's attachment (the signed PDF of a letter), never shown inline."""
    campaign = campaign_or_404(slug)
    email = _email_or_404(campaign, email_id)
    blob = db.session.get(Blob, email.attachment_sha256) if email.attachment_sha256 else None
    if blob is None:
        abort(404)
    response = send_file(
        io.BytesIO(blob.data),
        mimetype=blob.mime or "application/octet-stream",
        as_attachment=True,
        download_name=email.attachment_name or "attachment",
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/c/<slug>/outbox/<int:email_id>/retry")
@login_required
def retry(slug, email_id):
    """Send a failed (or unknown) email again."""
    campaign = campaign_or_404(slug)
    editor_required()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        email = retry_email(email_id, campaign_id=campaign.id)
    except NotFound:
        abort(404)
    except Conflict as exc:
        refuse(str(exc))
    else:
        flash(f"The email to {email.to_email} is queued again.", "success")
    return redirect(url_for("outbox.show", slug=slug, email_id=email_id))

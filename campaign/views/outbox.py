"""The outbox: every email the campaign sent or queued, readable in the app, with retry."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..forms import ConfirmForm
from ..mail.outbox import retry as retry_email
from ..models import OutboundEmail
from ..services.roster import letter_roster
from .helpers import campaign_or_404, editor_required

bp = Blueprint("outbox", __name__)

#: Statuses an organiser may send again by hand.
RETRYABLE = ("failed", "unknown")


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


@bp.get("/c/<slug>/outbox/<int:email_id>")
@login_required
def show(slug, email_id):
    """One email as it was sent."""
    campaign = campaign_or_404(slug)
    email = db.session.get(OutboundEmail, email_id)
    if email is None or email.campaign_id != campaign.id:
        abort(404)
    if email.partner_id in _private_for_staff(campaign):
        abort(404)
    return render_template(
        "outbox/show.html", campaign=campaign, email=email, form=ConfirmForm(), retryable=RETRYABLE
    )


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
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"The email to {email.to_email} is queued again.", "success")
    return redirect(url_for("outbox.show", slug=slug, email_id=email_id))

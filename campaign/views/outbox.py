"""The local outbox: every email the campaign sent or queued, readable in the app."""

from flask import Blueprint, abort, render_template
from flask_login import login_required
from sqlalchemy import select

from ..extensions import db
from ..models import OutboundEmail
from .helpers import campaign_or_404

bp = Blueprint("outbox", __name__)


@bp.get("/c/<slug>/outbox")
@login_required
def index(slug):
    """All emails of a campaign, newest first."""
    campaign = campaign_or_404(slug)
    emails = db.session.scalars(
        select(OutboundEmail)
        .where(OutboundEmail.campaign_id == campaign.id)
        .order_by(OutboundEmail.id.desc())
    )
    return render_template("outbox/index.html", campaign=campaign, emails=list(emails))


@bp.get("/c/<slug>/outbox/<int:email_id>")
@login_required
def show(slug, email_id):
    """One email as it was sent."""
    campaign = campaign_or_404(slug)
    email = db.session.get(OutboundEmail, email_id)
    if email is None or email.campaign_id != campaign.id:
        abort(404)
    return render_template("outbox/show.html", campaign=campaign, email=email)

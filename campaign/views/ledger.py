"""The delivery ledger: per-target attempts and events, its CSV export, and alerts."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..errors import NotFound
from ..forms import ConfirmForm
from ..services import alerts
from ..services.campaigns import get_target
from ..services.ledger import ledger_csv, target_ledger
from .helpers import campaign_or_404, editor_required, refuse

bp = Blueprint("ledger", __name__)


@bp.get("/c/<slug>/targets/<int:target_id>/ledger")
@login_required
def target(slug, target_id):
    """Every attempt to deliver the letter to one target, with each event and its time."""
    campaign = campaign_or_404(slug)
    try:
        found = get_target(campaign, target_id)
    except NotFound:
        abort(404)
    return render_template(
        "ledger/target.html", campaign=campaign, ledger=target_ledger(campaign, found)
    )


@bp.get("/c/<slug>/ledger.csv")
@login_required
def export(slug):
    """The delivery ledger of every target as CSV (staff may export it too)."""
    campaign = campaign_or_404(slug)
    return Response(
        ledger_csv(campaign),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{campaign.slug}-delivery.csv"'},
    )


@bp.post("/c/<slug>/alerts/<int:alert_id>/dismiss")
@login_required
def dismiss(slug, alert_id):
    """Mark an alert as seen; it leaves the campaign page."""
    campaign = campaign_or_404(slug)
    editor_required()
    if ConfirmForm().validate_on_submit():
        try:
            alerts.dismiss(campaign, current_user, alert_id)
        except NotFound:
            abort(404)
        flash("Alert dismissed.", "success")
    else:
        refuse("The form expired; please try again.")
    return redirect(url_for("campaigns.show", slug=slug, _anchor="alerts"))

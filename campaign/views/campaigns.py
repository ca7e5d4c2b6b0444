"""The campaign list, creation, the dashboard and the status workflow."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid
from ..extensions import db
from ..forms import CampaignForm, ConfirmForm, DeadlineForm, TargetForm
from ..models import CampaignStatus
from ..services import alerts, deadlines, delivery
from ..services import campaigns as service
from ..services.dashboard import campaign_overview
from ..services.ledger import campaign_ledger, delivery_preview
from .helpers import campaign_or_404, confirmed_action, editor_required, field_error, refuse

bp = Blueprint("campaigns", __name__)


@bp.get("/")
@login_required
def index():
    """List the campaigns the user may see."""
    return render_template(
        "campaigns/index.html", campaigns=service.visible_campaigns(current_user)
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a campaign."""
    editor_required()
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = service.create_campaign(
                current_user,
                title=form.title.data,
                lead_organisation=form.lead_organisation.data,
                lead_address=form.lead_address.data or "",
                deadline=form.deadline.data,
            )
        except Invalid as exc:
            field_error(form, exc)
        else:
            flash("Campaign created. Now write the letter.", "success")
            return redirect(url_for("letters.edit", slug=campaign.slug))
    return render_template("campaigns/new.html", form=form)


@bp.get("/c/<slug>")
@login_required
def show(slug):
    """The campaign dashboard: letter, signatures, targets and deliveries."""
    campaign = campaign_or_404(slug)
    # Show "closed" from the moment the deadline passes, not only after the next tick.
    deadlines.close_if_due(campaign)
    return _show(campaign, TargetForm())


def _show(campaign, target_form, status=200, deadline_form=None):
    if deadline_form is None:
        deadline_form = DeadlineForm(formdata=None, deadline=campaign.deadline)
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        overview=campaign_overview(campaign),
        target_form=target_form,
        confirm=ConfirmForm(),
        alerts=alerts.open_alerts(campaign),
        ledger=campaign_ledger(campaign) if campaign.status == CampaignStatus.DELIVERED else [],
        deadline_form=deadline_form,
    ), status


@bp.post("/c/<slug>/targets")
@login_required
def add_target(slug):
    """Add a target (recipient) to the campaign."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = TargetForm()
    if form.validate_on_submit():
        try:
            service.add_target(
                campaign,
                current_user,
                name=form.name.data,
                title=form.title.data or "",
                organisation=form.organisation.data or "",
                email=form.email.data,
                salutation=form.salutation.data or "",
                postal_address=(form.postal_address.data or "").replace("\r\n", "\n"),
                fallback_email=form.fallback_email.data or "",
            )
        except Conflict as exc:
            refuse(str(exc))
        else:
            flash(f"{form.name.data} added as a target.", "success")
            return redirect(url_for("campaigns.show", slug=slug, _anchor="targets"))
    return _show(campaign, form, 400)


@bp.post("/c/<slug>/targets/<int:target_id>/delete")
@login_required
def remove_target(slug, target_id):
    """Remove a target before delivery."""
    campaign = campaign_or_404(slug)
    editor_required()
    return confirmed_action(
        lambda: service.remove_target(campaign, current_user, target_id),
        success="Target removed.",
        back=url_for("campaigns.show", slug=slug, _anchor="targets"),
    )


@bp.post("/c/<slug>/close")
@login_required
def close(slug):
    """Stop accepting signatures."""
    campaign = campaign_or_404(slug)
    editor_required()
    return confirmed_action(
        lambda: service.close_signing(campaign, current_user),
        success="Signing is closed. Check the PDF, then deliver the letter.",
        back=url_for("campaigns.show", slug=slug),
    )


@bp.post("/c/<slug>/reopen")
@login_required
def reopen(slug):
    """Accept signatures again."""
    campaign = campaign_or_404(slug)
    editor_required()
    return confirmed_action(
        lambda: service.reopen_signing(campaign, current_user),
        success="Signing is open again.",
        back=url_for("campaigns.show", slug=slug),
    )


@bp.route("/c/<slug>/deliver", methods=["GET", "POST"])
@login_required
def deliver(slug):
    """Confirm and deliver the signed letter to every target."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = ConfirmForm()
    problem = None
    try:
        delivery.check_ready(campaign)
    except Conflict as exc:
        problem = str(exc)
    if form.validate_on_submit() and problem is None:
        delivery.deliver(campaign, current_user)
        flash(f"The letter is on its way to {len(campaign.targets)} target(s).", "success")
        return redirect(url_for("campaigns.show", slug=slug, _anchor="delivery"))
    return render_template(
        "campaigns/deliver.html",
        campaign=campaign,
        form=form,
        problem=problem,
        overview=campaign_overview(campaign),
        preview=delivery_preview(campaign) if problem is None else [],
    )


@bp.post("/c/<slug>/tracking")
@login_required
def tracking(slug):
    """Turn open and click tracking on or off (off unless the organiser chooses)."""
    campaign = campaign_or_404(slug)
    editor_required()
    enabled = request.form.get("enabled") == "1"
    # Shown next to both send buttons; go back to the one it was changed from.
    back = "campaigns.deliver"
    if request.form.get("back") == "invite":
        back = "partners.invite_preview"
    return confirmed_action(
        lambda: service.set_tracking(campaign, current_user, enabled),
        success=f"Open and click tracking is {'on' if enabled else 'off'}.",
        back=url_for(back, slug=slug),
    )


@bp.post("/c/<slug>/deadline")
@login_required
def deadline(slug):
    """Extend or change the signing deadline; every live link and reminder follows it."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = DeadlineForm()
    if form.validate_on_submit():
        was_closed = campaign.status == CampaignStatus.CLOSED
        try:
            deadlines.change_deadline(campaign, current_user, form.deadline.data)
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            refuse(str(exc))
            return redirect(url_for("campaigns.show", slug=slug, _anchor="signing-deadline"))
        else:
            when = f"{campaign.deadline:%d %b %Y %H:%M} UTC"
            if campaign.status == CampaignStatus.CLOSED:
                flash(
                    f"The deadline is now {when}. You closed signing by hand, so it stays "
                    "closed: press Reopen signing to let partners sign until then.",
                    "success",
                )
            else:
                again = " Signing is open again." if was_closed else ""
                flash(
                    f"The deadline is now {when}.{again} Every personal link follows it.",
                    "success",
                )
            return redirect(url_for("campaigns.show", slug=slug, _anchor="signing-deadline"))
    return _show(campaign, TargetForm(formdata=None), 400, deadline_form=form)

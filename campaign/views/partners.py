"""The partner list: adding, importing and inviting partner organisations."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid
from ..extensions import db
from ..forms import ConfirmForm, ImportForm, PartnerForm, ReminderForm
from ..services import partners as service
from ..services import reminders, sends, signing
from ..services.dashboard import campaign_overview
from ..services.duplicates import find_flags
from ..services.partner_import import COLUMNS
from .helpers import campaign_or_404, editor_required, field_error

bp = Blueprint("partners", __name__)


def partners_page(campaign, *, form=None, import_form=None, reminder_form=None, status=200):
    """The partner list page, with the add and import forms (errors shown on them)."""
    overview = campaign_overview(campaign)
    flags = find_flags(
        [(p.id, service.partner_entry(p)) for p in overview["partners"]], existing=[]
    )
    return render_template(
        "partners/index.html",
        campaign=campaign,
        overview=overview,
        flags={f.key: f for f in flags},
        form=form or PartnerForm(formdata=None),
        reminder_form=reminder_form
        or ReminderForm(formdata=None, reminder_days=campaign.reminder_days.replace(",", ", ")),
        import_form=import_form or ImportForm(formdata=None),
        columns=COLUMNS,
        uninvited=service.uninvited(campaign),
        confirm=ConfirmForm(),
    ), status


@bp.get("/c/<slug>/partners")
@login_required
def index(slug):
    """Partners, their signing status, and the forms to add more."""
    return partners_page(campaign_or_404(slug))


@bp.post("/c/<slug>/partners")
@login_required
def add(slug):
    """Add one partner."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = service.add_partner(
                campaign, current_user, form.data, allow_duplicate=form.allow_duplicate.data
            )
        except Invalid as exc:
            field_error(form, exc)
        else:
            db.session.commit()
            flash(f"{partner.organisation} added.", "success")
            return redirect(url_for("partners.index", slug=slug))
    return partners_page(campaign, form=form, status=400)


@bp.get("/c/<slug>/partners/invite")
@login_required
def invite_preview(slug):
    """The dry run: who would be invited, who is skipped, and the email they would get."""
    campaign = campaign_or_404(slug)
    editor_required()
    try:
        limit = sends.parse_limit(request.args.get("limit"))
    except Invalid as exc:
        flash(f"{exc.field}: {exc.reason}", "error")
        limit = None
    return render_template(
        "partners/invite_preview.html",
        campaign=campaign,
        plan=sends.invitation_plan(campaign, limit),
        confirm=ConfirmForm(),
    )


@bp.post("/c/<slug>/partners/invite")
@login_required
def invite(slug):
    """Send personal links to the partners the dry run showed (the first N, if limited)."""
    campaign = campaign_or_404(slug)
    editor_required()
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; please check the list and confirm again.", "error")
        return redirect(url_for("partners.invite_preview", slug=slug))
    try:
        limit = sends.parse_limit(request.form.get("limit"))
        plan = sends.invitation_plan(campaign, limit)
        count = len(service.invite(campaign, current_user, plan["recipients"]))
    except (Conflict, Invalid) as exc:
        flash(str(exc), "error")
        return redirect(url_for("partners.invite_preview", slug=slug))
    db.session.commit()
    if not count:
        flash("Nobody is waiting for an invitation.", "success")
    elif plan["remaining"]:
        flash(
            f"{count} invitation(s) queued; {plan['remaining']} partner(s) are still waiting. "
            "Send again to continue where this stopped.",
            "success",
        )
    else:
        flash(f"{count} invitation(s) queued.", "success")
    return redirect(url_for("partners.index", slug=slug))


@bp.post("/c/<slug>/partners/<int:partner_id>/reissue")
@login_required
def reissue(slug, partner_id):
    """Kill a partner's link and email them a new one."""
    campaign = campaign_or_404(slug)
    editor_required()
    partner = service.get_partner(campaign, partner_id)
    if ConfirmForm().validate_on_submit():
        try:
            service.invite(campaign, current_user, [partner])
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(
                f"A new link was sent to {partner.contact_email}; the old one no longer works.",
                "success",
            )
    return redirect(url_for("partners.index", slug=slug))


@bp.post("/c/<slug>/partners/<int:partner_id>/revoke")
@login_required
def revoke(slug, partner_id):
    """Kill a partner's link at once, without sending a new one."""
    campaign = campaign_or_404(slug)
    editor_required()
    partner = service.get_partner(campaign, partner_id)
    if ConfirmForm().validate_on_submit():
        try:
            signing.revoke(partner, current_user)
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"The link of {partner.organisation} no longer works.", "success")
    return redirect(url_for("partners.index", slug=slug))


@bp.post("/c/<slug>/partners/reminders")
@login_required
def set_reminders(slug):
    """Change on which days before the deadline unsigned partners are reminded."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = ReminderForm()
    if form.validate_on_submit():
        try:
            days = reminders.set_days(campaign, current_user, form.reminder_days.data or "")
        except Invalid as exc:
            field_error(form, exc)
        else:
            db.session.commit()
            when = ", ".join(str(d) for d in days)
            flash(
                f"Reminders go out {when} day(s) before the deadline." if days else "No reminders.",
                "success",
            )
            return redirect(url_for("partners.index", slug=slug, _anchor="reminders"))
    return partners_page(campaign, reminder_form=form, status=400)

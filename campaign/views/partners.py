"""The partner list: adding, importing and inviting partner organisations."""

from collections import Counter

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..forms import ConfirmForm, ImportForm, PartnerForm, ReminderForm
from ..services import invitation_dry_run, partner_list_access, personal_link_signing, reminders
from ..services import partners as service
from ..services.dashboard import campaign_overview
from ..services.duplicates import find_flags
from ..services.partner_import import COLUMNS
from .helpers import campaign_or_404, confirmed_action, field_error, refuse

bp = Blueprint("partners", __name__)


def campaign_and_access(slug, *, manage=False):
    """The campaign and what the current user may do with its partners (co-leads too)."""
    campaign = campaign_or_404(slug, co_leads=True)
    try:
        access = partner_list_access.partner_access(current_user, campaign)
    except NotFound:
        abort(404)
    if manage:
        partner_list_access.require_may_edit(access)
    return campaign, access


def _owned_partner(campaign, access, partner_id):
    """A partner of this campaign that this person manages; anything else is 404."""
    try:
        partner = service.get_partner(campaign, partner_id)
    except NotFound:
        abort(404)
    if not access.owns(partner):
        abort(404)
    return partner


def partners_page(campaign, access, *, form=None, import_form=None, reminder_form=None, status=200):
    """The partner list page, with the add and import forms (errors shown on them)."""
    overview = campaign_overview(campaign)
    roster = overview["roster"]
    if not access.sees_all:
        # A co-lead's view: their own network only, counted on its own.
        mine = partner_list_access.visible(access, overview["partners"])
        overview["partners"] = mine
        overview["statuses"] = Counter(
            p.current_request.state if p.current_request else "not invited" for p in mine
        )
        ids = {p.id for p in mine}
        overview["signed"] = sum(e.partner.id in ids for e in roster.entries)
    # Staff read and export, but organisations that support privately are not named to
    # them: such rows are left out here and counted instead.
    hidden = roster.private_partner_ids() if not current_user.can_edit else set()
    overview["partners"] = [p for p in overview["partners"] if p.id not in hidden]
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
        uninvited=[p for p in service.uninvited(campaign) if access.owns(p)],
        access=access,
        tree=partner_list_access.invited_by_tree(campaign, access, hide=hidden),
        private_hidden=len(hidden),
        confirm=ConfirmForm(),
    ), status


@bp.get("/c/<slug>/partners")
@login_required
def index(slug):
    """Partners, their signing status, and the forms to add more."""
    return partners_page(*campaign_and_access(slug))


@bp.post("/c/<slug>/partners")
@login_required
def add(slug):
    """Add one partner."""
    campaign, access = campaign_and_access(slug, manage=True)
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = service.add_partner(
                campaign, current_user, form.data, allow_duplicate=form.allow_duplicate.data
            )
        except Invalid as exc:
            field_error(form, exc)
        else:
            flash(f"{partner.organisation} added.", "success")
            return redirect(url_for("partners.index", slug=slug))
    return partners_page(campaign, access, form=form, status=400)


@bp.get("/c/<slug>/partners/invite")
@login_required
def invite_preview(slug):
    """The dry run: who would be invited, who is skipped, and the email they would get."""
    campaign, access = campaign_and_access(slug, manage=True)
    try:
        limit = invitation_dry_run.parse_limit(request.args.get("limit"))
    except Invalid as exc:
        refuse(f"{exc.field}: {exc.reason}")
        limit = None
    return render_template(
        "partners/invite_preview.html",
        campaign=campaign,
        plan=invitation_dry_run.invitation_plan(campaign, limit, access),
        access=access,
        confirm=ConfirmForm(),
    )


@bp.post("/c/<slug>/partners/invite")
@login_required
def invite(slug):
    """Send personal links to the partners the dry run showed (the first N, if limited)."""
    campaign, access = campaign_and_access(slug, manage=True)
    if not ConfirmForm().validate_on_submit():
        refuse("The form expired; please check the list and confirm again.")
        return redirect(url_for("partners.invite_preview", slug=slug))
    try:
        limit = invitation_dry_run.parse_limit(request.form.get("limit"))
        plan = invitation_dry_run.invitation_plan(campaign, limit, access)
        count = len(service.invite(campaign, current_user, plan["recipients"]))
    except (Conflict, Invalid) as exc:
        refuse(str(exc))
        return redirect(url_for("partners.invite_preview", slug=slug))
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
    campaign, access = campaign_and_access(slug, manage=True)
    partner = _owned_partner(campaign, access, partner_id)
    return confirmed_action(
        lambda: service.invite(campaign, current_user, [partner]),
        success=f"A new link was sent to {partner.contact_email}; the old one no longer works.",
        back=url_for("partners.index", slug=slug),
    )


@bp.post("/c/<slug>/partners/<int:partner_id>/revoke")
@login_required
def revoke(slug, partner_id):
    """Kill a partner's link at once, without sending a new one."""
    campaign, access = campaign_and_access(slug, manage=True)
    partner = _owned_partner(campaign, access, partner_id)
    return confirmed_action(
        lambda: personal_link_signing.revoke(partner, current_user),
        success=f"The link of {partner.organisation} no longer works.",
        back=url_for("partners.index", slug=slug),
    )


@bp.post("/c/<slug>/partners/reminders")
@login_required
def set_reminders(slug):
    """Change on which days before the deadline unsigned partners are reminded."""
    campaign, access = campaign_and_access(slug, manage=True)
    form = ReminderForm()
    if form.validate_on_submit():
        try:
            days = reminders.set_days(campaign, current_user, form.reminder_days.data or "")
        except Invalid as exc:
            field_error(form, exc)
        else:
            when = ", ".join(str(d) for d in days)
            flash(
                f"Reminders go out {when} day(s) before the deadline." if days else "No reminders.",
                "success",
            )
            return redirect(url_for("partners.index", slug=slug, _anchor="reminders"))
    return partners_page(campaign, access, reminder_form=form, status=400)


@bp.post("/c/<slug>/partners/sharing")
@login_required
def set_sharing(slug):
    """Let co-leads see the whole partner list, or only the partners they added."""
    campaign, access = campaign_and_access(slug, manage=True)
    share = request.form.get("share") == "1"
    return confirmed_action(
        lambda: partner_list_access.set_sharing(campaign, current_user, share),
        success="Co-leads now see the whole partner list."
        if share
        else "Co-leads now see only the partners they added.",
        back=url_for("partners.index", slug=slug, _anchor="coalition"),
        errors=(),
    )


@bp.post("/c/<slug>/partners/<int:partner_id>/role")
@login_required
def set_role(slug, partner_id):
    """Mark a partner as a lead or co-lead organisation, or back to a signatory."""
    campaign, access = campaign_and_access(slug, manage=True)
    # A partner a co-lead does not manage is absent for them (404), like everywhere else.
    partner = _owned_partner(campaign, access, partner_id)
    return confirmed_action(
        lambda: partner_list_access.set_partner_role(
            campaign, current_user, partner, request.form.get("coalition_role", "")
        ),
        # Read after the change: the message names the role the partner now has.
        success=lambda _: (
            f"{partner.organisation} is listed as {_ROLE_NAMES[partner.coalition_role]}."
        ),
        back=url_for("partners.index", slug=slug, _anchor=f"p{partner.id}"),
        errors=(Invalid, Conflict),
    )


_ROLE_NAMES = {"": "a signatory", "lead": "a lead organisation", "co_lead": "a co-lead"}

"""A campaign's members: organisers add co-organisers, co-leads and read-only staff."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid
from ..forms import ConfirmForm
from ..forms.members import MemberForm
from ..models import Campaign
from ..services import members as service
from ..services.campaigns import may_organise
from .helpers import campaign_or_404, confirmed_action, editor_required, field_error

bp = Blueprint("members", __name__)


@bp.app_template_global()
def page_role(campaign=None) -> str:
    """The header's name for the current user's part on this page (its campaign, if any)."""
    if not current_user.is_authenticated:
        return ""
    return service.role_label(current_user, campaign if isinstance(campaign, Campaign) else None)


def _page(campaign, form=None, status=200):
    """The members list, and the add form for those who may use it."""
    return render_template(
        "members/index.html",
        campaign=campaign,
        members=service.members(campaign),
        may_manage=may_organise(current_user, campaign),
        form=form or MemberForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.get("/c/<slug>/members")
@login_required
def index(slug):
    """Who works on this campaign, and in what role."""
    return _page(campaign_or_404(slug))


@bp.post("/c/<slug>/members")
@login_required
def add(slug):
    """Add an existing account as co-organiser, co-lead or staff (organisers only)."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = MemberForm()
    if form.validate_on_submit():
        try:
            service.add_member(campaign, current_user, form.email.data, form.role.data)
        except Invalid as exc:
            field_error(form, exc)
        except Conflict as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            label = service.ROLE_LABELS[form.role.data].lower()
            flash(f"{form.email.data.strip()} added as {label}.", "success")
            return redirect(url_for("members.index", slug=slug))
    return _page(campaign, form, 400)


@bp.post("/c/<slug>/members/<int:member_id>/remove")
@login_required
def remove(slug, member_id):
    """Take someone off the campaign (organisers only; the last organiser stays)."""
    campaign = campaign_or_404(slug)
    editor_required()
    return confirmed_action(
        lambda: service.remove_member(campaign, current_user, member_id),
        success=lambda email: f"{email} no longer has access to this campaign.",
        back=url_for("members.index", slug=slug),
    )

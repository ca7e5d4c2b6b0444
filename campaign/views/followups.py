"""The follow-up plan of a campaign, and each target's timeline."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..forms import ConfirmForm
from ..forms.followups import FollowUpForm
from ..letters.sandbox import FIELDS
from ..services import followups as service
from ..services.campaigns import get_target
from .helpers import campaign_or_404, confirmed_action, editor_required, field_error, refuse

bp = Blueprint("followups", __name__)

STARTER = """{{ target.salutation }},

On behalf of the {{ signatory_count }} organisations that signed our letter, we are still
waiting for your answer. We ask again that {{ target.organisation }} respond.

Sincerely,

{{ campaign.lead_organisation }}
"""


def _page(campaign, form, preview=None, status=200):
    targets = campaign.targets
    return render_template(
        "followups/index.html",
        campaign=campaign,
        steps=service.steps(campaign),
        form=form,
        fields=FIELDS,
        preview=preview,
        targets=targets,
        timelines={t.id: service.timeline(campaign, t) for t in targets},
        confirm=ConfirmForm(),
    ), status


@bp.get("/c/<slug>/follow-up")
@login_required
def index(slug):
    """The plan, a form for the next step, and where each target stands."""
    campaign = campaign_or_404(slug)
    form = FollowUpForm(
        formdata=None,
        days_after=14,
        subject=f"Still awaiting your answer: {campaign.title}",
        body=STARTER,
    )
    return _page(campaign, form)


@bp.post("/c/<slug>/follow-up")
@login_required
def add(slug):
    """Add a step, or preview it for the first target (the button pressed decides)."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = FollowUpForm()
    if not form.validate_on_submit():
        return _page(campaign, form, status=400)
    try:
        if request.form.get("action") == "preview":
            step = service.preview_step(
                form.days_after.data,
                form.subject.data,
                form.body.data,
                form.notify_coalition.data,
            )
            target = campaign.targets[0] if campaign.targets else None
            return _page(campaign, form, preview=service.render_step(step, campaign, target))
        service.add_step(
            campaign,
            current_user,
            days_after=form.days_after.data,
            subject=form.subject.data,
            body=form.body.data,
            notify=form.notify_coalition.data,
        )
    except Invalid as exc:
        field_error(form, exc)
        return _page(campaign, form, status=400)
    except Conflict as exc:
        refuse(str(exc))
        return _page(campaign, form, status=409)
    flash(f"Follow-up planned {form.days_after.data} days after delivery.", "success")
    return redirect(url_for("followups.index", slug=slug))


@bp.post("/c/<slug>/follow-up/<int:step_id>/remove")
@login_required
def remove(slug, step_id):
    """Drop a step nobody has been sent yet."""
    campaign = campaign_or_404(slug)
    editor_required()
    return confirmed_action(
        lambda: service.remove_step(campaign, current_user, step_id),
        success="Follow-up removed from the plan.",
        back=url_for("followups.index", slug=slug),
    )


@bp.get("/c/<slug>/targets/<int:target_id>/timeline")
@login_required
def timeline(slug, target_id):
    """One target: what happened, and which follow-up is due next."""
    campaign = campaign_or_404(slug)
    try:
        target = get_target(campaign, target_id)
    except NotFound:
        abort(404)
    return render_template(
        "followups/timeline.html",
        campaign=campaign,
        target=target,
        timeline=service.timeline(campaign, target),
    )

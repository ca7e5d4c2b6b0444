"""Moderating public sign-ups: the queue, the public link, blocklists, bulk invalidation."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..forms import ConfirmForm, RejectForm, SourceForm
from ..models import BlockedSource
from ..services import public_sign_on as service
from .helpers import campaign_or_404, editor_required, refuse

bp = Blueprint("moderation", __name__)


@bp.get("/c/<slug>/moderation")
@login_required
def index(slug):
    """Sign-ups waiting for review, the public link and the blocklists."""
    campaign = campaign_or_404(slug)
    link = service.get_link(campaign)
    blocked = db.session.scalars(
        db.select(BlockedSource).where(BlockedSource.campaign_id == campaign.id)
    ).all()
    return render_template(
        "moderation/index.html",
        campaign=campaign,
        link=link,
        url=service.public_url(link) if link else None,
        queue=service.queue(campaign),
        blocked=blocked,
        confirm=ConfirmForm(),
        reject_form=RejectForm(formdata=None),
        source_form=SourceForm(formdata=None),
    )


def _back(slug):
    return redirect(url_for("moderation.index", slug=slug))


@bp.post("/c/<slug>/moderation/link")
@login_required
def link(slug):
    """Turn the public link on or off, or give it a new address."""
    campaign = campaign_or_404(slug)
    editor_required()
    if ConfirmForm().validate_on_submit():
        action = request.form.get("action")
        try:
            if action == "rotate":
                service.rotate(campaign, current_user)
                flash("The public link has a new address; the old one no longer works.", "success")
            else:
                service.set_enabled(campaign, current_user, action == "enable")
                flash("Public sign-on is " + ("on." if action == "enable" else "off."), "success")
        except Conflict as exc:
            refuse(str(exc))
    return _back(slug)


@bp.post("/c/<slug>/moderation/<int:request_id>/<any(approve, reject):decision>")
@login_required
def decide(slug, request_id, decision):
    """Approve or reject one confirmed sign-up."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = RejectForm() if decision == "reject" else ConfirmForm()
    if not form.validate_on_submit():
        refuse("To reject a sign-up, say why: the signer is told.")
        return _back(slug)
    try:
        req = service.moderate(
            campaign,
            current_user,
            request_id,
            approve=decision == "approve",
            reason=getattr(form, "reason", None) and form.reason.data or "",
        )
    except NotFound:
        return render_template(
            "error.html", code=404, title="Not found", message="There is nothing here."
        ), 404
    except (Conflict, Invalid) as exc:
        refuse(str(exc))
    else:
        flash(
            f"{req.partner.organisation}: {'approved' if decision == 'approve' else 'rejected'}.",
            "success",
        )
    return _back(slug)


@bp.post("/c/<slug>/moderation/sources/<any(block, invalidate):action>")
@login_required
def sources(slug, action):
    """Block an email domain or IP, or invalidate every signature that came from one."""
    campaign = campaign_or_404(slug)
    editor_required()
    form = SourceForm()
    if not form.validate_on_submit():
        refuse("Give an email domain or an IP address.")
        return _back(slug)
    try:
        if action == "block":
            service.block(campaign, current_user, kind=form.kind.data, value=form.value.data)
            message = f"New sign-ups from {form.value.data} are refused."
        else:
            count = service.invalidate_from(
                campaign,
                current_user,
                kind=form.kind.data,
                value=form.value.data,
                reason=form.reason.data or "",
            )
            message = f"{count} signature(s) from {form.value.data} no longer count."
    except Invalid as exc:
        refuse(str(exc))
    else:
        flash(message, "success")
    return _back(slug)

"""The letterhead and look of a campaign's letter."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..errors import Invalid
from ..extensions import db
from ..forms import LetterheadForm
from ..services import letterhead as service
from .helpers import campaign_or_404, editor_required, field_error

bp = Blueprint("letterhead", __name__)


@bp.route("/c/<slug>/letterhead", methods=["GET", "POST"])
@login_required
def settings(slug):
    """Lead organisation, logo, accent colour, paper, margins and signature block style."""
    # Co-leads only review the draft: campaign_or_404 finds no campaign for them.
    campaign = campaign_or_404(slug)
    editor_required()
    form = LetterheadForm(obj=campaign)
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            changed = service.update_letterhead(
                campaign,
                current_user,
                form.data,
                logo=upload.read() if upload else None,
                remove_logo=form.remove_logo.data,
                logo_max_bytes=current_app.config["LOGO_MAX_BYTES"],
            )
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            flash(
                "Letterhead and look saved." if changed else "Nothing changed.",
                "success",
            )
            return redirect(url_for("letterhead.settings", slug=slug))
    status = 400 if form.is_submitted() else 200
    return render_template("letterhead/settings.html", campaign=campaign, form=form), status

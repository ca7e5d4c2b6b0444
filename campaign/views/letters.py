"""Writing, previewing and publishing the letter."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..forms import ConfirmForm, LetterForm
from ..letters.document import letter_html
from ..letters.sandbox import FIELDS
from ..services import letters as service
from ..services.campaigns import get_target
from .helpers import campaign_or_404, editor_required, field_error

bp = Blueprint("letters", __name__)

STARTER = """{{ target.salutation }},

Write your letter here. Merge fields such as {{ target.name }} are filled in for each target.

Sincerely,

The undersigned organisations
"""


@bp.route("/c/<slug>/letter", methods=["GET", "POST"])
@login_required
def edit(slug):
    """Edit the working draft of the letter."""
    campaign = campaign_or_404(slug)
    latest = service.latest_version(campaign)
    form = LetterForm(
        subject=latest.subject if latest else campaign.title,
        body=latest.body if latest else STARTER,
    )
    if request.method == "POST":
        editor_required()
        if form.validate_on_submit():
            try:
                version = service.save_draft(
                    campaign, current_user, subject=form.subject.data, body=form.body.data
                )
            except Invalid as exc:
                field_error(form, exc)
            except Conflict as exc:
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(f"Draft of version {version.number} saved.", "success")
                return redirect(url_for("letters.edit", slug=slug))
        return render_template(
            "letters/edit.html",
            campaign=campaign,
            form=form,
            fields=FIELDS,
            latest=latest,
            confirm=ConfirmForm(),
        ), 400
    return render_template(
        "letters/edit.html",
        campaign=campaign,
        form=form,
        fields=FIELDS,
        latest=latest,
        confirm=ConfirmForm(),
    )


@bp.get("/c/<slug>/letter/preview")
@login_required
def preview(slug):
    """The exact HTML the PDF is made from, for the newest version (draft or published)."""
    campaign = campaign_or_404(slug)
    version = service.latest_version(campaign)
    if version is None:
        abort(404)
    target = None
    if request.args.get("target"):
        try:
            target = get_target(campaign, int(request.args["target"]))
        except (ValueError, NotFound):
            abort(404)
    try:
        html = letter_html(service.letter_data(campaign, version, target))
    except Invalid as exc:
        return render_template("letters/preview_error.html", campaign=campaign, error=exc), 400
    return html


@bp.post("/c/<slug>/letter/publish")
@login_required
def publish(slug):
    """Freeze the draft and open the campaign for signatures."""
    editor_required()
    campaign = campaign_or_404(slug)
    if ConfirmForm().validate_on_submit():
        try:
            version = service.publish(campaign, current_user)
        except (Conflict, Invalid) as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"Version {version.number} is published and open for signatures.", "success")
            return redirect(url_for("campaigns.show", slug=slug))
    return redirect(url_for("letters.edit", slug=slug))


@bp.get("/c/<slug>/letter/versions")
@login_required
def versions(slug):
    """Every version with its hash and author."""
    campaign = campaign_or_404(slug)
    return render_template("letters/versions.html", campaign=campaign)

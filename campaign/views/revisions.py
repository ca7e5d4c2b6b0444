"""A version's history of saves: who saved what, when, and the changes between saves."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..forms import ConfirmForm
from ..services import revisions as service
from .helpers import campaign_or_404, editor_required, refuse

bp = Blueprint("revisions", __name__)


@bp.get("/c/<slug>/letter/versions/<int:number>/saves")
@login_required
def history(slug, number):
    """Every save of one version, and the word diff of a chosen save against the one before."""
    campaign = campaign_or_404(slug)
    try:
        version, rows = service.history(campaign, number)
        chosen = request.args.get("save", type=int)
        revision = service.get_revision(campaign, chosen) if chosen else None
    except NotFound:
        abort(404)
    if revision is not None and revision.version_id != version.id:
        abort(404)
    if revision is None and rows:
        revision = rows[0]["revision"]
    diff = service.compare(service.previous_of(revision), revision) if revision else None
    return render_template(
        "letters/saves.html",
        campaign=campaign,
        version=version,
        rows=rows,
        diff=diff,
        confirm=ConfirmForm(),
    )


@bp.post("/c/<slug>/letter/saves/<int:revision_id>/restore")
@login_required
def restore(slug, revision_id):
    """Make an earlier save the working draft again (as a new save; nothing is lost)."""
    campaign = campaign_or_404(slug)
    editor_required()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        draft = service.restore_revision(campaign, current_user, revision_id)
    except NotFound:
        abort(404)
    except (Conflict, Invalid) as exc:
        refuse(str(exc))
        return redirect(url_for("letters.versions", slug=slug))
    flash(f"That save is now the draft of version {draft.number}.", "success")
    return redirect(url_for("letters.edit", slug=slug))

"""A version's history of saves: who saved what, when, and the changes between saves."""

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from ..errors import NotFound
from ..forms import ConfirmForm
from ..services import revisions as service
from . import letters
from .helpers import campaign_or_404

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


# One view restores versions and saves (views/letters.py); the saves page keeps its URL.
bp.add_url_rule(
    "/c/<slug>/letter/saves/<int:revision_id>/restore",
    "restore",
    letters.restore,
    methods=["POST"],
)

"""The partner directory: organisations across campaigns, and adding them to another one."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..forms import ConfirmForm
from ..services import directory as service
from .helpers import campaign_or_404, editor_required, refuse

bp = Blueprint("directory", __name__)


@bp.get("/directory")
@login_required
def index():
    """Every organisation from the campaigns you run, with the campaigns each was part of."""
    query = request.args.get("q", "")[:100]
    found, total = service.organisations(current_user, query)
    return render_template("directory/index.html", organisations=found, total=total, query=query)


@bp.get("/c/<slug>/partners/directory")
@login_required
def pick(slug):
    """Find organisations from earlier campaigns to add to this one."""
    campaign = campaign_or_404(slug)
    editor_required()
    query = request.args.get("q", "")[:100]
    found, total = service.organisations(current_user, query)
    return render_template(
        "directory/pick.html",
        campaign=campaign,
        organisations=found,
        total=total,
        query=query,
        confirm=ConfirmForm(),
    )


@bp.post("/c/<slug>/partners/directory/<int:partner_id>")
@login_required
def add(slug, partner_id):
    """Add one organisation from the directory to this campaign's partner list."""
    campaign = campaign_or_404(slug)
    editor_required()
    back = url_for("directory.pick", slug=slug, q=request.form.get("q", ""))
    if not ConfirmForm().validate_on_submit():
        refuse("The form expired; please try again.")
        return redirect(back)
    try:
        partner = service.add_to_campaign(campaign, current_user, partner_id)
    except NotFound:
        abort(404)
    except Invalid as exc:
        refuse(f"Not added: {exc.reason}.")
        return redirect(back)
    except Conflict as exc:
        refuse(str(exc))
        return redirect(back)
    flash(f"{partner.organisation} is on the partner list; invite them when ready.", "success")
    return redirect(back)

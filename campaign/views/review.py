"""Co-lead review of the draft: paragraphs and comments, invitations, joining as co-lead."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user

from ..errors import Conflict, Invalid, NotFound
from ..extensions import limiter
from ..forms import ConfirmForm
from ..forms.review import AcceptForm, CoLeadInviteForm, CommentForm
from ..services import colead_invites
from ..services import draft_comments as service
from ..services.campaigns import co_led_ids, member_role
from .helpers import campaign_or_404, confirmed_action, field_error, refuse

bp = Blueprint("review", __name__)


@bp.after_request
def private(response):
    """Invitation tokens sit in the URL and drafts are private: no Referer, no caching."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_global()
def campaign_role(campaign) -> str | None:
    """The current user's part in a campaign, for templates (the nav hides pages by it)."""
    if not current_user.is_authenticated:
        return None
    return member_role(current_user, campaign)


@bp.app_template_global()
def review_only_ids() -> set[int]:
    """Ids of the campaigns the current user co-leads: they open on the review page."""
    if not current_user.is_authenticated:
        return set()
    return co_led_ids(current_user)


def _page(campaign, *, comment_form=None, number=None, invite_form=None, status=200):
    """The review page; a form that failed keeps its input and errors in place."""
    data = service.review_page(campaign)
    forms = {}
    for p in data["paragraphs"]:
        if comment_form is not None and p.number == number:
            # Keep what they wrote, pinned to the text they are now shown.
            comment_form.seen.data = p.seen
            forms[p.number] = comment_form.for_paragraph(p.number)
        else:
            fresh = CommentForm(formdata=None, seen=p.seen)
            forms[p.number] = fresh.for_paragraph(p.number)
    organiser = service.may_resolve(current_user, campaign)
    return render_template(
        "review/index.html",
        campaign=campaign,
        review=data,
        forms=forms,
        may_comment=service.may_comment(current_user, campaign),
        organiser=organiser,
        invite_form=invite_form or CoLeadInviteForm(formdata=None),
        invitations=colead_invites.invitations(campaign) if organiser else [],
        invite_state=colead_invites.state,
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.get("/c/<slug>/review")
@login_required
def index(slug):
    """The draft, paragraph by paragraph, with comments and a comment box under each."""
    return _page(campaign_or_404(slug, co_leads=True))


@bp.post("/c/<slug>/review/paragraphs/<int:number>/comments")
@login_required
def comment(slug, number):
    """Comment on paragraph `number` (1-based) of the newest version."""
    campaign = campaign_or_404(slug, co_leads=True)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            service.add_comment(
                campaign, current_user, number - 1, form.body.data, seen=form.seen.data or None
            )
        except Invalid as exc:
            if exc.field == "body":
                field_error(form, exc)
            else:
                # No such paragraph, so no form to show the error on.
                refuse(f"Your comment was not saved: {exc.reason}.")
        except Conflict as exc:
            refuse(str(exc))
        else:
            flash(f"Comment on paragraph {number} saved.", "success")
            return redirect(url_for("review.index", slug=slug, _anchor=f"p{number}"))
    return _page(campaign, comment_form=form, number=number, status=400)


@bp.post("/c/<slug>/review/comments/<int:comment_id>/resolve")
@login_required
def resolve(slug, comment_id):
    """Mark a comment as resolved (organisers only; others get a 403 saying so)."""
    campaign = campaign_or_404(slug, co_leads=True)
    return confirmed_action(
        lambda: service.resolve(campaign, current_user, comment_id),
        success="Comment resolved.",
        back=url_for("review.index", slug=slug),
        errors=(),
    )


@bp.post("/c/<slug>/review/comments/<int:comment_id>/reopen")
@login_required
def reopen(slug, comment_id):
    """Open a resolved comment again (organisers only)."""
    campaign = campaign_or_404(slug, co_leads=True)
    return confirmed_action(
        lambda: service.reopen(campaign, current_user, comment_id),
        success="Comment reopened.",
        back=url_for("review.index", slug=slug),
        errors=(),
    )


@bp.post("/c/<slug>/review/coleads")
@login_required
def invite(slug):
    """Invite a co-lead by name and email (organisers only)."""
    campaign = campaign_or_404(slug, co_leads=True)
    form = CoLeadInviteForm()
    if form.validate_on_submit():
        try:
            colead_invites.invite(
                campaign, current_user, name=form.name.data, email=form.email.data
            )
        except Invalid as exc:
            field_error(form, exc)
        except Conflict as exc:
            refuse(str(exc))
        else:
            flash(f"Invitation sent to {form.email.data}.", "success")
            return redirect(url_for("review.index", slug=slug, _anchor="coleads"))
    return _page(campaign, invite_form=form, status=400)


@bp.post("/c/<slug>/review/coleads/<int:invite_id>/revoke")
@login_required
def revoke(slug, invite_id):
    """Revoke an invitation, or remove a co-lead who already joined (organisers only)."""
    campaign = campaign_or_404(slug, co_leads=True)
    return confirmed_action(
        lambda: colead_invites.revoke(campaign, current_user, invite_id),
        success=lambda row: f"Invitation for {row.email} revoked.",
        back=url_for("review.index", slug=slug, _anchor="coleads"),
        errors=(),
    )


def _invitation(token):
    try:
        return colead_invites.resolve(token)
    except NotFound:
        abort(404)


@bp.route("/colead/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNING_RATE_LIMIT"])
def accept(token):
    """Open an invitation: log in and accept, or choose a password for a new account."""
    row = _invitation(token)
    existing = colead_invites.invitee(row)
    if existing is None:
        return _accept_new(row)
    if not current_user.is_authenticated or current_user.id != existing.id:
        # Log in as the invited address first; the login page brings them back here.
        return render_template("review/accept.html", invite=row, mode="login")
    form = ConfirmForm()
    if form.validate_on_submit():
        colead_invites.accept(row, current_user)
        flash(f"You are now a co-lead of {row.campaign.title}.", "success")
        return redirect(url_for("review.index", slug=row.campaign.slug))
    return render_template("review/accept.html", invite=row, mode="join", form=form)


def _accept_new(row):
    """No account has the invited address yet: create one with the chosen password."""
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            user = colead_invites.accept_new(row, form.password.data)
        except Invalid as exc:
            field_error(form, exc)
        else:
            login_user(user)
            flash(f"Welcome. You are now a co-lead of {row.campaign.title}.", "success")
            return redirect(url_for("review.index", slug=row.campaign.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("review/accept.html", invite=row, mode="new", form=form), status

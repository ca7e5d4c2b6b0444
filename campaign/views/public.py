"""The public sign-on page (no account, no personal link) and email confirmation."""

from flask import Blueprint, abort, current_app, render_template, request

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db, limiter
from ..forms import PublicSignForm
from ..services import public_sign_on as service
from ..services.letters import published_version
from ..services.personal_link_signing import consent_text
from .helpers import field_error, letter_response

bp = Blueprint("public", __name__)
# The public form is the obvious target for scripted sign-ups: limit it per IP.
limiter.limit(lambda: current_app.config["SIGNING_RATE_LIMIT"])(bp)


@bp.after_request
def no_referrer(response):
    """Public pages never leak their address onwards."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _campaign(token):
    try:
        return service.resolve_public(token)
    except NotFound:
        abort(404)


def _page(campaign, token, form, status=200, problem=None):
    form.contact_consent.label.text = consent_text(campaign)
    return render_template(
        "public/sign.html",
        campaign=campaign,
        token=token,
        version=published_version(campaign),
        form=form,
        problem=problem,
    ), status


@bp.get("/p/<token>")
def show(token):
    """The letter and the public sign-up form."""
    return _page(_campaign(token), token, PublicSignForm(formdata=None))


@bp.get("/p/<token>/letter")
def letter(token):
    """The letter as printed, for the frame on the public page."""
    from ..services.letters import letter_data

    campaign = _campaign(token)
    return letter_response(letter_data(campaign, published_version(campaign), None))


@bp.post("/p/<token>")
def submit(token):
    """Ask to sign; the signer is emailed a link to confirm their address."""
    campaign = _campaign(token)
    form = PublicSignForm()
    if form.validate_on_submit():
        logo = form.logo.data.read() if form.logo.data else None
        try:
            version_id = int(request.form.get("version_id") or 0)
        except ValueError:
            version_id = 0
        try:
            sig = service.submit(
                campaign,
                form.data,
                logo,
                ip=request.remote_addr or "",
                user_agent=request.user_agent.string,
                version_id=version_id,
            )
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            return _page(campaign, token, form, status=403, problem=str(exc))
        else:
            return render_template("public/check_email.html", campaign=campaign, sig=sig)
    return _page(campaign, token, form, status=400)

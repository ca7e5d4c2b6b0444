"""The partner's signing page, reached through a personal link (no account)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db, limiter
from ..forms import ConfirmForm, ForwardForm, SignForm
from ..models import RequestStatus
from ..services import personal_link_signing as service
from ..services import public_sign_on, reconsent
from ..services.letters import letter_data, published_version
from ..services.partners import signing_url
from .helpers import confirmed_action, field_error, letter_response, refuse

bp = Blueprint("signing", __name__)
# Links are unguessable, but a per-IP limit also stops scripted floods of signatures.
limiter.limit(lambda: current_app.config["SIGNING_RATE_LIMIT"])(bp)


@bp.after_request
def no_referrer(response):
    """Keep the token in the URL from leaking to any other site through the Referer header."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _int(raw: str | None) -> int:
    # A tampered hidden field is just "a different version": the service says re-read.
    try:
        return int(raw or 0)
    except ValueError:
        return 0


def _request(token):
    try:
        return service.resolve(token)
    except service.LinkGone as gone:
        # 410 Gone: the link existed and will not work again; the page says why and what to do.
        page = render_template("signing/gone.html", gone=gone, campaign=gone.campaign)
        abort(make_response(page, 410))
    except NotFound:
        abort(404)


def _page(req, token, form, status=200, forward_form=None):
    campaign = req.partner.campaign
    version = published_version(campaign)
    if version is None:
        abort(404)
    form.contact_consent.label.text = service.consent_text(campaign)
    is_open = service.can_change(req)
    waiting = reconsent.pending(req.signature, campaign) if is_open else None
    return render_template(
        "signing/sign.html",
        req=req,
        token=token,
        campaign=campaign,
        version=version,
        form=form,
        forward_form=forward_form or ForwardForm(formdata=None),
        withdraw_form=ConfirmForm(formdata=None),
        open=is_open,
        pending=waiting,
        changes=reconsent.version_changes(waiting["signed"], version) if waiting else None,
    ), status


@bp.get("/s/<token>")
def show(token):
    """Show the letter and the signing form; viewing never uses up the link."""
    req = _request(token)
    service.note_viewed(req)
    sig = (
        req.signature
        if req.status in (RequestStatus.SIGNED, RequestStatus.PENDING, RequestStatus.UNCONFIRMED)
        else None
    )
    form = (
        SignForm(formdata=None, obj=sig)
        if sig
        else SignForm(
            formdata=None,
            organisation=req.partner.organisation,
            signer_name=req.addressee_name or req.partner.contact_name,
            signer_email=req.addressee_email or req.partner.contact_email,
        )
    )
    return _page(req, token, form)


@bp.get("/s/<token>/letter")
def letter(token):
    """The letter exactly as it will be printed, for reading in full."""
    req = _request(token)
    version = published_version(req.partner.campaign)
    if version is None:
        abort(404)
    return letter_response(letter_data(req.partner.campaign, version, None))


@bp.post("/s/<token>")
def sign(token):
    """Sign, or update the signature, for the version that was shown."""
    req = _request(token)
    form = SignForm()
    if form.validate_on_submit():
        logo = form.logo.data.read() if form.logo.data else None
        drawing = form.signature_file.data.read() if form.signature_file.data else None
        try:
            service.sign(
                req,
                {**form.data, "signature_clear": request.form.get("signature_clear")},
                logo,
                ip=request.remote_addr or "",
                user_agent=request.user_agent.string,
                version_id=_int(request.form.get("version_id")),
                link_url=signing_url(token),
                signature_file=drawing,
            )
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            refuse(str(exc))
        else:
            return redirect(url_for("signing.show", token=token, _anchor="thanks"))
    return _page(req, token, form, status=400)


@bp.post("/s/<token>/withdraw")
def withdraw(token):
    """Withdraw the signature while the campaign is open."""
    req = _request(token)
    return confirmed_action(
        lambda: service.withdraw(req),
        success="Your signature has been withdrawn. You can sign again while signing is open.",
        back=url_for("signing.show", token=token),
        category="info",
    )


@bp.post("/s/<token>/reconfirm")
def reconfirm(token):
    """Still sign after the letter changed: the signature then counts for the new text."""
    req = _request(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        sig = reconsent.reconfirm(
            req, _int(request.form.get("version_id")), link_url=signing_url(token)
        )
    except Invalid as exc:
        db.session.rollback()
        refuse(f"We could not record your answer: {exc.reason}.")
    except Conflict as exc:
        db.session.rollback()
        refuse(str(exc))
    else:
        flash(
            f"Thank you: {sig.organisation} still signs, now for version "
            f"{sig.letter_version.number} of the letter.",
            "success",
        )
    return redirect(url_for("signing.show", token=token))


@bp.post("/s/<token>/forward")
def forward(token):
    """Give the link to a colleague who may sign; this link stops working."""
    req = _request(token)
    form = ForwardForm()
    if form.validate_on_submit():
        try:
            service.forward(
                req,
                name=form.colleague_name.data,
                email=form.colleague_email.data,
                note=form.note.data or "",
            )
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            refuse(str(exc))
        else:
            # No redirect: this link is dead now, so answer here.
            return render_template(
                "signing/forwarded.html",
                campaign=req.partner.campaign,
                name=form.colleague_name.data,
                email=form.colleague_email.data,
            )
    sig_form = SignForm(
        formdata=None,
        organisation=req.partner.organisation,
        signer_name=req.addressee_name or req.partner.contact_name,
        signer_email=req.addressee_email or req.partner.contact_email,
    )
    return _page(req, token, sig_form, status=400, forward_form=form)


@bp.post("/s/<token>/confirm")
def confirm(token):
    """Confirm a public sign-up's email address (a POST: scanners only ever GET)."""
    req = _request(token)
    return confirmed_action(
        lambda: public_sign_on.confirm(req),
        success="Thank you: your address is confirmed. The organisers will review your signature.",
        back=url_for("signing.show", token=token),
        errors=(),
        category="info",
    )

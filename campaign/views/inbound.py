"""Targets' replies: SendGrid Inbound Parse posts in, the campaign's replies and the inbox out."""

import hmac
import io
import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from ..errors import Conflict, Invalid, NotFound
from ..extensions import csrf, db
from ..forms import AssignReplyForm, ConfirmForm
from ..mail import inbound as inbound_mail
from ..models import Blob
from ..services import inbox as inbox_service
from ..services import replies
from .helpers import campaign_or_404, capped_body, editor_required, field_error, plain, refuse

log = logging.getLogger(__name__)

bp = Blueprint("inbound", __name__)


@bp.post("/webhooks/sendgrid/inbound/<secret>")
def receive(secret):
    """Store a reply SendGrid parsed, after checking the URL's secret and the body's size."""
    configured = current_app.config.get("INBOUND_SECRET")
    if not configured:
        log.warning("Inbound parse refused: INBOUND_SECRET is not set")
        return plain(403, "forbidden")
    # Checked before reading the body, so a stranger cannot make us read 20 MB.
    if not hmac.compare_digest(secret.encode("utf-8"), configured.encode("utf-8")):
        log.warning("Inbound parse refused: wrong secret in the URL")
        return plain(403, "forbidden")
    max_bytes = current_app.config["INBOUND_MAX_BYTES"]
    body = capped_body(max_bytes)
    if body is None:
        return plain(413, "payload too large")
    if request.mimetype != "multipart/form-data":
        return plain(400, "expected multipart/form-data")
    try:
        boundary = request.mimetype_params.get("boundary", "")
        message = inbound_mail.parse_post(body, boundary, max_bytes)
    except RequestEntityTooLarge:
        return plain(413, "payload too large")
    except Invalid as exc:
        return plain(400, f"{exc.field}: {exc.reason}")
    except ValueError:
        return plain(400, "malformed multipart body")
    reply = replies.receive(message)
    log.info(
        "Inbound parse: reply %d stored (%s)",
        reply.id,
        f"target {reply.target_id}" if reply.target_id else "unmatched",
    )
    return plain(200, "ok")


# SendGrid cannot send a CSRF token; the secret in the URL is what authenticates it.
csrf.exempt(receive)


@bp.get("/c/<slug>/replies")
@login_required
def index(slug):
    """A campaign's replies from its targets, with their attachments."""
    campaign = campaign_or_404(slug)
    return render_template(
        "inbound/replies.html",
        campaign=campaign,
        replies=replies.campaign_replies(campaign),
        release_form=ConfirmForm(),
    )


@bp.get("/c/<slug>/replies/<int:reply_id>/attachments/<int:attachment_id>")
@login_required
def attachment(slug, reply_id, attachment_id):
    """Download a reply's attachment; never shown inline, whatever its sender called it."""
    campaign = campaign_or_404(slug)
    try:
        found = replies.attachment_of(campaign, reply_id, attachment_id)
    except NotFound:
        abort(404)
    return _download(found)


@bp.post("/c/<slug>/replies/<int:reply_id>/release")
@login_required
def release(slug, reply_id):
    """Count a held reply as its target's answer, once an organiser has checked it."""
    campaign = campaign_or_404(slug)
    editor_required()
    if not ConfirmForm().validate_on_submit():
        refuse("The form expired; please try again.")
        return redirect(url_for("inbound.index", slug=slug))
    try:
        replies.release(campaign, current_user, reply_id)
    except NotFound:
        abort(404)
    except Conflict as exc:
        db.session.rollback()
        refuse(str(exc))
    else:
        flash("Released: the reply now counts as the target's answer.", "success")
    return redirect(url_for("inbound.index", slug=slug, _anchor=f"reply-{reply_id}"))


def _download(found):
    """A stored attachment as a download that no browser renders."""
    blob = db.session.get(Blob, found.blob_sha256)
    if blob is None:
        abort(404)
    response = send_file(
        io.BytesIO(blob.data),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=found.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _assign_form(reply, failed: AssignReplyForm | None = None) -> AssignReplyForm:
    """One reply's assign form, listing the targets it may go to, grouped by campaign."""
    form = failed or AssignReplyForm(prefix=f"reply{reply.id}")
    form.target_id.choices = [
        SelectChoice(
            target.id,
            target.name + (f", {target.organisation}" if target.organisation else ""),
            optgroup=target.campaign.title,
        )
        for target in inbox_service.assignable_targets(current_user, reply)
    ]
    return form


def _reply_or_404(reply_id: int, **kwargs):
    """An unmatched reply the current user may see, or 404."""
    try:
        return inbox_service.get_reply(current_user, reply_id, **kwargs)
    except NotFound:
        abort(404)


@bp.get("/inbox")
@login_required
def inbox():
    """Replies that matched no target, for the organisers who could own them to assign."""
    editor_required()
    unmatched = inbox_service.inbox(current_user)
    forms = {reply.id: _assign_form(reply) for reply in unmatched}
    return render_template("inbound/inbox.html", replies=unmatched, forms=forms)


@bp.get("/inbox/<int:reply_id>")
@login_required
def show(reply_id):
    """One unmatched reply in full, with its attachments and the assign form."""
    editor_required()
    reply = _reply_or_404(reply_id)
    return render_template("inbound/inbox_reply.html", reply=reply, form=_assign_form(reply))


@bp.get("/inbox/<int:reply_id>/attachments/<int:attachment_id>")
@login_required
def inbox_attachment(reply_id, attachment_id):
    """Download an unmatched reply's attachment (for those who may see the reply)."""
    editor_required()
    try:
        found = inbox_service.get_attachment(current_user, reply_id, attachment_id)
    except NotFound:
        abort(404)
    return _download(found)


@bp.post("/inbox/<int:reply_id>/assign")
@login_required
def assign(reply_id):
    """Put an unmatched reply on a target of the campaign it belongs to."""
    editor_required()
    reply = _reply_or_404(reply_id, assigned_too=True)
    if reply.campaign_id is not None:
        refuse("This reply has already been assigned to a campaign.")
        return redirect(url_for("inbound.inbox"))
    form = _assign_form(reply)
    if form.validate_on_submit():
        try:
            inbox_service.assign(reply_id, form.target_id.data, current_user)
        except NotFound:
            abort(404)
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            refuse(str(exc))
            return redirect(url_for("inbound.inbox"))
        else:
            campaign = reply.target.campaign
            flash(f"The reply is now on {campaign.title}.", "success")
            return redirect(url_for("inbound.index", slug=campaign.slug))
    return render_template("inbound/inbox_reply.html", reply=reply, form=form), 400

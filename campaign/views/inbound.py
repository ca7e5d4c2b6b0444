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
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from wtforms.fields.choices import SelectChoice

from ..errors import Conflict, Invalid, NotFound
from ..extensions import csrf, db
from ..forms import AssignReplyForm
from ..models import Blob
from ..services import inbound_parse, replies
from .helpers import campaign_or_404, editor_required, field_error
from .webhooks import capped_body, plain

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
    if capped_body(max_bytes, cache=True) is None:
        return plain(413, "payload too large")
    if request.mimetype != "multipart/form-data":
        return plain(400, "expected multipart/form-data")
    files = MultiDict()
    try:
        fields, files = _form_as_bytes(max_bytes)
        message = inbound_parse.parse_sendgrid(fields, files)
    except RequestEntityTooLarge:
        return plain(413, "payload too large")
    except Invalid as exc:
        return plain(400, f"{exc.field}: {exc.reason}")
    except ValueError:
        return plain(400, "malformed multipart body")
    finally:
        # These files came from our own parser, not request.files: Flask will not close them.
        for _name, upload in files.items(multi=True):
            upload.close()
    reply = replies.receive(message)
    db.session.commit()
    log.info(
        "Inbound parse: reply %d stored (%s)",
        reply.id,
        f"target {reply.target_id}" if reply.target_id else "unmatched",
    )
    return plain(200, "ok")


class _LosslessFields(MultiPartParser):
    """Reads every form field as Latin-1, which maps each byte to one character.

    Werkzeug decodes fields as UTF-8 and replaces what does not fit, but a reply keeps
    the character set its sender's mail program used (windows-1252, ISO-8859-2...), and
    SendGrid names it per field in `charsets`. Latin-1 loses nothing, so replies.py can
    decode each field's bytes with the charset SendGrid gives.
    """

    def get_part_charset(self, headers) -> str:
        """Latin-1 for every part: its bytes, one per character."""
        return "latin-1"


def _form_as_bytes(max_bytes: int) -> tuple[dict[str, bytes], MultiDict]:
    """The post's fields as bytes (first value of each) and its files.

    A body that is not multipart reads as no fields, as Werkzeug's own form does; the
    parser then says which field is missing.
    """
    boundary = request.mimetype_params.get("boundary", "")
    body = request.get_data(cache=True)
    # Text and HTML parts of a long email thread easily pass Flask's 500 kB per field.
    parser = _LosslessFields(max_form_memory_size=max_bytes)
    try:
        form, files = parser.parse(io.BytesIO(body), boundary.encode("latin-1"), len(body))
    except ValueError:
        return {}, MultiDict()
    return {name: value.encode("latin-1") for name, value in form.items()}, files


# SendGrid cannot send a CSRF token; the secret in the URL is what authenticates it.
csrf.exempt(receive)


@bp.get("/c/<slug>/replies")
@login_required
def index(slug):
    """A campaign's replies from its targets, with their attachments."""
    campaign = campaign_or_404(slug)
    return render_template(
        "inbound/replies.html", campaign=campaign, replies=replies.campaign_replies(campaign)
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


def _target_choices() -> list[SelectChoice]:
    """The targets this user may assign a reply to, grouped by campaign."""
    return [
        SelectChoice(
            target.id,
            target.name + (f", {target.organisation}" if target.organisation else ""),
            optgroup=target.campaign.title,
        )
        for target in replies.assignable_targets(current_user)
    ]


def _assign_form(reply_id: int, choices: list[SelectChoice]) -> AssignReplyForm:
    """One reply's assign form; the prefix keeps field ids apart on the inbox page."""
    form = AssignReplyForm(prefix=f"reply{reply_id}")
    form.target_id.choices = choices
    return form


@bp.get("/inbox")
@login_required
def inbox():
    """Replies that matched no target, for organisers to assign."""
    editor_required()
    return _inbox_page()


def _inbox_page(failed: AssignReplyForm | None = None, failed_id: int | None = None):
    """The inbox, each reply with its own assign form (keeping a failed one's errors)."""
    choices = _target_choices()
    unmatched = replies.inbox()
    forms = {
        reply.id: failed if reply.id == failed_id else _assign_form(reply.id, choices)
        for reply in unmatched
    }
    return render_template("inbound/inbox.html", replies=unmatched, forms=forms)


@bp.post("/inbox/<int:reply_id>/assign")
@login_required
def assign(reply_id):
    """Tie an unmatched reply to a target of a campaign the user runs."""
    editor_required()
    form = _assign_form(reply_id, _target_choices())
    if form.validate_on_submit():
        try:
            reply = replies.assign(reply_id, form.target_id.data, current_user)
        except NotFound:
            abort(404)
        except Invalid as exc:
            db.session.rollback()
            field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("inbound.inbox"))
        else:
            campaign = reply.target.campaign
            db.session.commit()
            flash(f"The reply is now on {campaign.title}.", "success")
            return redirect(url_for("inbound.index", slug=campaign.slug))
    return _inbox_page(form, reply_id), 400

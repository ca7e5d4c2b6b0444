"""Targets' replies: read a SendGrid Inbound Parse post, match it, store it, tell people.

A reply is matched by the per-target Reply-To address on the letter (see
mail.reply_address). A matched reply marks its target as responded, raises an alert for
the organisers and emails the co-signers who asked for updates. A reply that cannot be
matched waits in the inbox until an organiser assigns it to a target.
"""

import html
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr

import nh3
from flask import render_template
from sqlalchemy import select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..mail.outbox import queue_email
from ..mail.reply_address import addresses, target_id_from
from ..models import Campaign, Signature, SignatureRequest, Target, User, utcnow
from ..models.responses import Alert, InboundAttachment, InboundReply
from . import audit
from .blobs import store_blob
from .campaigns import get_campaign, require_editor, visible_campaigns

log = logging.getLogger(__name__)

#: More files than this in one reply are dropped (and named in the log).
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Enough for any real reply; a longer text is cut, with a note saying so.
MAX_TEXT_CHARS = 200_000
#: How much of the reply the co-signers' notice quotes.
NOTICE_QUOTE_CHARS = 20_000
ATTACHMENT_FIELD = re.compile(r"^attachment(\d{1,4})$")
MIME_SHAPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,48}/[a-z0-9][a-z0-9!#$&^_.+-]{0,48}$")
#: NUL and other control characters (tabs and newlines stay); PostgreSQL refuses NUL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
UNSAFE_FILENAME_CHARS = re.compile(r"[^\w .()+,-]")
BLOCK_END = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", re.IGNORECASE)


@dataclass
class Upload:
    """One attached file as received: the sender's name and type for it, and its bytes."""

    filename: str
    mime: str
    data: bytes


@dataclass
class Inbound:
    """The parts of an Inbound Parse post that a reply is made of."""

    to: list[str]
    from_email: str
    from_name: str
    subject: str
    text: str
    uploads: list[Upload] = field(default_factory=list)


def _clean(value, limit: int | None = None) -> str:
    """A form value as safe text: a string, no control characters, at most `limit` chars."""
    text = CONTROL_CHARS.sub("", value if isinstance(value, str) else "")
    return text[:limit] if limit is not None else text


def _json_field(fields, name: str):
    """Decode a JSON form field; a present but broken one is Invalid."""
    raw = fields.get(name)
    if raw in (None, ""):
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Invalid(name, "is not valid JSON") from exc


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML email: tags dropped, scripts and styles removed."""
    spaced = BLOCK_END.sub("\n", markup)
    stripped = nh3.clean(
        spaced, tags=set(), clean_content_tags={"script", "style", "head", "title"}
    )
    text = html.unescape(stripped)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def safe_filename(name: str) -> str:
    """A file name fit to show and to offer as a download: no path, no odd characters."""
    base = re.split(r"[\\/]", _clean(name))[-1]
    base = UNSAFE_FILENAME_CHARS.sub("_", base).strip(" .")
    return base[:200] or "attachment"


def decode_fields(raw: Mapping[str, bytes]) -> dict[str, str]:
    """Inbound Parse fields as text, each decoded by the charset SendGrid names for it.

    `charsets` is a JSON object (field -> charset); a field it does not name, or names
    with a charset Python does not know, is read as UTF-8. Bytes that do not fit become
    U+FFFD rather than failing the reply.
    """
    try:
        charsets = json.loads(raw.get("charsets", b"").decode("utf-8", "replace") or "{}")
    except (ValueError, RecursionError):
        charsets = {}
    if not isinstance(charsets, dict):
        charsets = {}
    fields = {}
    for name, value in raw.items():
        charset = charsets.get(name)
        try:
            fields[name] = value.decode(charset if isinstance(charset, str) else "utf-8", "replace")
        except (LookupError, UnicodeError):
            # An unknown name, or a codec that is no charset ("base64"), or one that takes
            # no "replace" ("idna"): read the field as UTF-8.
            fields[name] = value.decode("utf-8", "replace")
    return fields


def parse_sendgrid(raw: Mapping[str, bytes], files) -> Inbound:
    """Read the fields of an Inbound Parse post (already size-capped); Invalid if malformed."""
    fields = decode_fields(raw)
    if not (fields.get("envelope") or fields.get("from")):
        # Werkzeug reads a broken multipart body as an empty form rather than failing.
        raise Invalid("body", "no 'envelope' or 'from' field; expected an Inbound Parse post")
    if fields.get("email") and not (fields.get("text") or fields.get("html")):
        raise Invalid("email", "raw MIME posts are not supported; turn off 'POST raw' in SendGrid")
    envelope = _json_field(fields, "envelope") or {}
    if not isinstance(envelope, dict):
        raise Invalid("envelope", "must be a JSON object with 'to' and 'from'")
    to = envelope.get("to") or []
    to = [to] if isinstance(to, str) else to
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        raise Invalid("envelope", "'to' must be a list of addresses")
    info = _json_field(fields, "attachment-info") or {}
    if not isinstance(info, dict):
        raise Invalid("attachment-info", "must be a JSON object keyed by attachment field")
    envelope_from = envelope.get("from") if isinstance(envelope.get("from"), str) else ""
    from_name, from_email = _sender(_clean(fields.get("from")), envelope_from)
    text = _clean(fields.get("text"))
    if not text.strip() and fields.get("html"):
        text = html_to_text(_clean(fields.get("html")))
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n\n[The rest of this reply was too long to keep.]"
    uploads, dropped = _uploads(files, info)
    if dropped:
        # Said in the reply itself, so organisers know to ask the target for the file.
        text += "\n\n[Not kept (too many or too large): " + ", ".join(dropped) + "]"
    return Inbound(
        to=[a.strip() for a in to][:50] + addresses(_clean(fields.get("to"))),
        from_email=from_email[:254],
        from_name=from_name[:200],
        subject=_clean(fields.get("subject"), 300).strip(),
        text=text,
        uploads=uploads,
    )


def _sender(header: str, envelope_from: str) -> tuple[str, str]:
    """The sender's name and address: the From header, else the envelope sender."""
    name, address = parseaddr(header[:1000]) if header else ("", "")
    return _clean(name).strip(), _clean(address or envelope_from).strip()


def _uploads(files, info: dict) -> tuple[list[Upload], list[str]]:
    """The attached files, in order, within the count and size caps; and those dropped."""
    keyed = sorted(
        ((int(m.group(1)), key) for key in files if (m := ATTACHMENT_FIELD.match(key))),
    )
    uploads, dropped = [], []
    for _, key in keyed:
        upload = files[key]
        meta = info.get(key) if isinstance(info.get(key), dict) else {}
        name = meta.get("filename") or meta.get("name") or upload.filename or key
        filename = safe_filename(name if isinstance(name, str) else key)
        if len(uploads) >= MAX_ATTACHMENTS:
            log.warning("inbound reply: attachment %r dropped, more than %d", key, MAX_ATTACHMENTS)
            dropped.append(filename)
            continue
        data = upload.stream.read(MAX_ATTACHMENT_BYTES + 1)
        if len(data) > MAX_ATTACHMENT_BYTES:
            log.warning("inbound reply: attachment %r dropped, larger than the cap", key)
            dropped.append(filename)
            continue
        mime = str(meta.get("type") or upload.mimetype or "").strip().lower()
        uploads.append(
            Upload(
                filename=filename,
                mime=mime if MIME_SHAPE.match(mime) else "application/octet-stream",
                data=data,
            )
        )
    return uploads, dropped


def receive(message: Inbound) -> InboundReply:
    """Store a reply; matched to a target by its reply address, or left in the inbox."""
    target = _match(message.to)
    reply = InboundReply(
        to_address=_address_used(message.to, target)[:320],
        from_email=message.from_email,
        from_name=message.from_name,
        subject=message.subject,
        text=message.text,
        received_at=utcnow(),
    )
    for upload in message.uploads:
        # Stored as opaque bytes: the sender's type is shown, never trusted to serve by.
        blob = store_blob(upload.data, "application/octet-stream")
        reply.attachments.append(
            InboundAttachment(
                filename=upload.filename,
                mime=upload.mime,
                size=len(upload.data),
                blob_sha256=blob.sha256,
            )
        )
    db.session.add(reply)
    db.session.flush()
    if target is not None:
        _record_response(reply, target)
    return reply


def _match(candidates: list[str]) -> Target | None:
    """The target named by the first valid reply address among the recipients."""
    for address in candidates:
        target_id = target_id_from(address)
        if target_id is not None:
            target = db.session.get(Target, target_id)
            if target is not None:
                return target
    return None


def _address_used(candidates: list[str], target: Target | None) -> str:
    """The recipient address to remember: the matching one, else the first."""
    for address in candidates:
        if target is not None and target_id_from(address) == target.id:
            return address
    return candidates[0] if candidates else ""


def _record_response(reply: InboundReply, target: Target) -> None:
    """Tie a reply to its target: responded, audit, alert, co-signers told (flushes)."""
    campaign = target.campaign
    reply.campaign_id = campaign.id
    reply.target_id = target.id
    if target.responded_at is None:
        target.responded_at = reply.received_at or utcnow()
    db.session.add(
        Alert(
            campaign_id=campaign.id,
            kind="reply",
            message=f"{target.name} replied: {reply.subject or '(no subject)'}"[:1000],
            target_id=target.id,
        )
    )
    db.session.flush()
    audit.record(
        "target.replied",
        campaign=campaign,
        actor=f"{reply.from_name} <{reply.from_email}>",
        target=target.name,
        reply_id=reply.id,
        subject=reply.subject,
        attachments=[a.filename for a in reply.attachments],
    )
    notify_cosigners(reply, target)


def notify_cosigners(reply: InboundReply, target: Target) -> int:
    """Email each co-signer who asked for updates about this reply; return how many."""
    campaign = target.campaign
    signatures = db.session.scalars(
        select(Signature)
        .join(SignatureRequest, Signature.request_id == SignatureRequest.id)
        .where(
            Signature.campaign_id == campaign.id,
            Signature.wants_updates.is_(True),
            Signature.withdrawn_at.is_(None),
            SignatureRequest.status == "signed",
        )
        .order_by(Signature.id)
    )
    quoted = reply.text[:NOTICE_QUOTE_CHARS]
    seen = set()
    for sig in signatures:
        if sig.signer_email.lower() in seen:
            continue
        seen.add(sig.signer_email.lower())
        queue_email(
            kind="reply_notice",
            to_email=sig.signer_email,
            to_name=sig.signer_name,
            subject=f"{target.name} replied to {campaign.title}",
            text_body=render_template(
                "emails/reply_notice.txt",
                campaign=campaign,
                target=target,
                reply=reply,
                sig=sig,
                quote="\n".join(f"> {line}" for line in quoted.splitlines()) or "> (no text)",
                cut=len(reply.text) > len(quoted),
            ),
            campaign_id=campaign.id,
            partner_id=sig.request.partner_id,
        )
    return len(seen)


def inbox() -> list[InboundReply]:
    """Replies not yet tied to any campaign, newest first."""
    return list(
        db.session.scalars(
            select(InboundReply)
            .where(InboundReply.campaign_id.is_(None))
            .order_by(InboundReply.received_at.desc(), InboundReply.id.desc())
        )
    )


def campaign_replies(campaign: Campaign) -> list[InboundReply]:
    """A campaign's replies, newest first."""
    return list(
        db.session.scalars(
            select(InboundReply)
            .where(InboundReply.campaign_id == campaign.id)
            .order_by(InboundReply.received_at.desc(), InboundReply.id.desc())
        )
    )


def attachment_of(campaign: Campaign, reply_id: int, attachment_id: int) -> InboundAttachment:
    """An attachment of one of this campaign's replies; anything else is NotFound."""
    attachment = db.session.get(InboundAttachment, attachment_id)
    if (
        attachment is None
        or attachment.reply_id != reply_id
        or attachment.reply.campaign_id != campaign.id
    ):
        raise NotFound("attachment")
    return attachment


def assignable_targets(user: User) -> list[Target]:
    """Targets of the campaigns this user may change, for the inbox's assign form."""
    if not user.can_edit:
        return []
    targets = []
    for campaign in visible_campaigns(user):
        try:
            get_campaign(user, campaign.slug)
        except NotFound:
            continue  # co-led: read and comment only
        targets.extend(sorted(campaign.targets, key=lambda t: t.id))
    return targets


def assign(reply_id: int, target_id: int, user: User) -> InboundReply:
    """Tie an unmatched reply to a target of a campaign this user may change."""
    require_editor(user)
    reply = db.session.get(InboundReply, reply_id)
    if reply is None:
        raise NotFound("reply")
    if reply.campaign_id is not None:
        raise Conflict("This reply has already been assigned to a campaign.")
    target = db.session.get(Target, target_id)
    if target is None:
        raise Invalid("target", "choose one of the targets listed")
    try:
        # Only campaigns this user organises: a co-lead or stranger may not attach replies.
        get_campaign(user, target.campaign.slug)
    except NotFound as exc:
        raise Invalid("target", "choose one of the targets listed") from exc
    reply.assigned_by_id = user.id
    reply.assigned_at = utcnow()
    db.session.flush()
    audit.record(
        "reply.assigned", campaign=target.campaign, user=user, reply_id=reply.id, target=target.name
    )
    _record_response(reply, target)
    return reply

"""Targets' replies: match a received reply, store it, tell people; the inbox and assigning.

A reply is matched by the per-target Reply-To address on the letter (see
mail.reply_address). A matched reply marks its target as responded, raises an alert for
the organisers and emails the co-signers who asked for updates. A reply that cannot be
matched waits in the inbox until an organiser assigns it to a target.
"""

from flask import render_template
from sqlalchemy import select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..mail.outbox import queue_email
from ..mail.reply_address import target_id_from
from ..models import Campaign, Signature, SignatureRequest, Target, User, utcnow
from ..models.responses import Alert, InboundAttachment, InboundReply
from . import audit
from .blobs import store_blob
from .campaigns import get_campaign, require_editor, visible_campaigns
from .inbound_parse import Inbound

#: How much of the reply the co-signers' notice quotes.
NOTICE_QUOTE_CHARS = 20_000


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

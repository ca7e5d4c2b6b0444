"""Targets' replies: match a received reply, store it, count it, tell people.

A reply is matched by the per-target Reply-To address on the letter (see
mail.reply_address). A matched reply from a verified sender marks its target as
responded, raises an alert for the organisers and emails the co-signers who asked for
updates. A reply whose sender SPF and DKIM do not vouch for is held: stored on its
target, but it counts only once an organiser releases it. A reply that matches no target
waits in the inbox (services/inbox.py) for the organisers of the campaign whose reply
address it was sent to, or for the admins when there is none.
"""

from flask import render_template
from sqlalchemy import func, select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..mail.inbound import InboundMessage
from ..mail.outbox import queue_email
from ..mail.reply_address import target_id_from
from ..models import (
    Campaign,
    OutboundEmail,
    RequestStatus,
    Signature,
    SignatureRequest,
    Target,
    User,
    utcnow,
)
from ..models.responses import Alert, InboundAttachment, InboundReply
from . import audit, html_text, sender_check
from .blobs import store_blob
from .campaigns import require_organiser

#: How much of the reply the co-signers' notice quotes.
NOTICE_QUOTE_CHARS = 20_000
HELD_LABEL = "held: sender not verified"
#: Enough for any real reply; a longer text is cut, with a note saying so.
MAX_TEXT_CHARS = html_text.MAX_TEXT_CHARS


def receive(message: InboundMessage) -> InboundReply:
    """Store a reply; on its target when its reply address matches one, else in the inbox."""
    target = _match(message.to)
    unverified = sender_check.problem(
        message.from_email, message.envelope_from, message.spf, message.dkim_passed
    )
    reply = InboundReply(
        to_address=_address_used(message.to, target)[:320],
        from_email=message.from_email[:254],
        from_name=message.from_name,
        subject=message.subject,
        text=reply_text(message),
        received_at=utcnow(),
        spf=message.spf,
        dkim=message.dkim,
        held_reason=unverified[:300] if unverified else None,
        inbox_campaign_id=target.campaign_id if target else _campaign_addressed(message.to),
    )
    for upload in message.attachments:
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
        attach(reply, target)
    return reply


def reply_text(message: InboundMessage) -> str:
    """The text kept of a reply: its text part, else its HTML as text; capped, gaps named."""
    text = message.text
    if not text.strip() and message.html:
        text = html_text.html_to_text(message.html)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + html_text.CUT_NOTE
    if message.not_kept:
        # Said in the reply itself, so organisers know to ask the target for the file.
        text += "\n\n[Not kept (too many or too large): " + ", ".join(message.not_kept) + "]"
    return text


def _match(candidates: list[str]) -> Target | None:
    """The target named by the first valid reply address among the recipients."""
    for address in candidates:
        target_id = target_id_from(address)
        if target_id is not None:
            target = db.session.get(Target, target_id)
            if target is not None:
                return target
    return None


def _campaign_addressed(candidates: list[str]) -> int | None:
    """The campaign whose letters carried one of these addresses as their Reply-To.

    This finds the campaign even when the address names no target any more (the target
    was removed); a forged or mangled address was never sent, so it finds none.
    """
    wanted = sorted({a.strip().lower() for a in candidates if "@" in a})[:60]
    if not wanted:
        return None
    return db.session.scalar(
        select(func.min(OutboundEmail.campaign_id)).where(
            func.lower(OutboundEmail.reply_to).in_(wanted),
            OutboundEmail.campaign_id.is_not(None),
        )
    )


def _address_used(candidates: list[str], target: Target | None) -> str:
    """The recipient address to remember: the matching one, else the first."""
    for address in candidates:
        if target is not None and target_id_from(address) == target.id:
            return address
    return candidates[0] if candidates else ""


def attach(reply: InboundReply, target: Target) -> None:
    """Put a reply on its target; it counts as their answer unless it is held (flushes)."""
    reply.campaign_id = target.campaign_id
    reply.target_id = target.id
    if reply.held:
        _hold(reply, target)
    else:
        _count(reply, target)


def _hold(reply: InboundReply, target: Target) -> None:
    """Tell the organisers a reply waits for them; nothing else happens until released."""
    db.session.add(
        Alert(
            campaign_id=target.campaign_id,
            kind="reply_held",
            message=(
                f"A reply to {target.name}'s letter from {reply.from_email or 'no address'} is "
                f"{HELD_LABEL} ({reply.held_reason}). Read it on the Replies page and release "
                "it if it is genuine."
            )[:1000],
            target_id=target.id,
        )
    )
    db.session.flush()
    audit.record(
        "reply.held",
        campaign=target.campaign,
        actor=f"{reply.from_name} <{reply.from_email}>",
        target=target.name,
        reply_id=reply.id,
        reason=reply.held_reason,
    )


def _count(reply: InboundReply, target: Target) -> None:
    """The target's answer: responded, audit, alert, co-signers told (flushes)."""
    campaign = target.campaign
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


def release(campaign: Campaign, user: User, reply_id: int) -> InboundReply:
    """An organiser vouches for a held reply: it now counts as its target's answer."""
    require_organiser(user, campaign)
    reply = db.session.get(InboundReply, reply_id)
    if reply is None or reply.campaign_id != campaign.id:
        raise NotFound("reply")
    if not reply.held:
        raise Conflict("This reply is not held: it already counts as the target's answer.")
    reply.released_at = utcnow()
    reply.released_by_id = user.id
    db.session.flush()
    audit.record("reply.released", campaign=campaign, user=user, reply_id=reply.id)
    if reply.target is not None:
        _count(reply, reply.target)
    return reply


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
            SignatureRequest.status == RequestStatus.SIGNED,
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

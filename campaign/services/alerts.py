"""Alerts for organisers: a letter that bounced, and the fallback copy it triggers."""

from datetime import timedelta

from flask import render_template
from sqlalchemy import exists, select

from ..errors import NotFound
from ..extensions import db
from ..links import external_url
from ..mail.events import BOUNCE_EVENTS
from ..mail.outbox import queue_email
from ..models import (
    Alert,
    Campaign,
    CampaignMember,
    EmailEvent,
    OutboundEmail,
    Target,
    User,
    utcnow,
)
from . import audit
from .campaigns import require_editor

#: How far back `flask tick` looks for bounces whose job never ran.
MISSED_WINDOW = timedelta(days=2)


def handle_bounce(email_id: int) -> Alert | None:
    """Alert the organisers about a bounced letter and send the fallback copy (flushes).

    Idempotent: SendGrid repeats events (and may send both 'bounce' and 'dropped'), so a
    second call for the same email finds its alert and its fallback and does nothing.
    """
    # The row lock makes two workers handling the same email wait for each other.
    email = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.id == email_id).with_for_update()
    ).first()
    if email is None or email.kind != "letter" or email.target_id is None:
        return None
    already = db.session.scalar(
        select(Alert).where(Alert.kind == "bounce", Alert.email_id == email.id).limit(1)
    )
    if already is not None:
        return already
    campaign = db.session.get(Campaign, email.campaign_id)
    target = db.session.get(Target, email.target_id)
    if campaign is None or target is None:
        return None
    event = _bounce_event(email)
    fallback = _send_fallback(campaign, target, email)
    verb = "was dropped" if event is not None and event.event == "dropped" else "bounced"
    reason = (event.reason if event is not None else "") or "no reason given"
    message = f"The letter to {target.name} <{email.to_email}> {verb}: {reason}"
    if fallback is not None:
        message += f" It was sent again to the fallback address {fallback.to_email}."
    elif email.fallback_of_id is not None:
        message += " This was already the copy sent to the fallback address."
    elif not target.fallback_email:
        message += " The target has no fallback address."
    alert = Alert(
        campaign_id=campaign.id,
        kind="bounce",
        message=message,
        target_id=target.id,
        email_id=email.id,
    )
    db.session.add(alert)
    _notify_organisers(campaign, target, email, verb, reason, fallback)
    db.session.flush()
    return alert


def _bounce_event(email: OutboundEmail) -> EmailEvent | None:
    """The first bounce or drop SendGrid reported for this email."""
    return db.session.scalar(
        select(EmailEvent)
        .where(EmailEvent.email_id == email.id, EmailEvent.event.in_(BOUNCE_EVENTS))
        .order_by(EmailEvent.occurred_at, EmailEvent.id)
        .limit(1)
    )


def _send_fallback(campaign: Campaign, target: Target, email: OutboundEmail):
    """Queue the same letter to the target's fallback address, once per bounced email."""
    address = (target.fallback_email or "").strip()
    if not address or address.lower() == email.to_email.strip().lower():
        return None  # nowhere else to send it, or this already was the fallback
    sent = db.session.scalar(select(exists().where(OutboundEmail.fallback_of_id == email.id)))
    if sent:
        return None
    attachment = (
        (email.attachment_name or "letter.pdf", email.attachment_sha256)
        if email.attachment_sha256
        else None
    )
    fallback = queue_email(
        kind="letter",
        to_email=address,
        to_name=target.name,
        subject=email.subject,
        text_body=email.text_body,
        html_body=email.html_body,
        campaign_id=campaign.id,
        target_id=target.id,
        attachment=attachment,
        tracking=email.tracking,
    )
    # Set here rather than through queue_email, so the copy carries exactly the original's.
    fallback.reply_to = email.reply_to
    fallback.fallback_of_id = email.id
    db.session.flush()
    audit.record(
        "letter.fallback_sent",
        campaign=campaign,
        actor="system",
        target=target.name,
        bounced_to=email.to_email,
        fallback_to=address,
        bounced_email_id=email.id,
        fallback_email_id=fallback.id,
    )
    return fallback


def _notify_organisers(campaign, target, email, verb, reason, fallback) -> None:
    """Email each of the campaign's organisers about the bounce."""
    addresses = db.session.scalars(
        select(User.email)
        .join(CampaignMember, CampaignMember.user_id == User.id)
        .where(CampaignMember.campaign_id == campaign.id, CampaignMember.role == "organiser")
        .order_by(User.id)
    ).all()
    if not addresses:
        return
    text = render_template(
        "emails/alert_bounce.txt",
        campaign=campaign,
        target=target,
        email=email,
        verb=verb,
        reason=reason,
        fallback=fallback,
        url=external_url("campaigns.show", slug=campaign.slug),
    )
    for address in addresses:
        queue_email(
            kind="alert",
            to_email=address,
            subject=f"Letter to {target.name} {verb}: {campaign.title}"[:300],
            text_body=text,
            campaign_id=campaign.id,
        )


def missed_bounces(limit: int = 100) -> list[int]:
    """Recently bounced letters with no alert yet (their job was lost); ids, oldest first."""
    # Only recent ones: a bounce from long ago must not send a fallback copy out of the blue.
    since = utcnow() - MISSED_WINDOW
    return list(
        db.session.scalars(
            select(OutboundEmail.id)
            .where(
                OutboundEmail.kind == "letter",
                OutboundEmail.target_id.is_not(None),
                OutboundEmail.status.in_(BOUNCE_EVENTS),
                OutboundEmail.status_at >= since,
                ~exists().where(Alert.email_id == OutboundEmail.id, Alert.kind == "bounce"),
            )
            .order_by(OutboundEmail.id)
            .limit(limit)
        )
    )


def open_alerts(campaign: Campaign) -> list[Alert]:
    """The campaign's alerts nobody has dismissed yet, newest first."""
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.campaign_id == campaign.id, Alert.dismissed_at.is_(None))
            .order_by(Alert.created_at.desc(), Alert.id.desc())
        )
    )


def dismiss(campaign: Campaign, user: User, alert_id: int) -> Alert:
    """Mark one of the campaign's alerts as seen (flushes); another campaign's is NotFound."""
    require_editor(user)
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.campaign_id != campaign.id:
        raise NotFound(alert_id)
    if alert.dismissed_at is None:
        alert.dismissed_at = utcnow()
        alert.dismissed_by_id = user.id
        db.session.flush()
    return alert

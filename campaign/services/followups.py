"""Follow-up plans: targets who have not responded get the next letter, on schedule.

A plan is a list of steps, each "N days after delivery, if the target has not responded,
send this letter and tell the coalition". Each step's letter is its own sandboxed template
with the same merge fields as the letter. `flask tick` (cron) or the RQ scheduler calls
`send_due` as often as it likes: a step is done at most once per target (followups_sent).
"""

from datetime import datetime, timedelta

from flask import render_template
from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..letters.document import merge_context
from ..letters.markdown import markdown_to_html
from ..letters.sandbox import check_template, render_text, to_plain_text
from ..mail.outbox import queue_email
from ..mail.reply_address import reply_address
from ..models import (
    Campaign,
    CampaignStatus,
    FollowUpSent,
    FollowUpStep,
    InboundReply,
    OutboundEmail,
    RequestStatus,
    Signature,
    SignatureRequest,
    Target,
    utcnow,
)
from . import audit
from .campaigns import require_organiser
from .letters import letter_data, published_version
from .target_address import working_address

MAX_DAYS = 365
MAX_SUBJECT = 300


def steps(campaign: Campaign) -> list[FollowUpStep]:
    """A campaign's follow-up steps, earliest first."""
    return list(
        db.session.scalars(
            select(FollowUpStep)
            .where(FollowUpStep.campaign_id == campaign.id)
            .order_by(FollowUpStep.days_after, FollowUpStep.id)
        )
    )


def get_step(campaign: Campaign, step_id: int) -> FollowUpStep:
    """One step of this campaign's plan, or NotFound."""
    step = db.session.get(FollowUpStep, step_id)
    if step is None or step.campaign_id != campaign.id:
        raise NotFound(step_id)
    return step


def _clean(days_after, subject: str, body: str) -> tuple[int, str, str]:
    """Check a step's shape and its templates; Invalid names the field and the fix."""
    try:
        days = int(str(days_after).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise Invalid("days_after", f"enter a number of days from 1 to {MAX_DAYS}")
    subject = (subject or "").strip()
    if not subject:
        raise Invalid("subject", "is required")
    if len(subject) > MAX_SUBJECT:
        raise Invalid("subject", f"must be at most {MAX_SUBJECT} characters")
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise Invalid("body", "write the follow-up letter")
    check_template(subject, field="subject")
    check_template(body)
    return days, subject, body


def preview_step(days_after, subject: str, body: str, notify: bool) -> FollowUpStep:
    """An unsaved step, checked like a saved one, for previewing its letter."""
    days, subject, body = _clean(days_after, subject, body)
    return FollowUpStep(days_after=days, subject=subject, body=body, notify_coalition=notify)


def add_step(campaign: Campaign, user, *, days_after, subject, body, notify: bool) -> FollowUpStep:
    """Add a step to the plan (organisers only)."""
    require_organiser(user, campaign)
    days, subject, body = _clean(days_after, subject, body)
    step = FollowUpStep(
        campaign_id=campaign.id,
        days_after=days,
        subject=subject,
        body=body,
        notify_coalition=bool(notify),
    )
    db.session.add(step)
    db.session.flush()
    audit.record("followup.planned", campaign=campaign, user=user, days_after=days, step=step.id)
    return step


def remove_step(campaign: Campaign, user, step_id: int) -> None:
    """Drop a step that has not been sent to anyone yet; a sent one stays on the record."""
    require_organiser(user, campaign)
    step = get_step(campaign, step_id)
    sent = db.session.scalar(
        select(func.count(FollowUpSent.id)).where(FollowUpSent.step_id == step.id)
    )
    if sent:
        raise Conflict("This follow-up already went to some targets, so it stays in the plan.")
    db.session.delete(step)
    db.session.flush()
    audit.record("followup.removed", campaign=campaign, user=user, step=step_id)


def render_step(step: FollowUpStep, campaign: Campaign, target: Target | None) -> dict:
    """A step's letter for one target: subject, plain text and HTML (endnotes for email)."""
    version = published_version(campaign)
    if version is None:
        raise Conflict("Publish the letter first: the follow-up uses its merge fields.")
    merge = merge_context(letter_data(campaign, version, target))
    body = render_text(step.body, merge)
    return {
        "subject": to_plain_text(render_text(step.subject, merge, field="subject")),
        "text": to_plain_text(body),
        "html": markdown_to_html(body, inline_footnotes=False),
    }


def delivered_at(target: Target) -> datetime | None:
    """When the letter first went to this target (None before delivery)."""
    return db.session.scalar(
        select(func.min(OutboundEmail.created_at)).where(
            OutboundEmail.target_id == target.id, OutboundEmail.kind == "letter"
        )
    )


def _done(step_ids: list[int]) -> set[tuple[int, int]]:
    if not step_ids:
        return set()
    rows = db.session.execute(
        select(FollowUpSent.step_id, FollowUpSent.target_id).where(
            FollowUpSent.step_id.in_(step_ids)
        )
    )
    return {(row.step_id, row.target_id) for row in rows}


def due(now=None) -> list[tuple[FollowUpStep, Target]]:
    """(step, target) pairs due now: delivered long enough ago, no response, not yet sent."""
    now = now or utcnow()
    owed = []
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.DELIVERED)
    )
    for campaign in campaigns:
        plan = steps(campaign)
        if not plan:
            continue
        done = _done([s.id for s in plan])
        for target in campaign.targets:
            if target.responded_at is not None:
                continue  # they answered: no more chasing
            sent_at = delivered_at(target)
            if sent_at is None:
                continue
            for step in plan:
                if (step.id, target.id) in done:
                    continue
                if now >= sent_at + timedelta(days=step.days_after):
                    owed.append((step, target))
                break  # one step at a time, in order
    return owed


def send(step: FollowUpStep, target: Target) -> OutboundEmail:
    """Send one step's letter to one target, record it, and tell the coalition if asked."""
    campaign = db.session.get(Campaign, step.campaign_id)
    letter = render_step(step, campaign, target)
    email = queue_email(
        kind="followup",
        # Not always target.email: after a bounce, the address the letter reached.
        to_email=working_address(target),
        to_name=target.name,
        subject=letter["subject"],
        text_body=letter["text"],
        html_body=letter["html"],
        campaign_id=campaign.id,
        target_id=target.id,
        tracking=campaign.tracking_enabled,
        # The target's own reply address, as on the letter, so an answer finds its target.
        reply_to=reply_address(target.id),
    )
    db.session.add(FollowUpSent(step_id=step.id, target_id=target.id, email_id=email.id))
    db.session.flush()
    audit.record(
        "followup.sent", campaign=campaign, target=target.name, step=step.id, email=email.id
    )
    if step.notify_coalition:
        _notify(campaign, target, step)
    return email


def _notify(campaign: Campaign, target: Target, step: FollowUpStep) -> None:
    """Tell signers who asked for updates that a follow-up went out."""
    signers = db.session.scalars(
        select(Signature)
        .join(SignatureRequest, Signature.request_id == SignatureRequest.id)
        .where(
            Signature.campaign_id == campaign.id,
            Signature.withdrawn_at.is_(None),
            Signature.wants_updates.is_(True),
            SignatureRequest.status == RequestStatus.SIGNED,
        )
    )
    for sig in signers:
        queue_email(
            kind="followup_notice",
            to_email=sig.signer_email,
            to_name=sig.signer_name,
            subject=f"Follow-up sent to {target.name}: {campaign.title}",
            text_body=render_template(
                "emails/followup_notice.txt", sig=sig, campaign=campaign, target=target, step=step
            ),
            campaign_id=campaign.id,
            partner_id=sig.request.partner_id,
        )


def send_due(now=None) -> int:
    """Send every follow-up that is due; return how many (flushes)."""
    owed = due(now)
    for step, target in owed:
        send(step, target)
    return len(owed)


def timeline(campaign: Campaign, target: Target, now=None) -> dict:
    """What happened with one target, oldest first, and what is due next."""
    now = now or utcnow()
    events = []
    for email in db.session.scalars(
        select(OutboundEmail)
        .where(
            OutboundEmail.target_id == target.id,
            OutboundEmail.kind.in_(("letter", "followup")),
        )
        .order_by(OutboundEmail.created_at)
    ):
        what = "Letter sent" if email.kind == "letter" else "Follow-up sent"
        if email.fallback_of_id:
            what += " to the fallback address"
        events.append(
            {"at": email.created_at, "what": what, "detail": f"{email.to_email} · {email.status}"}
        )
    for reply in db.session.scalars(
        select(InboundReply)
        .where(InboundReply.target_id == target.id)
        .order_by(InboundReply.received_at)
    ):
        what = "Reply received" + (" (held: sender not verified)" if reply.held else "")
        events.append({"at": reply.received_at, "what": what, "detail": reply.subject or ""})
    events.sort(key=lambda e: e["at"])
    return {"events": events, "next": _next_step(campaign, target, now)}


def _next_step(campaign: Campaign, target: Target, now) -> dict | None:
    """The next follow-up this target will get, and when (None if nothing is planned)."""
    if target.responded_at is not None:
        return None
    sent_at = delivered_at(target)
    plan = steps(campaign)
    done = _done([s.id for s in plan])
    for step in plan:
        if (step.id, target.id) in done:
            continue
        when = sent_at + timedelta(days=step.days_after) if sent_at else None
        return {"step": step, "at": when, "overdue": bool(when and when <= now)}
    return None

"""Reminders to invited partners who have not answered, on days before the deadline.

`flask tick` (cron) calls `send_due` as often as it likes: each partner gets at most one
reminder per threshold, recorded in reminders_sent. Partners who signed, declined,
withdrew, were revoked or unsubscribed never get one.

A reminder carries the partner's own personal link again, the very link of their
invitation: only its sha256 is stored, but the token is recomputed from the link's salt
and the server's secret (partners.link_token), so no earlier email stops working.
"""

from datetime import timedelta

from flask import render_template
from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..mail.outbox import queue_email
from ..mail.suppression import suppressed, unsubscribe_url
from ..models import Campaign, CampaignStatus, Partner, ReminderSent, RequestStatus, utcnow
from . import audit
from .campaigns import require_organiser
from .partners import link_token, signing_url

MAX_DAYS = 60


def parse_days(raw: str) -> list[int]:
    """Read "7, 1" as [7, 1]; empty means no reminders."""
    days = []
    for part in (raw or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= MAX_DAYS:
            raise Invalid(
                "reminder_days",
                f"{part!r} is not a number of days from 1 to {MAX_DAYS}; write e.g. 7, 1",
            )
        days.append(int(part))
    return sorted(set(days), reverse=True)


def set_days(campaign: Campaign, user, raw: str) -> list[int]:
    """Change when a campaign's reminders go out (organisers only: they reach every partner)."""
    require_organiser(user, campaign)
    days = parse_days(raw)
    campaign.reminder_days = ",".join(str(d) for d in days)
    db.session.flush()
    audit.record("reminders.changed", campaign=campaign, user=user, days=days)
    return days


def due(now=None) -> list[tuple[Partner, list[int]]]:
    """Partners owed a reminder now, with the thresholds that have passed for them."""
    now = now or utcnow()
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN, Campaign.deadline > now)
    ).all()
    owed = []
    for campaign in campaigns:
        days = parse_days(campaign.reminder_days)
        passed = [d for d in days if now >= campaign.deadline - timedelta(days=d)]
        if not passed:
            continue
        partners = db.session.scalars(
            select(Partner).where(Partner.campaign_id == campaign.id, Partner.source == "invited")
        ).all()
        sent = {
            (row.partner_id, row.days_before)
            for row in db.session.scalars(
                select(ReminderSent).where(
                    ReminderSent.partner_id.in_([p.id for p in partners] or [0])
                )
            )
        }
        blocked = suppressed([p.contact_email for p in partners])
        for partner in partners:
            req = partner.current_request
            if (
                req is None
                or req.revoked_at is not None
                or req.status not in (RequestStatus.INVITED, RequestStatus.VIEWED)
            ):
                continue  # never invited, or answered: signed, declined, withdrew, revoked
            address = (req.addressee_email or partner.contact_email).lower()
            if address in blocked or partner.contact_email.lower() in blocked:
                continue
            todo = [d for d in passed if (partner.id, d) not in sent]
            if todo:
                owed.append((partner, todo))
    return owed


def remind(partner: Partner, days: list[int]) -> None:
    """Send one reminder with the partner's live link and record every threshold it covers."""
    req = partner.current_request
    campaign = partner.campaign
    token = link_token(req)
    name = req.addressee_name or partner.contact_name
    email = req.addressee_email or partner.contact_email
    left = max((campaign.deadline - utcnow()).days, 0)
    queue_email(
        kind="reminder",
        to_email=email,
        to_name=name,
        subject=f"Reminder: will {partner.organisation} co-sign? {campaign.title}",
        text_body=render_template(
            "emails/reminder.txt",
            campaign=campaign,
            partner=partner,
            name=name,
            url=signing_url(token),
            days_left=left,
            deadline=f"{campaign.deadline.day} {campaign.deadline:%B %Y}",
            unsubscribe=unsubscribe_url(email),
        ),
        campaign_id=campaign.id,
        partner_id=partner.id,
        tracking=campaign.tracking_enabled,
    )
    for d in days:
        db.session.add(ReminderSent(partner_id=partner.id, days_before=d))
    db.session.flush()


def send_due(now=None) -> int:
    """Send every reminder that is due; return how many went out (flushes)."""
    owed = due(now)
    for partner, days in owed:
        remind(partner, days)
    return len(owed)

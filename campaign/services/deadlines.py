"""The signing deadline: organisers move it, links and reminders follow, and it closes signing.

Personal links expire at the deadline, so moving it moves every link of the campaign with
it: a link that died at the old deadline works again after an extension. Reminders are
counted back from the deadline, so thresholds that lie ahead again after a move are sent
again (once each) before the new deadline.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Campaign, CampaignStatus, Partner, ReminderSent, SignatureRequest, utcnow
from . import audit
from .campaigns import require_organiser


def change_deadline(campaign: Campaign, user, deadline: datetime) -> datetime:
    """Move the signing deadline (extend or shorten); audited; returns the old deadline.

    If signing closed only because the old deadline passed, it opens again until the new one.
    """
    require_organiser(user, campaign)
    if campaign.status == CampaignStatus.DELIVERED:
        raise Conflict("The letter has been delivered; its deadline can no longer change.")
    now = utcnow()
    deadline = deadline.replace(second=0, microsecond=0, tzinfo=None)
    if deadline <= now:
        raise Invalid(
            "deadline",
            "must be in the future (UTC); to stop signing now, use Close signing instead",
        )
    old = campaign.deadline
    if deadline == old:
        raise Invalid("deadline", "is already the deadline; choose another date or time")
    reopen = closed_by_deadline(campaign)
    campaign.deadline = deadline
    if reopen:
        # Extending a deadline that has passed means "give them more time": signing
        # resumes. A campaign an organiser closed by hand stays closed until reopened.
        campaign.status = CampaignStatus.OPEN
        campaign.closed_at = None
    # Links expire with the deadline: each link follows it, in one UPDATE.
    db.session.execute(
        update(SignatureRequest)
        .where(SignatureRequest.campaign_id == campaign.id)
        .values(expires_at=deadline)
        .execution_options(synchronize_session="fetch")
    )
    # A reminder threshold that lies ahead again is owed again before the new deadline.
    ahead = (deadline - now) / timedelta(days=1)
    db.session.execute(
        delete(ReminderSent)
        .where(
            ReminderSent.partner_id.in_(
                select(Partner.id).where(Partner.campaign_id == campaign.id)
            ),
            ReminderSent.days_before < ahead,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    audit.record(
        "campaign.deadline_changed",
        campaign=campaign,
        user=user,
        old=old.isoformat(timespec="minutes"),
        new=deadline.isoformat(timespec="minutes"),
        reopened=reopen,
    )
    return old


def closed_by_deadline(campaign: Campaign) -> bool:
    """Whether signing is closed because the deadline passed (not by an organiser's hand)."""
    return (
        campaign.status == CampaignStatus.CLOSED
        and campaign.closed_at is not None
        and campaign.closed_at >= campaign.deadline
    )


def close_if_due(campaign: Campaign, now: datetime | None = None) -> bool:
    """Close an open campaign whose deadline has passed (audited); True if it closed it."""
    now = now or utcnow()
    if campaign.status != CampaignStatus.OPEN or campaign.deadline > now:
        return False
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = now
    db.session.flush()
    audit.record(
        "campaign.closed",
        campaign=campaign,
        actor="the signing deadline",
        reason="the deadline passed",
        deadline=campaign.deadline.isoformat(timespec="minutes"),
    )
    return True


def close_past_deadline(now: datetime | None = None) -> int:
    """Close every open campaign whose deadline has passed; return how many (flushes)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN, Campaign.deadline <= now)
    ).all()
    return sum(close_if_due(campaign, now) for campaign in due)

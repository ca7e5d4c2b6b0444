"""Campaigns: creation, visibility, targets and the status workflow."""

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select

from ..errors import Conflict, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..models import MEMBER_ROLES, Campaign, CampaignMember, CampaignStatus, Target, User, utcnow
from . import audit


def slugify(title: str) -> str:
    """Turn a title into a short URL-safe slug."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].strip("-") or "campaign"


def _unique_slug(title: str) -> str:
    base = slugify(title)
    slug, n = base, 2
    while db.session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def visible_campaigns(user: User) -> list[Campaign]:
    """Campaigns this user may see: all for admins, their memberships for everyone else.

    Co-led campaigns are listed too; `co_led_ids` tells which ones open on the review page.
    """
    stmt = select(Campaign).order_by(Campaign.created_at.desc())
    if user.role != "admin":
        stmt = stmt.join(CampaignMember).where(CampaignMember.user_id == user.id)
    return list(db.session.scalars(stmt))


def get_campaign(user: User, slug: str, *, co_leads: bool = False) -> Campaign:
    """Fetch a campaign the user may see; anything else is NotFound (never 403).

    Co-leads may only review the draft, so their campaigns are found only when the
    caller opts in with `co_leads=True`: every other page stays closed to them.
    """
    stmt = select(Campaign).where(Campaign.slug == slug)
    if user.role != "admin":
        roles = ("organiser", "co_lead") if co_leads else ("organiser",)
        stmt = stmt.join(CampaignMember).where(
            CampaignMember.user_id == user.id, CampaignMember.role.in_(roles)
        )
    campaign = db.session.scalar(stmt)
    if campaign is None:
        raise NotFound(slug)
    return campaign


def member_role(user: User, campaign: Campaign) -> str | None:
    """The user's part in this campaign: "admin", "organiser", "co_lead" or None."""
    if user.role == "admin":
        return "admin"
    return db.session.scalar(
        select(CampaignMember.role).where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.user_id == user.id
        )
    )


def co_led_ids(user: User) -> set[int]:
    """Ids of the campaigns this user co-leads (admins see everything, so none)."""
    if user.role == "admin":
        return set()
    stmt = select(CampaignMember.campaign_id).where(
        CampaignMember.user_id == user.id, CampaignMember.role == "co_lead"
    )
    return set(db.session.scalars(stmt))


def require_editor(user: User) -> None:
    """Refuse changes from read-only (staff) accounts."""
    if not user.can_edit:
        raise NotAllowed("Your account can read and export, but not change campaigns.")


def may_organise(user: User, campaign: Campaign) -> bool:
    """Whether the user may make organiser-only changes (what require_organiser enforces)."""
    return user.can_edit and member_role(user, campaign) in ("admin", "organiser")


def require_organiser(user: User, campaign: Campaign) -> None:
    """Refuse organiser-only actions from co-leads and read-only (staff) accounts."""
    if member_role(user, campaign) not in ("admin", "organiser"):
        raise NotAllowed("Only the campaign's organisers can do that; co-leads read and comment.")
    require_editor(user)


def create_campaign(
    user: User, *, title: str, lead_organisation: str, lead_address: str, deadline: datetime
) -> Campaign:
    """Create a draft campaign with its creator as a member."""
    require_editor(user)
    if deadline <= utcnow():
        raise Invalid("deadline", "must be in the future")
    campaign = Campaign(
        slug=_unique_slug(title),
        title=title.strip(),
        lead_organisation=lead_organisation.strip(),
        lead_address=lead_address.strip(),
        deadline=deadline,
        status=CampaignStatus.DRAFT,
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add(CampaignMember(campaign_id=campaign.id, user_id=user.id))
    audit.record("campaign.created", campaign=campaign, user=user, title=campaign.title)
    return campaign


def add_member(campaign: Campaign, user: User, role: str = "organiser") -> None:
    """Give a user access to a campaign (idempotent: an existing membership keeps its role)."""
    if role not in MEMBER_ROLES:
        raise Invalid("role", f"must be one of {', '.join(MEMBER_ROLES)}")
    exists = db.session.scalar(
        select(CampaignMember.id).where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.user_id == user.id
        )
    )
    if exists is None:
        db.session.add(CampaignMember(campaign_id=campaign.id, user_id=user.id, role=role))
        db.session.flush()


def add_target(campaign: Campaign, user: User | None, **fields) -> Target:
    """Add a letter recipient; targets are fixed once the letter is delivered."""
    if campaign.status == CampaignStatus.DELIVERED:
        raise Conflict("The letter has been delivered; targets can no longer change.")
    target = Target(campaign_id=campaign.id, **{k: v.strip() for k, v in fields.items()})
    db.session.add(target)
    db.session.flush()
    audit.record("target.added", campaign=campaign, user=user, name=target.name)
    return target


def remove_target(campaign: Campaign, user: User, target_id: int) -> None:
    """Remove a recipient before delivery."""
    target = get_target(campaign, target_id)
    if campaign.status == CampaignStatus.DELIVERED:
        raise Conflict("The letter has been delivered; targets can no longer change.")
    db.session.delete(target)
    db.session.flush()
    audit.record("target.removed", campaign=campaign, user=user, name=target.name)


def get_target(campaign: Campaign, target_id: int) -> Target:
    """A target of this campaign, or NotFound."""
    target = db.session.get(Target, target_id)
    if target is None or target.campaign_id != campaign.id:
        raise NotFound(target_id)
    return target


def close_signing(campaign: Campaign, user: User) -> None:
    """Stop accepting signatures so the letter can be delivered."""
    require_editor(user)
    if campaign.status != CampaignStatus.OPEN:
        raise Conflict("Only a campaign that is open for signatures can be closed.")
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = utcnow()
    db.session.flush()
    audit.record("campaign.closed", campaign=campaign, user=user)


def reopen_signing(campaign: Campaign, user: User) -> None:
    """Accept signatures again after an early close (not after delivery)."""
    require_editor(user)
    if campaign.status != CampaignStatus.CLOSED:
        raise Conflict("Only a closed campaign can be reopened.")
    if campaign.deadline <= utcnow():
        raise Conflict("The deadline has passed; move the deadline before reopening.")
    campaign.status = CampaignStatus.OPEN
    campaign.closed_at = None
    db.session.flush()
    audit.record("campaign.reopened", campaign=campaign, user=user)


def set_tracking(campaign: Campaign, user: User, enabled: bool) -> None:
    """Turn SendGrid's open and click tracking on or off for this campaign's emails."""
    require_organiser(user, campaign)
    if campaign.status == CampaignStatus.DELIVERED:
        raise Conflict("The letter has been delivered; tracking can no longer change.")
    campaign.tracking_enabled = bool(enabled)
    db.session.flush()
    audit.record("campaign.tracking_changed", campaign=campaign, user=user, enabled=bool(enabled))

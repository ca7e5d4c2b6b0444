"""Co-lead invitations: people an organiser invites by email to read the draft and comment."""

import secrets
from datetime import timedelta

from flask import render_template
from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..links import external_url
from ..mail.outbox import queue_email
from ..models import Campaign, CampaignMember, CoLeadInvite, User, utcnow
from . import audit
from .campaigns import add_member, require_organiser
from .partners import hash_token, normalise_email
from .users import create_user, find_user

INVITE_DAYS = 14
MAX_NAME = 200


def invite_url(token: str) -> str:
    """The absolute link an invited co-lead opens."""
    return external_url("review.accept", token=token)


def _is_member(campaign: Campaign, email: str) -> bool:
    stmt = (
        select(CampaignMember.id)
        .join(User, User.id == CampaignMember.user_id)
        .where(CampaignMember.campaign_id == campaign.id, func.lower(User.email) == email.lower())
    )
    return db.session.scalar(stmt) is not None


def _pending(campaign: Campaign, email: str) -> CoLeadInvite | None:
    stmt = select(CoLeadInvite).where(
        CoLeadInvite.campaign_id == campaign.id,
        func.lower(CoLeadInvite.email) == email.lower(),
        CoLeadInvite.accepted_at.is_(None),
        CoLeadInvite.revoked_at.is_(None),
        CoLeadInvite.expires_at > utcnow(),
    )
    return db.session.scalar(stmt)


def invite(campaign: Campaign, user: User, *, name: str, email: str) -> tuple[CoLeadInvite, str]:
    """Invite a co-lead by name and email: store the token's hash and queue the email."""
    require_organiser(user, campaign)
    name = (name or "").strip()
    if not name:
        raise Invalid("name", "is empty; enter the person's name so the email can greet them")
    if len(name) > MAX_NAME:
        raise Invalid("name", f"is longer than {MAX_NAME} characters; shorten it")
    email = normalise_email(email or "", "email")
    if _is_member(campaign, email):
        raise Conflict(f"{email} is already a member of this campaign.")
    if _pending(campaign, email) is not None:
        raise Conflict(
            f"{email} already has an open invitation; revoke it first to send a new one."
        )
    token = secrets.token_urlsafe(32)
    row = CoLeadInvite(
        campaign_id=campaign.id,
        email=email,
        name=name,
        token_sha256=hash_token(token),
        invited_by_id=user.id,
        expires_at=utcnow() + timedelta(days=INVITE_DAYS),
    )
    db.session.add(row)
    db.session.flush()
    queue_email(
        kind="colead_invite",
        to_email=email,
        to_name=name,
        subject=f"Please review the draft letter: {campaign.title}",
        text_body=render_template(
            "emails/colead_invite.txt",
            name=name,
            campaign=campaign,
            inviter=user.email,
            url=invite_url(token),
            days=INVITE_DAYS,
        ),
        campaign_id=campaign.id,
    )
    audit.record("colead.invited", campaign=campaign, user=user, email=email)
    return row, token


def invitations(campaign: Campaign) -> list[CoLeadInvite]:
    """Every invitation of this campaign, newest first (the page shows each one's state)."""
    stmt = (
        select(CoLeadInvite)
        .where(CoLeadInvite.campaign_id == campaign.id)
        .order_by(CoLeadInvite.created_at.desc(), CoLeadInvite.id.desc())
    )
    return list(db.session.scalars(stmt))


def state(row: CoLeadInvite) -> str:
    """joined, revoked, expired or invited."""
    if row.revoked_at is not None:
        return "revoked"
    if row.accepted_at is not None:
        return "joined"
    if row.expires_at <= utcnow():
        return "expired"
    return "invited"


def revoke(campaign: Campaign, user: User, invite_id: int) -> CoLeadInvite:
    """Revoke an invitation; a co-lead who already joined loses access to the campaign."""
    require_organiser(user, campaign)
    row = db.session.get(CoLeadInvite, invite_id)
    if row is None or row.campaign_id != campaign.id:
        raise NotFound(invite_id)
    if row.revoked_at is not None:
        raise Conflict("That invitation is already revoked.")
    joined = row.accepted_at is not None
    row.revoked_at = utcnow()
    if joined and row.user_id is not None:
        # Only the co-lead membership goes: someone made an organiser since keeps that.
        member = db.session.scalar(
            select(CampaignMember).where(
                CampaignMember.campaign_id == campaign.id,
                CampaignMember.user_id == row.user_id,
                CampaignMember.role == "co_lead",
            )
        )
        if member is not None:
            db.session.delete(member)
    db.session.flush()
    audit.record("colead.revoked", campaign=campaign, user=user, email=row.email, joined=joined)
    return row


def resolve(token: str) -> CoLeadInvite:
    """The open invitation for a token; unknown, expired, revoked and used all raise NotFound."""
    if not token or len(token) > 100:
        raise NotFound("invitation")
    row = db.session.scalar(
        select(CoLeadInvite).where(CoLeadInvite.token_sha256 == hash_token(token))
    )
    # One answer for every failure, so an invitation's existence cannot be probed.
    if row is None or state(row) != "invited":
        raise NotFound("invitation")
    return row


def invitee(row: CoLeadInvite) -> User | None:
    """The existing account with the invited email, if there is one."""
    return find_user(row.email)


def accept(row: CoLeadInvite, user: User) -> None:
    """Join as co-lead, logged in as the invited address's account."""
    if user.email.lower() != row.email.lower():
        raise Conflict(
            f"This invitation is for {row.email}. Log out, then log in as {row.email} to accept it."
        )
    # An existing membership (say, organiser) keeps its role: joining never demotes.
    add_member(row.campaign, user, role="co_lead")
    row.accepted_at = utcnow()
    row.user_id = user.id
    db.session.flush()
    audit.record("colead.joined", campaign=row.campaign, user=user, email=row.email)


def accept_new(row: CoLeadInvite, password: str) -> User:
    """Create the invitee's account (read-only staff, least privilege) and join as co-lead."""
    if invitee(row) is not None:
        raise Conflict(f"{row.email} already has an account; log in to accept the invitation.")
    user = create_user(row.email, password, role="staff")
    accept(row, user)
    return user

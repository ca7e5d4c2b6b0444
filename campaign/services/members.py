"""Campaign members: co-organisers, co-leads and read-only staff, added by an organiser.

A membership has one of two roles (models.MEMBER_ROLES): "organiser" or "co_lead". What an
organiser membership allows depends on the account: an organiser account changes the
campaign, a staff account only reads and exports it. So "staff" here means a staff account
with an organiser membership, and the Members page and the header name it that way.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Campaign, CampaignMember, User
from . import audit
from .campaigns import member_role, require_organiser
from .users import account_email, find_user

#: What an organiser may add someone as, in the form's and the command's order.
KINDS = {
    "organiser": "Co-organiser: runs the campaign with you",
    "co_lead": "Co-lead: reviews the draft and brings their own partners",
    "staff": "Staff: reads and exports, changes nothing",
}
#: The command line spells the co-lead role with a hyphen, as people say it.
CLI_KINDS = {"organiser": "organiser", "co-lead": "co_lead", "staff": "staff"}
ROLE_LABELS = {
    "admin": "Admin",
    "organiser": "Organiser",
    "co_lead": "Co-lead",
    "staff": "Staff (read-only)",
}


def _label(role: str | None, user: User) -> str | None:
    """The name of a person's part: an organiser membership of a staff account is staff."""
    if role == "organiser" and not user.can_edit:
        return ROLE_LABELS["staff"]
    return ROLE_LABELS.get(role) if role else None


def role_label(user: User, campaign: Campaign | None = None) -> str:
    """What the header calls this person on a page: their part in its campaign, or account."""
    if campaign is not None:
        label = _label(member_role(user, campaign), user)
        if label:
            return label
    return ROLE_LABELS.get(user.role, user.role)


@dataclass(frozen=True)
class Member:
    """One row of the Members page."""

    id: int
    email: str
    label: str
    since: object


def members(campaign: Campaign) -> list[Member]:
    """Everyone who may open this campaign (besides admins), organisers first."""
    rows = db.session.execute(
        select(CampaignMember, User)
        .join(User, User.id == CampaignMember.user_id)
        .where(CampaignMember.campaign_id == campaign.id)
        .order_by(CampaignMember.created_at, CampaignMember.id)
    ).all()
    order = {label: i for i, label in enumerate(ROLE_LABELS.values())}
    out = [Member(m.id, u.email, _label(m.role, u), m.created_at) for m, u in rows]
    return sorted(out, key=lambda m: order.get(m.label, 99))


def _organisers(campaign: Campaign) -> int:
    """How many members can still run the campaign (organiser membership, editing account)."""
    stmt = (
        select(func.count(CampaignMember.id))
        .join(User, User.id == CampaignMember.user_id)
        .where(
            CampaignMember.campaign_id == campaign.id,
            CampaignMember.role == "organiser",
            User.role.in_(("admin", "organiser")),
        )
    )
    return db.session.scalar(stmt) or 0


def add_member(campaign: Campaign, by: User | None, email: str, kind: str) -> CampaignMember:
    """Add an existing account to the campaign as co-organiser, co-lead or staff.

    `by` is the organiser doing it (None: an operator at the command line).
    """
    if by is not None:
        require_organiser(by, campaign)
    if kind not in KINDS:
        raise Invalid("role", f"choose one of {', '.join(KINDS)}")
    email = account_email(email)
    user = find_user(email)
    if user is None:
        raise Invalid(
            "email",
            f"no account has the address {email}. An admin creates one with "
            f"`flask create-user {email} --role {'staff' if kind == 'staff' else 'organiser'}`; "
            "or invite a co-lead from the Review page, which lets them make their own",
        )
    if user.role == "admin":
        raise Conflict(f"{email} is an admin and already sees every campaign.")
    current = member_role(user, campaign)
    if current is not None:
        raise Conflict(
            f"{email} is already a member of this campaign ({_label(current, user)}); "
            "remove them first to change their role."
        )
    if kind == "organiser" and not user.can_edit:
        raise Invalid(
            "role",
            f"{email} has a read-only staff account; add them as staff, or ask an admin "
            "for an organiser account",
        )
    if kind == "staff" and user.can_edit:
        raise Invalid(
            "role",
            f"{email} has an organiser account, which can change campaigns; add them as "
            "co-organiser, or ask an admin for a staff account for read-only access",
        )
    role = "co_lead" if kind == "co_lead" else "organiser"
    member = CampaignMember(campaign_id=campaign.id, user_id=user.id, role=role)
    db.session.add(member)
    db.session.flush()
    audit.record("member.added", campaign=campaign, user=by, email=email, role=kind)
    return member


def remove_member(campaign: Campaign, by: User, member_id: int) -> str:
    """Take someone off the campaign; the last organiser who can run it stays."""
    require_organiser(by, campaign)
    member = db.session.get(CampaignMember, member_id)
    if member is None or member.campaign_id != campaign.id:
        raise NotFound(member_id)
    user = member.user
    if member.role == "organiser" and user.can_edit and _organisers(campaign) <= 1:
        raise Conflict("This is the campaign's only organiser; add another before removing them.")
    db.session.delete(member)
    db.session.flush()
    audit.record("member.removed", campaign=campaign, user=by, email=user.email)
    return user.email

"""The inbox: replies that matched no target, each seen only by those who could own it.

An unmatched reply may be a coalition's private correspondence, so it is shown to the
organisers of the campaign whose reply address it was sent to (`inbox_campaign_id`, set
when it arrived), and to admins; a reply that names no campaign is for admins alone.
Everyone else gets NotFound, exactly as for a reply that does not exist.
"""

from sqlalchemy import select, true

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Campaign, CampaignMember, Target, User, utcnow
from ..models.responses import InboundAttachment, InboundReply
from . import audit, replies
from .campaigns import require_editor, visible_campaigns


def _organised(user: User):
    """The ids of the campaigns this user organises, as a subquery."""
    return select(CampaignMember.campaign_id).where(
        CampaignMember.user_id == user.id, CampaignMember.role == "organiser"
    )


def _may_see(user: User):
    """The condition on an unmatched reply for this user to see it."""
    if user.role == "admin":
        return true()
    return InboundReply.inbox_campaign_id.in_(_organised(user))


def inbox(user: User) -> list[InboundReply]:
    """The unmatched replies this user may see and assign, newest first."""
    if not user.can_edit:
        return []
    return list(
        db.session.scalars(
            select(InboundReply)
            .where(InboundReply.campaign_id.is_(None), _may_see(user))
            .order_by(InboundReply.received_at.desc(), InboundReply.id.desc())
        )
    )


def get_reply(user: User, reply_id: int, *, assigned_too: bool = False) -> InboundReply:
    """An unmatched reply this user may see; NotFound for any other.

    With `assigned_too`, a reply already on a campaign the user organises is found as
    well (so assigning it again says why not, rather than "not found").
    """
    if not user.can_edit:
        raise NotFound("reply")
    condition = InboundReply.campaign_id.is_(None) & _may_see(user)
    if assigned_too:
        on_own_campaign = (
            true() if user.role == "admin" else InboundReply.campaign_id.in_(_organised(user))
        )
        condition = condition | (InboundReply.campaign_id.is_not(None) & on_own_campaign)
    reply = db.session.scalar(select(InboundReply).where(InboundReply.id == reply_id, condition))
    if reply is None:
        raise NotFound("reply")
    return reply


def get_attachment(user: User, reply_id: int, attachment_id: int) -> InboundAttachment:
    """A file attached to an unmatched reply this user may see; NotFound for any other."""
    reply = get_reply(user, reply_id)
    for attachment in reply.attachments:
        if attachment.id == attachment_id:
            return attachment
    raise NotFound("attachment")


def assignable_targets(user: User, reply: InboundReply) -> list[Target]:
    """The targets this reply may be put on: its campaign's, or (admins) any campaign's."""
    if not user.can_edit:
        return []
    if reply.inbox_campaign_id is not None:
        campaigns = [db.session.get(Campaign, reply.inbox_campaign_id)]
    else:
        campaigns = visible_campaigns(user) if user.role == "admin" else []
    return [
        target
        for campaign in campaigns
        if campaign is not None
        for target in sorted(campaign.targets, key=lambda t: t.id)
    ]


def assign(reply_id: int, target_id: int, user: User) -> InboundReply:
    """Put an unmatched reply on one of the targets it may go to (see assignable_targets)."""
    require_editor(user)
    reply = get_reply(user, reply_id, assigned_too=True)
    if reply.campaign_id is not None:
        raise Conflict("This reply has already been assigned to a campaign.")
    target = db.session.get(Target, target_id)
    if target is None or target not in assignable_targets(user, reply):
        # A reply sent to one campaign's address stays in that campaign.
        raise Invalid("target", "choose one of the targets listed")
    reply.assigned_by_id = user.id
    reply.assigned_at = utcnow()
    db.session.flush()
    audit.record(
        "reply.assigned", campaign=target.campaign, user=user, reply_id=reply.id, target=target.name
    )
    replies.attach(reply, target)
    return reply

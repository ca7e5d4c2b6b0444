"""Coalition roles on the partner list: the lead's organisers, and co-leads' own networks.

Organisers see and manage every partner. A co-lead adds and invites their own network:
they manage the partners they added, and see only those unless the lead shares the whole
list. Who added whom is kept on each partner, so the campaign can show an invited-by tree.
"""

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import Invalid, NotAllowed, NotFound
from ..extensions import db
from ..models import COALITION_ROLES, Campaign, CampaignMember, Partner, User
from . import audit
from .campaigns import member_role, require_editor
from .roster import Roster, letter_roster


@dataclass(frozen=True)
class PartnerAccess:
    """What one person may do with one campaign's partner list."""

    user_id: int
    role: str  #: admin, organiser or co_lead
    sees_all: bool
    may_edit: bool

    @property
    def organiser(self) -> bool:
        """Whether this person runs the campaign (and may change campaign-wide settings)."""
        return self.role in ("admin", "organiser")

    def owns(self, partner: Partner) -> bool:
        """Whether this person may invite, reissue or revoke this partner."""
        return self.organiser or partner.added_by_id == self.user_id

    def sees(self, partner: Partner) -> bool:
        """Whether this partner is on the list this person sees."""
        return self.sees_all or self.owns(partner)


def partner_access(user: User, campaign: Campaign) -> PartnerAccess:
    """This person's access to the campaign's partners; NotFound for non-members."""
    role = member_role(user, campaign)
    if role is None:
        raise NotFound(campaign.slug)
    if role == "co_lead":
        # Invited to co-lead this campaign: they manage their own network here, whatever
        # their account may do elsewhere.
        return PartnerAccess(user.id, role, campaign.coleads_see_all_partners, True)
    return PartnerAccess(user.id, role, True, user.can_edit)


def require_may_edit(access: PartnerAccess) -> None:
    """Refuse partner changes from read-only (staff) accounts: a 403."""
    if not access.may_edit:
        raise NotAllowed("Your account can read the partner list but not change it.")


def require_manager(user: User, campaign: Campaign, partners: list[Partner] = ()) -> None:
    """Refuse partner changes from read-only accounts and on partners one does not own."""
    access = partner_access(user, campaign)
    if access.organiser:
        require_editor(user)
        return
    for partner in partners:
        if not access.owns(partner):
            # As if absent: a co-lead learns nothing about the lead's own partners.
            raise NotFound(partner.id)


def visible(access: PartnerAccess, partners: list[Partner]) -> list[Partner]:
    """The partners this person sees, in the given order."""
    return [p for p in partners if access.sees(p)]


def set_sharing(campaign: Campaign, user: User, share: bool) -> None:
    """Let co-leads see the whole partner list, or only the partners they added."""
    if not partner_access(user, campaign).organiser:
        raise NotAllowed("Only the campaign's organisers can share the partner list.")
    require_editor(user)
    campaign.coleads_see_all_partners = bool(share)
    db.session.flush()
    audit.record("partners.sharing_changed", campaign=campaign, user=user, shared=bool(share))


def invited_by_tree(
    campaign: Campaign, access: PartnerAccess, hide: set[int] = frozenset()
) -> list[dict]:
    """Who brought whom: the lead and each co-lead, their partners, and forwarded links.

    Partners whose ids are in `hide` are left out (private supporters, for staff).
    """
    co_leads = db.session.scalars(
        select(User)
        .join(CampaignMember, CampaignMember.user_id == User.id)
        .where(CampaignMember.campaign_id == campaign.id, CampaignMember.role == "co_lead")
        .order_by(User.email)
    ).all()
    partners = db.session.scalars(
        select(Partner)
        .where(Partner.campaign_id == campaign.id, Partner.source == "invited")
        .order_by(Partner.organisation)
    ).all()
    by_adder: dict[int | None, list[Partner]] = {}
    co_lead_ids = {u.id for u in co_leads}
    for partner in visible(access, [p for p in partners if p.id not in hide]):
        key = partner.added_by_id if partner.added_by_id in co_lead_ids else None
        by_adder.setdefault(key, []).append(partner)
    roots = [
        {"who": campaign.lead_organisation, "role": "lead", "partners": by_adder.get(None, [])}
    ]
    roots += [
        {"who": u.email, "role": "co-lead", "partners": by_adder.get(u.id, [])} for u in co_leads
    ]
    roster = letter_roster(campaign)
    for root in roots:
        root["partners"] = [_node(p, roster) for p in root["partners"]]
    return [r for r in roots if r["partners"] or r["role"] == "co-lead" or access.organiser]


def _node(partner: Partner, roster: Roster) -> dict:
    """A partner with the chain of people its link went to (forwards, newest last)."""
    chain = []
    for req in partner.requests:
        if req.forwarded_from_id is not None:
            chain.append(req.addressee_name or req.addressee_email)
    req = partner.current_request
    return {
        "partner": partner,
        # "signed" only when the letter counts it: an earlier text's signer is awaiting.
        "status": roster.partner_state(partner, req.state if req else "not invited"),
        "forwarded_to": chain,
    }


def set_partner_role(campaign: Campaign, user: User, partner: Partner, role: str) -> None:
    """Mark a partner as a lead or co-lead organisation (listed first), or as a signatory."""
    if not partner_access(user, campaign).organiser:
        raise NotAllowed("Only the campaign's organisers decide who leads the coalition.")
    require_editor(user)
    if role not in COALITION_ROLES:
        raise Invalid("coalition_role", "choose lead, co-lead or signatory")
    partner.coalition_role = role
    db.session.flush()
    audit.record(
        "partner.role_changed",
        campaign=campaign,
        user=user,
        organisation=partner.organisation,
        role=role or "signatory",
    )

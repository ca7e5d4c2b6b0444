"""The partner directory: every organisation across the campaigns a person runs.

Nothing is stored twice: the directory is read from the partner lists themselves, and an
organisation is the set of partner rows that duplicate detection would call the same
(the same normalised name, or the same website domain without being a chapter). So it
never drifts from what was actually invited and signed, and adding an organisation to
a new campaign copies its latest details into that campaign's partner list.
"""

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import Campaign, CampaignMember, Partner, SignatureRequest, User
from . import audit
from .duplicates import compare, normalise_name, site_domain
from .partners import add_partner, partner_entry

#: The directory page lists at most this many organisations; a search narrows it down.
SHOWN = 200


def _campaign_ids(user: User) -> list[int]:
    """Campaigns whose partner lists this user may reuse: organisers' (all for admins)."""
    stmt = select(Campaign.id)
    if user.role != "admin":
        stmt = stmt.join(CampaignMember).where(
            CampaignMember.user_id == user.id, CampaignMember.role == "organiser"
        )
    return list(db.session.scalars(stmt))


def _partners(user: User) -> list[Partner]:
    ids = _campaign_ids(user)
    if not ids:
        return []
    stmt = (
        select(Partner)
        .where(Partner.campaign_id.in_(ids))
        .options(
            selectinload(Partner.campaign),
            selectinload(Partner.requests).selectinload(SignatureRequest.signature),
        )
        .order_by(Partner.created_at, Partner.id)
    )
    return list(db.session.scalars(stmt))


def _groups(partners: list[Partner]) -> list[list[Partner]]:
    """Partner rows grouped into organisations (union by name, then by shared domain)."""
    parent = list(range(len(partners)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first_by_name: dict[str, int] = {}
    by_domain: dict[str, list[int]] = defaultdict(list)
    entries = [partner_entry(p) for p in partners]
    for i, entry in enumerate(entries):
        name = normalise_name(entry["organisation"])
        if name in first_by_name:
            union(i, first_by_name[name])
        else:
            first_by_name[name] = i
        domain = site_domain(entry["website"])
        if domain:
            for j in by_domain[domain][:20]:
                # Chapters share their parent's domain but are organisations of their own.
                found = compare(entry, entries[j])
                if found and found[0] == "duplicate":
                    union(i, j)
                    break
            by_domain[domain].append(i)
    groups: dict[int, list[Partner]] = defaultdict(list)
    for i, partner in enumerate(partners):
        groups[find(i)].append(partner)
    return list(groups.values())


def _private_signer(partner: Partner) -> bool:
    """Whether this partner's live signature is one its signer asked to keep private."""
    req = partner.current_request
    sig = req.signature if req else None
    return sig is not None and sig.withdrawn_at is None and sig.visibility == "private"


def _status(partner: Partner) -> str:
    req = partner.current_request
    return req.state if req else "not invited"


def _organisation(rows: list[Partner]) -> dict:
    """One organisation: its latest details, every contact, and its campaign history."""
    latest = rows[-1]
    contacts = {}
    for p in rows:
        contacts.setdefault(p.contact_email.lower(), (p.contact_name, p.contact_email))
    logo = None
    for p in reversed(rows):
        sig = p.current_request.signature if p.current_request else None
        logo = (sig.logo_sha256 if sig else None) or p.logo_sha256
        if logo:
            break
    history = [
        {
            "campaign": p.campaign,
            "status": _status(p),
            "since": p.created_at,
            "signer": p.current_request.signature.signer_name
            if p.current_request and p.current_request.signature
            else "",
        }
        for p in reversed(rows)
    ]
    return {
        "id": latest.id,  # the newest row stands for the organisation when adding it
        "organisation": latest.organisation,
        "website": next((p.website for p in reversed(rows) if p.website), ""),
        "tier": latest.tier,
        "logo": logo,
        "contacts": list(contacts.values()),
        "history": history,
        "signed": sum(1 for h in history if h["status"] == "signed"),
        "campaign_ids": {p.campaign_id for p in rows},
    }


def organisations(user: User, query: str = "") -> tuple[list[dict], int]:
    """The organisations this user has worked with (name order), filtered; and the total."""
    partners = _partners(user)
    if not user.can_edit:
        # Staff read, but are never told who supports a letter privately.
        partners = [p for p in partners if not _private_signer(p)]
    found = [_organisation(rows) for rows in _groups(partners)]
    needle = query.strip().casefold()
    if needle:
        found = [
            o
            for o in found
            if needle in o["organisation"].casefold()
            or needle in o["website"].casefold()
            or any(needle in email.casefold() for _, email in o["contacts"])
        ]
    found.sort(key=lambda o: o["organisation"].casefold())
    return found[:SHOWN], len(found)


def add_to_campaign(campaign: Campaign, user: User, partner_id: int) -> Partner:
    """Put a directory organisation on this campaign's partner list, with its latest details."""
    source = db.session.get(Partner, partner_id)
    if source is None or source.campaign_id not in _campaign_ids(user):
        raise NotFound(partner_id)  # never reveal another coalition's partner list
    fields = {**partner_entry(source), "contact_name": source.contact_name}
    partner = add_partner(campaign, user, fields)
    partner.logo_sha256 = source.logo_sha256
    db.session.flush()
    audit.record(
        "partner.added_from_directory",
        campaign=campaign,
        user=user,
        organisation=partner.organisation,
        from_campaign=source.campaign.slug,
    )
    return partner

"""Read-only summaries for the campaign page."""

from collections import Counter

from sqlalchemy import select

from ..extensions import db
from ..models import Campaign, OutboundEmail, RenderedLetter
from .export_jobs import latest_run
from .letters import latest_version, published_version
from .roster import letter_roster


def _latest_emails(campaign: Campaign, column) -> dict[int, OutboundEmail]:
    """The newest email per partner or per target, in one query."""
    rows = db.session.scalars(
        select(OutboundEmail)
        .where(OutboundEmail.campaign_id == campaign.id, column.is_not(None))
        .order_by(OutboundEmail.id)
    )
    latest: dict[int, OutboundEmail] = {}
    for email in rows:
        if email.kind in ("invitation", "letter"):
            latest[getattr(email, column.key)] = email
    return latest


def campaign_overview(campaign: Campaign) -> dict:
    """Counts and per-row statuses the dashboard shows."""
    from ..models import Partner

    partners = list(
        db.session.scalars(
            select(Partner).where(Partner.campaign_id == campaign.id).order_by(Partner.organisation)
        )
    )
    statuses = Counter(
        (p.current_request.state if p.current_request else "not invited") for p in partners
    )
    invitations = _latest_emails(campaign, OutboundEmail.partner_id)
    letters = _latest_emails(campaign, OutboundEmail.target_id)
    generic_pdf = db.session.scalar(
        select(RenderedLetter)
        .where(RenderedLetter.campaign_id == campaign.id, RenderedLetter.target_id.is_(None))
        .order_by(RenderedLetter.id.desc())
    )
    roster = letter_roster(campaign)
    return {
        "published": published_version(campaign),
        "latest": latest_version(campaign),
        "partners": partners,
        "statuses": statuses,
        # On the letter, as the letter counts it (services/roster.py), not link states:
        # a signer of an earlier text awaiting re-confirmation is not (yet) on it.
        "signed": roster.count,
        "awaiting": len(roster.awaiting),
        "roster": roster,
        # Each partner's status as every page shows it, from the same roster.
        "states": {
            p.id: roster.partner_state(
                p, p.current_request.state if p.current_request else "not invited"
            )
            for p in partners
        },
        "invitations": invitations,
        "letters": letters,
        "generic_pdf": generic_pdf,
        "export": latest_run(campaign),
    }

"""How often the public sign-on form may make us mail an address.

The public form lets anyone make us email any address they type. At most one
confirmation per mailbox per campaign in PUBLIC_CONFIRM_INTERVAL_HOURS keeps it from
being used to flood a stranger.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Campaign, OutboundEmail, PublicLink, utcnow

#: Gmail ignores dots in the local part, and googlemail.com is the same mailbox.
GMAIL = ("gmail.com", "googlemail.com")


def mailbox(address: str) -> str:
    """The mailbox an address reaches: lower-cased, without a +tag (and Gmail's dots)."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def may_mail(campaign: Campaign, email: str) -> bool:
    """Whether this mailbox may get a confirmation email for this campaign now."""
    hours = current_app.config["PUBLIC_CONFIRM_INTERVAL_HOURS"]
    if hours <= 0:
        return True
    # Sign-ups of one campaign wait for each other here, so two at once cannot both mail.
    db.session.scalar(
        select(PublicLink.id).where(PublicLink.campaign_id == campaign.id).with_for_update()
    )
    wanted = mailbox(email)
    domains = GMAIL if wanted.endswith("@gmail.com") else (wanted.rpartition("@")[2],)
    address = func.lower(OutboundEmail.to_email)
    recent = db.session.scalars(
        select(OutboundEmail.to_email).where(
            OutboundEmail.campaign_id == campaign.id,
            OutboundEmail.kind == "public_confirmation",
            OutboundEmail.created_at >= utcnow() - timedelta(hours=hours),
            or_(*(address.endswith(f"@{domain}", autoescape=True) for domain in domains)),
        )
    )
    return all(mailbox(sent) != wanted for sent in recent)

"""Campaigns in the states many tests start from: signed, delivered, with a co-lead."""

from campaign.extensions import db
from campaign.models import OutboundEmail
from campaign.services import campaigns, delivery
from campaign.services import colead_invites as coleads
from campaign.services import public_sign_on as public_signing
from tests import factories as f


def enable_public_link(c, u):
    """Turn on the public sign-up link; returns its token."""
    link = public_signing.set_enabled(c, u, True)
    f.commit()
    return link.token


def signed(c, owner, organisation, tier="national", title="Director"):
    """A partner organisation of `c` that has signed."""
    p = f.partner(c, owner, name=organisation, tier=tier)
    return f.sign(c, owner, p, signer_title=title)


def two_targets_three_signers():
    """A campaign with two targets and three signers whose names look like formulas."""
    u = f.user()
    c = f.published(u)
    campaigns.add_target(
        c,
        u,
        name="Renata Solis",
        title="Chair",
        organisation="Argus Vision",
        email="chair@argus.example",
        salutation="Dear Ms Solis",
    )
    f.commit()
    signed(c, u, '=HYPERLINK("http://evil.example","click")')
    signed(c, u, "Plain Org", title="+1 555")
    signed(c, u, "@SUM(A1)", title="\t=cmd|' /C calc'!A0")
    return u, c


def delivered(owner, *, fallback="", name=None, tracking=False):
    """A campaign whose letter went to its one target (Jordan Vale); returns (campaign, email)."""
    c = f.published(owner)
    target = c.targets[0]
    target.fallback_email = fallback
    if name is not None:
        target.name = name
    c.tracking_enabled = tracking
    p = f.partner(c, owner, name="Alpha Liberty")
    f.sign(c, owner, p)
    campaigns.close_signing(c, owner)
    f.commit()
    delivery.deliver(c, owner)
    f.commit()
    email = db.session.scalars(
        db.select(OutboundEmail).where(
            OutboundEmail.kind == "letter", OutboundEmail.campaign_id == c.id
        )
    ).one()
    return c, email


def co_lead(c, owner, email="casey@ally.example"):
    """A co-lead of `c` who joined through an invitation, with the shared test password."""
    row, _token = coleads.invite(c, owner, name="Casey Ally", email=email)
    user = coleads.accept_new(row, f.PASSWORD)
    f.commit()
    return user


def co_lead_session(client, app):
    """A campaign with a co-lead, who is logged in on `client`."""
    owner = f.user()
    c = f.published(owner)
    lead_partner = f.partner(c, owner, name="Lead Network Org")
    casey = co_lead(c, owner)
    f.login(client, casey)
    return owner, c, lead_partner, casey

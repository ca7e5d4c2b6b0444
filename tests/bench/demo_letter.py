"""The demo campaign with all 40 partners signed, each with a logo: the benchmarks' letter."""

from sqlalchemy import select

from campaign import demo, jobs
from campaign.extensions import db
from campaign.models import Campaign
from campaign.services import letters, partners
from campaign.services import personal_link_signing as signing
from campaign.services.users import find_user


def demo_campaign() -> Campaign:
    """Load the demo and sign its 10 invited-but-pending partners too: 40 organisations."""
    info = demo.load_demo()
    db.session.commit()
    jobs.run_ready()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == info["slug"]))
    owner = find_user(demo.DEMO_EMAIL)
    pending = [
        p
        for p in partners.campaign_partners(campaign)
        # The demo also leaves a few partners uninvited; the bench letter has the invited 40.
        if p.current_request is not None and p.current_request.status != "signed"
    ]
    links = partners.invite(campaign, owner, pending)
    version = letters.published_version(campaign)
    for i, partner in enumerate(pending):
        req = signing.resolve(links[partner.id])
        signing.sign(
            req,
            {
                "organisation": partner.organisation,
                "signer_name": f"Signer {i}",
                "signer_title": "Director",
                "signer_email": partner.contact_email,
                "authorised": True,
            },
            demo._logo(partner.organisation, demo.PALETTE[i % len(demo.PALETTE)]),
            ip="127.0.0.1",
            user_agent="bench",
            version_id=version.id,
            link_url=partners.signing_url(links[partner.id]),
        )
    db.session.commit()
    jobs.run_ready()
    return campaign

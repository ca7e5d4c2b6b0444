"""The demo campaign: a fictional coalition letter with 40 partners, loaded by `flask demo`."""

import io
import secrets
from datetime import timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from .extensions import db
from .models import Campaign, utcnow
from .services import campaigns, letters, partners, personal_link_signing
from .services.blobs import store_logo
from .services.users import create_user, find_user

DEMO_EMAIL = "organiser@demo.example.org"
DEMO_SLUG = "stop-selling-face-surveillance"

LETTER = """{{ target.salutation }},

We, the undersigned {{ signatory_count }} civil-liberties, racial-justice and community
organisations, write to urge {{ target.organisation }} to stop selling face surveillance
technology to police departments and immigration authorities.

Face recognition in the hands of police is a tool of mass surveillance. It lets
authorities identify and track people at protests, places of worship and clinics without
their knowledge.[^1] Independent tests have repeatedly found higher error rates for
darker-skinned people and for women,[^2] and people have already been wrongly arrested on
the strength of a false match.

**We ask {{ target.organisation }} to:**

1. stop selling face surveillance products to law enforcement;
2. publish a full list of the agencies that use them today; and
3. commit to an independent human-rights review before any future sale.

We request a written answer by {{ campaign.deadline }}. The communities we serve deserve
to know whether {{ target.organisation }} stands with them.

Sincerely,

The undersigned organisations

[^1]: Public records gathered by coalition members show use at demonstrations in at least
    six cities since 2024.
[^2]: See the vendor-independent accuracy evaluations summarised in the coalition's
    briefing paper, "Misidentified", October 2026.
"""

ORGANISATIONS = [
    ("Digital Rights Alliance", "national"),
    ("Freedom to Assemble Project", "national"),
    ("Center for Algorithmic Fairness", "national"),
    ("National Immigrant Justice Network", "national"),
    ("Privacy First Foundation", "national"),
    ("Council on Civil Liberties", "national"),
    ("Data & Democracy Institute", "national"),
    ("Coalition for Racial Equity", "national"),
    ("Open Technology Collective", "national"),
    ("Press Freedom Watch", "national"),
    ("Faith Leaders for Justice", "national"),
    ("Youth Privacy Network", "national"),
    ("Northstate Civil Liberties Union", "state"),
    ("Lakeshore Immigrant Rights Coalition", "state"),
    ("Riverbend Public Defenders Association", "state"),
    ("Highland Privacy Coalition", "state"),
    ("Coastal Tenants Union", "state"),
    ("Prairie Digital Justice", "state"),
    ("Mountain State Racial Justice Fund", "state"),
    ("Bay Area Surveillance Watch", "state"),
    ("Desert Freedom Fund", "state"),
    ("Valley Workers' Rights Center", "state"),
    ("Eastside Neighbours Against Surveillance", "local"),
    ("Millbrook Library Friends", "local"),
    ("Southport Muslim Community Council", "local"),
    ("Harbor City Copwatch", "local"),
    ("Oakridge Student Union", "local"),
    ("Fairview Legal Aid Clinic", "local"),
    ("Pinecrest Mutual Aid", "local"),
    ("Westgate Black Futures", "local"),
    ("Riverside Parents for Privacy", "local"),
    ("Cedar Falls Peace Network", "local"),
    ("Greenfield Disability Rights", "local"),
    ("Elmwood Journalists Guild", "local"),
    ("Brookside Latinx Alliance", "local"),
    ("Northgate Sex Workers Outreach", "local"),
    ("Kingsbury Refugee Welcome", "local"),
    ("Maple Hill Tech Workers", "local"),
    ("Stonebridge Interfaith Circle", "local"),
    ("Lowtown Community Radio", "local"),
]
SIGNERS = [
    ("Amara Okafor", "Executive Director"),
    ("Daniel Reyes", "Policy Director"),
    ("Mei Lin", "Co-Director"),
    ("Samuel Adeyemi", "Legal Director"),
    ("Priya Raman", "President"),
    ("Jonas Berg", "Coordinator"),
]
PALETTE = ["#1f4e79", "#7a2e3a", "#2f6b4f", "#5b3f8c", "#8a5a00", "#2d5f73", "#6b2f6b"]


NOT_YET_INVITED = (
    ("Riverside Tenants Union", "local"),
    ("Lakeshore Civil Liberties Fund", "state"),
    ("Campus Free Speech Project", "national"),
)


def _logo(name: str, colour: str) -> bytes:
    """A simple generated logo: the organisation's initials on a coloured badge."""
    initials = "".join(w[0] for w in name.replace("&", "").split() if w[0].isupper())[:3]
    image = Image.new("RGBA", (240, 240), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, 232, 232), radius=48, fill=colour)
    font = ImageFont.load_default(size=96 if len(initials) < 3 else 72)
    draw.text((120, 124), initials, fill="white", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _organiser():
    password = secrets.token_urlsafe(9)
    user = find_user(DEMO_EMAIL)
    if user is None:
        user = create_user(DEMO_EMAIL, password, "organiser")
    else:
        user.set_password(password)
    return user, password


def load_demo() -> dict:
    """Reset and load the demo campaign; return the login and a pending signing link."""
    old = db.session.scalar(select(Campaign).where(Campaign.slug == DEMO_SLUG))
    if old is not None:
        db.session.delete(old)  # re-running resets the demo rather than duplicating it
        db.session.flush()
    user, password = _organiser()
    campaign = campaigns.create_campaign(
        user,
        title="Stop selling face surveillance to police",
        lead_organisation="Coalition for Surveillance-Free Streets",
        lead_address="400 Liberty Avenue, Suite 12\nMillbrook, NS 01234",
        deadline=(utcnow() + timedelta(days=21)).replace(
            hour=17, minute=0, second=0, microsecond=0
        ),
    )
    campaign.slug = DEMO_SLUG
    campaigns.add_target(
        campaign,
        user,
        name="Jordan Vale",
        title="Chief Executive Officer",
        organisation="Argus Vision, Inc.",
        email="jordan.vale@argus-vision.example",
        salutation="Dear Mr Vale",
    )
    campaigns.add_target(
        campaign,
        user,
        name="Renata Solis",
        title="Chair of the Board",
        organisation="Argus Vision, Inc.",
        email="board.chair@argus-vision.example",
        salutation="Dear Ms Solis",
    )
    letters.save_draft(
        campaign, user, subject="Stop selling face surveillance to police", body=LETTER
    )
    version = letters.publish(campaign, user)
    added = []
    for i, (name, tier) in enumerate(ORGANISATIONS):
        domain = "".join(ch for ch in name.lower() if ch.isalnum())[:24] + ".example"
        signer, _ = SIGNERS[i % len(SIGNERS)]
        added.append(
            partners.add_partner(
                campaign,
                user,
                {
                    "organisation": name,
                    "contact_email": f"contact@{domain}",
                    "contact_name": signer,
                    "website": f"https://{domain}",
                    "tier": tier,
                },
            )
        )
    links = partners.invite(campaign, user, added)
    for i, partner in enumerate(added[:30]):
        signer, title = SIGNERS[i % len(SIGNERS)]
        req = personal_link_signing.resolve(links[partner.id])
        logo = _logo(partner.organisation, PALETTE[i % len(PALETTE)]) if i % 4 != 3 else None
        if logo:
            partner.logo_sha256 = store_logo(logo).sha256
        personal_link_signing.sign(
            req,
            {
                "organisation": partner.organisation,
                "signer_name": signer,
                "signer_title": title,
                "signer_email": partner.contact_email,
                "authorised": True,
            },
            None,
            ip="127.0.0.1",
            user_agent="demo loader",
            version_id=version.id,
            link_url=partners.signing_url(links[partner.id]),
        )
    # A few partners added but not yet invited, so "Review and send invitations" has a
    # dry run to show.
    for name, tier in NOT_YET_INVITED:
        domain = "".join(ch for ch in name.lower() if ch.isalnum())[:24] + ".example"
        partners.add_partner(
            campaign,
            user,
            {"organisation": name, "contact_email": f"hello@{domain}", "tier": tier},
        )
    pending = added[30]
    return {
        "email": user.email,
        "password": password,
        "slug": campaign.slug,
        "signing_link": partners.signing_url(links[pending.id]),
    }

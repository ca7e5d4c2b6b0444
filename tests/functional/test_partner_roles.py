"""Lead and co-lead organisations are listed first in the signature block."""

from campaign.extensions import db
from campaign.letters.document import letter_html, signatory_groups
from campaign.models import AuditEvent, Partner
from campaign.services.letters import letter_data, published_version
from tests import factories as f
from tests.helpers.campaigns import co_lead_session


def test_leads_then_co_leads_then_tiers_in_the_letter(client, app, submit):
    u = f.user()
    c = f.published(u)
    f.sign(c, u, f.partner(c, u, name="Aardvark National Rights", tier="national"))
    lead = f.sign(c, u, f.partner(c, u, name="Zeta Lead Coalition", tier="local"))
    co = f.sign(c, u, f.partner(c, u, name="Middle Co-lead Alliance", tier="state"))
    f.login(client, u)
    for partner, role in ((lead, "lead"), (co, "co_lead")):
        resp = submit(
            f"/c/{c.slug}/partners",
            {"coalition_role": role},
            post_url=f"/c/{c.slug}/partners/{partner.id}/role",
        )
        assert resp.status_code == 302
    data = letter_data(c, published_version(c))
    groups = signatory_groups(data["signatories"])
    assert [g["heading"] for g in groups] == [
        "Lead organisations",
        "Co-leads",
        "National organisations",
    ]
    html = letter_html(data)
    assert (
        html.index("Zeta Lead Coalition")
        < html.index("Middle Co-lead Alliance")
        < html.index("Aardvark National Rights")
    )
    assert db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "partner.role_changed")
    )


def test_only_organisers_set_roles_and_bad_values_are_refused(client, app, submit):
    owner, c, lead_partner, casey = co_lead_session(client, app)
    # The lead's partner does not exist for a co-lead; on their own, the role is not theirs.
    resp = submit(
        f"/c/{c.slug}/partners",
        {"coalition_role": "lead"},
        post_url=f"/c/{c.slug}/partners/{lead_partner.id}/role",
    )
    assert resp.status_code == 404
    submit(
        f"/c/{c.slug}/partners",
        {"organisation": "Casey's Union", "contact_email": "cu@union.example", "tier": "local"},
    )
    mine = db.session.scalar(db.select(Partner).where(Partner.organisation == "Casey's Union"))
    resp = submit(
        f"/c/{c.slug}/partners",
        {"coalition_role": "lead"},
        post_url=f"/c/{c.slug}/partners/{mine.id}/role",
    )
    assert resp.status_code == 403
    f.login(client, owner)
    resp = submit(
        f"/c/{c.slug}/partners",
        {"coalition_role": "emperor"},
        post_url=f"/c/{c.slug}/partners/{lead_partner.id}/role",
        follow_redirects=True,
    )
    assert "choose lead, co-lead or signatory" in resp.get_data(as_text=True)
    db.session.refresh(lead_partner)
    assert lead_partner.coalition_role == ""

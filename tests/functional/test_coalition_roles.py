"""Coalition roles: co-leads add and invite their own networks; who invited whom is shown."""

from campaign.extensions import db
from campaign.models import OutboundEmail, Partner
from campaign.services import partner_import
from tests import factories as f
from tests.helpers.campaigns import co_lead, co_lead_session


def test_a_co_lead_adds_and_invites_their_own_network_only(client, app, submit):
    owner, c, lead_partner, casey = co_lead_session(client, app)
    page = client.get(f"/c/{c.slug}/partners")
    assert page.status_code == 200
    assert "Lead Network Org" not in page.get_data(as_text=True)  # not shared by default

    resp = submit(
        f"/c/{c.slug}/partners",
        {
            "organisation": "Casey's Tenants Union",
            "contact_email": "hi@ctu.example",
            "tier": "local",
        },
    )
    assert resp.status_code == 302
    mine = db.session.scalar(db.select(Partner).where(Partner.organisation.like("Casey%")))
    assert mine.added_by_id == casey.id

    dry_run = client.get(f"/c/{c.slug}/partners/invite").get_data(as_text=True)
    assert "Casey&#39;s Tenants Union" in dry_run and "Lead Network Org" not in dry_run
    submit(f"/c/{c.slug}/partners/invite", {}, post_url=f"/c/{c.slug}/partners/invite")
    sent_to = db.session.scalars(
        db.select(OutboundEmail.to_email).where(OutboundEmail.kind == "invitation")
    ).all()
    assert sent_to == ["hi@ctu.example"]  # the lead's partner was not invited by the co-lead


def test_the_lead_sees_every_partner_and_the_invited_by_tree(client, app, submit):
    owner, c, lead_partner, casey = co_lead_session(client, app)
    submit(
        f"/c/{c.slug}/partners",
        {
            "organisation": "Casey's Tenants Union",
            "contact_email": "hi@ctu.example",
            "tier": "local",
        },
    )
    f.login(client, owner)
    html = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    tree = html[html.index('id="coalition"') :]
    assert "Lead Network Org" in tree and "Casey&#39;s Tenants Union" in tree
    # The co-lead's partner sits under the co-lead, the lead's under the lead organisation.
    assert tree.index(casey.email) < tree.index("Casey&#39;s Tenants Union")
    assert (
        tree.index(c.lead_organisation) < tree.index("Lead Network Org") < tree.index(casey.email)
    )


def test_sharing_shows_the_whole_list_but_only_own_partners_can_be_managed(client, app, submit):
    owner, c, lead_partner, casey = co_lead_session(client, app)
    f.invited(c, owner, lead_partner)
    f.login(client, owner)
    submit(f"/c/{c.slug}/partners", {"share": "1"}, post_url=f"/c/{c.slug}/partners/sharing")
    db.session.refresh(c)
    assert c.coleads_see_all_partners
    f.login(client, casey)
    html = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert "Lead Network Org" in html
    assert f"/partners/{lead_partner.id}/revoke" not in html  # no buttons on the lead's
    for action in ("reissue", "revoke"):
        resp = submit(
            f"/c/{c.slug}/partners",
            {},
            post_url=f"/c/{c.slug}/partners/{lead_partner.id}/{action}",
        )
        assert resp.status_code == 404
    db.session.refresh(lead_partner)
    assert lead_partner.current_request.revoked_at is None


def test_co_leads_cannot_change_campaign_wide_settings(client, app, submit):
    owner, c, lead_partner, casey = co_lead_session(client, app)
    page = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert 'id="reminders"' not in page and "Share the whole list" not in page
    resp = submit(
        f"/c/{c.slug}/partners",
        {"reminder_days": "3"},
        post_url=f"/c/{c.slug}/partners/reminders",
    )
    assert resp.status_code == 403
    resp = submit(f"/c/{c.slug}/partners", {"share": "1"}, post_url=f"/c/{c.slug}/partners/sharing")
    assert resp.status_code == 403
    db.session.refresh(c)
    assert c.reminder_days == "7,1" and not c.coleads_see_all_partners


def test_a_co_leads_import_is_recorded_as_their_network(app):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    sheet = partner_import.read_upload(
        "network.csv",
        b"organisation,contact_email\nRiver Rights,rr@river.example\nHill Voices,hv@hill.example\n",
    )
    preview = partner_import.build_preview(c, sheet, partner_import.guess_mapping(sheet.headers))
    partner_import.commit_preview(c, casey, preview, skip_flagged=False)
    f.commit()
    adders = db.session.scalars(
        db.select(Partner.added_by_id).where(Partner.campaign_id == c.id)
    ).all()
    assert adders == [casey.id, casey.id]

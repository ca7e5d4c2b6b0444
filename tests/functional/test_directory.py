"""The partner directory: organisations across one's campaigns, reused in a new one."""

from campaign.extensions import db
from campaign.models import AuditEvent, Partner
from campaign.services import partners as partner_service
from campaign.services.blobs import store_logo
from campaign.services.campaigns import add_member
from tests import factories as f


def _add(c, owner, name, email, website="", tier="national"):
    p = partner_service.add_partner(
        c,
        owner,
        {"organisation": name, "contact_email": email, "website": website, "tier": tier},
    )
    f.commit()
    return p


def test_one_organisation_across_campaigns_with_its_history(client, app):
    u = f.user()
    first = f.published(u, title="Stop face surveillance")
    second = f.published(u, title="Ban predictive policing")
    dra = _add(first, u, "Digital Rights Alliance", "amara@dra.example", "https://dra.example")
    f.sign(first, u, dra)
    _add(second, u, "Digital Rights Alliance, Inc.", "info@dra.example", "dra.example")
    # A state chapter shares the domain but is an organisation of its own.
    _add(
        second, u, "Digital Rights Alliance of Northstate", "ns@dra.example", "dra.example", "state"
    )
    f.login(client, u)
    html = client.get("/directory").get_data(as_text=True)
    assert html.count("<h2>Digital Rights Alliance") == 2  # the alliance and its chapter
    assert "signed 1 of 2 campaigns" in html
    assert "Stop face surveillance" in html and "Ban predictive policing" in html
    assert "amara@dra.example" in html and "info@dra.example" in html
    assert f"Signer of {dra.organisation}" in html
    narrowed = client.get("/directory?q=northstate").get_data(as_text=True)
    assert (
        "1 organisation match" in narrowed and "Digital Rights Alliance of Northstate" in narrowed
    )


def test_others_partner_lists_stay_private(client, app):
    owner = f.user()
    theirs = f.published(owner)
    _add(theirs, owner, "Secret Coalition Member", "x@secret.example")
    me = f.user()
    mine = f.published(me, title="Mine")
    f.login(client, me)
    assert "Secret Coalition Member" not in client.get("/directory").get_data(as_text=True)
    hidden = db.session.scalar(db.select(Partner).where(Partner.organisation.like("Secret%")))
    page = f"/c/{mine.slug}/partners/directory"
    from tests.conftest import csrf_from

    csrf = csrf_from(client.get(page).get_data(as_text=True))
    resp = client.post(f"{page}/{hidden.id}", data={"csrf_token": csrf})
    assert resp.status_code == 404
    assert (
        db.session.scalar(
            db.select(db.func.count(Partner.id)).where(Partner.campaign_id == mine.id)
        )
        == 0
    )


def test_adding_from_the_directory_copies_the_latest_details(client, app, submit):
    u = f.user()
    old = f.published(u, title="Old letter")
    p = _add(old, u, "Press Freedom Watch", "desk@pfw.example", "https://pfw.example", "state")
    p.logo_sha256 = store_logo(f.png()).sha256
    f.commit()
    new = f.published(u, title="New letter")
    f.login(client, u)
    page = f"/c/{new.slug}/partners/directory"
    html = client.get(page).get_data(as_text=True)
    assert "Add Press Freedom Watch" in html
    resp = submit(page, {}, post_url=f"{page}/{p.id}", follow_redirects=True)
    assert "Press Freedom Watch is on the partner list" in resp.get_data(as_text=True)
    added = db.session.scalar(db.select(Partner).where(Partner.campaign_id == new.id))
    assert (added.organisation, added.contact_email, added.website, added.tier) == (
        "Press Freedom Watch",
        "desk@pfw.example",
        "https://pfw.example",
        "state",
    )
    assert added.logo_sha256 == p.logo_sha256
    assert added.requests == []  # added, not invited
    assert db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "partner.added_from_directory")
    )
    html = client.get(page).get_data(as_text=True)
    assert "Already on this campaign's partner list." in html
    # Adding twice is refused with the reason, and nothing is duplicated.
    resp = submit(page, {}, post_url=f"{page}/{p.id}", follow_redirects=True)
    assert "already on the partner list" in resp.get_data(as_text=True)
    assert (
        db.session.scalar(db.select(db.func.count(Partner.id)).where(Partner.campaign_id == new.id))
        == 1
    )


def test_adding_needs_csrf_and_an_editor(client, app):
    u = f.user()
    old = f.published(u, title="Old letter")
    p = _add(old, u, "Press Freedom Watch", "desk@pfw.example")
    new = f.published(u, title="New letter")
    f.login(client, u)
    # CSRFProtect refuses the post before the view runs.
    assert client.post(f"/c/{new.slug}/partners/directory/{p.id}").status_code == 400
    assert (
        db.session.scalar(db.select(db.func.count(Partner.id)).where(Partner.campaign_id == new.id))
        == 0
    )
    staff = f.user(role="staff")
    add_member(new, staff)
    f.commit()
    f.login(client, staff)
    assert client.get(f"/c/{new.slug}/partners/directory").status_code == 403

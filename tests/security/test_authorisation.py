"""Per-object authorisation: another campaign's objects are 404, never visible."""

from campaign.extensions import db
from campaign.models import OutboundEmail
from campaign.services.campaigns import add_member
from tests import factories as f
from tests.conftest import csrf_from


def test_other_campaigns_and_their_objects_are_404(client, app):
    alice, mallory = f.user(), f.user()
    theirs = f.published(alice, title="Alice campaign")
    target = theirs.targets[0]
    f.invited(theirs, alice, f.partner(theirs, alice))
    email = db.session.scalar(db.select(OutboundEmail))
    f.published(mallory, title="Mallory campaign")
    f.login(client, mallory)
    slug = theirs.slug
    for url in (
        f"/c/{slug}",
        f"/c/{slug}/letter",
        f"/c/{slug}/letter/preview",
        f"/c/{slug}/letter/preview?target={target.id}",
        f"/c/{slug}/letter/versions",
        f"/c/{slug}/partners",
        f"/c/{slug}/outbox",
        f"/c/{slug}/outbox/{email.id}",
        f"/c/{slug}/letter.pdf",
        f"/c/{slug}/signatories.csv",
        f"/c/{slug}/deliver",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_from(client.get("/").get_data(as_text=True))
    for url in (
        f"/c/{slug}/close",
        f"/c/{slug}/partners/invite",
        f"/c/{slug}/targets/{target.id}/delete",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    db.session.refresh(theirs)
    assert theirs.status == "open" and len(theirs.targets) == 1
    assert "Alice campaign" not in client.get("/").get_data(as_text=True)


def test_a_target_id_from_another_campaign_is_404_inside_my_campaign(client, app):
    alice, bob = f.user(), f.user()
    theirs = f.published(alice)
    mine = f.published(bob, title="Bob campaign")
    f.login(client, bob)
    other_target = theirs.targets[0].id
    assert client.get(f"/c/{mine.slug}/letter/preview?target={other_target}").status_code == 404
    assert client.get(f"/c/{mine.slug}/letter.pdf?target={other_target}").status_code == 404


def test_staff_cannot_change_a_campaign_they_can_read(client, app):
    owner, staff = f.user(), f.user(role="staff")
    c = f.published(owner)
    add_member(c, staff)
    db.session.commit()
    f.login(client, staff)
    assert client.get(f"/c/{c.slug}/signatories.csv").status_code == 200
    token = csrf_from(client.get(f"/c/{c.slug}").get_data(as_text=True))
    assert client.post(f"/c/{c.slug}/close", data={"csrf_token": token}).status_code == 403
    db.session.refresh(c)
    assert c.status == "open"

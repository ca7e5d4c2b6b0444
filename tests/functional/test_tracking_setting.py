"""Open and click tracking: off by default, switched by an organiser next to the send buttons."""

from campaign.extensions import db
from campaign.models import AuditEvent, OutboundEmail
from campaign.services.campaigns import add_member
from tests import factories as f


def test_tracking_is_off_until_the_organiser_turns_it_on(client, app, submit):
    u = f.user()
    c = f.published(u)
    f.partner(c, u)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/partners/invite").get_data(as_text=True)
    assert "tracking is <strong>off</strong>" in page
    resp = submit(
        f"/c/{c.slug}/partners/invite",
        {"enabled": "1", "back": "invite"},
        post_url=f"/c/{c.slug}/tracking",
        follow_redirects=True,
    )
    assert "tracking is <strong>on</strong>" in resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.tracking_enabled
    assert db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "campaign.tracking_changed")
    )
    submit(f"/c/{c.slug}/partners/invite", {}, post_url=f"/c/{c.slug}/partners/invite")
    email = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "invitation"))
    assert email.tracking is True


def test_staff_cannot_switch_tracking_and_csrf_is_needed(client, app, submit):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    assert client.post(f"/c/{c.slug}/tracking", data={"enabled": "1"}).status_code == 400
    staff = f.user(role="staff")
    add_member(c, staff)
    f.commit()
    f.login(client, staff)
    resp = submit(f"/c/{c.slug}", {"enabled": "1"}, post_url=f"/c/{c.slug}/tracking")
    assert resp.status_code == 403
    db.session.refresh(c)
    assert not c.tracking_enabled

"""Bulk invitations: a dry run first, then an explicit send, in slices that resume."""

from campaign.extensions import db
from campaign.models import OutboundEmail, SignatureRequest
from campaign.models.mail import Suppression
from tests import factories as f


def _invitations():
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "invitation")
    ).all()


def test_the_dry_run_shows_recipients_and_the_email_and_sends_nothing(client, app):
    u = f.user()
    c = f.published(u)
    first = f.partner(c, u, name="Alpha Rights")
    f.partner(c, u, name="Beta Liberties")
    quiet = f.partner(c, u, name="Quiet Group")
    db.session.add(Suppression(email=quiet.contact_email, reason="unsubscribe"))
    db.session.commit()
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/partners/invite")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Dry run: nothing has been sent" in html
    assert "<strong>2</strong> partner(s) would get" in html
    assert "Alpha Rights" in html and "Beta Liberties" in html
    assert f"Will {first.organisation} co-sign?" in html  # the real subject line
    assert "[a personal signing link for this partner]" in html
    assert "tracking is <strong>off</strong>" in html
    assert "Skipped" in html and quiet.contact_email in html and "unsubscribed" in html
    assert _invitations() == [] and db.session.scalar(db.select(SignatureRequest)) is None


def test_a_limited_send_goes_out_in_slices_and_resumes_without_duplicates(client, app, submit):
    u = f.user()
    c = f.published(u)
    partners = [f.partner(c, u) for _ in range(5)]
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/partners/invite?limit=2").get_data(as_text=True)
    assert "<strong>2</strong> partner(s) would get" in page
    assert "<strong>3</strong> more stay waiting" in page

    resp = submit(
        f"/c/{c.slug}/partners/invite?limit=2",
        {"limit": "2"},
        post_url=f"/c/{c.slug}/partners/invite",
        follow_redirects=True,
    )
    assert "3 partner(s) are still waiting" in resp.get_data(as_text=True)
    assert len(_invitations()) == 2

    # Resume: everyone who is left, and nobody twice.
    submit(f"/c/{c.slug}/partners/invite", {}, post_url=f"/c/{c.slug}/partners/invite")
    db.session.expire_all()
    sent_to = sorted(e.to_email for e in _invitations())
    assert sent_to == sorted(p.contact_email for p in partners)
    html = client.get(f"/c/{c.slug}/partners/invite").get_data(as_text=True)
    assert "Nobody is waiting for an invitation." in html


def test_a_bad_limit_is_explained_and_nothing_is_sent(client, app, submit):
    u = f.user()
    c = f.published(u)
    f.partner(c, u)
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}/partners/invite",
        {"limit": "-3"},
        post_url=f"/c/{c.slug}/partners/invite",
        follow_redirects=True,
    )
    assert "enter a whole number of invitations" in resp.get_data(as_text=True)
    assert _invitations() == []


def test_sending_needs_csrf_and_staff_cannot_see_the_dry_run(client, app):
    u = f.user()
    c = f.published(u)
    f.partner(c, u)
    f.login(client, u)
    client.post(f"/c/{c.slug}/partners/invite")
    assert _invitations() == []
    staff = f.user(role="staff")
    from campaign.services.campaigns import add_member

    add_member(c, staff)
    f.commit()
    f.login(client, staff)
    assert client.get(f"/c/{c.slug}/partners/invite").status_code == 403

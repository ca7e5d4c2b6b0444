"""The outbox page: the provider's reason and a Retry button for failed or unknown emails."""

from campaign.extensions import db
from campaign.models import OutboundEmail
from campaign.services.campaigns import add_member
from tests import factories as f
from tests.conftest import csrf_from


def _failed_invitation(owner, c, status="failed", error="SendGrid 400: from: not verified"):
    f.invited(c, owner, f.partner(c, owner))
    email = db.session.scalar(
        db.select(OutboundEmail).where(OutboundEmail.campaign_id == c.id).order_by(OutboundEmail.id)
    )
    email.status = status
    email.error = error
    db.session.commit()
    return email


def _status(email_id):
    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id)


def test_failed_email_shows_the_reason_and_retry_sends_it(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    email = _failed_invitation(owner, c)
    f.login(client, owner)

    page = client.get(f"/c/{c.slug}/outbox").get_data(as_text=True)
    assert "SendGrid 400: from: not verified" in page
    assert f"/c/{c.slug}/outbox/{email.id}/retry" in page

    resp = submit(f"/c/{c.slug}/outbox/{email.id}", post_url=f"/c/{c.slug}/outbox/{email.id}/retry")
    assert resp.status_code == 302
    email = _status(email.id)
    assert email.status == "sent" and email.error is None and email.provider == "local"


def test_unknown_email_asks_before_sending_again(client, app):
    owner = f.user()
    c = f.published(owner)
    email = _failed_invitation(owner, c, status="unknown", error="no answer from SendGrid")
    f.login(client, owner)

    page = client.get(f"/c/{c.slug}/outbox/{email.id}").get_data(as_text=True)
    assert "may or may not have accepted" in page
    assert "data-confirm" in page and "Retry sending" in page


def test_sent_email_has_no_retry_and_a_forged_retry_is_refused(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    f.invited(c, owner, f.partner(c, owner))
    email = db.session.scalar(db.select(OutboundEmail))
    f.login(client, owner)
    url = f"/c/{c.slug}/outbox/{email.id}"

    assert "/retry" not in client.get(url).get_data(as_text=True)
    resp = submit(url, post_url=f"{url}/retry", follow_redirects=True)
    assert resp.status_code == 200
    assert "Only an email that failed" in resp.get_data(as_text=True)
    assert _status(email.id).attempts == 1


def test_retry_of_another_campaigns_email_is_404(client, app):
    alice, mallory = f.user(), f.user()
    theirs = f.published(alice, title="Alice campaign")
    email = _failed_invitation(alice, theirs)
    mine = f.published(mallory, title="Mallory campaign")
    f.login(client, mallory)
    token = csrf_from(client.get(f"/c/{mine.slug}/outbox").get_data(as_text=True))

    for url in (
        f"/c/{mine.slug}/outbox/{email.id}/retry",  # their email through my campaign
        f"/c/{theirs.slug}/outbox/{email.id}/retry",  # their campaign outright
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert _status(email.id).status == "failed"


def test_retry_needs_csrf_a_post_and_an_editor(client, app):
    owner, staff = f.user(), f.user(role="staff")
    c = f.published(owner)
    email = _failed_invitation(owner, c)
    add_member(c, staff)
    db.session.commit()
    url = f"/c/{c.slug}/outbox/{email.id}/retry"

    f.login(client, owner)
    assert client.post(url).status_code == 400  # no CSRF token
    assert client.get(url).status_code == 405
    staff_client = app.test_client()
    f.login(staff_client, staff)
    page = staff_client.get(f"/c/{c.slug}/outbox").get_data(as_text=True)
    assert "/retry" not in page
    assert staff_client.post(url, data={"csrf_token": csrf_from(page)}).status_code == 403
    assert _status(email.id).status == "failed"


def test_outbox_filters_by_kind_and_pages(client, app):
    from campaign.views.outbox import PER_PAGE
    from tests import factories as fx

    u = fx.user()
    c = fx.published(u)
    for n in range(PER_PAGE + 5):
        fx.partner(c, u, name=f"Org {n:03d}")
    from campaign.services import partners

    partners.invite(c, u, partners.uninvited(c))
    fx.commit()
    fx.login(client, u)
    first = client.get(f"/c/{c.slug}/outbox?kind=invitation").get_data(as_text=True)
    assert f"Page 1 of 2 ({PER_PAGE + 5} emails)" in first
    second = client.get(f"/c/{c.slug}/outbox?kind=invitation&page=2").get_data(as_text=True)
    assert "Will Org 000 co-sign?" in second and "Will Org 000 co-sign?" not in first
    letters_only = client.get(f"/c/{c.slug}/outbox?kind=letter").get_data(as_text=True)
    assert "No emails yet." in letters_only
    assert client.get(f"/c/{c.slug}/outbox?kind=bogus&page=99").status_code == 200

"""Issue 11 A5: organisers move the deadline in the UI; links, reminders and tick follow it."""

from datetime import timedelta

from campaign.extensions import db
from campaign.models import AuditEvent, Campaign, OutboundEmail, SignatureRequest, utcnow
from campaign.services import reminders
from campaign.services.audit import verify_chain
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.forms import sign_via_link


def _form_value(when):
    return when.strftime("%Y-%m-%dT%H:%M")


def _move(client, c, when, **kwargs):
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    return client.post(
        f"/c/{c.slug}/deadline",
        data={"csrf_token": csrf_from(page), "deadline": when},
        **kwargs,
    )


def _let_deadline_pass(c):
    """What time does to a campaign: its deadline and its links' expiry are behind us."""
    past = utcnow() - timedelta(minutes=5)
    c.deadline = past
    for req in db.session.scalars(db.select(SignatureRequest)):
        req.expires_at = past
    db.session.commit()


def test_extending_the_deadline_in_the_ui_revives_a_late_link_and_is_audited(client, app):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    _let_deadline_pass(c)
    assert client.get(f"/s/{token}").status_code == 410  # late: signing closed
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "Extend or change the deadline" in page
    new = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    resp = _move(client, c, _form_value(new), follow_redirects=True)
    assert resp.status_code == 200
    assert f"The deadline is now {new:%d %b %Y %H:%M} UTC" in resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.deadline == new and c.status == "open"
    # The partner's link follows the deadline: it works again, and they can sign.
    assert client.get(f"/s/{token}").status_code == 200
    assert sign_via_link(client, token).status_code == 302
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "campaign.deadline_changed")
    )
    assert event.user_id == u.id and event.details["new"] == new.isoformat(timespec="minutes")
    assert verify_chain(c).ok


def test_a_bad_deadline_is_explained_on_the_field_and_changes_nothing(client, app):
    u = f.user()
    c = f.published(u)
    before = c.deadline
    f.login(client, u)
    past = _move(client, c, _form_value(utcnow() - timedelta(days=1)))
    assert past.status_code == 400
    assert "must be in the future (UTC); to stop signing now, use Close signing" in (
        past.get_data(as_text=True)
    )
    garbage = _move(client, c, "next tuesday")
    assert garbage.status_code == 400
    assert "Enter a date and time" in garbage.get_data(as_text=True) or "Not a valid" in (
        garbage.get_data(as_text=True)
    )
    db.session.refresh(c)
    assert c.deadline == before
    assert not db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "campaign.deadline_changed")
    )


def test_staff_and_other_campaigns_cannot_move_a_deadline(client, app):
    owner = f.user()
    c = f.published(owner)
    staff = f.user(role="staff")
    from campaign.services.campaigns import add_member

    add_member(c, staff)
    f.commit()
    f.login(client, staff)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "Extend or change the deadline" not in page
    resp = client.post(
        f"/c/{c.slug}/deadline",
        data={"csrf_token": csrf_from(page), "deadline": _form_value(utcnow() + timedelta(40))},
    )
    assert resp.status_code == 403
    stranger = f.user()
    client.get("/logout")
    f.login(client, stranger)
    assert client.post(f"/c/{c.slug}/deadline").status_code in (400, 404)


def test_flask_tick_closes_a_campaign_whose_deadline_passed(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    _let_deadline_pass(c)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    c = db.session.get(Campaign, c.id)
    assert c.status == "closed" and c.closed_at is not None
    closed = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "campaign.closed"))
    assert closed.actor == "the signing deadline"
    assert verify_chain(c).ok
    assert "Signing has closed" in client.get(f"/s/{token}").get_data(as_text=True)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert 'status-closed">closed' in page and "Reopen signing" in page


def test_the_campaign_page_shows_closed_as_soon_as_the_deadline_passes(client, app):
    u = f.user()
    c = f.published(u)
    _let_deadline_pass(c)  # no tick has run yet
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert 'status-closed">closed' in page
    assert db.session.get(Campaign, c.id).status == "closed"


def test_reminders_follow_a_moved_deadline(client, app):
    u = f.user()
    c = f.published(u, deadline=utcnow() + timedelta(days=5))
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    assert app.test_cli_runner().invoke(args=["tick"]).exit_code == 0  # the 7-day mark
    sent = db.session.scalars(db.select(OutboundEmail).where(OutboundEmail.kind == "reminder"))
    assert len(sent.all()) == 1
    f.login(client, u)
    new = (utcnow() + timedelta(days=30)).replace(second=0, microsecond=0)
    assert _move(client, c, _form_value(new)).status_code == 302
    # Nothing is due now: the 7-day mark of the new deadline is 23 days away.
    assert reminders.send_due() == 0
    # When it comes, the reminder goes again, with the new date and the same link.
    assert reminders.send_due(utcnow() + timedelta(days=23, hours=1)) == 1
    f.commit()
    last = db.session.scalars(
        db.select(OutboundEmail)
        .where(OutboundEmail.kind == "reminder")
        .order_by(OutboundEmail.id.desc())
    ).first()
    assert f"{new.day} {new:%B %Y}" in last.text_body
    assert f"/s/{token}" in last.text_body
    # Moving the deadline earlier makes the passed thresholds due at the next tick.
    assert _move(client, c, _form_value(utcnow() + timedelta(hours=20))).status_code == 302
    assert reminders.send_due() == 1


def test_a_campaign_closed_by_hand_stays_closed_when_its_deadline_moves(client, app):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    client.post(f"/c/{c.slug}/close", data={"csrf_token": csrf_from(page)})
    new = utcnow() + timedelta(days=40)
    resp = _move(client, c, _form_value(new), follow_redirects=True)
    assert "You closed signing by hand, so it stays closed" in resp.get_data(as_text=True)
    assert db.session.get(Campaign, c.id).status == "closed"

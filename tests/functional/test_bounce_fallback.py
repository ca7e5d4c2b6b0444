"""A bounced letter: an alert, an email to the organisers, one copy to the fallback address."""

from datetime import timedelta

from campaign.extensions import db
from campaign.mail.events import record_events
from campaign.mail.reply_address import reply_address
from campaign.models import Alert, AuditEvent, OutboundEmail, utcnow
from campaign.services import campaigns, followups
from campaign.tasks import run_periodic
from tests import factories as f
from tests.helpers.campaigns import delivered
from tests.helpers.webhooks import event

REASON = "550 5.1.1 The email account that you tried to reach does not exist"


def _letters():
    db.session.expire_all()
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "letter").order_by(OutboundEmail.id)
    ).all()


def _alert_emails():
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "alert").order_by(OutboundEmail.id)
    ).all()


def test_bounce_alerts_organisers_and_sends_the_same_letter_to_the_fallback(client, post_accepted):
    u = f.user()
    staff = f.user(role="staff")
    c, email = delivered(u, fallback="office@argus.example")
    campaigns.add_member(c, staff, role="co_lead")  # not an organiser: no alert email
    db.session.get(OutboundEmail, email.id).reply_to = "reply+abc@replies.example"
    f.commit()
    post_accepted([event(email, "processed", 0), event(email, "bounce", 30, reason=REASON)])

    original, fallback = _letters()
    assert original.status == "bounce"
    assert fallback.to_email == "office@argus.example"
    assert fallback.fallback_of_id == original.id and fallback.target_id == original.target_id
    assert (fallback.subject, fallback.text_body, fallback.html_body) == (
        original.subject,
        original.text_body,
        original.html_body,
    )
    assert fallback.attachment_sha256 == original.attachment_sha256 is not None
    assert fallback.attachment_name == original.attachment_name
    assert fallback.reply_to == "reply+abc@replies.example"
    assert fallback.status == "sent"  # the local outbox sent it after the commit
    [notice] = _alert_emails()
    assert notice.to_email == u.email
    assert "Jordan Vale" in notice.subject and REASON in notice.text_body
    assert "office@argus.example" in notice.text_body
    assert db.session.scalar(
        db.select(AuditEvent.id).where(AuditEvent.action == "letter.fallback_sent")
    )

    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "The letter to Jordan Vale &lt;ceo@argus.example&gt; bounced: " + REASON in page
    assert "fallback sent to office@argus.example" in page
    ledger = client.get(f"/c/{c.slug}/targets/{email.target_id}/ledger").get_data(as_text=True)
    assert "Attempt 1: ceo@argus.example" in ledger and "Attempt 2: office@argus.example" in ledger
    assert "because the letter to ceo@argus.example did not arrive" in ledger
    assert "15 Jan 2027 08:00:30 UTC — " + REASON in ledger


def test_repeated_and_late_bounces_send_no_second_fallback(client, post_accepted):
    u = f.user()
    c, email = delivered(u, fallback="office@argus.example")
    bounce = event(email, "bounce", 30, reason=REASON)
    post_accepted([bounce, dict(bounce)])
    post_accepted([bounce])  # SendGrid retries the whole post
    post_accepted(
        [event(email, "dropped", 90, reason="Bounced Address")]
    )  # a late, different event
    # Even the handler run again by hand (a lost job redone) changes nothing.
    from campaign.tasks import handle_bounce

    handle_bounce(email.id)

    assert [e.to_email for e in _letters()] == ["ceo@argus.example", "office@argus.example"]
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1
    assert len(_alert_emails()) == 1


def test_a_bounced_fallback_alerts_but_sends_nothing_more(client, post_accepted):
    u = f.user()
    c, email = delivered(u, fallback="office@argus.example")
    post_accepted([event(email, "bounce", 30, reason=REASON)])
    fallback = _letters()[1]
    post_accepted([event(fallback, "bounce", 60, reason="mailbox full")])

    assert len(_letters()) == 2
    messages = db.session.scalars(db.select(Alert.message).order_by(Alert.id)).all()
    assert len(messages) == 2 and "office@argus.example> bounced: mailbox full" in messages[1]


def test_without_a_fallback_address_only_the_alert(client, post_accepted):
    u = f.user()
    c, email = delivered(u)
    post_accepted([event(email, "dropped", 30, reason="Invalid")])

    assert len(_letters()) == 1
    [alert] = db.session.scalars(db.select(Alert)).all()
    assert alert.message.startswith("The letter to Jordan Vale <ceo@argus.example> was dropped")
    assert "no fallback address" in alert.message
    assert len(_alert_emails()) == 1


def test_other_emails_bouncing_raise_no_alert(app):
    u = f.user()
    c = f.published(u)
    invitation = f.queued_email(campaign_id=c.id)
    f.commit()
    record_events([event(invitation, "bounce", 0, reason=REASON)])
    f.commit()
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_tick_handles_a_bounce_whose_job_was_lost(app):
    u = f.user()
    c, email = delivered(u, fallback="office@argus.example")
    record_events([event(email, "bounce", 0, reason=REASON)])
    db.session.info.clear()  # the job is lost (a worker died before it ran)
    db.session.commit()
    original = db.session.get(OutboundEmail, email.id)
    original.status_at = db.func.now()  # recent, so the sweep picks it up
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0

    run_periodic()

    assert [e.to_email for e in _letters()] == ["ceo@argus.example", "office@argus.example"]
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1


def test_dismissing_needs_csrf_and_an_editor(client, post_accepted, submit):
    u = f.user()
    staff = f.user(role="staff")
    c, email = delivered(u)
    campaigns.add_member(c, staff)
    f.commit()
    post_accepted([event(email, "bounce", 30, reason=REASON)])
    alert = db.session.scalars(db.select(Alert)).one()
    url = f"/c/{c.slug}/alerts/{alert.id}/dismiss"

    f.login(client, staff)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    # Staff see the alert, without the button.
    assert "The letter to Jordan Vale" in page and url not in page
    assert submit(f"/c/{c.slug}", {}, post_url=url).status_code == 403
    client.get("/logout")

    f.login(client, u)
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).dismissed_at is None

    # This alert through another campaign of mine, or a campaign I cannot see: 404.
    mine = f.campaign(u, title="My other campaign")
    wrong = submit(f"/c/{c.slug}", {}, post_url=f"/c/{mine.slug}/alerts/{alert.id}/dismiss")
    assert wrong.status_code == 404
    theirs = f.campaign(f.user(), title="Not mine")
    hidden = submit(f"/c/{c.slug}", {}, post_url=f"/c/{theirs.slug}/alerts/{alert.id}/dismiss")
    assert hidden.status_code == 404

    resp = submit(f"/c/{c.slug}", {}, post_url=url, follow_redirects=True)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Alert dismissed" in page and "The letter to Jordan Vale" not in page
    dismissed = db.session.get(Alert, alert.id)
    assert dismissed.dismissed_at is not None and dismissed.dismissed_by_id == u.id


def test_after_a_bounce_follow_ups_go_to_the_fallback_address_through_sendgrid(
    app,
    client,
    post_accepted,
    fake_sendgrid,
    monkeypatch,
):
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", "SG.test")
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", fake_sendgrid.url)
    monkeypatch.setitem(app.config, "INBOUND_DOMAIN", "replies.coalition.test")
    u = f.user()
    c, email = delivered(u, fallback="office@argus.example")
    followups.add_step(
        c, u, days_after=14, subject="Still waiting", body="Dear Mr Vale", notify=False
    )
    f.commit()
    letter = email.subject
    assert _to_target(fake_sendgrid) == [(letter, "ceo@argus.example")]

    post_accepted([event(email, "processed", 0), event(email, "bounce", 30, reason=REASON)])
    db.session.execute(
        OutboundEmail.__table__.update()
        .where(OutboundEmail.kind == "letter")
        .values(created_at=utcnow() - timedelta(days=15))
    )
    db.session.commit()
    run_periodic()

    assert _to_target(fake_sendgrid) == [
        (letter, "ceo@argus.example"),
        (letter, "office@argus.example"),
        ("Still waiting", "office@argus.example"),
    ]
    # A reply to the follow-up comes back to the target, as a reply to the letter does.
    assert fake_sendgrid.accepted[-1].body["reply_to"] == {"email": reply_address(email.target_id)}


def _to_target(fake) -> list[tuple[str, str]]:
    """(subject, recipient) of each email SendGrid accepted for the target, in order."""
    return [
        (request.body["subject"], to["email"])
        for request in fake.accepted
        for personalization in request.body["personalizations"]
        for to in personalization["to"]
        if to["email"].endswith("@argus.example")
    ]

"""Webhook posts are stored before they are applied: a crash while applying loses nothing."""

from datetime import timedelta

from campaign import tasks
from campaign.extensions import db
from campaign.mail import events as events_module
from campaign.models import EmailEvent, OutboundEmail, WebhookBatch, utcnow

URL = "/webhooks/sendgrid"


def _email() -> OutboundEmail:
    email = OutboundEmail(
        kind="letter",
        to_email="ceo@bigcorp.test",
        subject="Our letter",
        text_body="Dear CEO",
        status="sent",
        provider="sendgrid",
        provider_message_id="msg42",
        attempts=1,
    )
    db.session.add(email)
    db.session.commit()
    return email


def _events(email, *names):
    return [
        {
            "email": "ceo@bigcorp.test",
            "timestamp": 1_700_000_000 + i,
            "event": name,
            "sg_event_id": f"batch-evt-{i}",
            "sg_message_id": "msg42.filter0001",
            "outbound_id": str(email.id),
        }
        for i, name in enumerate(names)
    ]


def test_a_post_is_stored_then_applied_and_the_batch_is_marked(app, post_webhook):
    email = _email()
    assert post_webhook(_events(email, "processed", "delivered")).status_code == 204
    db.session.expire_all()
    batch = db.session.scalars(db.select(WebhookBatch)).one()
    assert batch.event_count == 2 and batch.new_events == 2
    assert batch.processed_at is not None
    assert db.session.get(OutboundEmail, email.id).status == "delivered"


def test_a_crash_while_applying_loses_no_event_and_tick_applies_it_later(
    app, post_webhook, monkeypatch
):
    email = _email()

    def crash(events):
        raise RuntimeError("worker died while applying")

    monkeypatch.setattr("campaign.mail.webhook_batches.record_events", crash)
    # SendGrid is told the post arrived: it was stored, so it must not be lost.
    assert post_webhook(_events(email, "processed", "bounce")).status_code == 204
    db.session.expire_all()
    batch = db.session.scalars(db.select(WebhookBatch)).one()
    assert batch.processed_at is None
    assert db.session.scalar(db.select(db.func.count(EmailEvent.id))) == 0

    monkeypatch.setattr("campaign.mail.webhook_batches.record_events", events_module.record_events)
    batch.received_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    tasks.run_periodic()
    db.session.expire_all()
    assert db.session.get(WebhookBatch, batch.id).new_events == 2
    assert db.session.get(OutboundEmail, email.id).status == "bounce"


def test_a_replayed_post_adds_no_event(app, post_webhook):
    email = _email()
    batch = _events(email, "processed", "delivered", "open")
    post_webhook(batch)
    post_webhook(batch)
    db.session.expire_all()
    rows = db.session.scalars(db.select(WebhookBatch).order_by(WebhookBatch.id)).all()
    assert [r.new_events for r in rows] == [3, 0]
    assert db.session.scalar(db.select(db.func.count(EmailEvent.id))) == 3


def test_applied_posts_are_deleted_after_a_week_but_their_events_stay(app, post_webhook):
    email = _email()
    post_webhook(_events(email, "processed"))
    db.session.expire_all()
    batch = db.session.scalars(db.select(WebhookBatch)).one()
    batch.processed_at = utcnow() - timedelta(days=6)
    db.session.commit()
    tasks.run_periodic()
    assert db.session.scalar(db.select(db.func.count(WebhookBatch.id))) == 1
    db.session.expire_all()
    db.session.get(WebhookBatch, batch.id).processed_at = utcnow() - timedelta(days=8)
    db.session.commit()
    tasks.run_periodic()
    assert db.session.scalar(db.select(db.func.count(WebhookBatch.id))) == 0
    assert db.session.scalar(db.select(db.func.count(EmailEvent.id))) == 1

"""SendGrid's event webhook: signed batches move email statuses forward, once per event."""

import json
import time

import pytest

from campaign.extensions import db
from campaign.mail.events import record_events
from campaign.models import EmailEvent, OutboundEmail

URL = "/webhooks/sendgrid"


def _email(status="sent", message_id="abc123XYZ", provider="sendgrid") -> OutboundEmail:
    email = OutboundEmail(
        kind="letter",
        to_email="ceo@bigcorp.test",
        subject="Our letter",
        text_body="Dear CEO",
        status=status,
        provider=provider,
        provider_message_id=message_id,
        attempts=1,
    )
    db.session.add(email)
    db.session.commit()
    return email


_counter = iter(range(1, 1_000_000))


def _event(email: OutboundEmail | None, event: str, **extra) -> dict:
    number = next(_counter)
    data = {
        "email": "ceo@bigcorp.test",
        "timestamp": 1_700_000_000 + number,
        "event": event,
        "sg_event_id": f"evt-{number}",
        "sg_message_id": "abc123XYZ.filter0001.12345.0",
    }
    if email is not None:
        data["outbound_id"] = str(email.id)
        data["sg_message_id"] = f"{email.provider_message_id}.filter0001.12345.0"
    data.update(extra)
    return data


def _status(email_id: int) -> str:
    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id).status


def test_valid_batch_is_recorded_and_moves_statuses(post_webhook):
    first, second = _email(message_id="msgA"), _email(message_id="msgB")
    batch = [
        _event(first, "processed"),
        _event(first, "delivered", response="250 2.0.0 OK"),
        _event(second, "processed"),
        _event(second, "bounce", reason="550 5.1.1 no such user", type="bounce"),
    ]

    response = post_webhook(batch)

    assert response.status_code == 204
    assert _status(first.id) == "delivered"
    assert _status(second.id) == "bounce"
    events = db.session.query(EmailEvent).order_by(EmailEvent.id).all()
    assert [e.event for e in events] == ["processed", "delivered", "processed", "bounce"]
    assert events[1].reason == "250 2.0.0 OK"
    assert events[3].reason == "550 5.1.1 no such user"
    assert events[0].email_id == first.id and events[3].email_id == second.id
    assert events[0].occurred_at.timestamp() == pytest.approx(batch[0]["timestamp"], abs=86400)
    assert events[0].payload["sg_event_id"] == batch[0]["sg_event_id"]


def test_occurred_at_is_the_event_time_in_utc(app):
    email = _email()
    record_events([_event(email, "delivered", timestamp=1_700_000_000)])
    event = db.session.query(EmailEvent).one()
    assert event.occurred_at.isoformat() == "2023-11-14T22:13:20"
    assert email.status_at == event.occurred_at


def test_duplicate_event_ids_are_ignored(post_webhook):
    email = _email()
    delivered = _event(email, "delivered")

    assert post_webhook([delivered, dict(delivered)]).status_code == 204
    assert post_webhook([delivered]).status_code == 204

    assert db.session.query(EmailEvent).count() == 1


def test_record_events_counts_only_new_events(app):
    email = _email()
    batch = [_event(email, "processed"), _event(email, "delivered")]
    assert record_events(batch) == 2
    assert record_events(batch + [_event(email, "open")]) == 1


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        (["delivered", "processed"], "delivered"),
        (["bounce", "delivered"], "bounce"),
        (["open", "delivered"], "open"),
        (["delivered", "deferred"], "delivered"),
        (["deferred", "delivered"], "delivered"),
        (["click", "open"], "click"),
        (["delivered", "spamreport", "open"], "spamreport"),
        (["dropped", "bounce"], "dropped"),
        (["processed", "unsubscribe"], "unsubscribe"),
    ],
)
def test_out_of_order_events_only_move_forward(post_webhook, sequence, expected):
    email = _email()
    # Separate posts, as SendGrid's retries and parallel deliveries arrive.
    for name in sequence:
        assert post_webhook([_event(email, name)]).status_code == 204
    assert _status(email.id) == expected


def test_out_of_order_events_in_one_batch(post_webhook):
    email = _email()
    post_webhook([_event(email, "open"), _event(email, "processed"), _event(email, "delivered")])
    assert _status(email.id) == "open"


def test_failed_email_never_changes(post_webhook):
    email = _email(status="failed", message_id=None)
    post_webhook([_event(email, "delivered")])
    assert _status(email.id) == "failed"


def test_unknown_event_types_are_stored_but_change_nothing(post_webhook):
    email = _email()
    post_webhook([_event(email, "group_unsubscribe"), _event(email, "brand_new_event")])
    assert _status(email.id) == "sent"
    assert db.session.query(EmailEvent).count() == 2


def test_event_without_outbound_id_is_matched_by_message_id(post_webhook):
    email = _email(message_id="W86EgYT6SQKk0lRflfLRsA")
    event = _event(None, "delivered", sg_message_id="W86EgYT6SQKk0lRflfLRsA.filter0425p1las1-1.0")
    post_webhook([event])
    assert _status(email.id) == "delivered"
    assert db.session.query(EmailEvent).one().email_id == email.id


def test_outbound_id_from_another_deployment_is_not_trusted(post_webhook):
    ours = _email(message_id="ourMessage")
    theirs = _event(ours, "bounce", sg_message_id="theirMessage.filter.0")
    post_webhook([theirs])
    assert _status(ours.id) == "sent"
    assert db.session.query(EmailEvent).one().email_id is None


def test_event_for_an_unknown_email_is_stored_unattached(post_webhook):
    post_webhook([_event(None, "delivered", sg_message_id="nobody.filter.0")])
    assert db.session.query(EmailEvent).one().email_id is None


def test_events_without_ids_and_non_objects_are_skipped(post_webhook):
    email = _email()
    batch = [
        {"event": "delivered", "outbound_id": str(email.id)},
        "not an event",
        42,
        _event(email, "processed", sg_event_id=""),
        _event(email, "processed", sg_event_id=["list"]),
        _event(email, "processed", sg_event_id="x" * 500),
    ]
    assert post_webhook(batch).status_code == 204
    assert db.session.query(EmailEvent).count() == 0
    assert _status(email.id) == "sent"


def test_garbage_fields_in_a_signed_event_do_not_break_the_batch(post_webhook):
    email = _email()
    batch = [
        _event(email, "processed", timestamp="yesterday", outbound_id="-3"),
        _event(email, "delivered", timestamp=10**30, outbound_id="99999999999999999999"),
        _event(email, None, outbound_id=True),
    ]
    assert post_webhook(batch).status_code == 204
    assert db.session.query(EmailEvent).count() == 3
    # Matched by the message id instead of the unusable outbound ids.
    assert _status(email.id) == "delivered"


def test_non_json_body_is_bad_request(post_webhook):
    assert post_webhook(b"this is not json").status_code == 400
    assert post_webhook(b"[NaN]").status_code == 400


def test_json_that_is_not_a_list_is_bad_request(post_webhook):
    assert post_webhook({"event": "delivered"}).status_code == 400


def test_oversize_body_is_refused(post_webhook):
    body = json.dumps([{"pad": "x" * (1024 * 1024)}]).encode()
    response = post_webhook(body)
    assert response.status_code == 413
    assert db.session.query(EmailEvent).count() == 0


def test_webhook_needs_no_csrf_token_but_only_accepts_post(client, post_webhook):
    assert post_webhook([]).status_code == 204
    assert client.get(URL).status_code == 405


def test_replayed_batch_within_the_window_stores_nothing_new(client, webhook_signer):
    email = _email()
    body = json.dumps([_event(email, "delivered")]).encode()
    headers = webhook_signer.headers(body, int(time.time()) - 30)
    assert client.post(URL, data=body, headers=headers).status_code == 204
    assert client.post(URL, data=body, headers=headers).status_code == 204
    assert db.session.query(EmailEvent).count() == 1


def test_processed_event_settles_an_email_whose_outcome_was_unknown(post_webhook):
    email = _email(status="unknown", message_id=None)

    assert post_webhook([_event(email, "processed")]).status_code == 204
    assert _status(email.id) == "processed"

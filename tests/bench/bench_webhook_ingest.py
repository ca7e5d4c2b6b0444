"""Benchmark: 10,000 signed SendGrid events through the webhook, then the same posts again.

Run with `make bench`. Target on PostgreSQL: under 5 s from the first post to every event
applied, and a replay of every post stores no new event.
"""

import json
import time

import pytest

from campaign import jobs
from campaign.extensions import db
from campaign.models import EmailEvent, OutboundEmail

EVENTS = 10_000
EMAILS = 2_000
#: SendGrid posts batches of events; a thousand is a realistic size for a busy send.
PER_POST = 1_000
ORDER = ("processed", "delivered", "open", "click", "bounce")


@pytest.mark.bench
def test_10000_events_are_applied_quickly_and_a_replay_adds_nothing(app, client, webhook_signer):
    db.session.add_all(
        OutboundEmail(
            kind="invitation",
            to_email=f"partner{i}@example.org",
            subject="Please co-sign",
            text_body="…",
            status="sent",
            provider="sendgrid",
            provider_message_id=f"msg{i}",
            attempts=1,
        )
        for i in range(EMAILS)
    )
    db.session.commit()
    ids = db.session.scalars(db.select(OutboundEmail.id).order_by(OutboundEmail.id)).all()
    events = [
        {
            "email": f"partner{n % EMAILS}@example.org",
            "timestamp": 1_700_000_000 + n,
            "event": ORDER[n // EMAILS],
            "sg_event_id": f"bench-{n}",
            "sg_message_id": f"msg{n % EMAILS}.filter0001",
            "outbound_id": str(ids[n % EMAILS]),
        }
        for n in range(EVENTS)
    ]
    bodies = [json.dumps(events[i : i + PER_POST]).encode() for i in range(0, EVENTS, PER_POST)]

    def post_all():
        started = time.perf_counter()
        for body in bodies:
            resp = client.post(
                "/webhooks/sendgrid", data=body, headers=webhook_signer.headers(body)
            )
            assert resp.status_code == 204
        jobs.run_ready()
        return time.perf_counter() - started

    first = post_all()
    stored = db.session.scalar(db.select(db.func.count(EmailEvent.id)))
    replay = post_all()
    after = db.session.scalar(db.select(db.func.count(EmailEvent.id)))
    bounced = db.session.scalar(
        db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.status == "bounce")
    )
    backend = db.engine.dialect.name
    print(
        f"\n[{backend}] {EVENTS} events in {len(bodies)} posts: {first:.2f} s "
        f"({EVENTS / first:.0f} events/s); replay {replay:.2f} s "
        f"({replay / first:.2f}x), new rows on replay: {after - stored}"
    )
    assert stored == EVENTS
    assert after == stored
    assert bounced == EMAILS
    if backend == "postgresql":
        assert first < 5.0

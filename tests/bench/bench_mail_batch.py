"""Benchmark: 5,000 invitations through a fake SendGrid adding 50 ms per call.

Run with `make bench` (or `pytest tests/bench/bench_mail_batch.py -m bench -s`).
Target: at most 10 API calls and under 10 s from invite to every email recorded as sent.
"""

import time

import pytest

from campaign import jobs
from campaign.extensions import db
from campaign.models import OutboundEmail, Partner
from campaign.services.partners import invite
from tests import factories as f

INVITATIONS = 5000
LATENCY_SECONDS = 0.05


@pytest.mark.bench
def test_5000_invitations_take_few_calls_and_little_time(app, fake_sendgrid, monkeypatch):
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", "SG.test")
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", fake_sendgrid.url)
    fake_sendgrid.latency = LATENCY_SECONDS
    owner = f.user()
    c = f.published(owner)
    db.session.add_all(
        Partner(
            campaign_id=c.id,
            organisation=f"Group {i}",
            contact_email=f"contact{i}@group{i}.example",
            contact_name=f"Contact {i}" if i % 10 else "",
            tier="local",
        )
        for i in range(INVITATIONS)
    )
    db.session.commit()
    partners = db.session.scalars(db.select(Partner).where(Partner.campaign_id == c.id)).all()

    started = time.perf_counter()
    invite(c, owner, partners)
    db.session.commit()
    queued = time.perf_counter()
    jobs.run_ready()
    finished = time.perf_counter()

    sent = db.session.scalar(
        db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.status == "sent")
    )
    calls = len(fake_sendgrid.requests)
    people = sum(len(r.body["personalizations"]) for r in fake_sendgrid.requests)
    backend = app.config["DATABASE_BACKEND"]
    print(
        f"\nbench_mail_batch[{backend}]: {INVITATIONS} invitations, {calls} API calls "
        f"({people} personalizations), invite+commit {queued - started:.2f} s, "
        f"send {finished - queued:.2f} s, total {finished - started:.2f} s"
    )
    assert sent == people == INVITATIONS
    assert calls <= 10
    assert finished - started < 10

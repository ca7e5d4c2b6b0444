"""MAIL_MAX_PER_HOUR spreads a large send out: the rest waits in the queue, nothing is lost."""

from datetime import timedelta

from campaign.extensions import db
from campaign.mail.sweep import sweep_outbox
from campaign.models import OutboundEmail, utcnow
from campaign.services.partners import invite
from tests import factories as f


def _count(status):
    return db.session.scalar(
        db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.status == status)
    )


def test_invitations_beyond_the_hourly_rate_wait_for_a_later_tick(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_PER_HOUR", 3)
    owner = f.user()
    c = f.published(owner)
    partners = [f.partner(c, owner) for _ in range(5)]
    invite(c, owner, partners)
    f.commit()  # the batch job runs after the commit
    db.session.expire_all()
    assert (_count("sent"), _count("queued")) == (3, 2)

    sweep_outbox()  # still inside the hour: nothing more goes out
    db.session.expire_all()
    assert (_count("sent"), _count("queued")) == (3, 2)

    # An hour later the budget is back and the sweep sends the rest, each once.
    db.session.execute(
        OutboundEmail.__table__.update().values(sent_at=utcnow() - timedelta(minutes=61))
    )
    db.session.commit()
    sweep_outbox()
    db.session.expire_all()
    assert (_count("sent"), _count("queued")) == (5, 0)
    recipients = db.session.scalars(db.select(OutboundEmail.to_email)).all()
    assert sorted(recipients) == sorted(p.contact_email for p in partners)


def test_no_rate_means_no_limit(app):
    owner = f.user()
    c = f.published(owner)
    invite(c, owner, [f.partner(c, owner) for _ in range(5)])
    f.commit()
    db.session.expire_all()
    assert _count("sent") == 5

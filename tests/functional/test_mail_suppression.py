"""Unsubscribes and spam reports from SendGrid stop further partner mail to that address."""

import time

import pytest

from campaign import jobs
from campaign.extensions import db
from campaign.mail.outbox import queue_email
from campaign.models import OutboundEmail
from campaign.models.mail import Suppression
from campaign.services.partners import invite
from tests import factories as f

_ids = iter(range(1, 1_000_000))


@pytest.fixture
def post_events(post_accepted):
    """Post signed events, each given as (address, event name, ...), and see their effect."""

    def _post(*events):
        batch = [
            {
                "email": address,
                "event": name,
                "timestamp": int(time.time()),
                "sg_event_id": f"supp-{next(_ids)}",
            }
            for address, name in events
        ]
        post_accepted(batch)
        db.session.expire_all()

    return _post


@pytest.mark.parametrize("event", ["unsubscribe", "group_unsubscribe", "spamreport"])
def test_suppressed_partner_gets_no_invitation_and_the_organiser_sees_why(
    app, client, sendgrid, post_events, event
):
    u = f.user()
    c = f.published(u)
    blocked = f.partner(c, u, email="Gone@Group.example")
    welcome = f.partner(c, u)
    post_events(("gone@group.example", event))

    f.invited(c, u, blocked)
    f.invited(c, u, welcome)

    rows = {e.partner_id: e for e in db.session.scalars(db.select(OutboundEmail))}
    assert rows[blocked.id].status == "suppressed"
    expected = "reported our email as spam" if event == "spamreport" else "unsubscribed"
    assert expected in rows[blocked.id].error
    assert rows[welcome.id].status == "sent"
    sent_to = [p["to"][0]["email"] for r in sendgrid.requests for p in r.body["personalizations"]]
    assert sent_to == [welcome.contact_email]

    f.login(client, u)
    page = client.get(f"/c/{c.slug}/outbox").get_data(as_text=True)
    assert "suppressed" in page and "Not sent: this address" in page
    assert f"/outbox/{rows[blocked.id].id}/retry" not in page


def test_bulk_invitations_skip_suppressed_addresses(app, sendgrid, post_events):
    u = f.user()
    c = f.published(u)
    ps = [f.partner(c, u) for _ in range(4)]
    post_events((ps[1].contact_email.upper(), "spamreport"))

    invite(c, u, ps)
    f.commit()

    statuses = {e.partner_id: e.status for e in db.session.scalars(db.select(OutboundEmail))}
    assert statuses == {
        ps[0].id: "sent",
        ps[1].id: "suppressed",
        ps[2].id: "sent",
        ps[3].id: "sent",
    }
    assert [len(r.body["personalizations"]) for r in sendgrid.requests] == [3]


def test_repeated_events_make_one_suppression_and_other_events_none(app, post_events):
    post_events(
        ("a@group.example", "unsubscribe"),
        ("A@GROUP.example", "spamreport"),
        ("b@group.example", "bounce"),
        ("c@group.example", "delivered"),
        ("d@group.example", "open"),
    )
    post_events(("a@group.example", "unsubscribe"))

    rows = db.session.scalars(db.select(Suppression)).all()
    assert [(r.email, r.reason) for r in rows] == [("a@group.example", "unsubscribe")]


def test_letters_to_targets_are_not_partner_mail(app, sendgrid, post_events):
    post_events(("ceo@argus.example", "unsubscribe"))
    email = queue_email(
        kind="letter", to_email="ceo@argus.example", subject="Our letter", text_body="Dear CEO"
    )
    db.session.commit()
    jobs.run_ready()
    db.session.expire_all()
    assert db.session.get(OutboundEmail, email.id).status == "sent"
    assert len(sendgrid.requests) == 1

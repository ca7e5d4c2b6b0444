"""SendGrid details (issue 11 E26): quoted recipient names, no subscription tracking, and
`group_resubscribe` lifting the suppression it matches.

Sent through the real sendgrid client to the local fake API; webhooks signed as SendGrid
signs them and verified by the real helper.
"""

import time
from email.headerregistry import HeaderRegistry

import pytest

from campaign import jobs
from campaign.extensions import db
from campaign.mail.outbox import BatchItem, queue_batch, queue_email
from campaign.models import OutboundEmail
from campaign.models.mail import Suppression
from tests import factories as f

_ids = iter(range(1, 1_000_000))
NAMES = ["Smith, Alex", "Alex; Sam", 'Alex "Al" Smith', "Back\\slash, Ltd"]


@pytest.fixture
def sendgrid(app, sendgrid, monkeypatch):
    """The shared fake SendGrid, sending as a name with a comma in it."""
    monkeypatch.setitem(app.config, "MAIL_FROM", "letters@coalition.test")
    monkeypatch.setitem(app.config, "MAIL_FROM_NAME", "Coalition for Privacy, Inc.")
    return sendgrid


def _header_names(field: str, name: str, address: str) -> list[tuple[str, str]]:
    """Parse `name <address>` as a mail client parses a To or From header."""
    header = HeaderRegistry()(field, f"{name} <{address}>")
    return [(a.display_name, a.addr_spec) for a in header.addresses]


def _send_all():
    db.session.commit()
    jobs.run_ready()
    db.session.expire_all()


def test_display_names_with_commas_semicolons_and_quotes_make_one_address(sendgrid):
    for n, name in enumerate(NAMES):
        queue_email(
            kind="letter",
            to_email=f"ceo{n}@bigcorp.test",
            to_name=name,
            subject="Our letter",
            text_body="Dear CEO",
        )
    _send_all()
    assert len(sendgrid.requests) == len(NAMES)
    for n, (name, request) in enumerate(zip(NAMES, sendgrid.requests, strict=True)):
        (to,) = request.body["personalizations"][0]["to"]
        assert to["name"].startswith('"') and to["name"].endswith('"')
        # A header built from what SendGrid got names exactly one recipient, by full name.
        assert _header_names("To", to["name"], to["email"]) == [(name, f"ceo{n}@bigcorp.test")]
        # SendGrid quotes the sender's name itself: it goes as configured.
        assert request.body["from"] == {
            "email": "letters@coalition.test",
            "name": "Coalition for Privacy, Inc.",
        }


def test_batched_recipients_names_are_quoted_too(sendgrid):
    items = [
        BatchItem(
            to_email=f"p{n}@group.test",
            to_name=name,
            subject="Will you sign?",
            text_body=f"Hello {n}",
            template="Hello -n-",
            substitutions={"-n-": str(n)},
        )
        for n, name in enumerate(NAMES)
    ]
    queue_batch("invitation", items)
    _send_all()
    (request,) = sendgrid.requests
    people = [p["to"][0] for p in request.body["personalizations"]]
    for name, to in zip(NAMES, people, strict=True):
        assert _header_names("To", to["name"], to["email"]) == [(name, to["email"])]


def test_plain_names_are_sent_as_they_are(sendgrid):
    queue_email(
        kind="letter",
        to_email="ceo@bigcorp.test",
        to_name="Dana O'Neil",
        subject="S",
        text_body="T",
    )
    _send_all()
    assert sendgrid.requests[0].body["personalizations"][0]["to"] == [
        {"email": "ceo@bigcorp.test", "name": "Dana O'Neil"}
    ]


@pytest.mark.parametrize("tracking", [False, True])
def test_subscription_tracking_is_pinned_off_on_every_send(sendgrid, tracking):
    queue_email(kind="letter", to_email="a@b.test", subject="S", text_body="T", tracking=tracking)
    queue_batch(
        "invitation",
        [
            BatchItem(f"p{n}@g.test", "", "S", f"Hi {n}", "Hi -n-", {"-n-": str(n)})
            for n in range(2)
        ],
        tracking=tracking,
    )
    _send_all()
    assert len(sendgrid.requests) == 2
    for request in sendgrid.requests:
        settings = request.body["tracking_settings"]
        assert settings["subscription_tracking"] == {"enable": False}
        assert settings["open_tracking"]["enable"] is tracking


@pytest.fixture
def post_events(post_accepted):
    """Post signed events, each given as (address, event name, ...), and see their effect."""

    def _post(*events):
        now = int(time.time())
        batch = [
            {
                "email": address,
                "event": name,
                "timestamp": now + offset,
                "sg_event_id": f"resub-{next(_ids)}",
                "asm_group_id": 7,
            }
            for address, name, offset in events
        ]
        post_accepted(batch)
        db.session.expire_all()

    return _post


def _suppressed():
    db.session.expire_all()
    return {row.email: row.reason for row in db.session.scalars(db.select(Suppression))}


def test_group_resubscribe_lifts_the_group_unsubscribe_and_mail_flows_again(
    app, sendgrid, post_events
):
    u = f.user()
    c = f.published(u)
    partner = f.partner(c, u, email="rae@group.example")

    def invitation():
        email = queue_email(
            kind="invitation",
            to_email="rae@group.example",
            subject="Will you sign?",
            text_body="Please sign.",
            campaign_id=c.id,
            partner_id=partner.id,
        )
        _send_all()
        return db.session.get(OutboundEmail, email.id).status

    post_events(("Rae@Group.example", "group_unsubscribe", -60))
    assert _suppressed() == {"rae@group.example": "group_unsubscribe"}
    assert invitation() == "suppressed"
    post_events(("rae@group.example", "group_resubscribe", 0))
    assert _suppressed() == {}
    assert invitation() == "sent"


def test_group_resubscribe_does_not_lift_an_unsubscribe_from_everything_or_a_spam_report(
    app, post_events
):
    post_events(("a@group.example", "unsubscribe", -60), ("b@group.example", "spamreport", -60))
    post_events(
        ("a@group.example", "group_resubscribe", 0), ("b@group.example", "group_resubscribe", 0)
    )
    assert _suppressed() == {"a@group.example": "unsubscribe", "b@group.example": "spamreport"}


def test_events_out_of_order_end_in_the_latest_choice(app, post_events):
    # In one post, newest first: they left, rejoined, left again; the last word counts.
    post_events(
        ("x@group.example", "group_unsubscribe", 0),
        ("x@group.example", "group_resubscribe", -30),
        ("x@group.example", "group_unsubscribe", -60),
    )
    assert _suppressed() == {"x@group.example": "group_unsubscribe"}
    # Across posts: the rejoin arrives before the older unsubscribe it follows.
    post_events(("y@group.example", "group_resubscribe", 0))
    post_events(("y@group.example", "group_unsubscribe", -60))
    assert "y@group.example" not in _suppressed()
    # A late resubscribe older than the unsubscribe it would lift changes nothing.
    post_events(("z@group.example", "group_unsubscribe", 0))
    post_events(("z@group.example", "group_resubscribe", -60))
    assert _suppressed()["z@group.example"] == "group_unsubscribe"

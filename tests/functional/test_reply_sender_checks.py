"""Replies whose sender SPF and DKIM do not vouch for are held until an organiser releases them."""

import json

import pytest

from campaign.extensions import db
from campaign.mail.inbound import dkim_passes
from campaign.mail.reply_address import reply_address
from campaign.models import Alert, AuditEvent, InboundReply, OutboundEmail, Target
from campaign.services import sender_check
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.inbound import post_reply, signer

FORGER = {
    # A forger's own server: SPF passes for the forger's envelope domain, and the From
    # header names the target. SendGrid reports no DKIM signature.
    "envelope_from": "bounce@mailer.forger.example",
    "SPF": "pass",
    "dkim": "none",
}


def _post(client, target, *, envelope_from="ceo@argus.example", **fields):
    address = reply_address(target.id)
    return post_reply(
        client,
        to=address,
        envelope=json.dumps({"to": [address], "from": envelope_from}),
        **fields,
    )


def _notices():
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "reply_notice")
    ).all()


def test_a_spoofed_reply_is_held_and_counts_only_once_released(client, app, inbound):
    u = f.user()
    c = f.published(u)
    signer(c, u, "Alpha Liberty", wants_updates=True)
    f.commit()
    target = c.targets[0]

    response = _post(client, target, text="We accept all your demands.", **FORGER)

    assert response.status_code == 200  # SendGrid must not retry it
    reply = db.session.scalar(db.select(InboundReply))
    assert db.session.get(Target, target.id).responded_at is None
    assert _notices() == []
    assert reply.target_id == target.id and reply.held
    assert "SPF pass for mailer.forger.example, not argus.example" in reply.held_reason
    [alert] = db.session.scalars(db.select(Alert)).all()
    assert alert.kind == "reply_held" and "held: sender not verified" in alert.message
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "reply.held" in actions and "target.replied" not in actions

    f.login(client, u)
    page = client.get(f"/c/{c.slug}/replies").get_data(as_text=True)
    assert "held: sender not verified" in page and "We accept all your demands." in page
    release_url = f"/c/{c.slug}/replies/{reply.id}/release"
    assert release_url in page
    assert client.post(release_url).status_code in (302, 400)  # no CSRF token: nothing
    assert db.session.get(InboundReply, reply.id).held

    released = client.post(release_url, data={"csrf_token": csrf_from(page)})

    assert released.status_code == 302
    reply = db.session.get(InboundReply, reply.id)
    assert not reply.held and reply.released_by_id == u.id
    assert db.session.get(Target, target.id).responded_at is not None
    [notice] = _notices()
    assert "We accept all your demands." in notice.text_body
    assert "reply.released" in db.session.scalars(db.select(AuditEvent.action)).all()
    page = client.get(f"/c/{c.slug}/replies").get_data(as_text=True)
    assert "an organiser released it" in page and release_url not in page
    # Releasing twice changes nothing more.
    again = client.post(release_url, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "not held" in again.get_data(as_text=True) and len(_notices()) == 1


@pytest.mark.parametrize(
    ("spf", "dkim", "envelope_from"),
    [
        ("softfail", "none", "ceo@argus.example"),
        ("fail", "{@argus.example : fail}", "ceo@argus.example"),
        ("none", "{@forger.example : pass}", "x@forger.example"),  # signed, by someone else
        ("neutral", "{@argus.example.forger.example : pass}", "ceo@argus.example"),
    ],
)
def test_replies_that_spf_and_dkim_do_not_tie_to_the_from_domain_are_held(
    client,
    app,
    inbound,
    spf,
    dkim,
    envelope_from,
):
    u = f.user()
    c = f.published(u)
    _post(client, c.targets[0], SPF=spf, dkim=dkim, envelope_from=envelope_from)
    assert db.session.get(Target, c.targets[0].id).responded_at is None
    reply = db.session.scalar(db.select(InboundReply))
    assert reply.held and (reply.spf, reply.dkim) == (spf, dkim)


@pytest.mark.parametrize(
    ("spf", "dkim", "envelope_from"),
    [
        # A big provider's relay: SPF for its own bounce domain, DKIM for the sender's.
        ("pass", "{@argus.example : pass, @relay.example : pass}", "b+x@relay.example"),
        ("softfail", "{@mail.argus.example : pass}", "ceo@argus.example"),
        ("pass", "none", "bounces@lists.argus.example"),
        ("pass", "", "ceo@argus.example"),
    ],
)
def test_replies_that_spf_or_dkim_vouch_for_count_at_once(
    client,
    app,
    inbound,
    spf,
    dkim,
    envelope_from,
):
    u = f.user()
    c = f.published(u)
    _post(client, c.targets[0], SPF=spf, dkim=dkim, envelope_from=envelope_from)
    reply = db.session.scalar(db.select(InboundReply))
    assert not reply.held and reply.held_reason is None
    assert db.session.get(Target, c.targets[0].id).responded_at is not None


def test_a_post_without_sender_checks_is_held(client, app, inbound):
    u = f.user()
    c = f.published(u)
    _post(client, c.targets[0], SPF="", dkim="")
    reply = db.session.scalar(db.select(InboundReply))
    assert reply.held_reason == "no SPF result and no passing DKIM signature from argus.example"


def test_an_unmatched_held_reply_stays_held_when_assigned(client, app, inbound):
    admin = f.user(role="admin")
    c = f.published(admin)
    post_reply(client, to="letters@coalition.test", text="Spoofed?", SPF="fail", dkim="none")
    reply = db.session.scalar(db.select(InboundReply))
    f.login(client, admin)
    page = client.get("/inbox").get_data(as_text=True)
    assert "held: sender not verified" in page
    client.post(
        f"/inbox/{reply.id}/assign",
        data={
            f"reply{reply.id}-csrf_token": csrf_from(page),
            f"reply{reply.id}-target_id": str(c.targets[0].id),
        },
    )
    reply = db.session.get(InboundReply, reply.id)
    assert reply.target_id == c.targets[0].id and reply.held
    assert db.session.get(Target, c.targets[0].id).responded_at is None


def test_only_the_campaigns_organisers_release_a_held_reply(client, app, inbound):
    owner, stranger = f.user(), f.user()
    c = f.published(owner)
    theirs = f.published(stranger, title="Another campaign")
    _post(client, c.targets[0], **FORGER)
    reply = db.session.scalar(db.select(InboundReply))
    f.login(client, stranger)
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    for slug in (c.slug, theirs.slug):
        attempt = client.post(f"/c/{slug}/replies/{reply.id}/release", data={"csrf_token": token})
        assert attempt.status_code == 404
    assert db.session.get(InboundReply, reply.id).held


def problem(from_email, envelope_from, spf, dkim):
    """The verdict on a post whose SendGrid fields are these."""
    return sender_check.problem(from_email, envelope_from, spf, dkim_passes(dkim))


def test_sender_check_reads_sendgrids_fields():
    assert problem("ceo@argus.example", "ceo@argus.example", "pass", "none") is None
    assert problem("Ceo@Argus.Example", "ceo@argus.example", "PASS", "") is None
    # SPF checked the envelope sender: without one, a pass says nothing about the From.
    assert problem("ceo@argus.example", "", "pass", "")
    assert problem("a@gmail.com", "x@evil.example", "fail", "{@gmail.com : pass}") is None
    assert problem("a@argus.example", "a@argus.example", "pass", "{@argus.example : fail}") is None
    assert problem("a@argus.example", "z@other.example", "pass", "{@other.example : pass}")
    assert problem("", "", "pass", "{@argus.example : pass}") == (
        "the reply has no sender address to check"
    )

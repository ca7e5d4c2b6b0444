"""Unmatched replies stay inside the coalition they were sent to; the rest are for admins."""

import re

import pytest

from campaign.extensions import db
from campaign.models import AuditEvent, InboundReply, Target
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import delivered
from tests.helpers.inbound import DOMAIN, SECRET, post_reply

MEMO = b"%PDF-1.7 the board's private memo"


@pytest.fixture
def inbound(app, monkeypatch):
    """Inbound Parse configured, so delivered letters carry per-target reply addresses."""
    monkeypatch.setitem(app.config, "INBOUND_DOMAIN", DOMAIN)
    monkeypatch.setitem(app.config, "INBOUND_SECRET", SECRET)


def _browser(app, user):
    browser = app.test_client()
    f.login(browser, user)
    return browser


def _reply(text: str) -> InboundReply:
    return db.session.scalar(db.select(InboundReply).where(InboundReply.text == text))


def test_an_unmatched_reply_is_seen_only_by_the_organisers_it_was_sent_to(
    client, app, inbound, monkeypatch
):
    alice, bob, admin = f.user(), f.user(), f.user(role="admin")
    ours, letter = delivered(alice)
    theirs, _ = delivered(bob, name="Robin Theirs")
    # The instance's secret was rotated since the letters went out: their reply addresses
    # no longer prove a target, but they are still the addresses the campaign's letters bore.
    monkeypatch.setitem(app.config, "SECRET_KEY", "rotated-secret-key")
    files = {"attachment1": ("memo.pdf", "application/pdf", MEMO)}
    post_reply(client, to=letter.reply_to, text="Answer for Alice", files=files)
    post_reply(client, to="letters@coalition.test", text="Answer for nobody")
    reply, stray = _reply("Answer for Alice"), _reply("Answer for nobody")
    attachment = f"/inbox/{reply.id}/attachments/{reply.attachments[0].id}"
    their_target = theirs.targets[0]

    # Bob runs another coalition's campaign: every way in is a 404.
    as_bob = _browser(app, bob)
    page = as_bob.get("/inbox").get_data(as_text=True)
    assert "Answer for" not in page and "Nothing to assign" in page
    for unseen in (reply, stray):
        assert as_bob.get(f"/inbox/{unseen.id}").status_code == 404
        attempt = as_bob.post(
            f"/inbox/{unseen.id}/assign",
            data={
                f"reply{unseen.id}-csrf_token": csrf_from(page),
                f"reply{unseen.id}-target_id": str(their_target.id),
            },
        )
        assert attempt.status_code == 404
    assert as_bob.get(attachment).status_code == 404
    assert as_bob.get(f"/c/{theirs.slug}/replies").get_data(as_text=True).count("Answer") == 0
    db.session.expire_all()
    assert db.session.get(InboundReply, reply.id).campaign_id is None
    assert db.session.get(Target, their_target.id).responded_at is None
    assert (reply.campaign_id, reply.inbox_campaign_id) == (None, ours.id)
    assert (stray.campaign_id, stray.inbox_campaign_id) == (None, None)

    # Alice sees her reply (not the stray one), its file, and only her own targets.
    as_alice = _browser(app, alice)
    page = as_alice.get("/inbox").get_data(as_text=True)
    assert "Answer for Alice" in page and "Answer for nobody" not in page
    assert "Jordan Vale" in page and "Robin Theirs" not in page
    shown = as_alice.get(f"/inbox/{reply.id}")
    assert shown.status_code == 200 and "memo.pdf" in shown.get_data(as_text=True)
    assert as_alice.get(attachment).data == MEMO
    assert as_alice.get(f"/inbox/{stray.id}").status_code == 404
    token = csrf_from(page)
    field = f"reply{reply.id}-target_id"
    # Not onto another coalition's target, even by posting its id.
    wrong = as_alice.post(
        f"/inbox/{reply.id}/assign",
        data={f"reply{reply.id}-csrf_token": token, field: str(their_target.id)},
    )
    assert wrong.status_code == 400
    right = as_alice.post(
        f"/inbox/{reply.id}/assign",
        data={f"reply{reply.id}-csrf_token": token, field: str(ours.targets[0].id)},
    )
    assert right.status_code == 302
    assert right.headers["Location"].endswith(f"/c/{ours.slug}/replies")
    db.session.expire_all()
    assert db.session.get(InboundReply, reply.id).target_id == ours.targets[0].id
    assert db.session.get(Target, ours.targets[0].id).responded_at is not None

    # The reply that names no campaign is the admins' to place.
    as_admin = _browser(app, admin)
    page = as_admin.get("/inbox").get_data(as_text=True)
    assert "Answer for nobody" in page
    assert re.search(rf'name="reply{stray.id}-target_id"', page)
    placed = as_admin.post(
        f"/inbox/{stray.id}/assign",
        data={
            f"reply{stray.id}-csrf_token": csrf_from(page),
            f"reply{stray.id}-target_id": str(their_target.id),
        },
    )
    assert placed.status_code == 302
    assert db.session.scalar(db.select(AuditEvent.id).where(AuditEvent.action == "reply.assigned"))


def test_a_reply_to_a_removed_targets_address_stays_with_its_campaign(client, app, inbound):
    alice, bob = f.user(), f.user()
    ours, letter = delivered(alice)
    delivered(bob)
    # A valid reply address, but its target is gone: the letter still says whose it was.
    db.session.delete(db.session.get(Target, letter.target_id))
    db.session.commit()
    post_reply(client, to=letter.reply_to.upper(), text="Late answer")
    reply = _reply("Late answer")
    assert (reply.campaign_id, reply.inbox_campaign_id) == (None, ours.id)
    assert "Late answer" in _browser(app, alice).get("/inbox").get_data(as_text=True)
    assert "Late answer" not in _browser(app, bob).get("/inbox").get_data(as_text=True)

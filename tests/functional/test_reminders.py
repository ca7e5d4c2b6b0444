"""Reminders before the deadline, never to those who answered or unsubscribed; unsubscribe."""

import re
from datetime import timedelta

from campaign.extensions import db
from campaign.mail.suppression import unsubscribe_url
from campaign.models import OutboundEmail, SignatureRequest, utcnow
from campaign.services import personal_link_signing as signing
from campaign.services import reminders
from tests import factories as f
from tests.conftest import csrf_from


def _reminders():
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "reminder").order_by(OutboundEmail.id)
    ).all()


def _setup():
    u = f.user()
    c = f.published(u, deadline=utcnow() + timedelta(days=10))
    waiting = f.partner(c, u, name="Waiting Org")
    signed = f.partner(c, u, name="Signed Org")
    withdrawn = f.partner(c, u, name="Withdrawn Org")
    never_invited = f.partner(c, u, name="Not Invited Org")
    tokens = {p.id: f.invited(c, u, p) for p in (waiting, signed, withdrawn)}
    for p in (signed, withdrawn):
        f.sign(c, u, p, token=tokens[p.id], signer_name="S")
    signing.withdraw(withdrawn.current_request)
    f.commit()
    return u, c, waiting, tokens[waiting.id], never_invited


def test_reminders_go_once_per_threshold_only_to_those_who_have_not_answered(app, client):
    u, c, waiting, old_token, _ = _setup()
    now = utcnow()
    assert reminders.send_due(now) == 0  # ten days before: nothing due yet
    assert reminders.send_due(now + timedelta(days=3, hours=1)) == 1  # inside the 7-day mark
    f.commit()
    assert reminders.send_due(now + timedelta(days=3, hours=2)) == 0  # never twice
    sent = _reminders()
    assert [e.to_email for e in sent] == [waiting.contact_email]
    new_token = sent[0].text_body.split("/s/")[1].split()[0]
    assert new_token == old_token  # the reminder carries the invitation's own link
    assert client.get(f"/s/{old_token}").status_code == 200
    assert "/u/" in sent[0].text_body
    assert reminders.send_due(now + timedelta(days=9, hours=1)) == 1  # the 1-day mark
    f.commit()
    assert len(_reminders()) == 2


def test_two_thresholds_passed_at_once_give_one_reminder(app):
    u, c, waiting, _, _ = _setup()
    assert reminders.send_due(utcnow() + timedelta(days=9, hours=12)) == 1
    f.commit()
    assert reminders.send_due(utcnow() + timedelta(days=9, hours=13)) == 0
    assert len(_reminders()) == 1


def test_unsubscribed_partners_get_no_reminder_and_unsubscribe_needs_a_post(app, client):
    u, c, waiting, _, _ = _setup()
    url = unsubscribe_url(waiting.contact_email).replace("http://127.0.0.1:5000", "")
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe?" in page.get_data(as_text=True)
    assert reminders.send_due(utcnow() + timedelta(days=9, hours=12)) == 1  # GET changed nothing
    db.session.rollback()
    done = client.post(url)  # one-click: no CSRF token, the signed link is the proof
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    assert reminders.send_due(utcnow() + timedelta(days=9, hours=12)) == 0
    assert client.get("/u/forged-token").status_code == 404


def test_reminder_days_are_set_on_the_partners_page(app, client, submit):
    u, c, *_ = _setup()
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}/partners",
        {"reminder_days": "3, x"},
        post_url=f"/c/{c.slug}/partners/reminders",
    )
    assert resp.status_code == 400 and "&#39;x&#39; is not a number of days" in resp.get_data(
        as_text=True
    )
    submit(
        f"/c/{c.slug}/partners", {"reminder_days": "3"}, post_url=f"/c/{c.slug}/partners/reminders"
    )
    db.session.refresh(c)
    assert c.reminder_days == "3"
    assert reminders.send_due(utcnow() + timedelta(days=5)) == 0  # 7 days is no longer a mark
    submit(
        f"/c/{c.slug}/partners", {"reminder_days": ""}, post_url=f"/c/{c.slug}/partners/reminders"
    )
    db.session.refresh(c)
    assert reminders.send_due(utcnow() + timedelta(days=9, hours=12)) == 0


def test_flask_tick_sends_due_reminders(app):
    u, c, waiting, _, _ = _setup()
    c.deadline = utcnow() + timedelta(hours=20)  # inside the 1-day mark now
    f.commit()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "reminders: 1 sent" in result.output
    assert (
        db.session.scalar(
            db.select(db.func.count(SignatureRequest.id)).where(
                SignatureRequest.revoked_at.is_(None), SignatureRequest.partner_id == waiting.id
            )
        )
        == 1
    )


def test_reminders_from_flask_tick_keep_the_invitation_link_working(app, client):
    """Issue 11 A1: a reminder used to rotate the token, so the invitation link died."""
    u = f.user()
    c = f.published(u, deadline=utcnow() + timedelta(days=20))
    partner = f.partner(c, u, name="Waiting Org")
    invitation = f.invited(c, u, partner)
    assert client.get(f"/s/{invitation}").status_code == 200  # viewed, not signed
    f.login(client, u)
    client.post(  # the organiser sets reminder days in the UI, as a user would
        f"/c/{c.slug}/partners/reminders",
        data={
            "csrf_token": csrf_from(client.get(f"/c/{c.slug}/partners").get_data(as_text=True)),
            "reminder_days": "21,7,1",
        },
    )
    db.session.refresh(c)
    assert c.reminder_days == "21,7,1"
    result = app.test_cli_runner().invoke(args=["tick"])  # 20 days out: the 21-day mark passed
    assert result.exit_code == 0, result.output
    assert "reminders: 1 sent" in result.output
    [mail] = _reminders()
    link = re.search(r"/s/([A-Za-z0-9_-]+)", mail.text_body).group(1)
    assert link == invitation  # the reminder's link is the link they already have
    assert client.get(f"/s/{invitation}").status_code == 200
    assert "either one works" in mail.text_body
    # Only the hash is stored, never the token.
    stored = db.session.scalars(db.select(SignatureRequest.token_sha256)).all()
    assert invitation not in stored and len(stored) == 1
    # A second tick at a later threshold mails the same working link again.
    c.deadline = utcnow() + timedelta(days=6)
    f.commit()
    assert app.test_cli_runner().invoke(args=["tick"]).exit_code == 0
    later = _reminders()[-1]
    assert f"/s/{invitation}" in later.text_body
    assert client.get(f"/s/{invitation}").status_code == 200


def test_invitations_carry_one_click_list_unsubscribe_headers(
    app,
    client,
    fake_sendgrid,
    monkeypatch,
):
    from campaign.mail.suppression import suppressed

    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", "SG.test")
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", fake_sendgrid.url)
    u = f.user()
    c = f.published(u)
    a = f.partner(c, u, name="Alpha")
    b = f.partner(c, u, name="Beta")
    from campaign.services import partners

    partners.invite(c, u, [a, b])
    f.commit()
    [request] = fake_sendgrid.requests
    people = {p["to"][0]["email"]: p for p in request.body["personalizations"]}
    header = people[a.contact_email]["headers"]
    assert header["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header["List-Unsubscribe"].strip("<>")
    assert link != people[b.contact_email]["headers"]["List-Unsubscribe"].strip("<>")
    # What a mail client does on one click: POST to the link, no form, no cookie.
    assert client.post(link.replace("http://127.0.0.1:5000", "")).status_code == 200
    assert set(suppressed([a.contact_email, b.contact_email])) == {a.contact_email.lower()}


def test_a_link_from_before_salts_is_given_a_working_token_when_reminded(app, client):
    u, c, waiting, old_token, _ = _setup()
    req = waiting.current_request
    req.token_salt = None  # as links made before migration 0016 are
    f.commit()
    assert reminders.send_due(utcnow() + timedelta(days=9, hours=12)) == 1
    f.commit()
    link = _reminders()[-1].text_body.split("/s/")[1].split()[0]
    # It cannot be recomputed, so it was re-salted in place; the reminder's link works.
    assert link != old_token and client.get(f"/s/{link}").status_code == 200
    assert db.session.get(SignatureRequest, req.id).token_salt

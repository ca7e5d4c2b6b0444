"""Follow-up plans: targets who have not replied get the next letter, once, on schedule."""

from datetime import timedelta

from campaign import tasks
from campaign.extensions import db
from campaign.models import AuditEvent, FollowUpSent, OutboundEmail, utcnow
from campaign.services import campaigns, delivery, followups
from tests import factories as f

FOLLOW_UP = (
    "{{ target.salutation }},\n\nWe are still waiting for {{ target.organisation }}.[^1]"
    "\n\n[^1]: Our letter of last month."
)


def _delivered():
    u = f.user()
    c = f.published(u)
    signer = f.sign(c, u, f.partner(c, u, name="Alpha Liberty"))
    signer.current_request.signature.wants_updates = True
    campaigns.close_signing(c, u)
    f.commit()
    delivery.deliver(c, u)
    f.commit()
    return u, c


def _age_delivery(c, days):
    db.session.execute(
        OutboundEmail.__table__.update()
        .where(OutboundEmail.campaign_id == c.id, OutboundEmail.kind == "letter")
        .values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def _followups():
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "followup").order_by(OutboundEmail.id)
    ).all()


def test_organiser_plans_a_follow_up_with_a_preview(client, app, submit):
    u, c = _delivered()
    f.login(client, u)
    data = {
        "days_after": "14",
        "subject": "Still waiting: {{ campaign.title }}",
        "body": FOLLOW_UP,
        "notify_coalition": "y",
    }
    preview = submit(f"/c/{c.slug}/follow-up", {**data, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Dear Mr Vale" in html
    assert "We are still waiting for Argus Vision." in html
    assert not followups.steps(c)  # a preview saves nothing
    resp = submit(f"/c/{c.slug}/follow-up", {**data, "action": "add"})
    assert resp.status_code == 302
    step = followups.steps(c)[0]
    assert (step.days_after, step.notify_coalition) == (14, True)
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "followup.planned"))


def test_bad_steps_are_explained_and_unsafe_templates_refused(client, app, submit):
    u, c = _delivered()
    f.login(client, u)
    resp = submit(f"/c/{c.slug}/follow-up", {"days_after": "0", "subject": "x", "body": "y"})
    assert resp.status_code == 400 and "from 1 to 365" in resp.get_data(as_text=True)
    resp = submit(
        f"/c/{c.slug}/follow-up",
        {"days_after": "7", "subject": "x", "body": "{{ ''.__class__.__mro__ }}"},
    )
    assert resp.status_code == 400 and "line 1" in resp.get_data(as_text=True)
    assert not followups.steps(c)


def test_tick_sends_a_due_follow_up_once_and_tells_the_coalition(app):
    u, c = _delivered()
    followups.add_step(c, u, days_after=14, subject="Still waiting", body=FOLLOW_UP, notify=True)
    f.commit()
    _age_delivery(c, 13)
    tasks.run_periodic()
    assert _followups() == []  # not yet due

    _age_delivery(c, 15)
    tasks.run_periodic()
    tasks.run_periodic()  # idempotent
    sent = _followups()
    assert len(sent) == 1 and sent[0].to_email == c.targets[0].email
    assert "Dear Mr Vale" in sent[0].text_body
    # Footnotes are endnotes in the email's HTML.
    assert '<div class="footnote">' in sent[0].html_body
    notices = db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "followup_notice")
    ).all()
    assert len(notices) == 1 and "Alpha Liberty" in notices[0].text_body
    assert db.session.scalar(db.select(db.func.count(FollowUpSent.id))) == 1


def test_a_target_who_replied_gets_no_follow_up(app):
    u, c = _delivered()
    followups.add_step(c, u, days_after=14, subject="Still waiting", body=FOLLOW_UP, notify=False)
    c.targets[0].responded_at = utcnow()
    f.commit()
    _age_delivery(c, 30)
    tasks.run_periodic()
    assert _followups() == []


def test_steps_go_in_order_and_a_sent_step_cannot_be_removed(client, app, submit):
    u, c = _delivered()
    first = followups.add_step(c, u, days_after=7, subject="First", body=FOLLOW_UP, notify=False)
    followups.add_step(c, u, days_after=21, subject="Second", body=FOLLOW_UP, notify=False)
    f.commit()
    _age_delivery(c, 30)
    tasks.run_periodic()
    assert [e.subject for e in _followups()] == ["First"]  # one step per tick, in order
    tasks.run_periodic()
    assert [e.subject for e in _followups()] == ["First", "Second"]
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}/follow-up",
        {},
        post_url=f"/c/{c.slug}/follow-up/{first.id}/remove",
        follow_redirects=True,
    )
    assert "already went to some targets" in resp.get_data(as_text=True)
    assert len(followups.steps(c)) == 2


def test_the_timeline_shows_what_happened_and_what_is_next(client, app):
    u, c = _delivered()
    followups.add_step(c, u, days_after=14, subject="Still waiting", body=FOLLOW_UP, notify=False)
    f.commit()
    f.login(client, u)
    target = c.targets[0]
    html = client.get(f"/c/{c.slug}/targets/{target.id}/timeline").get_data(as_text=True)
    assert "Letter sent" in html and "Still waiting" in html
    assert (utcnow() + timedelta(days=14)).strftime("%d %b %Y") in html


def test_other_campaigns_and_staff_are_kept_out(client, app, submit):
    u, c = _delivered()
    step = followups.add_step(c, u, days_after=7, subject="First", body=FOLLOW_UP, notify=False)
    f.commit()
    stranger = f.user()
    f.login(client, stranger)
    assert client.get(f"/c/{c.slug}/follow-up").status_code == 404
    assert client.get(f"/c/{c.slug}/targets/{c.targets[0].id}/timeline").status_code == 404
    staff = f.user(role="staff")
    campaigns.add_member(c, staff)
    f.commit()
    f.login(client, staff)
    assert client.get(f"/c/{c.slug}/follow-up").status_code == 200
    resp = submit(f"/c/{c.slug}/follow-up", {}, post_url=f"/c/{c.slug}/follow-up/{step.id}/remove")
    assert resp.status_code == 403
    assert len(followups.steps(c)) == 1

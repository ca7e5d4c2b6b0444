from campaign.extensions import db
from campaign.models import AuditEvent, Campaign
from tests import factories as f


def test_create_campaign_through_the_form(client, app, submit):
    u = f.user()
    f.login(client, u)
    resp = submit(
        "/campaigns/new",
        {
            "title": "Ban face recognition",
            "lead_organisation": "Privacy Now",
            "lead_address": "",
            "deadline": "2099-01-31T17:00",
        },
    )
    assert resp.status_code == 302
    c = db.session.scalar(db.select(Campaign))
    assert c.slug == "ban-face-recognition"
    assert c.status == "draft"
    assert client.get(f"/c/{c.slug}").status_code == 200


def test_bad_deadline_is_reported_on_the_field_and_nothing_is_created(client, app, submit):
    u = f.user()
    f.login(client, u)
    resp = submit(
        "/campaigns/new",
        {"title": "Past", "lead_organisation": "X", "deadline": "2001-01-01T10:00"},
    )
    assert resp.status_code == 200
    assert "must be in the future" in resp.get_data(as_text=True)
    resp = submit(
        "/campaigns/new", {"title": "Garbage", "lead_organisation": "X", "deadline": "soon"}
    )
    assert "Enter a date and time" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Campaign.id))) == 0


def test_targets_can_be_added_with_field_errors(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}", {"name": "", "email": "not-an-email"}, post_url=f"/c/{c.slug}/targets"
    )
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "This field is required." in body and "Invalid email address." in body
    resp = submit(
        f"/c/{c.slug}",
        {"name": "Renata Solis", "email": "chair@argus.example", "salutation": "Dear Ms Solis"},
        post_url=f"/c/{c.slug}/targets",
    )
    assert resp.status_code == 302
    db.session.refresh(c)
    assert [t.name for t in c.targets] == ["Jordan Vale", "Renata Solis"]


def test_close_and_reopen_are_audited(client, app, submit):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    submit(f"/c/{c.slug}", {}, post_url=f"/c/{c.slug}/close")
    db.session.refresh(c)
    assert c.status == "closed"
    submit(f"/c/{c.slug}", {}, post_url=f"/c/{c.slug}/reopen")
    db.session.refresh(c)
    assert c.status == "open"
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "campaign.closed" in actions and "campaign.reopened" in actions


def test_control_characters_in_form_input_are_dropped_not_a_crash(client, app, submit):
    u = f.user()
    f.login(client, u)
    resp = submit(
        "/campaigns/new",
        {
            "title": "Ban\x00 face\x07 recognition",
            "lead_organisation": "Privacy\x00 Now",
            "deadline": "2099-01-31T17:00",
        },
    )
    assert resp.status_code == 302
    c = db.session.scalar(db.select(Campaign))
    assert (c.title, c.lead_organisation) == ("Ban face recognition", "Privacy Now")

import hashlib
import json

from campaign.extensions import db
from campaign.models import LetterVersion
from tests import factories as f


def _save(submit, c, subject, body):
    return submit(f"/c/{c.slug}/letter", {"subject": subject, "body": body})


def test_draft_saves_and_preview_shows_merged_html(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _save(
        submit, c, "Stop it", "{{ target.salutation }},\n\nPlease stop by {{ campaign.deadline }}."
    )
    assert resp.status_code == 302
    html = client.get(f"/c/{c.slug}/letter/preview").get_data(as_text=True)
    assert "Please stop by" in html
    target = c.targets[0]
    html = client.get(f"/c/{c.slug}/letter/preview?target={target.id}").get_data(as_text=True)
    assert "Dear Mr Vale" in html


def test_unknown_field_is_refused_with_line_and_nothing_saved(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _save(submit, c, "Subject", "Hello,\n\n{{ target.nme }}")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "line 3" in body and "nme" in body
    assert db.session.scalar(db.select(db.func.count(LetterVersion.id))) == 0


def test_sandbox_escape_is_refused_on_save(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    for evil in ("{{ ''.__class__.__mro__ }}", "{{ ''|attr('__class__') }}"):
        resp = _save(submit, c, "Subject", evil)
        assert resp.status_code == 400
        assert "line 1" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(LetterVersion.id))) == 0


def test_publish_freezes_with_sha256_and_next_save_is_a_new_version(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _save(submit, c, "Subject", f.BODY)
    resp = submit(f"/c/{c.slug}/letter", {}, post_url=f"/c/{c.slug}/letter/publish")
    assert resp.status_code == 302
    v1 = db.session.scalar(db.select(LetterVersion))
    expected = hashlib.sha256(
        json.dumps(
            {"subject": "Subject", "body": f.BODY}, sort_keys=True, ensure_ascii=False
        ).encode()
    ).hexdigest()
    assert v1.content_sha256 == expected
    assert v1.campaign.status == "open"
    _save(submit, c, "Subject", f.BODY + "\nP.S. edited")
    versions = db.session.scalars(db.select(LetterVersion).order_by(LetterVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].body == f.BODY  # the published text never changed
    assert versions[1].published_at is None


def test_staff_can_read_but_not_edit(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    staff = f.user(role="staff")
    from campaign.services.campaigns import add_member

    add_member(c, staff)
    db.session.commit()
    f.login(client, staff)
    page = client.get(f"/c/{c.slug}/letter")
    assert page.status_code == 200
    assert "Save draft" not in page.get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(client.get(f"/c/{c.slug}").get_data(as_text=True))
    resp = client.post(
        f"/c/{c.slug}/letter", data={"csrf_token": token, "subject": "x", "body": "y"}
    )
    assert resp.status_code == 403

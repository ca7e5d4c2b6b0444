"""Every save of a draft is kept: the history page, its diffs, and restoring a save."""

from campaign.extensions import db
from campaign.models import LetterRevision, LetterVersion
from tests import factories as f


def _save(submit, c, subject, body):
    return submit(f"/c/{c.slug}/letter", {"subject": subject, "body": body})


def _revisions():
    return db.session.scalars(db.select(LetterRevision).order_by(LetterRevision.id)).all()


def test_each_save_is_a_revision_and_an_unchanged_save_adds_none(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _save(submit, c, "Stop it", "We ask you to stop.")
    _save(submit, c, "Stop it", "We ask you to stop now.")
    _save(submit, c, "Stop it", "We ask you to stop now.")  # nothing changed
    db.session.expire_all()
    texts = [r.body for r in _revisions()]
    assert texts == ["We ask you to stop.", "We ask you to stop now."]
    # Still one draft version: revisions are saves within it, not versions.
    assert db.session.scalar(db.select(db.func.count(LetterVersion.id))) == 1


def test_history_page_lists_saves_and_shows_word_changes(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _save(submit, c, "Stop it", "We ask you to stop selling.")
    _save(submit, c, "Stop it", "We demand you stop selling today.")
    html = client.get(f"/c/{c.slug}/letter/versions").get_data(as_text=True)
    assert "2 saves" in html
    page = client.get(f"/c/{c.slug}/letter/versions/1/saves")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert u.email in html
    # The newest save is shown against the one before it.
    assert "<ins>demand</ins>" in html and "<del>ask</del>" in html
    assert "<ins> today</ins>" in html
    first = _revisions()[0]
    html = client.get(f"/c/{c.slug}/letter/versions/1/saves?save={first.id}").get_data(as_text=True)
    assert "The first save" in html


def test_restoring_a_save_makes_it_the_draft_and_keeps_the_newer_one(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _save(submit, c, "Stop it", "Version A of the text.")
    _save(submit, c, "Stop it", "Version B of the text.")
    first = _revisions()[0]
    resp = submit(
        f"/c/{c.slug}/letter/versions/1/saves",
        {},
        post_url=f"/c/{c.slug}/letter/saves/{first.id}/restore",
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert [r.body for r in _revisions()] == [
        "Version A of the text.",
        "Version B of the text.",
        "Version A of the text.",
    ]
    assert db.session.scalars(db.select(LetterVersion)).one().body == "Version A of the text."


def test_restore_needs_csrf_and_an_editor(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _save(submit, c, "Stop it", "Version A.")
    _save(submit, c, "Stop it", "Version B.")
    first = _revisions()[0]
    assert client.post(f"/c/{c.slug}/letter/saves/{first.id}/restore").status_code == 400
    staff = f.user(role="staff")
    from campaign.services.campaigns import add_member

    add_member(c, staff)
    f.commit()
    f.login(client, staff)
    assert client.get(f"/c/{c.slug}/letter/versions/1/saves").status_code == 200
    resp = submit(
        f"/c/{c.slug}/letter/versions/1/saves",
        {},
        post_url=f"/c/{c.slug}/letter/saves/{first.id}/restore",
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.scalars(db.select(LetterVersion)).one().body == "Version B."


def test_another_campaigns_save_is_not_found(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    other_owner = f.user()
    other = f.campaign(other_owner, title="Other letter")
    f.login(client, other_owner)
    _save(submit, other, "Secret", "Their private draft.")
    f.login(client, u)
    _save(submit, c, "Mine", "My draft.")
    theirs = [r for r in _revisions() if r.body == "Their private draft."][0]
    page = client.get(f"/c/{c.slug}/letter/versions/1/saves?save={theirs.id}")
    assert page.status_code == 404
    assert client.get(f"/c/{other.slug}/letter/versions/1/saves").status_code == 404
    resp = submit(
        f"/c/{c.slug}/letter/versions/1/saves",
        {},
        post_url=f"/c/{c.slug}/letter/saves/{theirs.id}/restore",
    )
    assert resp.status_code == 404
    db.session.expire_all()
    assert "Their private draft." not in [
        v.body
        for v in db.session.scalars(
            db.select(LetterVersion).where(LetterVersion.campaign_id == c.id)
        )
    ]


def test_the_first_save_of_a_new_version_is_compared_with_the_version_before(client, app, submit):
    u = f.user()
    c = f.published(u, body="We ask you to stop selling.")
    f.login(client, u)
    _save(submit, c, "Stop selling face surveillance", "We ask you to stop selling today.")
    html = client.get(f"/c/{c.slug}/letter/versions/2/saves").get_data(as_text=True)
    assert "Against version 1, which this draft started from" in html
    assert "+1</ins> <del>−0</del> words against version 1" in html
    # Only the new word is marked, not the whole letter.
    assert "<ins> today</ins>" in html and "<ins>We" not in html

import hashlib
import io
import json

from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import AuditEvent, LetterVersion
from tests import factories as f
from tests.conftest import csrf_from


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

    token = csrf_from(client.get(f"/c/{c.slug}").get_data(as_text=True))
    resp = client.post(
        f"/c/{c.slug}/letter", data={"csrf_token": token, "subject": "x", "body": "y"}
    )
    assert resp.status_code == 403


# ---- Live preview, draft PDF, versions, diffs and restore --------------------------------


def _token(client, c):
    return csrf_from(client.get(f"/c/{c.slug}/letter").get_data(as_text=True))


def _preview(client, c, body, subject="Live subject", target="", url="preview", token=None):
    data = {"subject": subject, "body": body, "target": target}
    data["csrf_token"] = token if token is not None else _token(client, c)
    return client.post(f"/c/{c.slug}/letter/{url}", data=data)


def test_live_preview_renders_unsaved_text_for_any_target(client, app):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    body = "{{ target.salutation }},\n\nUnsaved words; {{ signatory_count }} have signed."
    resp = _preview(client, c, body)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Unsaved words; 0 have signed." in html and "Live subject" in html
    assert "Draft" in html  # the unsaved text is a draft, whatever is published
    assert resp.headers["Server-Timing"].startswith("render;dur=")
    assert resp.headers["Cache-Control"] == "no-store"
    target = c.targets[0]
    html = _preview(client, c, body, target=str(target.id)).get_data(as_text=True)
    assert "Dear Mr Vale," in html
    # Nothing was saved: still the one published version with the original text.
    versions = db.session.scalars(db.select(LetterVersion)).all()
    assert len(versions) == 1 and "Unsaved" not in versions[0].body


def test_live_preview_shows_the_current_signatories(client, app):
    from tests.helpers.campaigns import signed

    u = f.user()
    c = f.published(u)
    signed(c, u, "Riverside Privacy Group")
    f.login(client, u)
    html = _preview(client, c, "{{ signatory_count }} signed").get_data(as_text=True)
    assert "1 signed" in html
    assert "Riverside Privacy Group" in html  # the signature block


def test_live_preview_error_names_the_line(client, app):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _preview(client, c, "Dear all,\n\n{{ target.nme }}")
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "line 3" in text and "target.nme" in text and "name, title, organisation" in text
    resp = _preview(client, c, "{% include 'x' %}")
    assert "{% include %}" in resp.get_data(as_text=True)


def test_live_preview_needs_csrf_and_scoping(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    other = f.campaign(f.user(), title="Someone else's")
    f.login(client, u)
    assert _preview(client, c, "x", token="").status_code == 400
    token = _token(client, c)
    assert _preview(client, other, "x", token=token).status_code == 404
    foreign_target = other.targets[0].id
    assert _preview(client, c, "x", target=str(foreign_target), token=token).status_code == 404
    assert _preview(client, c, "x", target="nope", token=token).status_code == 404


def test_preview_pdf_renders_the_draft_inline(client, app):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _preview(client, c, "Dear {{ target.name }}, a PDF of unsaved words.", url="preview.pdf")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "a PDF of unsaved words" in text
    bad = _preview(client, c, "{{ nope }}", url="preview.pdf")
    assert bad.status_code == 400 and "line 1" in bad.get_data(as_text=True)


def _two_versions(submit, client, c):
    _save(submit, c, "Subject", "We ask you to stop selling face surveillance.\n")
    submit(f"/c/{c.slug}/letter", {}, post_url=f"/c/{c.slug}/letter/publish")
    _save(submit, c, "Subject", "We ask you to end selling face surveillance now.\n")


def test_versions_page_diffs_any_two_versions_and_names_people(client, app, submit):
    u = f.user(email="writer@coalition.example")
    c = f.campaign(u)
    f.login(client, u)
    _two_versions(submit, client, c)
    page = client.get(f"/c/{c.slug}/letter/versions").get_data(as_text=True)
    assert "<del>stop</del><ins>end</ins>" in page
    assert "<ins> now</ins>" in page
    assert "by writer@coalition.example" in page
    assert page.count("by writer@coalition.example") == 3  # saved v1, published v1, saved v2
    same = client.get(f"/c/{c.slug}/letter/versions?from=2&to=2").get_data(as_text=True)
    assert "have the same text" in same
    reverse = client.get(f"/c/{c.slug}/letter/versions?from=2&to=1").get_data(as_text=True)
    assert "<del>end</del>" in reverse or "<ins>stop</ins>" in reverse
    assert client.get(f"/c/{c.slug}/letter/versions?from=9").status_code == 404
    assert client.get(f"/c/{c.slug}/letter/versions?from=x").status_code == 404


def test_restore_makes_a_new_draft_and_is_audited(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _two_versions(submit, client, c)
    versions_url = f"/c/{c.slug}/letter/versions"
    resp = submit(versions_url, {}, post_url=f"/c/{c.slug}/letter/versions/1/restore")
    assert resp.status_code == 302
    rows = db.session.scalars(db.select(LetterVersion).order_by(LetterVersion.number)).all()
    assert [v.number for v in rows] == [1, 2, 3]
    assert rows[2].body == rows[0].body and rows[2].restored_from == 1
    assert rows[1].body.startswith("We ask you to end")  # the replaced draft is kept
    assert rows[2].published_at is None
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "letter.restored"))
    assert event.details == {"version": 3, "from_version": 1, "replaced_draft": 2}
    assert event.user_id == u.id
    # The newest version cannot be restored onto itself.
    resp = submit(versions_url, {}, post_url=f"/c/{c.slug}/letter/versions/3/restore")
    assert resp.status_code == 302
    assert db.session.scalar(db.select(db.func.count(LetterVersion.id))) == 3
    assert (
        submit(versions_url, {}, post_url=f"/c/{c.slug}/letter/versions/7/restore").status_code
        == 404
    )


def test_restore_needs_csrf_and_an_editor(client, app, submit):
    from campaign.services.campaigns import add_member

    owner = f.user()
    c = f.campaign(owner)
    f.login(client, owner)
    _two_versions(submit, client, c)
    assert client.post(f"/c/{c.slug}/letter/versions/1/restore").status_code == 400
    staff = f.user(role="staff")
    add_member(c, staff)
    db.session.commit()
    client.post("/logout", data={"csrf_token": _token(client, c)})
    f.login(client, staff)
    page = client.get(f"/c/{c.slug}/letter/versions").get_data(as_text=True)
    assert "Restore as a new draft" not in page
    resp = client.post(
        f"/c/{c.slug}/letter/versions/1/restore", data={"csrf_token": csrf_from(page)}
    )
    assert resp.status_code == 403
    assert db.session.scalar(db.select(db.func.count(LetterVersion.id))) == 2


def test_studio_page_works_as_a_plain_form(client, app):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/letter").get_data(as_text=True)
    # Without JavaScript: a form that saves, a Preview button into the frame, a PDF button.
    assert 'formtarget="letter-preview"' in page and 'name="letter-preview"' in page
    assert 'formaction="/c/' in page and "preview.pdf" in page
    # The toolbar and palette buttons only appear once studio.js runs.
    assert 'role="toolbar"' in page and "hidden data-js-only" in page
    assert "style=" not in page and "<script>" not in page  # the CSP allows neither
    for name in ("target.salutation", "signatory_count", "campaign.deadline"):
        assert f'data-insert="{{{{ {name} }}}}"' in page


def test_browser_line_endings_are_stored_as_lf(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    _save(submit, c, "Subject", "Dear all,\r\n\r\nStop it.\r\n")
    version = db.session.scalar(db.select(LetterVersion))
    assert version.body == "Dear all,\n\nStop it.\n"

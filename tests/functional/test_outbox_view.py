"""The Outbox shows each email as its recipient sees it, safely, with its attachment.

Issue 11 E24.
"""

from campaign.extensions import db
from campaign.services.blobs import store_blob
from campaign.services.campaigns import add_member
from tests import factories as f

PDF = b"%PDF-1.7\n% a tiny stand-in for the signed letter\n%%EOF\n"
HOSTILE_HTML = (
    "<html><head><title>Hidden title</title><style>p{color:red}</style></head><body>"
    '<p style="color:#1d4e89;position:fixed">Dear Ms Vale, <b>please</b> read our letter.</p>'
    "<script>alert('x')</script><img src=\"https://tracker.example/pixel.gif\">"
    '<a href="javascript:alert(1)" onclick="steal()">click</a>'
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="logo">'
    '<form action="https://evil.example"><input name="q"></form></body></html>'
)


def _letter_email(c):
    blob = store_blob(PDF, "application/pdf")
    email = f.queued_email(
        kind="letter",
        to_email="ceo@target.example",
        to_name="Dana Vale",
        subject="Stop selling face surveillance",
        text_body="Dear Ms Vale, please read our letter.",
        html_body=HOSTILE_HTML,
        campaign_id=c.id,
        attachment=("letter-vale.pdf", blob.sha256),
    )
    f.commit()
    return email


def test_outbox_frames_the_html_part_sanitised_under_a_strict_policy(client, app):
    owner = f.user()
    c = f.published(owner)
    email = _letter_email(c)
    f.login(client, owner)

    page = client.get(f"/c/{c.slug}/outbox/{email.id}").get_data(as_text=True)
    assert f'src="/c/{c.slug}/outbox/{email.id}/html"' in page
    assert "<iframe" in page and " sandbox " in page
    assert "alert(" not in page  # the email's markup never enters the app's own page

    resp = client.get(f"/c/{c.slug}/outbox/{email.id}/html")
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "img-src data:" in csp
    assert "script-src" not in csp  # falls back to default-src 'none'
    body = resp.get_data(as_text=True)
    assert "<b>please</b> read our letter" in body and "color:#1d4e89" in body
    for gone in ("<script", "alert(", "onclick", "tracker.example", "javascript:", "<form"):
        assert gone not in body, gone
    assert "position" not in body and "Hidden title" not in body
    assert 'src="data:image/png;base64' in body  # embedded images still show


def test_outbox_links_the_attachment_for_members_of_the_campaign_only(client, app):
    owner, staff, outsider = f.user(), f.user(role="staff"), f.user()
    c = f.published(owner)
    add_member(c, staff)
    theirs = f.published(outsider, title="Another coalition")
    email = _letter_email(c)
    url = f"/c/{c.slug}/outbox/{email.id}/attachment"

    f.login(client, staff)
    assert url in client.get(f"/c/{c.slug}/outbox/{email.id}").get_data(as_text=True)
    assert "letter-vale.pdf" in client.get(f"/c/{c.slug}/outbox").get_data(as_text=True)
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert "letter-vale.pdf" in resp.headers["Content-Disposition"]

    other = app.test_client()
    f.login(other, outsider)
    assert other.get(url).status_code == 404
    assert other.get(f"/c/{theirs.slug}/outbox/{email.id}/attachment").status_code == 404
    assert other.get(f"/c/{theirs.slug}/outbox/{email.id}/html").status_code == 404


def test_plain_text_email_has_no_frame_and_no_attachment_link(client, app):
    owner = f.user()
    c = f.published(owner)
    email = f.queued_email(campaign_id=c.id)
    f.commit()
    f.login(client, owner)
    page = client.get(f"/c/{c.slug}/outbox/{email.id}").get_data(as_text=True)
    assert "<iframe" not in page and "Please sign our letter." in page
    assert client.get(f"/c/{c.slug}/outbox/{email.id}/html").status_code == 404
    assert client.get(f"/c/{c.slug}/outbox/{email.id}/attachment").status_code == 404
    assert db.session.get(type(email), email.id).attachment_sha256 is None

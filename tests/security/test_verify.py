"""/verify and /v/<code>: altered files are caught, bad uploads refused, no personal data."""

import io
import re

from campaign.extensions import db
from campaign.models import IssuedDocument
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import signed


def _issued_letter(client):
    u = f.user()
    c = f.published(u)
    signed(c, u, "Alpha Liberty")
    signed(c, u, "Beta Rights")
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    doc = db.session.scalar(db.select(IssuedDocument))
    return c, resp.data, doc


def _upload(client, data: bytes, url="/verify", name="letter.pdf"):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_exported_pdf_is_genuine_and_one_flipped_byte_is_altered(client, app):
    c, pdf, doc = _issued_letter(client)
    page = _upload(client, pdf)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Genuine and unaltered" in html
    assert c.title in html and "Signatories</dt><dd>2" in html
    assert "Referrer-Policy" in page.headers and page.headers["Referrer-Policy"] == "no-referrer"
    # Personal data stays out: organisation names may be printed, signer names never.
    assert "Signer of" not in html
    for position in (len(pdf) // 2, len(pdf) // 3, len(pdf) - 40):
        altered = bytearray(pdf)
        altered[position] ^= 0x01
        html = _upload(client, bytes(altered)).get_data(as_text=True)
        assert "Altered or not issued here" in html and "Genuine" not in html


def test_a_pdf_not_issued_here_is_reported(client, app):
    random_pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    html = _upload(client, random_pdf).get_data(as_text=True)
    assert "Altered or not issued here" in html


def test_content_appended_after_the_seal_is_altered(client, app):
    _c, pdf, _doc = _issued_letter(client)
    html = _upload(client, pdf + b"\n% appended\n").get_data(as_text=True)
    assert "Altered or not issued here" in html


def test_short_code_page_shows_campaign_and_count_and_checks_a_file(client, app):
    c, pdf, doc = _issued_letter(client)
    page = client.get(f"/v/{doc.code.lower()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert c.title in html and "Signatories</dt><dd>2" in html and "Signed letter" in html
    assert "Signer of" not in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Genuine and unaltered" in _upload(client, pdf, url=f"/v/{doc.code}").get_data(
        as_text=True
    )
    assert client.get("/v/AAAAAAAAAA").status_code == 404
    assert client.get("/v/<script>").status_code == 404


def test_non_pdf_and_empty_uploads_get_a_clear_message(client, app):
    resp = _upload(client, b"GIF89a not a pdf", name="x.gif")
    assert resp.status_code == 400
    assert "This is not a PDF file" in resp.get_data(as_text=True)
    resp = _upload(client, b"", name="empty.pdf")
    assert resp.status_code == 400
    assert "Choose a PDF file" in resp.get_data(as_text=True)


def test_oversized_upload_is_refused_with_a_message(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_MAX_BYTES", 1024)
    resp = _upload(client, b"%PDF-1.7\n" + b"0" * 4096)
    assert resp.status_code == 413
    assert "larger than" in resp.get_data(as_text=True)


def test_verify_post_needs_the_csrf_token(client, app):
    _c, pdf, _doc = _issued_letter(client)
    resp = client.post(
        "/verify",
        data={"file": (io.BytesIO(pdf), "letter.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "CSRF" in html and "Genuine" not in html


def test_verify_is_rate_limited_per_ip(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", "3/minute")
    statuses = [client.get("/verify").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_verify_pages_need_no_login_and_set_a_strict_csp(client, app):
    page = client.get("/verify")
    assert page.status_code == 200
    assert "style-src 'self'" in page.headers.get("Content-Security-Policy", "")
    assert not re.search(r"<[^>]+\sstyle=", page.get_data(as_text=True))


def test_our_seal_on_bytes_never_issued_is_not_called_genuine(client, app):
    from campaign.letters.pdf import html_to_pdf
    from campaign.letters.seal import seal

    forged = seal(html_to_pdf("<p>A letter this site never issued</p>"))
    html = _upload(client, forged).get_data(as_text=True)
    assert "Altered or not issued here" in html
    assert "intact seal of this site" in html and "never issued here" in html


def test_a_file_checked_against_another_code_is_named_different(client, app):
    c, pdf, _doc = _issued_letter(client)
    other = IssuedDocument(
        sha256="0" * 64,
        code="BBBBBBBBBB",
        campaign_id=c.id,
        kind="certificate",
        version_number=1,
        letter_sha256="1" * 64,
        signatory_count=0,
    )
    db.session.add(other)
    f.commit()
    html = _upload(client, pdf, url="/v/BBBBBBBBBB").get_data(as_text=True)
    assert "A different document" in html and "Genuine" not in html

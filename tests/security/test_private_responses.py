"""Item 21: HSTS behind HTTPS, nothing personal cached, a certificate download is not an issue."""

from campaign.extensions import db
from campaign.models import IssuedDocument
from tests import factories as f
from tests.helpers.campaigns import signed


def test_hsts_is_sent_only_when_cookies_are_https_only(client, app, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    hsts = client.get("/login").headers.get("Strict-Transport-Security", "")
    assert hsts.startswith("max-age=") and int(hsts.split("=")[1]) >= 31536000


def test_pages_with_personal_data_and_exports_are_never_cached(client, app):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    signed(c, u, "Alpha Liberty")
    # Signing links, before anyone logs in.
    assert client.get(f"/s/{token}").headers.get("Cache-Control") == "no-store"
    f.login(client, u)
    private = [
        "/",
        f"/c/{c.slug}",
        f"/c/{c.slug}/partners",
        f"/c/{c.slug}/outbox",
        f"/c/{c.slug}/signatories.csv",
        f"/c/{c.slug}/signatories.xlsx",
        f"/c/{c.slug}/letter.pdf",
        f"/c/{c.slug}/certificate.pdf",
        f"/c/{c.slug}/members",
    ]
    for url in private:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        assert resp.headers.get("Cache-Control") == "no-store", url
    # Our own stylesheet and the public verification page may be cached.
    static = client.get("/static/css/app.css")
    static.close()  # the file is streamed; close it
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/verify").headers.get("Cache-Control", "")


def test_downloading_the_certificate_twice_issues_one_document(client, app):
    u = f.user()
    c = f.published(u)
    signed(c, u, "Alpha Liberty")
    f.login(client, u)
    first = client.get(f"/c/{c.slug}/certificate.pdf")
    second = client.get(f"/c/{c.slug}/certificate.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert first.headers["X-Content-SHA256"] == second.headers["X-Content-SHA256"]
    certificates = db.select(db.func.count(IssuedDocument.id)).where(
        IssuedDocument.kind == "certificate"
    )
    assert db.session.scalar(certificates) == 1
    # A new signature moves the audit chain on: the next download is a new certificate.
    signed(c, u, "Beta Open Group")
    third = client.get(f"/c/{c.slug}/certificate.pdf")
    assert third.status_code == 200
    assert third.headers["X-Content-SHA256"] != first.headers["X-Content-SHA256"]
    assert db.session.scalar(certificates) == 2
    assert client.get(f"/c/{c.slug}/certificate.pdf").data == third.data

"""Cross-site request forgery: organiser actions need the form's token."""

from campaign.extensions import db
from tests import factories as f


def test_organiser_post_without_token_changes_nothing(client, app):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    resp = client.post(f"/c/{c.slug}/close")
    assert resp.status_code == 400
    resp = client.post(f"/c/{c.slug}/close", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    db.session.refresh(c)
    assert c.status == "open"


def test_login_form_needs_token(client, app):
    u = f.user()
    resp = client.post("/login", data={"email": u.email, "password": f.PASSWORD})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302

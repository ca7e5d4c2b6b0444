"""Per-user rate limits on the letter previews: each one is a full render."""

from campaign.extensions import db
from campaign.services.campaigns import add_member
from tests import factories as f
from tests.conftest import csrf_from

LETTER = {"subject": "Hello", "body": "Dear all,\n\nStop."}


def _post(client, c, path):
    token = csrf_from(client.get(f"/c/{c.slug}/letter").get_data(as_text=True))
    return client.post(f"/c/{c.slug}/letter/{path}", data={"csrf_token": token, **LETTER})


def test_pdf_preview_over_the_limit_gets_the_429_page(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PREVIEW_PDF_RATE_LIMIT", "2/minute")
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    responses = [_post(client, c, "preview.pdf") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].mimetype == "application/pdf"
    page = responses[2].get_data(as_text=True)
    assert "Too many requests" in page and "%PDF" not in page
    # The HTML live preview has its own, separate budget.
    assert _post(client, c, "preview").status_code == 200


def test_live_preview_is_limited_per_user_not_per_office(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PREVIEW_RATE_LIMIT", "3/minute")
    u = f.user()
    c = f.campaign(u)
    colleague = f.user()
    add_member(c, colleague)
    db.session.commit()
    f.login(client, u)
    codes = [_post(client, c, "preview").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # A colleague behind the same address still gets previews.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    f.login(client, colleague)
    assert _post(client, c, "preview").status_code == 200

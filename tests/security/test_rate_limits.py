"""Per-IP rate limits on signing links and the login form."""

from tests import factories as f


def test_signing_links_are_rate_limited_per_ip(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNING_RATE_LIMIT", "5/minute")
    statuses = [client.get(f"/s/guess-{n}").status_code for n in range(7)]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
    # Another address is counted on its own.
    other = client.get("/s/guess-x", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404


def test_login_attempts_are_rate_limited(client, app, monkeypatch, submit):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3/minute")
    u = f.user()
    codes = [
        submit("/login", {"email": u.email, "password": "wrong guess"}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    page = submit("/login", {"email": u.email, "password": f.PASSWORD})
    assert page.status_code == 429  # even the right password waits
    assert "Too many requests" in page.get_data(as_text=True)

from tests import factories as f


def test_pages_need_login(client, app):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_login_with_wrong_password_says_so_on_the_field(client, app, submit):
    u = f.user()
    resp = submit("/login", {"email": u.email, "password": "wrong password!"})
    assert resp.status_code == 200
    assert "do not match an account" in resp.get_data(as_text=True)


def test_login_then_logout(client, app, submit):
    u = f.user()
    f.login(client, u)
    assert client.get("/").status_code == 200
    resp = submit("/", {}, post_url="/logout")
    assert resp.status_code == 302
    assert client.get("/").status_code == 302


def test_login_ignores_offsite_next(client, app, submit):
    u = f.user()
    resp = submit("/login?next=//evil.example/x", {"email": u.email, "password": f.PASSWORD})
    assert resp.headers["Location"] == "/"


def test_password_is_stored_hashed(app):
    u = f.user()
    assert f.PASSWORD not in u.password_hash
    assert u.check_password(f.PASSWORD)

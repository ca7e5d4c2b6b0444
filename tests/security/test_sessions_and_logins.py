"""Items 17-19: sessions end on the server, logins tell nothing, one rule for addresses."""

import time
from datetime import timedelta

import pytest

from campaign.extensions import db
from campaign.models import User
from campaign.models import users as users_model
from campaign.services.users import create_user
from tests import factories as f


def _copy_session(app, client):
    """A second browser holding a copy of this browser's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_copied_session_cookie_stops_working_after_logout(client, app, submit):
    u = f.user()
    f.login(client, u)
    thief = _copy_session(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    resp = submit("/", {}, post_url="/logout")
    assert resp.status_code == 302
    replay = thief.get("/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    # The account itself is fine: logging in again works.
    f.login(client, u)
    assert client.get("/").status_code == 200


def test_a_session_expires_its_lifetime_after_sign_in(client, app, monkeypatch):
    monkeypatch.setattr(app, "permanent_session_lifetime", timedelta(hours=2))
    u = f.user()
    f.login(client, u)
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session")
    # Browsers drop the cookie at the lifetime's end too.
    assert cookie.expires is not None
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - 3600  # an hour in: still signed in
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - 2 * 3600 - 5  # past the lifetime
    expired = client.get("/")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    # However busy the session was: the requests above did not extend it.
    assert client.get("/").status_code == 302


def test_session_lifetime_is_configured_from_the_environment(monkeypatch, tmp_path):
    from campaign.config import load_settings

    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "3")
    monkeypatch.setenv("SECRET_KEY", "x")
    assert load_settings(tmp_path)["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=3)
    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "0")
    with pytest.raises(RuntimeError, match="SESSION_LIFETIME_HOURS must be above zero"):
        load_settings(tmp_path)


def _count_password_checks(monkeypatch) -> list:
    """Record each password verification, still doing the real (scrypt) check."""
    calls = []
    real = users_model.verify_password

    def counting(password_hash, password):
        calls.append(password_hash.split("$", 1)[0])  # the method and its cost
        return real(password_hash, password)

    monkeypatch.setattr(users_model, "verify_password", counting)
    return calls


def test_unknown_address_costs_the_same_password_check_as_a_known_one(
    client, app, submit, monkeypatch
):
    u = f.user()
    calls = _count_password_checks(monkeypatch)
    known = submit("/login", {"email": u.email, "password": "a wrong password"})
    unknown = submit("/login", {"email": "nobody@example.org", "password": "a wrong password"})
    assert known.status_code == unknown.status_code == 200
    # Same answer, and the same work: one check each, with the same hasher and cost.
    assert known.get_data(as_text=True).count("do not match an account") == 1
    assert unknown.get_data(as_text=True).count("do not match an account") == 1
    assert len(calls) == 2 and calls[0] == calls[1]
    assert calls[0] == u.password_hash.split("$", 1)[0]


def test_failed_logins_for_one_account_are_throttled_across_ips(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3/minute")
    u = f.user()
    other = f.user()

    def attempt(email, password, ip):
        env = {"REMOTE_ADDR": ip}
        page = client.get("/login", environ_base=env)
        from tests.conftest import csrf_from

        token = csrf_from(page.get_data(as_text=True))
        return client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            environ_base=env,
        )

    # A correct login does not count against the account.
    assert attempt(u.email, f.PASSWORD, "10.1.0.1").status_code == 302
    # Three wrong guesses from three addresses, typed in different case and spacing.
    for n, typed in enumerate([u.email, u.email.upper(), f"  {u.email} "]):
        assert attempt(typed, "wrong guess", f"10.2.0.{n}").status_code == 200
    locked = attempt(u.email, f.PASSWORD, "10.3.0.1")
    assert locked.status_code == 429  # even the right password waits, from a fresh IP
    assert "Too many failed logins for this account" in locked.get_data(as_text=True)
    # Another account is counted on its own.
    assert attempt(other.email, f.PASSWORD, "10.3.0.1").status_code == 302
    # An address with no account locks the same way, so the pause reveals nothing.
    for n in range(3):
        assert attempt("nobody@example.org", "guess", f"10.4.0.{n}").status_code == 200
    assert attempt("nobody@example.org", "guess", "10.5.0.1").status_code == 429


@pytest.mark.parametrize(
    "address",
    ["admin@localhost", "bob", "a@b", "someone@site.test", "two@@example.org", "x y@example.org"],
)
def test_create_user_refuses_addresses_the_login_form_refuses(app, client, submit, address):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", address], input=f"{f.PASSWORD}\n{f.PASSWORD}\n")
    assert result.exit_code != 0
    assert "email:" in result.output and "not a valid email address" in result.output
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0
    page = submit("/login", {"email": address, "password": f.PASSWORD})
    assert page.status_code == 200 and "not a valid email address" in page.get_data(as_text=True)


def test_an_address_create_user_accepts_can_log_in_as_typed_anyhow(app, client, submit):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "  Ana.Ruiz@Example.ORG "], input=f"{f.PASSWORD}\n{f.PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "ana.ruiz@example.org" in result.output
    resp = submit("/login", {"email": "ANA.RUIZ@example.org", "password": f.PASSWORD})
    assert resp.status_code == 302


def test_service_and_form_share_the_address_rule(app):
    from campaign.errors import Invalid

    with pytest.raises(Invalid) as exc:
        create_user("admin@localhost", f.PASSWORD)
    assert exc.value.field == "email"

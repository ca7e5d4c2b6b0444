"""The public sign-on form cannot be used to mail strangers (issue 11 C15).

Six sign-ups from six IP addresses, all giving one third-party address, queued six
confirmation emails, each opening with whatever text the attacker typed.
"""

import re
import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from campaign.extensions import db
from campaign.models import OutboundEmail, SignatureRequest
from campaign.services import public_sign_on as public_signing
from campaign.services import signup_mail
from tests import factories as f
from tests.conftest import csrf_from

ORGANISATION = "URGENT Your bank account is locked call 555 0100"
NAME = "The Security Team of Your Bank"
TITLE = "Fraud department"
WEBSITE = "https://bank-login.example"


def _enable(c, u):
    token = public_signing.set_enabled(c, u, True).token
    f.commit()
    return token


def _sign_up(client, token, email, ip):
    page = client.get(f"/p/{token}", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    return client.post(
        f"/p/{token}",
        data={
            "csrf_token": csrf_from(page),
            "version_id": page.split('name="version_id" value="')[1].split('"')[0],
            "organisation": ORGANISATION,
            "signer_name": NAME,
            "signer_title": TITLE,
            "signer_email": email,
            "website": WEBSITE,
            "tier": "local",
            "authorised": "y",
        },
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": ip},
    )


def _confirmations():
    db.session.expire_all()
    return db.session.scalars(
        db.select(OutboundEmail)
        .where(OutboundEmail.kind == "public_confirmation")
        .order_by(OutboundEmail.id)
    ).all()


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


def test_six_sign_ups_for_one_stranger_send_one_email_and_the_page_never_tells(client, app):
    u = f.user()
    c = f.published(u)
    token = _enable(c, u)
    spellings = [
        "victim@mail.example",
        "Victim@mail.example",
        "victim+letter@mail.example",
        "VICTIM@MAIL.EXAMPLE",
        "victim+2@mail.example",
        "victim@mail.example",
    ]
    pages = []
    for n, address in enumerate(spellings):
        resp = _sign_up(client, token, address, ip=f"203.0.113.{n + 1}")
        assert resp.status_code == 200
        # The page names the address as typed (normalised); everything else is the same.
        page = re.sub(r"[\w.+-]+@[\w.-]+", "ADDRESS", resp.get_data(as_text=True))
        pages.append(_without_csrf(page))
    assert all(page == pages[0] for page in pages), "the page must not reveal the limit"
    assert "Check your email" in pages[0]

    (email,) = _confirmations()
    assert email.to_email == "victim@mail.example"
    # Every sign-up was still recorded, for the organisers to see (and block).
    assert db.session.scalar(db.select(db.func.count(SignatureRequest.id))) == 6


def test_confirmation_email_carries_only_the_campaigns_own_words(client, app):
    u = f.user()
    c = f.published(u)
    _sign_up(client, _enable(c, u), "victim@mail.example", ip="203.0.113.9")
    (email,) = _confirmations()
    assert email.subject == f"Please confirm your email address: {c.title}"
    assert email.to_name == ""  # the To header's display name is the attacker's too
    assert email.text_body.splitlines()[0].startswith(
        f'Please confirm your email address for the open letter "{c.title}"'
    )
    for typed in (ORGANISATION, NAME, TITLE, WEBSITE, "bank"):
        for part in (email.subject, email.to_name, email.text_body):
            assert typed.lower() not in part.lower(), (typed, part)
    assert "/s/" in email.text_body  # the link still arrives


def test_another_confirmation_goes_out_once_the_interval_has_passed(client, app):
    u = f.user()
    c = f.published(u)
    token = _enable(c, u)
    _sign_up(client, token, "rae@copwatch.example", ip="203.0.113.1")
    _sign_up(client, token, "rae@copwatch.example", ip="203.0.113.2")
    assert len(_confirmations()) == 1
    first = _confirmations()[0]
    first.created_at -= timedelta(hours=app.config["PUBLIC_CONFIRM_INTERVAL_HOURS"] + 1)
    f.commit()
    _sign_up(client, token, "rae@copwatch.example", ip="203.0.113.3")
    assert len(_confirmations()) == 2
    # Other people, and the same person on another campaign, are not held back.
    _sign_up(client, token, "sam@copwatch.example", ip="203.0.113.4")
    other = f.published(u, title="Another letter")
    _sign_up(client, _enable(other, u), "rae@copwatch.example", ip="203.0.113.5")
    assert len(_confirmations()) == 4


def test_gmail_dots_and_googlemail_are_one_mailbox():
    assert signup_mail.mailbox("Vic.Tim+x@googlemail.com") == "victim@gmail.com"
    assert signup_mail.mailbox("vic.tim@other.example") == "vic.tim@other.example"


# SQLite runs one writer at a time, so the race is only real on PostgreSQL.
@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_concurrent_sign_ups_for_one_address_still_send_one_email(app):
    """Six real requests at once on PostgreSQL: the limit holds under concurrency."""
    u = f.user()
    c = f.published(u)
    token = _enable(c, u)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    barrier = threading.Barrier(6)

    def sign_up(n: int) -> int:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(f"{base}/p/{token}").read().decode()
        form = {
            "csrf_token": csrf_from(page),
            "version_id": page.split('name="version_id" value="')[1].split('"')[0],
            "organisation": f"{ORGANISATION} {n}",
            "signer_name": NAME,
            "signer_email": "victim@mail.example",
            "tier": "local",
            "authorised": "y",
        }
        barrier.wait(timeout=30)
        body = urllib.parse.urlencode(form).encode()
        return opener.open(f"{base}/p/{token}", data=body).status

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(sign_up, range(6)))
    finally:
        server.shutdown()
    assert statuses == [200] * 6
    assert db.session.scalar(db.select(db.func.count(SignatureRequest.id))) == 6
    assert len(_confirmations()) == 1

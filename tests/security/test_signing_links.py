"""Attacks on personal signing links: guessing, reuse after revocation, expiry, CSRF."""

from campaign.extensions import db
from campaign.models import Signature, SignatureRequest
from tests import factories as f


def test_unknown_tokens_all_get_the_same_plain_404(client, app):
    u = f.user()
    c = f.published(u)
    f.invited(c, u, f.partner(c, u))
    bodies = set()
    for token in ("x" * 43, "y" * 43, "not-a-link"):
        resp = client.get(f"/s/{token}")
        assert resp.status_code == 404
        bodies.add(resp.get_data(as_text=True))
    assert len(bodies) == 1
    assert c.lead_organisation not in bodies.pop()  # nothing tells a guesser what exists


def test_the_database_never_holds_the_token(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    stored = db.session.scalars(db.select(SignatureRequest.token_sha256)).all()
    assert token not in stored
    # Knowing the stored hash is not enough to sign.
    assert client.get(f"/s/{stored[0]}").status_code == 404


def test_signing_post_without_csrf_token_is_refused(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    version_id = page.split('name="version_id" value="')[1].split('"')[0]
    resp = client.post(
        f"/s/{token}",
        data={
            "version_id": version_id,
            "organisation": "Forged",
            "signer_name": "Mallory",
            "signer_email": "m@evil.example",
            "authorised": "y",
        },
    )
    assert resp.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0


def test_signing_pages_never_send_a_referrer(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    for url in (f"/s/{token}", f"/s/{token}/letter", "/s/unknown-token"):
        assert client.get(url).headers["Referrer-Policy"] == "no-referrer"


def test_a_tampered_token_is_404(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/s/{flipped}").status_code == 404
    assert client.get(f"/s/{token}x").status_code == 404
    assert client.get(f"/s/{token[:20]}").status_code == 404


def test_a_replayed_signing_post_does_not_sign_twice(client, app):
    from tests.helpers.forms import sign_via_link

    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    for _ in range(3):
        assert sign_via_link(client, token).status_code == 302
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 1

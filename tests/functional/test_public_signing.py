"""Public sign-on: double opt-in, moderation, blocklists and bulk invalidation."""

import io

from campaign.extensions import db
from campaign.models import AuditEvent, OutboundEmail, Partner, SignatureRequest
from campaign.services import public_sign_on as public_signing
from campaign.services.letters import signatory_dicts
from tests import factories as f
from tests.helpers.campaigns import enable_public_link
from tests.helpers.forms import ask_publicly


def _link_from_email(to):
    email = db.session.scalar(
        db.select(OutboundEmail)
        .where(OutboundEmail.to_email == to)
        .order_by(OutboundEmail.id.desc())
    )
    return email.text_body.split("/s/")[1].split()[0]


def test_public_signature_counts_only_after_confirmation_and_approval(client, app, submit):
    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    resp = ask_publicly(client, token, logo=(io.BytesIO(f.png()), "logo.png"))
    assert resp.status_code == 200 and "Check your email" in resp.get_data(as_text=True)
    assert signatory_dicts(c) == []
    personal = _link_from_email("rae@copwatch.example")
    page = client.get(f"/s/{personal}").get_data(as_text=True)
    assert "Confirm your email address" in page
    req = db.session.scalar(db.select(SignatureRequest))
    assert req.status == "unconfirmed"  # the GET changed nothing
    submit(f"/s/{personal}", {}, post_url=f"/s/{personal}/confirm")
    db.session.refresh(req)
    assert req.status == "pending" and signatory_dicts(c) == []
    f.login(client, u)
    queue = client.get(f"/c/{c.slug}/moderation").get_data(as_text=True)
    assert "Harbor City Copwatch" in queue and "@copwatch.example matches the website" in queue
    submit(f"/c/{c.slug}/moderation", {}, post_url=f"/c/{c.slug}/moderation/{req.id}/approve")
    db.session.refresh(req)
    assert req.status == "signed"
    assert [s["organisation"] for s in signatory_dicts(c)] == ["Harbor City Copwatch"]
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert {"signature.requested", "signature.confirmed", "signature.approved"} <= set(actions)


def test_rejection_needs_a_reason_and_the_signer_sees_it(client, app, submit):
    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    ask_publicly(client, token)
    personal = _link_from_email("rae@copwatch.example")
    submit(f"/s/{personal}", {}, post_url=f"/s/{personal}/confirm")
    req = db.session.scalar(db.select(SignatureRequest))
    f.login(client, u)
    url = f"/c/{c.slug}/moderation/{req.id}/reject"
    resp = submit(f"/c/{c.slug}/moderation", {"reason": ""}, post_url=url, follow_redirects=True)
    assert "say why" in resp.get_data(as_text=True)
    submit(f"/c/{c.slug}/moderation", {"reason": "Not a real organisation"}, post_url=url)
    db.session.refresh(req)
    assert req.status == "rejected"
    page = client.get(f"/s/{personal}").get_data(as_text=True)
    assert "Not a real organisation" in page and "Save changes" not in page


def test_blocked_domain_and_ip_are_refused_without_detail(client, app):
    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    public_signing.block(c, u, kind="domain", value="@spam.example")
    f.commit()
    resp = ask_publicly(client, token, signer_email="bot@mail.spam.example")
    assert resp.status_code == 403
    assert "could not accept this signature" in resp.get_data(as_text=True)
    public_signing.block(c, u, kind="ip", value="127.0.0.1")
    f.commit()
    assert ask_publicly(client, token).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0


def test_bulk_invalidation_by_domain(client, app):
    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    for n in range(3):
        ask_publicly(
            client, token, organisation=f"Bot Org {n}", signer_email=f"b{n}@botnet.example"
        )
    ask_publicly(client, token, organisation="Real Org", signer_email="x@real.example")
    for req in db.session.scalars(db.select(SignatureRequest)):
        req.status = "signed"
    f.commit()
    count = public_signing.invalidate_from(
        c, u, kind="domain", value="botnet.example", reason="botnet"
    )
    f.commit()
    assert count == 3
    assert [s["organisation"] for s in signatory_dicts(c)] == ["Real Org"]


def test_public_link_off_or_rotated_is_404(client, app):
    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    assert client.get(f"/p/{token}").status_code == 200
    new = public_signing.rotate(c, u).token
    f.commit()
    assert client.get(f"/p/{token}").status_code == 404
    public_signing.set_enabled(c, u, False)
    f.commit()
    assert client.get(f"/p/{new}").status_code == 404


def test_withdrawn_public_signer_goes_back_to_review_when_signing_again(client, app, submit):
    from tests.helpers.forms import sign_via_link

    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    ask_publicly(client, token)
    personal = _link_from_email("rae@copwatch.example")
    submit(f"/s/{personal}", {}, post_url=f"/s/{personal}/confirm")
    req = db.session.scalar(db.select(SignatureRequest))
    public_signing.moderate(c, u, req.id, approve=True)
    f.commit()
    submit(f"/s/{personal}", {}, post_url=f"/s/{personal}/withdraw")
    sign_via_link(client, personal, organisation="Harbor City Copwatch")
    db.session.refresh(req)
    assert req.status == "pending"


def test_another_campaigns_request_id_is_404(client, app, submit):
    alice, bob = f.user(), f.user()
    theirs = f.published(alice)
    token = enable_public_link(theirs, alice)
    ask_publicly(client, token)
    req = db.session.scalar(db.select(SignatureRequest))
    mine = f.published(bob, title="Bob campaign")
    f.login(client, bob)
    resp = submit(
        f"/c/{mine.slug}/moderation", {}, post_url=f"/c/{mine.slug}/moderation/{req.id}/approve"
    )
    assert resp.status_code == 404
    assert client.get(f"/c/{theirs.slug}/moderation").status_code == 404

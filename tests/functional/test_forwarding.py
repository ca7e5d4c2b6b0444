"""Delegation: the invitee forwards the link to a colleague who may sign."""

from campaign.extensions import db
from campaign.models import AuditEvent, OutboundEmail, Signature, SignatureRequest
from tests import factories as f
from tests.helpers.forms import sign_via_link


def _forward(submit, token, **data):
    return submit(f"/s/{token}", data, post_url=f"/s/{token}/forward")


def test_forward_gives_the_colleague_a_link_and_kills_the_old_one(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u, name="Digital Rights Alliance")
    old = f.invited(c, u, p)
    resp = _forward(
        submit,
        old,
        colleague_name="Dana Director",
        colleague_email="dana@dra.example",
        note="You can sign this one",
    )
    assert resp.status_code == 200
    assert "on its way to Dana Director" in resp.get_data(as_text=True)
    gone = client.get(f"/s/{old}")
    assert gone.status_code == 410 and "This link was passed on" in gone.get_data(as_text=True)
    email = db.session.scalar(
        db.select(OutboundEmail).where(OutboundEmail.to_email == "dana@dra.example")
    )
    assert "You can sign this one" in email.text_body
    new = email.text_body.split("/s/")[1].split()[0]
    page = client.get(f"/s/{new}").get_data(as_text=True)
    assert 'value="Dana Director"' in page and 'value="dana@dra.example"' in page
    assert (
        sign_via_link(
            client, new, signer_name="Dana Director", signer_email="dana@dra.example"
        ).status_code
        == 302
    )
    sig = db.session.scalar(db.select(Signature))
    assert sig.signer_name == "Dana Director"
    # The chain of who handed the link to whom is recorded.
    reqs = db.session.scalars(db.select(SignatureRequest).order_by(SignatureRequest.id)).all()
    assert reqs[1].forwarded_from_id == reqs[0].id
    assert "link.forwarded" in db.session.scalars(db.select(AuditEvent.action)).all()


def test_forward_with_bad_email_is_shown_on_the_field(client, app, submit):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = _forward(submit, token, colleague_name="X", colleague_email="nope")
    assert resp.status_code == 400
    assert "Invalid email address." in resp.get_data(as_text=True)
    assert client.get(f"/s/{token}").status_code == 200  # nothing changed


def test_consent_is_recorded_with_its_exact_wording(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    sign_via_link(client, token, contact_consent="y")
    sig = db.session.scalar(db.select(Signature))
    assert sig.contact_consent.startswith("Coalition for Privacy (the lead organisation) may keep")
    assert sig.contact_consent_at is not None
    sign_via_link(client, token)  # unticked on an edit: consent withdrawn
    db.session.refresh(sig)
    assert sig.contact_consent == "" and sig.contact_consent_at is None


def test_organiser_can_revoke_a_link(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}/partners",
        {},
        post_url=f"/c/{c.slug}/partners/{p.id}/revoke",
        follow_redirects=True,
    )
    assert "no longer works" in resp.get_data(as_text=True)
    gone = client.get(f"/s/{token}")
    assert gone.status_code == 410 and "This link was withdrawn" in gone.get_data(as_text=True)
    assert "revoked" in client.get(f"/c/{c.slug}/partners").get_data(as_text=True)

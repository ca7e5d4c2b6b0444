"""Batched sending: one v3 mail/send request per 1,000 recipients sharing a template."""

from campaign import jobs
from campaign.extensions import db
from campaign.mail.outbox import BatchItem, queue_batch
from campaign.models import OutboundEmail


def _batch_queue(n: int, lone: BatchItem | None = None) -> list[OutboundEmail]:
    template = "Hello %name_x%, sign at %url_x%\n"
    items = [
        BatchItem(
            to_email=f"p{i}@group.test",
            to_name=f"Person {i}",
            subject=f"Will Org {i} co-sign?",
            text_body=f"Hello Person {i}, sign at https://s.test/{i}\n",
            template=template,
            substitutions={"%name_x%": f"Person {i}", "%url_x%": f"https://s.test/{i}"},
        )
        for i in range(n)
    ]
    queue_batch("invitation", items + ([lone] if lone else []))
    return list(db.session.scalars(db.select(OutboundEmail).order_by(OutboundEmail.id)))


def test_batched_emails_go_out_as_one_request_with_a_personalization_each(sendgrid):
    emails = _batch_queue(3)
    ids = [e.id for e in emails]
    db.session.commit()
    assert jobs.run_ready() == 1  # one job for the whole batch

    [request] = sendgrid.requests
    body = request.body
    assert body["content"] == [{"type": "text/plain", "value": "Hello %name_x%, sign at %url_x%\n"}]
    assert "custom_args" not in body
    assert [p["to"] for p in body["personalizations"]] == [
        [{"email": f"p{i}@group.test", "name": f"Person {i}"}] for i in range(3)
    ]
    for i, person in enumerate(body["personalizations"]):
        assert person["subject"] == f"Will Org {i} co-sign?"
        assert person["substitutions"] == {
            "%name_x%": f"Person {i}",
            "%url_x%": f"https://s.test/{i}",
        }
        assert person["custom_args"] == {"outbound_id": str(ids[i])}
    db.session.expire_all()
    rows = [db.session.get(OutboundEmail, i) for i in ids]
    assert {r.status for r in rows} == {"sent"}
    assert {r.provider_message_id for r in rows} == {"fake000001"}


def test_email_whose_text_does_not_match_its_template_is_sent_alone(sendgrid):
    lone = BatchItem(
        to_email="odd@group.test",
        to_name="",
        subject="Hi",
        text_body="Hello there, sign at https://s.test/odd\n",
        template="Hello %name_x%, sign at %url_x%\n",
        substitutions={"%name_x%": "Person", "%url_x%": "https://s.test/odd"},
    )
    emails = _batch_queue(2, lone)
    alone = [e.to_email for e in emails if e.batch_id is None]
    assert alone == ["odd@group.test"]
    db.session.commit()
    jobs.run_ready()

    assert sorted(len(r.body["personalizations"]) for r in sendgrid.requests) == [1, 2]
    single = next(r.body for r in sendgrid.requests if len(r.body["personalizations"]) == 1)
    assert single["content"][0]["value"] == "Hello there, sign at https://s.test/odd\n"


def test_a_value_holding_a_placeholder_key_is_not_batched(sendgrid):
    sneaky = BatchItem(
        to_email="x@group.test",
        to_name="%url_x%",
        subject="Hi",
        text_body="Hello %url_x%, sign at https://s.test/x\n",
        template="Hello %name_x%, sign at %url_x%\n",
        substitutions={"%name_x%": "%url_x%", "%url_x%": "https://s.test/x"},
    )
    [email] = _batch_queue(0, sneaky)
    assert email.batch_id is None and email.substitutions is None


def test_recipient_sendgrid_blames_fails_alone_and_the_rest_are_sent(sendgrid):
    sendgrid.error(
        400, "Does not contain a valid address.", field_name="personalizations.1.to.0.email"
    )
    emails = _batch_queue(3)
    ids = [e.id for e in emails]
    db.session.commit()
    jobs.run_ready()

    db.session.expire_all()
    rows = [db.session.get(OutboundEmail, i) for i in ids]
    assert [r.status for r in rows] == ["sent", "failed", "sent"]
    assert "valid address" in rows[1].error
    assert rows[0].attempts == 1
    assert [len(r.body["personalizations"]) for r in sendgrid.requests] == [3, 2]


def test_refused_batch_fails_every_email_with_the_reason(sendgrid):
    sendgrid.error(403, "The from address does not match a verified Sender Identity.", "from")
    ids = [e.id for e in _batch_queue(3)]
    db.session.commit()
    jobs.run_ready()

    db.session.expire_all()
    rows = [db.session.get(OutboundEmail, i) for i in ids]
    assert {r.status for r in rows} == {"failed"}
    assert all("Sender Identity" in r.error for r in rows)
    assert len(sendgrid.requests) == 1


def test_invitations_share_one_request_and_each_gets_its_own_link(sendgrid):
    from campaign.models import SignatureRequest
    from campaign.services.partners import hash_token, invite
    from tests import factories as f

    u = f.user()
    c = f.published(u)
    ps = [f.partner(c, u) for _ in range(4)]
    ps[3].contact_name = ""  # a different greeting: its own template
    tokens = invite(c, u, ps)
    f.commit()

    sizes = sorted(len(r.body["personalizations"]) for r in sendgrid.requests)
    assert sizes == [1, 3]
    received = {}
    for request in sendgrid.requests:
        for person in request.body["personalizations"]:
            text = request.body["content"][0]["value"]
            for key, value in (person.get("substitutions") or {}).items():
                text = text.replace(key, value)
            received[person["to"][0]["email"]] = text
    for p in ps:
        row = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.partner_id == p.id))
        assert f"/s/{tokens[p.id]}" in row.text_body
        # What SendGrid builds from template + substitutions is exactly the stored email.
        assert received[p.contact_email] == row.text_body
        assert row.status == "sent"
        req = db.session.scalar(
            db.select(SignatureRequest).where(
                SignatureRequest.token_sha256 == hash_token(tokens[p.id])
            )
        )
        assert req.partner_id == p.id

import hashlib
import io

from campaign.extensions import db
from campaign.models import OutboundEmail, Partner, SignatureRequest
from tests import factories as f

GOOD_CSV = (
    "organisation,contact_email,contact_name,website,tier\n"
    "Digital Rights Alliance,info@dra.example,Amara Okafor,dra.example,national\n"
    "Northstate Civil Liberties,hello@nscl.example,,https://nscl.example,state\n"
)


def _upload(submit, c, content: bytes, name="partners.csv"):
    return submit(
        f"/c/{c.slug}/partners",
        {"file": (io.BytesIO(content), name)},
        post_url=f"/c/{c.slug}/partners/import",
        content_type="multipart/form-data",
    )


def test_add_partner_and_duplicate_email_is_refused(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    data = {"organisation": "Privacy First", "contact_email": "a@pf.example", "tier": "national"}
    assert submit(f"/c/{c.slug}/partners", data).status_code == 302
    resp = submit(f"/c/{c.slug}/partners", data)
    assert resp.status_code == 400
    assert "already on the partner list" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 1


def test_csv_import_adds_every_row(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _upload(submit, c, GOOD_CSV.encode())
    assert resp.status_code == 302
    rows = db.session.scalars(db.select(Partner).order_by(Partner.organisation)).all()
    assert [(p.organisation, p.tier, p.website) for p in rows] == [
        ("Digital Rights Alliance", "national", "https://dra.example"),
        ("Northstate Civil Liberties", "state", "https://nscl.example"),
    ]


def test_csv_with_bad_rows_reports_each_and_imports_nothing(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    bad = (
        "organisation,contact_email,tier\n"
        "Good Org,good@org.example,national\n"
        ",nobody@org.example,local\n"
        "Bad Mail,not-an-email,state\n"
        "Wrong Tier,x@y.example,galactic\n"
        "Dup,good@org.example,local\n"
    )
    resp = _upload(submit, c, bad.encode())
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "Nothing was imported" in body
    assert "Line 3: organisation: is required" in body
    assert "Line 4: contact_email: not-an-email is not a valid email address" in body
    assert "Line 5: tier:" in body and "galactic" in body
    assert "Line 6: contact_email: good@org.example appears twice" in body
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0


def test_csv_without_required_columns_or_not_utf8(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _upload(submit, c, b"name,email\nA,a@b.example\n")
    assert "lacks the column(s): organisation, contact_email" in resp.get_data(as_text=True)
    resp = _upload(submit, c, "organisation,contact_email\nCaf\xe9,a@b.example\n".encode("latin-1"))
    assert "is not UTF-8" in resp.get_data(as_text=True)


def test_invite_stores_only_token_hash_and_queues_email_in_same_transaction(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    f.login(client, u)
    resp = submit(f"/c/{c.slug}/partners", {}, post_url=f"/c/{c.slug}/partners/invite")
    assert resp.status_code == 302
    req = db.session.scalar(db.select(SignatureRequest))
    email = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "invitation"))
    token = email.text_body.split("/s/")[1].split()[0]
    assert len(token) >= 43
    assert req.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in req.token_sha256
    assert req.expires_at == c.deadline
    assert email.to_email == p.contact_email
    # The local outbox "sent" it after the commit (no SendGrid key configured).
    assert email.status == "sent" and email.provider == "local"


def test_invite_before_publishing_is_refused(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.partner(c, u)
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}/partners", {}, post_url=f"/c/{c.slug}/partners/invite", follow_redirects=True
    )
    assert "Publish the letter" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(OutboundEmail.id))) == 0


def test_reissue_kills_the_old_link(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    old = f.invited(c, u, p)
    f.login(client, u)
    submit(f"/c/{c.slug}/partners", {}, post_url=f"/c/{c.slug}/partners/{p.id}/reissue")
    assert client.get(f"/s/{old}").status_code == 404
    emails = db.session.scalars(db.select(OutboundEmail).order_by(OutboundEmail.id)).all()
    new = emails[-1].text_body.split("/s/")[1].split()[0]
    assert new != old
    assert client.get(f"/s/{new}").status_code == 200


def test_csv_with_nul_bytes_is_a_clear_error_not_a_crash(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _upload(submit, c, b"organisation,contact_email\nA\x00B,a@b.example\n")
    assert resp.status_code == 400
    assert "Line 2: organisation: contains invisible control characters" in resp.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0

import hashlib
import io

from campaign.extensions import db
from campaign.models import OutboundEmail, Partner, SignatureRequest
from tests import factories as f
from tests.helpers.forms import confirm_import, hidden_value, upload_partners

GOOD_CSV = (
    "organisation,contact_email,contact_name,website,tier\n"
    "Digital Rights Alliance,info@dra.example,Amara Okafor,dra.example,national\n"
    "Northstate Civil Liberties,hello@nscl.example,,https://nscl.example,state\n"
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


def test_csv_import_previews_then_adds_every_row(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = upload_partners(submit, c, GOOD_CSV.encode())
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<strong>2</strong> rows are ready" in html
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0  # only a preview
    assert confirm_import(client, c, html).status_code == 302
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
    resp = upload_partners(submit, c, bad.encode())
    body = resp.get_data(as_text=True)
    assert "Nothing can be imported until these rows are fixed" in body
    assert "Line 3: organisation: is required" in body
    assert "Line 4: contact_email: not-an-email is not a valid email address" in body
    assert "Line 5: tier:" in body and "galactic" in body
    # A repeated address is a row to decide on (skip it), not an error.
    assert "Line 6: looks like <strong>Good Org</strong> (the same contact email as line 2)" in body
    assert "3. Import" not in body
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0


def test_unknown_columns_ask_for_a_mapping_which_the_organiser_picks(client, app, submit):
    from tests.conftest import csrf_from

    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = upload_partners(submit, c, b"Groupe signataire,Courriel\nA Org,a@a.example\n")
    html = resp.get_data(as_text=True)
    assert "choose the file&#39;s column for: organisation, contact_email" in html
    resp = client.post(
        f"/c/{c.slug}/partners/import/preview",
        data={
            "csrf_token": csrf_from(html),
            "sealed": hidden_value(html, "sealed"),
            "map_organisation": "0",
            "map_contact_email": "1",
        },
    )
    html = resp.get_data(as_text=True)
    assert "<strong>1</strong> rows are ready" in html
    assert confirm_import(client, c, html).status_code == 302
    assert db.session.scalar(db.select(Partner.organisation)) == "A Org"


def test_not_utf8_is_reported_on_the_file_field(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = upload_partners(
        submit, c, "organisation,contact_email\nCaf\xe9,a@b.example\n".encode("latin-1")
    )
    assert resp.status_code == 400
    assert "is not UTF-8" in resp.get_data(as_text=True)


def test_xlsx_import(client, app, submit):
    from openpyxl import Workbook

    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    book = Workbook()
    sheet = book.active
    sheet.append(["Organization", "Email", "Contact", "Website", "Tier"])
    sheet.append(["Privacy First", "info@pf.example", "Ana", "pf.example", "national"])
    sheet.append(["@Home Collective", "home@home.example", None, None, "local"])
    out = io.BytesIO()
    book.save(out)
    html = upload_partners(submit, c, out.getvalue(), name="partners.xlsx").get_data(as_text=True)
    assert "<strong>2</strong> rows are ready" in html
    assert confirm_import(client, c, html).status_code == 302
    names = set(db.session.scalars(db.select(Partner.organisation)))
    assert names == {"Privacy First", "@Home Collective"}


def test_duplicates_are_flagged_and_can_be_skipped(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    # Reserved example domains never match, so this test uses a real-looking one.
    f.partner(c, u, name="Digital Rights Alliance", email="hello@dra.org")
    f.login(client, u)
    sheet = (
        "organisation,contact_email,website,tier\n"
        "The Digital Rights Alliance Inc.,press@other.org,,national\n"
        "DRA Northstate Chapter,ns@dra.org,,state\n"
        "Fresh Group,fresh@fresh.org,,local\n"
    )
    html = upload_partners(submit, c, sheet.encode()).get_data(as_text=True)
    assert "Line 2: looks like <strong>Digital Rights Alliance</strong> (the same name)" in html
    assert "Line 3: is related to <strong>Digital Rights Alliance</strong>" in html
    # The duplicate is skipped unless the organiser picks otherwise.
    assert confirm_import(client, c, html).status_code == 302
    names = set(db.session.scalars(db.select(Partner.organisation)))
    assert names == {"Digital Rights Alliance", "DRA Northstate Chapter", "Fresh Group"}


def test_a_tampered_or_foreign_preview_is_refused(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    other = f.campaign(u, title="Other campaign")
    f.login(client, u)
    html = upload_partners(submit, c, GOOD_CSV.encode()).get_data(as_text=True)
    sealed = hidden_value(html, "sealed")
    tampered = html.replace(sealed, sealed[:-3] + ("AAA" if sealed[-3:] != "AAA" else "BBB"))
    resp = confirm_import(client, c, tampered)
    assert resp.status_code == 302
    assert "could not be read" in client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    resp = confirm_import(client, other, html)
    assert "belongs to another campaign" in client.get(f"/c/{other.slug}/partners").get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0


def test_adding_a_likely_duplicate_needs_add_anyway(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.partner(c, u, name="Privacy First", email="a@pf.example")
    f.login(client, u)
    data = {
        "organisation": "privacy first!",
        "contact_email": "b@other.example",
        "tier": "national",
    }
    resp = submit(f"/c/{c.slug}/partners", data)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "looks like Privacy First (the same name)" in body and "Add anyway" in body
    assert submit(f"/c/{c.slug}/partners", {**data, "allow_duplicate": "y"}).status_code == 302
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 2


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
    gone = client.get(f"/s/{old}")
    assert gone.status_code == 410 and "A newer link was sent" in gone.get_data(as_text=True)
    emails = db.session.scalars(db.select(OutboundEmail).order_by(OutboundEmail.id)).all()
    new = emails[-1].text_body.split("/s/")[1].split()[0]
    assert new != old
    assert client.get(f"/s/{new}").status_code == 200


def test_csv_with_nul_bytes_is_a_clear_error_not_a_crash(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = upload_partners(submit, c, b"organisation,contact_email\nA\x00B,a@b.example\n")
    assert "Line 2: organisation: contains invisible control characters" in resp.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0

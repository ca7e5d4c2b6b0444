import csv
import io

from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import Blob, OutboundEmail, RenderedLetter
from campaign.services import campaigns, delivery
from campaign.services import personal_link_signing as signing
from campaign.services.signatory_lists import signatories_csv
from tests import factories as f
from tests.helpers.campaigns import signed


def test_pdf_download_lists_signatories_and_is_served_from_storage(client, app):
    u = f.user()
    c = f.published(u)
    for name, tier in [
        ("Zeta Rights", "national"),
        ("Alpha Liberty", "national"),
        ("Beta Local", "local"),
    ]:
        signed(c, u, name, tier)
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    for name in ("Zeta Rights", "Alpha Liberty", "Beta Local"):
        assert name in text
    assert text.index("Alpha Liberty") < text.index("Zeta Rights")
    # Asking again for the unchanged letter serves the stored file: no second render.
    again = client.get(f"/c/{c.slug}/letter.pdf")
    assert again.data == resp.data
    assert db.session.scalar(db.select(db.func.count(RenderedLetter.id))) == 1
    # A new signature changes the inputs, so the next download is a fresh render.
    signed(c, u, "Gamma State", "state")
    newer = client.get(f"/c/{c.slug}/letter.pdf")
    assert b"%PDF" in newer.data[:8] and newer.data != resp.data
    assert db.session.scalar(db.select(db.func.count(RenderedLetter.id))) == 2


def test_pdf_before_publishing_explains_why(client, app):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 409
    assert "publish the letter" in resp.get_data(as_text=True)


def test_csv_export_neutralises_formulas(client, app):
    u = f.user()
    c = f.published(u)
    signed(c, u, '=HYPERLINK("http://evil.example","click")')
    signed(c, u, "Plain Org", title="+1 555")
    signed(c, u, "@SUM(A1)", title="-2")
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/signatories.csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0][0] == "organisation"
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for cell in cells)
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "'+1 555" in cells
    assert len(rows) == 4


def test_delivery_sends_each_target_their_copy_with_pdf(client, app, submit):
    u = f.user()
    c = f.published(u)
    campaigns.add_target(
        c,
        u,
        name="Renata Solis",
        title="Chair",
        organisation="Argus Vision",
        email="chair@argus.example",
        salutation="Dear Ms Solis",
    )
    db.session.commit()
    signed(c, u, "Alpha Liberty")
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/deliver").get_data(as_text=True)
    assert "Close signing before delivering" in page
    submit(f"/c/{c.slug}", {}, post_url=f"/c/{c.slug}/close")
    page = client.get(f"/c/{c.slug}/deliver").get_data(as_text=True)
    assert "ceo@argus.example" in page and "chair@argus.example" in page
    resp = submit(f"/c/{c.slug}/deliver", {})
    assert resp.status_code == 302
    emails = db.session.scalars(
        db.select(OutboundEmail)
        .where(OutboundEmail.kind == "letter")
        .order_by(OutboundEmail.to_email)
    ).all()
    assert [e.to_email for e in emails] == ["ceo@argus.example", "chair@argus.example"]
    for email in emails:
        assert email.status == "sent"
        pdf = db.session.get(Blob, email.attachment_sha256)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert "Alpha Liberty" in text
        salutation = "Dear Ms Solis" if email.to_email.startswith("chair") else "Dear Mr Vale"
        assert salutation in text and salutation in email.text_body
    db.session.refresh(c)
    assert c.status == "delivered"
    again = submit(f"/c/{c.slug}", {}, post_url=f"/c/{c.slug}/deliver", follow_redirects=True)
    assert "already been delivered" in again.get_data(as_text=True)
    assert (
        db.session.scalar(
            db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.kind == "letter")
        )
        == 2
    )


def test_delivery_rolled_back_sends_nothing(app):
    u = f.user()
    c = f.published(u)
    signed(c, u, "Alpha Liberty")
    campaigns.close_signing(c, u)
    f.commit()
    delivery.deliver(c, u)
    db.session.rollback()
    from campaign import jobs

    assert jobs.run_ready() == 0
    assert (
        db.session.scalar(
            db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.kind == "letter")
        )
        == 0
    )
    db.session.refresh(c)
    assert c.status == "closed"


def test_signatories_csv_service_skips_withdrawn(app):
    u = f.user()
    c = f.published(u)
    p = signed(c, u, "Gone Org")
    signed(c, u, "Staying Org")
    signing.withdraw(p.current_request)
    db.session.commit()
    text = signatories_csv(c)
    assert "Staying Org" in text and "Gone Org" not in text

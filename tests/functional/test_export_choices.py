"""Exports respect signer choices (issue 11, B7).

"Support privately" is counted, never named, in the CSV, XLSX, ZIP and staff pages;
"only once delivered" is named only once the letter lists it; an email address leaves
only with its owner's consent. The organisers' full list is a separate, audited action
that staff cannot take.
"""

import csv
import io
import zipfile

from openpyxl import load_workbook
from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import AuditEvent
from campaign.services import campaigns, delivery
from campaign.services.campaigns import add_member
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.exports import export_zip

#: (organisation, visibility, consents to the lead keeping contact details)
SIGNERS = [
    ("Alpha Rights", "listed", True),
    ("Beta Watch", "listed", False),
    ("Gamma Quiet", "private", True),
    ("Delta Later", "after_delivery", False),
]


def _mixed(u):
    """A published campaign signed by SIGNERS; return it and each signer's email."""
    c = f.published(u)
    emails = {}
    for name, visibility, consent in SIGNERS:
        p = f.partner(c, u, name=name)
        f.sign(c, u, p, visibility=visibility, contact_consent=consent)
        emails[name] = p.contact_email
    return c, emails


def _rows(data: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data)))


def _xlsx_text(data: bytes) -> str:
    sheet = load_workbook(io.BytesIO(data)).active
    return " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)


def _pdf_text(data: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_exports_count_private_supporters_without_naming_them(client, app):
    u = f.user()
    c, emails = _mixed(u)
    f.login(client, u)
    rows = _rows(client.get(f"/c/{c.slug}/signatories.csv").get_data(as_text=True))
    by_org = {r["organisation"]: r for r in rows}
    assert [r["visibility"] for r in rows] == ["listed", "listed", "private", "after_delivery"]
    assert set(by_org) == {
        "Alpha Rights",
        "Beta Watch",
        "1 organisation supports the letter privately (counted, not named)",
        "1 organisation will be named once the letter is delivered (counted, not yet named)",
    }
    # Contact details only with consent.
    assert by_org["Alpha Rights"]["signer_email"] == emails["Alpha Rights"]
    assert by_org["Beta Watch"]["signer_email"] == ""

    xlsx = client.get(f"/c/{c.slug}/signatories.xlsx").data
    resp = export_zip(client, c.slug)
    assert resp.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(resp.data))
    texts = {"download.xlsx": _xlsx_text(xlsx)}
    for name in archive.namelist():
        data = archive.read(name)
        if name.endswith(".pdf"):
            texts[name] = _pdf_text(data)
        elif name.endswith(".xlsx"):
            texts[name] = _xlsx_text(data)
        else:
            texts[name] = data.decode()
    assert any("supports the letter privately" in t for t in texts.values())
    for name, text in texts.items():
        assert "Gamma Quiet" not in text, name
        assert "Delta Later" not in text, name
        assert emails["Beta Watch"] not in text and emails["Delta Later"] not in text, name

    # Once delivered, the letter names "Delta Later", and so does the export (marked).
    campaigns.close_signing(c, u)
    delivery.deliver(c, u)
    f.commit()
    rows = _rows(client.get(f"/c/{c.slug}/signatories.csv").get_data(as_text=True))
    later = next(r for r in rows if r["organisation"] == "Delta Later")
    assert later["visibility"] == "after_delivery" and later["signer_email"] == ""
    assert not any("Gamma" in r["organisation"] for r in rows)


def test_full_list_is_separate_audited_and_for_organisers_only(client, app):
    owner, staff = f.user(), f.user(role="staff")
    c, emails = _mixed(owner)
    add_member(c, staff)
    f.commit()

    f.login(client, staff)
    assert "Full list for organisers" not in client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert client.get(f"/c/{c.slug}/signatories/full").status_code == 403
    token = csrf_from(client.get(f"/c/{c.slug}").get_data(as_text=True))
    resp = client.post(f"/c/{c.slug}/signatories/full", data={"csrf_token": token})
    assert resp.status_code == 403
    # Staff pages count private supporters without naming them.
    partners = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert "Gamma Quiet" not in partners and "Alpha Rights" in partners
    assert "1 organisation supports the letter privately" in partners
    directory = client.get("/directory").get_data(as_text=True)
    assert "Alpha Rights" in directory and "Gamma Quiet" not in directory
    outbox = client.get(f"/c/{c.slug}/outbox").get_data(as_text=True)
    assert "Signer of Alpha Rights" in outbox and "Gamma Quiet" not in outbox
    client.get("/logout")

    f.login(client, owner)
    overview = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert f'href="/c/{c.slug}/signatories/full"' in overview
    page = client.get(f"/c/{c.slug}/signatories/full").get_data(as_text=True)
    assert "Full list for organisers" in page and "support privately" in page
    assert "recorded in the campaign's audit log" in page
    assert "Gamma Quiet" in client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert "Gamma Quiet" in client.get(f"/c/{c.slug}/outbox").get_data(as_text=True)
    before = db.session.scalar(db.select(db.func.count(AuditEvent.id)))
    resp = client.post(
        f"/c/{c.slug}/signatories/full", data={"csrf_token": csrf_from(page), "format": "csv"}
    )
    assert resp.status_code == 200
    assert "signatories-full.csv" in resp.headers["Content-Disposition"]
    rows = {r["organisation"]: r for r in _rows(resp.get_data(as_text=True))}
    assert set(rows) == {name for name, _, _ in SIGNERS}
    assert rows["Gamma Quiet"]["on_letter"] == "counted, not named"
    assert rows["Beta Watch"]["signer_email"] == emails["Beta Watch"]
    assert rows["Beta Watch"]["contact_consent"] == "no"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "export.full_list"))
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == before + 1
    assert event.user_id == owner.id and event.details["format"] == "csv"
    assert event.details["signatures"] == 4 and "support privately" in event.details["contains"]

    xlsx = client.post(
        f"/c/{c.slug}/signatories/full", data={"csrf_token": csrf_from(page), "format": "xlsx"}
    )
    assert xlsx.status_code == 200 and "Gamma Quiet" in _xlsx_text(xlsx.data)
    bad = client.post(
        f"/c/{c.slug}/signatories/full",
        data={"csrf_token": csrf_from(page), "format": "pdf"},
        follow_redirects=True,
    )
    assert "format: choose CSV or XLSX" in bad.get_data(as_text=True)


def test_export_command_respects_choices_and_audits_the_full_list(app, tmp_path):
    u = f.user()
    c, emails = _mixed(u)
    runner = app.test_cli_runner()
    plain = tmp_path / "plain.csv"
    result = runner.invoke(args=["export", c.slug, "--csv", str(plain)])
    assert result.exit_code == 0, result.output
    assert "Gamma Quiet" not in plain.read_text() and emails["Beta Watch"] not in plain.read_text()
    assert not db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "export.full_list")
    )

    result = runner.invoke(args=["export", c.slug, "--full-list"])
    assert result.exit_code != 0 and "give one of them" in result.output

    full = tmp_path / "full.csv"
    result = runner.invoke(args=["export", c.slug, "--csv", str(full), "--full-list"])
    assert result.exit_code == 0, result.output
    assert "recorded in the audit log" in result.output and "support privately" in result.output
    text = full.read_text()
    assert "Gamma Quiet" in text and emails["Beta Watch"] in text
    db.session.expire_all()
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "export.full_list"))
    assert event is not None and event.actor.startswith("command line (flask export --full-list)")

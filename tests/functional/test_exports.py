"""Exports: the ZIP, the signatory CSV/XLSX, the export command, and failed renders."""

import csv
import hashlib
import io
import zipfile

from openpyxl import load_workbook
from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import RenderedLetter
from campaign.services.campaigns import add_member
from campaign.services.signatory_lists import neutralise
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import signed, two_targets_three_signers
from tests.helpers.exports import export_zip, start_export

RISKY = ("=", "+", "-", "@", "\t", "\r")


def _pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split()
    )


def _assert_neutral(cells: list[str]) -> None:
    assert cells, "no cells"
    assert not any(cell.startswith(RISKY) for cell in cells), cells
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "'+1 555" in cells and "'@SUM(A1)" in cells
    # Signing strips the leading tab (control characters); the formula is still defused.
    assert "'=cmd|' /C calc'!A0" in cells


def _xlsx_cells(data: bytes) -> list:
    sheet = load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_zip_holds_every_target_pdf_and_safe_signatory_lists(client, app):
    u, c = two_targets_three_signers()
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert f'action="/c/{c.slug}/exports"' in page and "Export ZIP" in page

    resp = export_zip(client, c.slug)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/zip"
    assert f'filename="{c.slug}-export.zip"' in resp.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(resp.data))
    vale, solis = c.targets
    names = sorted(archive.namelist())
    assert names == sorted(
        [
            f"{c.slug}-{vale.id}-jordan-vale.pdf",
            f"{c.slug}-{solis.id}-renata-solis.pdf",
            f"{c.slug}-signatories.csv",
            f"{c.slug}-signatories.xlsx",
            f"{c.slug}-audit-certificate.pdf",
            "SHA256SUMS",
        ]
    )
    for target, salutation in ((vale, "Dear Mr Vale"), (solis, "Dear Ms Solis")):
        pdf = archive.read(f"{c.slug}-{target.id}-{target.name.lower().replace(' ', '-')}.pdf")
        text = _pdf_text(pdf)
        assert salutation in text and "Plain Org" in text
        reader = PdfReader(io.BytesIO(pdf))
        assert reader.metadata.author == "Coalition for Privacy"
        assert f"http://127.0.0.1:5000/c/{c.slug}" in reader.metadata["/Keywords"]
        assert "Sign-on letter to Argus Vision from 3 organisations" in reader.metadata.subject
    sums = dict(
        reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert len(sums) == 5
    for name, sha in sums.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha
    rows = list(csv.reader(io.StringIO(archive.read(f"{c.slug}-signatories.csv").decode())))
    assert rows[0][0] == "organisation" and len(rows) == 4
    _assert_neutral([cell for row in rows[1:] for cell in row])
    cells = _xlsx_cells(archive.read(f"{c.slug}-signatories.xlsx"))
    # Every cell is text, never a formula (emails withheld without consent are empty).
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    _assert_neutral([cell.value for cell in cells[8:] if cell.value])
    # Asking again reuses the stored PDFs: no new renders.
    count = db.session.scalar(db.select(db.func.count(RenderedLetter.id)))
    assert export_zip(client, c.slug).status_code == 200
    assert db.session.scalar(db.select(db.func.count(RenderedLetter.id))) == count == 2


def test_neutralise_covers_every_formula_prefix():
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(risky) == "'" + risky
    assert neutralise("Plain Org") == "Plain Org" and neutralise("") == ""


def test_xlsx_download_is_neutralised(client, app):
    u, c = two_targets_three_signers()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/signatories.xlsx")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    cells = _xlsx_cells(resp.data)
    assert [cell.value for cell in cells[:2]] == ["organisation", "signer_name"]
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    _assert_neutral([cell.value for cell in cells[8:] if cell.value])


def test_staff_may_export_and_strangers_get_404(client, app):
    owner, staff, stranger = f.user(), f.user(role="staff"), f.user()
    c = f.published(owner)
    signed(c, owner, "Alpha Liberty")
    add_member(c, staff)
    db.session.commit()
    f.login(client, stranger)
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post(f"/c/{c.slug}/exports", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/c/{c.slug}/signatories.xlsx").status_code == 404
    client.get("/logout")
    f.login(client, staff)
    assert export_zip(client, c.slug).status_code == 200
    assert client.get(f"/c/{c.slug}/signatories.xlsx").status_code == 200


def test_failed_render_shows_its_reason_on_download_and_campaign_page(client, app, monkeypatch):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 1)
    c.lead_address = "A long address line\n" * 1000  # the letterhead alone fills page 1
    f.commit()
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "The PDF could not be made" in page
    assert "more than 1 pages long" in page
    rendered = db.session.scalar(db.select(RenderedLetter))
    assert rendered.status == "failed" and "more than 1 pages" in rendered.error
    overview = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "The signed PDF could not be made: the letter would be more than 1 pages" in overview
    # The export says which copy failed, and why.
    page = start_export(client, c.slug).get_data(as_text=True)
    assert "The export could not be made: the PDF for Jordan Vale could not be made" in page
    assert "Try again" in page and "/download" not in page
    # Within the limit again, the next download renders and the message goes away.
    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 300)
    assert client.get(f"/c/{c.slug}/letter.pdf").status_code == 200
    assert "could not be made" not in client.get(f"/c/{c.slug}").get_data(as_text=True)


# -- flask export --------------------------------------------------------------------------


def test_export_command_writes_zip_and_one_target_pdf(app, tmp_path):
    u, c = two_targets_three_signers()
    runner = app.test_cli_runner()
    zip_path = tmp_path / "export.zip"
    result = runner.invoke(args=["export", c.slug, "--zip", str(zip_path)])
    assert result.exit_code == 0, result.output
    assert "Rendering PDFs" in result.output and "(6 files)" in result.output
    assert len(zipfile.ZipFile(zip_path).namelist()) == 6
    assert not (tmp_path / "export.zip.part").exists()

    solis = c.targets[1]
    pdf_path = tmp_path / "solis.pdf"
    result = runner.invoke(
        args=["export", c.slug, "--pdf", str(pdf_path), "--target", str(solis.id)]
    )
    assert result.exit_code == 0, result.output
    assert "3 signatories" in result.output
    assert "Dear Ms Solis" in _pdf_text(pdf_path.read_bytes())
    # The same copy as in the ZIP: served from storage, byte for byte.
    in_zip = zipfile.ZipFile(zip_path).read(f"{c.slug}-{solis.id}-renata-solis.pdf")
    assert pdf_path.read_bytes() == in_zip

    xlsx_path = tmp_path / "s.xlsx"
    result = runner.invoke(args=["export", c.slug, "--xlsx", str(xlsx_path)])
    assert result.exit_code == 0 and xlsx_path.exists()


def test_export_command_errors_are_clear(app, tmp_path, monkeypatch):
    u, c = two_targets_three_signers()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["export", c.slug, "--pdf", str(tmp_path / "x.pdf"), "--target", "999"]
    )
    assert result.exit_code != 0
    assert f"campaign '{c.slug}' has no target 999; its targets: " in result.output
    assert "Jordan Vale" in result.output
    result = runner.invoke(args=["export", c.slug, "--target", "1", "--csv", str(tmp_path / "a")])
    assert result.exit_code != 0 and "give --pdf FILE too" in result.output
    result = runner.invoke(args=["export", c.slug])
    assert result.exit_code != 0 and "give at least one of" in result.output

    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 1)
    c.lead_address = "A long address line\n" * 1000
    f.commit()
    zip_path = tmp_path / "export.zip"
    result = runner.invoke(args=["export", c.slug, "--zip", str(zip_path)])
    assert result.exit_code != 0
    assert "could not be made: the letter would be more than 1 pages long" in result.output
    assert not zip_path.exists() and not (tmp_path / "export.zip.part").exists()

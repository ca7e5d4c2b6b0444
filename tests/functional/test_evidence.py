"""Evidence: the sealed PDFs, the audit certificate, `flask keys init` and a PKCS#12 seal."""

import datetime as dt
import io
import re
import stat
import zipfile
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import IssuedDocument, RenderedLetter, SignedVersion
from campaign.services.audit import head_sha256, record
from campaign.services.letters import published_version
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import signed
from tests.helpers.exports import export_zip


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _pades(pdf: bytes):
    """Check the PDF's last signature with pyhanko directly, trusting the signer it names."""
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    assert "/ETSI.CAdES.detached" in str(sig.sig_object["/SubFilter"])
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[sig.signer_cert]))
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return sig.signer_cert


def _instance_cert(app) -> asn1_x509.Certificate:
    pem = (Path(app.instance_path) / "seal_cert.pem").read_bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def _campaign_with_signatures():
    u = f.user()
    c = f.published(u)
    signed(c, u, "Alpha Liberty")
    public = signed(c, u, "Beta Open Group")
    public.source = "public"
    request = public.requests[0]
    request.confirmed_at = dt.datetime(2026, 3, 4, 5, 6, 7)
    sig = request.signature
    db.session.add(
        SignedVersion(
            signature_id=sig.id,
            letter_version_id=sig.letter_version_id,
            letter_sha256=sig.letter_sha256,
            how="reconfirmed",
            created_at=dt.datetime(2026, 3, 5, 9, 0, 0),
        )
    )
    record("test.event", campaign=c, user=u)
    f.commit()
    return u, c


def test_certificate_lists_every_signature_with_method_hashes_and_chain_head(client, app):
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/certificate.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/pdf"
    text = _text(resp.data)
    # pypdf may break long hashes across lines; compare without spaces.
    flat = text.replace(" ", "")
    assert "Audit certificate" in text and c.title in text
    for org in ("Alpha Liberty", "Beta Open Group"):
        assert org in text and f"Signer of {org}" in text
    assert "personal link" in text
    assert "public link, email confirmed 2026-03-04 05:06:07 UTC" in text
    assert "reconfirmed 2026-03-05 09:00:00 UTC" in text
    version_sha = published_version(c).content_sha256
    doc = db.session.scalar(db.select(IssuedDocument).where(IssuedDocument.kind == "certificate"))
    assert doc.sha256 == resp.headers["X-Content-SHA256"]
    assert doc.signatory_count == 2 and doc.letter_sha256
    assert doc.letter_sha256 == version_sha and version_sha in flat
    head = head_sha256(c)
    assert head and head == doc.audit_head_sha256 and head in flat
    assert "intact" in text
    assert f"/v/{doc.code}" in flat
    _pades(resp.data)


def test_certificate_of_another_campaign_is_404(client, app):
    _u, c = _campaign_with_signatures()
    f.login(client, f.user())
    assert client.get(f"/c/{c.slug}/certificate.pdf").status_code == 404


def test_exported_pdfs_carry_a_valid_seal_and_a_verification_footer(client, app):
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200
    signer = _pades(resp.data)
    assert signer.sha256 == _instance_cert(app).sha256
    doc = db.session.scalar(db.select(IssuedDocument).where(IssuedDocument.kind == "letter"))
    assert doc.sha256 == resp.headers["X-Content-SHA256"]
    assert doc.signatory_count == 2 and doc.version_number == 1
    assert re.fullmatch(r"[A-Z2-7]{10}", doc.code)
    assert f"Verify: http://127.0.0.1:5000/v/{doc.code}" in _text(resp.data)
    # Unchanged letter: the same stored, sealed bytes, no new render and no new record.
    again = client.get(f"/c/{c.slug}/letter.pdf")
    assert again.data == resp.data
    assert db.session.scalar(db.select(db.func.count(RenderedLetter.id))) == 1
    assert db.session.scalar(db.select(db.func.count(IssuedDocument.id))) == 1


def test_zip_holds_the_sealed_pdfs_and_the_certificate(client, app):
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = export_zip(client, c.slug)
    assert resp.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(resp.data))
    names = archive.namelist()
    assert f"{c.slug}-audit-certificate.pdf" in names
    assert "SHA256SUMS" in names and f"{c.slug}-signatories.xlsx" in names
    for name in names:
        if name.endswith(".pdf"):
            _pades(archive.read(name))
    assert "Beta Open Group" in _text(archive.read(f"{c.slug}-audit-certificate.pdf"))
    sums = archive.read("SHA256SUMS").decode()
    assert f"{c.slug}-audit-certificate.pdf" in sums


def test_export_command_writes_the_certificate(app, tmp_path):
    _u, c = _campaign_with_signatures()
    path = tmp_path / "cert.pdf"
    result = app.test_cli_runner().invoke(args=["export", c.slug, "--certificate", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 signatures" in result.output and "/v/" in result.output
    assert "Alpha Liberty" in _text(path.read_bytes())
    _pades(path.read_bytes())


def test_keys_init_creates_owner_only_key_and_refuses_to_overwrite(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code == 0, result.output
    key, cert = tmp_path / "seal_key.pem", tmp_path / "seal_cert.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert cert.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    before = key.read_bytes()
    again = runner.invoke(args=["keys", "init"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert key.read_bytes() == before
    forced = runner.invoke(args=["keys", "init", "--force"])
    assert forced.exit_code == 0, forced.output
    assert key.read_bytes() != before and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert list(tmp_path.glob("seal_cert-retired-*.pem")), "the old certificate is kept"


def test_first_export_creates_the_key_lazily(client, app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200
    assert stat.S_IMODE((tmp_path / "seal_key.pem").stat().st_mode) == 0o600
    assert _pades(resp.data).sha256 == _instance_cert(app).sha256


def _pkcs12(path, password: bytes) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Coalition Seal Test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password)
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"seal", key, cert, None, encryption))
    return cert.public_bytes(serialization.Encoding.DER)


def test_configured_pkcs12_seals_instead_of_the_instance_key(client, app, tmp_path, monkeypatch):
    der = _pkcs12(tmp_path / "seal.p12", b"s3cret")
    monkeypatch.setitem(app.config, "SEAL_PKCS12_PATH", str(tmp_path / "seal.p12"))
    monkeypatch.setitem(app.config, "SEAL_PKCS12_PASSWORD", "s3cret")
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200
    assert _pades(resp.data).dump() == der
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    page = client.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(resp.data), "l.pdf")},
        content_type="multipart/form-data",
    )
    assert "Genuine and unaltered" in page.get_data(as_text=True)


def test_unreadable_pkcs12_fails_the_render_with_a_reason(client, app, tmp_path, monkeypatch):
    _pkcs12(tmp_path / "seal.p12", b"right")
    monkeypatch.setitem(app.config, "SEAL_PKCS12_PATH", str(tmp_path / "seal.p12"))
    monkeypatch.setitem(app.config, "SEAL_PKCS12_PASSWORD", "wrong")
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 409
    assert "SEAL_PKCS12_PATH" in resp.get_data(as_text=True)
    assert client.get(f"/c/{c.slug}/certificate.pdf").status_code == 409


def test_letter_with_the_certificate_appended_is_sealed_as_one_document(client, app):
    u, c = _campaign_with_signatures()
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf?with=certificate")
    assert resp.status_code == 200
    assert "with-certificate.pdf" in resp.headers["Content-Disposition"]
    text = _text(resp.data)
    assert "Dear" in text and "Audit certificate" in text and "Beta Open Group" in text
    assert len(PdfFileReader(io.BytesIO(resp.data)).embedded_signatures) == 1
    _pades(resp.data)
    doc = db.session.scalar(
        db.select(IssuedDocument).where(IssuedDocument.sha256 == resp.headers["X-Content-SHA256"])
    )
    assert doc is not None and f"/v/{doc.code}" in text.replace(" ", "")
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    page = client.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(resp.data), "l.pdf")},
        content_type="multipart/form-data",
    )
    assert "Genuine and unaltered" in page.get_data(as_text=True)

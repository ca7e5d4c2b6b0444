"""The instance's seal: a PAdES signature on every PDF it issues, and the check of one.

The signer is a configured PKCS#12 file (SEAL_PKCS12_PATH, SEAL_PKCS12_PASSWORD) or
else the instance's own key and self-signed certificate in instance/, made by
`flask keys init` or, lazily, by the first export. A timestamp authority is asked only
when SEAL_TSA_URL is set, so nothing leaves the machine unless an operator says so.

A seal proves the bytes are the ones this instance signed; /verify adds the record of
what was issued (models.IssuedDocument) to say what the document is.
"""

import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import Conflict, Invalid

FIELD_NAME = "UndersignedSeal"
KEY_FILE = "seal_key.pem"
CERT_FILE = "seal_cert.pem"
#: Certificates replaced by `flask keys init --force`: PDFs sealed with them still verify.
RETIRED_GLOB = "seal_cert-retired-*.pem"
CERT_YEARS = 10


class SealFailed(Invalid):
    """The seal could not be applied: its key or certificate is missing or unreadable."""

    def __init__(self, reason: str):
        super().__init__("seal", reason)


def _instance() -> Path:
    return Path(current_app.instance_path)


def init_instance_key(force: bool = False) -> tuple[Path, Path]:
    """Create the instance's seal key (mode 0600) and self-signed certificate.

    Refuses (Conflict) to replace an existing key unless `force`; a replaced certificate
    is kept as a retired one, so documents sealed with it still verify.
    """
    folder = _instance()
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if key_path.exists() and not force:
        raise Conflict(f"a seal key already exists at {key_path}; use --force to replace it")
    folder.mkdir(parents=True, exist_ok=True)
    if force and cert_path.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        cert_path.replace(folder / RETIRED_GLOB.replace("*", stamp))
    key = ec.generate_private_key(ec.SECP256R1())
    host = current_app.config.get("BASE_URL", "").split("://")[-1].split("/")[0] or "localhost"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Undersigned seal ({host})"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Undersigned"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Owner-only from the first byte: the key is what makes a forged PDF detectable.
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _signer() -> signers.SimpleSigner:
    """The configured PKCS#12 signer, or the instance's own (created on first use)."""
    config = current_app.config
    pkcs12 = config.get("SEAL_PKCS12_PATH")
    if pkcs12:
        password = config.get("SEAL_PKCS12_PASSWORD") or None
        try:
            signer = signers.SimpleSigner.load_pkcs12(
                pkcs12, passphrase=password.encode() if isinstance(password, str) else password
            )
        except (OSError, ValueError) as exc:
            signer = None
            detail = str(exc) or type(exc).__name__
        else:
            detail = "wrong password or not a PKCS#12 file"
        if signer is None:
            raise SealFailed(
                f"the seal's PKCS#12 file (SEAL_PKCS12_PATH) could not be read: {detail}. "
                "Check the path and SEAL_PKCS12_PASSWORD."
            )
        return signer
    folder = _instance()
    if not (folder / KEY_FILE).exists():
        init_instance_key()
    key = serialization.load_pem_private_key((folder / KEY_FILE).read_bytes(), password=None)
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert = asn1_x509.Certificate.load(_der((folder / CERT_FILE).read_bytes()))
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([cert]),
    )


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _timestamper():
    url = current_app.config.get("SEAL_TSA_URL")
    if not url:
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, https=url.lower().startswith("https:"), timeout=10)


def seal(pdf: bytes) -> bytes:
    """Return `pdf` with the instance's PAdES (baseline B, or B-T with a TSA) signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Issued by Undersigned; check it at /verify",
        location=current_app.config.get("BASE_URL", ""),
    )
    out = signers.sign_pdf(writer, meta, signer=_signer(), timestamper=_timestamper())
    return out.getvalue()


def our_certificates() -> list[asn1_x509.Certificate]:
    """The certificates whose seals count as ours: configured, instance and retired ones."""
    certs = []
    if current_app.config.get("SEAL_PKCS12_PATH"):
        certs.append(_signer().signing_cert)
    # PDFs sealed before a PKCS#12 file was configured, or before a --force, still count.
    folder = _instance()
    paths = [folder / CERT_FILE, *sorted(folder.glob(RETIRED_GLOB))]
    certs += [asn1_x509.Certificate.load(_der(p.read_bytes())) for p in paths if p.exists()]
    return certs


@dataclass(frozen=True)
class SealCheck:
    """What the seal of one PDF says."""

    sealed: bool = False
    intact: bool = False
    whole_file: bool = False
    ours: bool = False
    signer: str = ""
    signed_at: dt.datetime | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Sealed by us, unchanged, and nothing added after the seal."""
        return self.sealed and self.intact and self.whole_file and self.ours


def verify(pdf: bytes) -> SealCheck:
    """Check the last signature of `pdf`: intact, covering the whole file, made by us."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 - any unreadable upload is simply "not sealed"
        return SealCheck(reason="the file is not a readable PDF")
    if not signatures:
        return SealCheck(reason="the file carries no signature")
    embedded = signatures[-1]
    certificates = our_certificates()
    ours = {c.sha256 for c in certificates}
    try:
        status = validate_pdf_signature(
            embedded, ValidationContext(trust_roots=certificates or None)
        )
    except SignatureValidationError as exc:
        return SealCheck(sealed=True, reason=f"the signature could not be checked: {exc}")
    except Exception:  # noqa: BLE001 - a malformed upload must get an answer, not a 500
        return SealCheck(sealed=True, reason="the signature is malformed")
    cert = status.signing_cert
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    intact = bool(status.intact and status.valid)
    reason = ""
    if not intact:
        reason = "the signed bytes were changed after sealing"
    elif not whole:
        reason = "content was added after the seal"
    elif cert.sha256 not in ours:
        reason = "the seal was not made by this instance"
    return SealCheck(
        sealed=True,
        intact=intact,
        whole_file=whole,
        ours=cert.sha256 in ours,
        signer=cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        reason=reason,
    )

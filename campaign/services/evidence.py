"""Evidence: verification codes, the record of issued PDFs, the audit certificate, /verify.

Every PDF the instance exports is sealed (letters/seal.py) and recorded as an
IssuedDocument: the sha256 of its final bytes and a short code printed in its footer.
/verify recomputes the sha256 of an uploaded file and checks its seal; both must agree
for the file to count as genuine.
"""

import base64
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass

import segno
from flask import current_app, render_template
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject
from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..letters import seal as sealing
from ..letters.pdf import html_to_pdf
from ..links import external_url
from ..models import (
    Blob,
    Campaign,
    IssuedDocument,
    Partner,
    SignatureRequest,
    utcnow,
)
from .audit import head_sha256, verify_chain
from .blobs import store_blob
from .letters import published_version
from .roster import letter_roster

CODE_LENGTH = 10
#: Crockford-like: base32 without the letters people misread; codes are matched upper-case.
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def _code(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii")[:CODE_LENGTH]


def letter_code(rendered) -> str:
    """The code of a rendered letter, known before it is rendered and stable across retries.

    Derived with the instance secret from the render's id and creation time, so it needs
    no column of its own and cannot be guessed from one code to the next.
    """
    message = f"letter:{rendered.campaign_id}:{rendered.id}:{rendered.created_at:%Y%m%d%H%M%S%f}"
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return _code(hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest())


def new_code() -> str:
    """A fresh random code (for certificates, made anew on every download)."""
    return _code(secrets.token_bytes(8))


def clean_code(value: str) -> str | None:
    """A code as typed or scanned, normalised, or None when it cannot be one."""
    code = (value or "").strip().upper()
    if len(code) != CODE_LENGTH or not set(code) <= _CODE_CHARS:
        return None
    return code


def verify_url(code: str) -> str:
    """The short verification URL printed in a document's footer."""
    return external_url("verify.code", code=code)


def verification(code: str) -> dict:
    """What a document's footer prints: the code, its URL and a QR code of it (data: URI)."""
    url = verify_url(code)
    qr = segno.make(url, error="m").png_data_uri(scale=4, border=1)
    return {"code": code, "url": url, "qr": qr}


def record_issued(
    campaign: Campaign,
    pdf: bytes,
    *,
    code: str,
    kind: str,
    version,
    signatory_count: int,
    target=None,
    head: str | None = None,
) -> IssuedDocument:
    """Record a sealed PDF as issued (flushes); a re-render under the same code replaces it."""
    # Every value first: loading one (an expired row, the chain head) may autoflush, and
    # must not flush a half-filled document.
    values = {
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "kind": kind,
        "target_id": target.id if target is not None else None,
        "version_number": version.number,
        "letter_sha256": version.content_sha256 or "",
        "signatory_count": signatory_count,
        "audit_head_sha256": head_sha256(campaign) if head is None else head,
        "made_at": utcnow(),
    }
    doc = db.session.scalar(select(IssuedDocument).where(IssuedDocument.code == code))
    if doc is None:
        doc = IssuedDocument(code=code, campaign_id=campaign.id, **values)
        db.session.add(doc)
    else:
        for name, value in values.items():
            setattr(doc, name, value)
    db.session.flush()
    return doc


def _method(request: SignatureRequest, partner: Partner) -> str:
    """How a signature was given, as the certificate prints it."""
    if partner.source == "public":
        if request.confirmed_at is not None:
            return f"public link, email confirmed {request.confirmed_at:%Y-%m-%d %H:%M:%S} UTC"
        return "public link, email not confirmed"
    if request.forwarded_from_id is not None:
        return "personal link (forwarded)"
    return "personal link"


def certificate_data(campaign: Campaign) -> dict:
    """Everything the audit certificate prints, as plain data."""
    version = published_version(campaign)
    # Every live signature, counted on the letter or awaiting re-confirmation: the roster's.
    roster = letter_roster(campaign)
    entries = sorted(
        (*roster.entries, *roster.awaiting),
        key=lambda e: (e.signature.signed_at, e.signature.id),
    )
    signatures = []
    for entry in entries:
        sig, request, partner = entry.signature, entry.signature.request, entry.partner
        history = [
            {
                "how": h.how,
                "version": h.letter_version.number if h.letter_version else None,
                "sha256": h.letter_sha256,
                "at": f"{h.created_at:%Y-%m-%d %H:%M:%S} UTC",
            }
            for h in sorted(sig.history, key=lambda h: (h.created_at, h.id))
        ]
        # The certificate may be shared like the letter: a signer who chose not to be
        # named (or not before delivery) is counted and evidenced here, but not named.
        hidden = not entry.named
        signatures.append(
            {
                "organisation": "Not named (the signer's choice)" if hidden else sig.organisation,
                "signer": ""
                if hidden
                else ", ".join(v for v in (sig.signer_name, sig.signer_title) if v),
                "at": f"{sig.signed_at:%Y-%m-%d %H:%M:%S} UTC",
                "method": _method(request, partner),
                "version": sig.letter_version.number if sig.letter_version else None,
                "sha256": sig.letter_sha256,
                "private": hidden,
                "personal": ""
                if hidden
                else "drawn signature on file"
                if sig.signature_image_sha256
                else (f"typed signature: {sig.signature_typed}" if sig.signature_typed else ""),
                "history": history,
            }
        )
    chain = verify_chain(campaign)
    now = utcnow()
    return {
        "campaign": {
            "title": campaign.title,
            "lead_organisation": campaign.lead_organisation,
            "url": external_url("campaigns.show", slug=campaign.slug),
        },
        "version": {
            "number": version.number if version else None,
            "sha256": version.content_sha256 if version else "",
        },
        "signatures": signatures,
        "audit": {
            "head": head_sha256(campaign),
            "entries": chain.entries,
            "intact": chain.ok,
            "broken_at": chain.broken.seq if chain.broken is not None else None,
            "read_at": f"{now:%Y-%m-%d %H:%M:%S} UTC",
        },
        "made_at": f"{now:%Y-%m-%d %H:%M:%S} UTC",
    }


def certificate_pdf(
    campaign: Campaign, before: bytes | None = None
) -> tuple[bytes, IssuedDocument]:
    """Make, seal and record the audit certificate of a campaign (flushes).

    With `before` (an issued letter), the certificate is appended to that letter and the
    whole is sealed and recorded as one document under the certificate's code.
    """
    version = published_version(campaign)
    if version is None:
        raise Invalid("letter", "publish the letter before making an audit certificate")
    data = certificate_data(campaign)
    code = new_code()
    html = render_template("pdf/certificate.html", cert=data, verification=verification(code))
    pdf = html_to_pdf(html)
    if before is not None:
        pdf = _append(before, pdf)
    sealed = sealing.seal(pdf)
    doc = record_issued(
        campaign,
        sealed,
        code=code,
        kind="certificate" if before is None else "letter",
        version=version,
        signatory_count=len(data["signatures"]),
        head=data["audit"]["head"],
    )
    if before is None:
        # Kept, so the next download serves this one while nothing it attests changes.
        store_blob(sealed, "application/pdf")
    return sealed, doc


def current_certificate(campaign: Campaign) -> tuple[bytes, IssuedDocument]:
    """The audit certificate: the last one issued while the chain is unchanged, else a new one.

    A download is not an event: issuing a fresh document (and code) on every request would
    fill the record of issued documents with copies attesting the same thing.
    """
    version = published_version(campaign)
    doc = db.session.scalar(
        select(IssuedDocument)
        .where(IssuedDocument.campaign_id == campaign.id, IssuedDocument.kind == "certificate")
        .order_by(IssuedDocument.made_at.desc(), IssuedDocument.id.desc())
        .limit(1)
    )
    if (
        version is not None
        and doc is not None
        and doc.audit_head_sha256 == head_sha256(campaign)
        and doc.version_number == version.number
        and doc.letter_sha256 == (version.content_sha256 or "")
    ):
        blob = db.session.get(Blob, doc.sha256)
        # A chain found broken since must be certified afresh, saying so.
        if blob is not None and verify_chain(campaign).ok:
            return bytes(blob.data), doc
    return certificate_pdf(campaign)


def _append(letter: bytes, certificate: bytes) -> bytes:
    """The letter's pages then the certificate's, without the letter's own seal.

    The letter's seal covers only its own bytes, so it is dropped (a copied signature
    would show as broken) and the whole document gets a new one.
    """
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(letter)))
    for page in writer.pages:
        annots = page.get("/Annots")
        if annots is None:
            continue
        kept = [a for a in annots.get_object() if a.get_object().get("/FT") != "/Sig"]
        page[NameObject("/Annots")] = ArrayObject(kept)
    writer.append(PdfReader(io.BytesIO(certificate)))
    writer.root_object.pop("/AcroForm", None)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Verdict:
    """The answer /verify gives about one file."""

    genuine: bool
    headline: str
    detail: str
    document: IssuedDocument | None = None
    campaign_title: str = ""


def check_pdf(data: bytes, expected: IssuedDocument | None = None) -> Verdict:
    """Say whether `data` is a PDF this instance issued, unaltered (and, if given, which)."""
    sha = hashlib.sha256(data).hexdigest()
    doc = db.session.scalar(select(IssuedDocument).where(IssuedDocument.sha256 == sha))
    check = sealing.verify(data)
    if expected is not None and doc is not None and doc.id != expected.id:
        return Verdict(
            False,
            "A different document",
            "This file was issued here, but it is not the document this code belongs to.",
        )
    if doc is not None:
        title = db.session.get(Campaign, doc.campaign_id).title
        if check.ok:
            return Verdict(
                True,
                "Genuine and unaltered",
                "Every byte matches a document this site issued, and its seal is intact.",
                doc,
                title,
            )
        return Verdict(
            False,
            "Issued here, but the seal could not be confirmed",
            "The bytes match a document this site issued, but its seal does not check out "
            f"against this site's certificate ({check.reason}). Ask the organisers.",
            doc,
            title,
        )
    if check.ok:
        return Verdict(
            False,
            "Altered or not issued here",
            "The file carries an intact seal of this site, but these exact bytes were never "
            "issued here: something outside the sealed part was changed.",
        )
    reason = check.reason or "the seal does not match"
    return Verdict(
        False,
        "Altered or not issued here",
        f"This file does not match any document this site issued ({reason}).",
    )


def issued_by_code(code: str) -> IssuedDocument | None:
    """The issued document a verification code names, if any."""
    clean = clean_code(code)
    if clean is None:
        return None
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.code == clean))

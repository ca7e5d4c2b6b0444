"""SendGrid Inbound Parse, read: its multipart body, fields, attachments and checks.

This is the only module that knows Inbound Parse's format. The endpoint hands it the
raw, size-capped body; what comes back is an `InboundMessage`, the neutral parts of an
email that services/replies.py stores. Nothing here touches the database.
"""

import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import HeaderParser
from email.utils import parseaddr

from werkzeug.datastructures import MultiDict
from werkzeug.formparser import MultiPartParser

from ..errors import Invalid
from .reply_address import addresses

log = logging.getLogger(__name__)

#: More files than this in one reply are dropped (and named in the log).
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Longer SPF, DKIM and header fields are cut before they are read.
MAX_FIELD_CHARS = 2000
#: One result in SendGrid's `dkim` field, e.g. "{@argus.example : pass, @esp.example : fail}".
DKIM_RESULT = re.compile(r"@([a-z0-9.-]{1,253})\s*:\s*([a-z]{1,20})", re.IGNORECASE)
#: The raw `headers` field is read only this far: the threading headers come early.
MAX_HEADERS_CHARS = 64 * 1024
ATTACHMENT_FIELD = re.compile(r"^attachment(\d{1,4})$")
MIME_SHAPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,48}/[a-z0-9][a-z0-9!#$&^_.+-]{0,48}$")
#: NUL and other control characters (tabs and newlines stay); PostgreSQL refuses NUL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
UNSAFE_FILENAME_CHARS = re.compile(r"[^\w .()+,-]")


@dataclass
class Attachment:
    """One attached file as received: the sender's name and type for it, and its bytes."""

    filename: str
    mime: str
    data: bytes


@dataclass
class InboundMessage:
    """A received email as plain parts, whichever provider delivered it."""

    #: Every recipient address: the envelope's, then the To header's.
    to: list[str]
    #: The From header's address (else the envelope sender), and its display name.
    from_email: str
    from_name: str
    #: The envelope sender, which SPF checked.
    envelope_from: str
    subject: str
    text: str
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    #: File names of attachments not kept (over the count or size cap).
    not_kept: list[str] = field(default_factory=list)
    #: The receiving server's SPF and DKIM results, as received (shown to organisers).
    spf: str = ""
    dkim: str = ""
    #: The domains whose DKIM signature passed.
    dkim_passed: list[str] = field(default_factory=list)
    #: Threading headers, "" when absent.
    message_id: str = ""
    in_reply_to: str = ""


def _clean(value, limit: int | None = None) -> str:
    """A form value as safe text: a string, no control characters, at most `limit` chars."""
    text = CONTROL_CHARS.sub("", value if isinstance(value, str) else "")
    return text[:limit] if limit is not None else text


def _json_field(fields, name: str):
    """Decode a JSON form field; a present but broken one is Invalid."""
    raw = fields.get(name)
    if raw in (None, ""):
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Invalid(name, "is not valid JSON") from exc


def safe_filename(name: str) -> str:
    """A file name fit to show and to offer as a download: no path, no odd characters."""
    base = re.split(r"[\\/]", _clean(name))[-1]
    base = UNSAFE_FILENAME_CHARS.sub("_", base).strip(" .")
    return base[:200] or "attachment"


def decode_fields(raw: Mapping[str, bytes]) -> dict[str, str]:
    """Inbound Parse fields as text, each decoded by the charset SendGrid names for it.

    `charsets` is a JSON object (field -> charset); a field it does not name, or names
    with a charset Python does not know, is read as UTF-8. Bytes that do not fit become
    U+FFFD rather than failing the reply.
    """
    try:
        charsets = json.loads(raw.get("charsets", b"").decode("utf-8", "replace") or "{}")
    except (ValueError, RecursionError):
        charsets = {}
    if not isinstance(charsets, dict):
        charsets = {}
    fields = {}
    for name, value in raw.items():
        charset = charsets.get(name)
        try:
            fields[name] = value.decode(charset if isinstance(charset, str) else "utf-8", "replace")
        except (LookupError, UnicodeError):
            # An unknown name, or a codec that is no charset ("base64"), or one that takes
            # no "replace" ("idna"): read the field as UTF-8.
            fields[name] = value.decode("utf-8", "replace")
    return fields


def parse_post(body: bytes, boundary: str, max_bytes: int) -> InboundMessage:
    """Read a whole Inbound Parse post (already size-capped); Invalid if malformed.

    Werkzeug's RequestEntityTooLarge comes through when one field passes `max_bytes`.
    """
    fields, files = _form_as_bytes(body, boundary, max_bytes)
    try:
        return parse_fields(fields, files)
    finally:
        # Files from our own parser, not request.files: Flask will not close them.
        for _name, upload in files.items(multi=True):
            upload.close()


def parse_fields(raw: Mapping[str, bytes], files) -> InboundMessage:
    """Read the fields and files of an Inbound Parse post; Invalid if malformed."""
    fields = decode_fields(raw)
    if not (fields.get("envelope") or fields.get("from")):
        # Werkzeug reads a broken multipart body as an empty form rather than failing.
        raise Invalid("body", "no 'envelope' or 'from' field; expected an Inbound Parse post")
    if fields.get("email") and not (fields.get("text") or fields.get("html")):
        raise Invalid("email", "raw MIME posts are not supported; turn off 'POST raw' in SendGrid")
    envelope = _json_field(fields, "envelope") or {}
    if not isinstance(envelope, dict):
        raise Invalid("envelope", "must be a JSON object with 'to' and 'from'")
    to = envelope.get("to") or []
    to = [to] if isinstance(to, str) else to
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        raise Invalid("envelope", "'to' must be a list of addresses")
    info = _json_field(fields, "attachment-info") or {}
    if not isinstance(info, dict):
        raise Invalid("attachment-info", "must be a JSON object keyed by attachment field")
    envelope_from = envelope.get("from") if isinstance(envelope.get("from"), str) else ""
    from_name, from_email = _sender(_clean(fields.get("from")), envelope_from)
    attachments, not_kept = _attachments(files, info)
    dkim = _clean(fields.get("dkim"), MAX_FIELD_CHARS).strip()
    threading = _threading_headers(_clean(fields.get("headers"), MAX_HEADERS_CHARS))
    return InboundMessage(
        to=[a.strip() for a in to][:50] + addresses(_clean(fields.get("to"))),
        from_email=from_email,
        from_name=from_name[:200],
        envelope_from=_clean(envelope_from),
        subject=_clean(fields.get("subject"), 300).strip(),
        text=_clean(fields.get("text")),
        html=_clean(fields.get("html")),
        attachments=attachments,
        not_kept=not_kept,
        spf=_clean(fields.get("SPF"), 32).strip(),
        dkim=dkim[:500],
        dkim_passed=dkim_passes(dkim),
        message_id=threading.get("Message-ID", ""),
        in_reply_to=threading.get("In-Reply-To", ""),
    )


def dkim_passes(dkim: str) -> list[str]:
    """The domains whose DKIM signature passed, from SendGrid's `dkim` field."""
    return [
        domain.lower().rstrip(".")
        for domain, result in DKIM_RESULT.findall(dkim[:MAX_FIELD_CHARS])
        if result.lower() == "pass"
    ]


def _threading_headers(raw: str) -> dict[str, str]:
    """Message-ID and In-Reply-To from SendGrid's raw `headers` field, each one line."""
    if not raw:
        return {}
    headers = HeaderParser().parsestr(raw, headersonly=True)
    found = {}
    for name in ("Message-ID", "In-Reply-To"):
        value = headers.get(name)
        if isinstance(value, str):
            found[name] = " ".join(value.split())[:998]
    return found


def _sender(header: str, envelope_from: str) -> tuple[str, str]:
    """The sender's name and address: the From header, else the envelope sender."""
    name, address = parseaddr(header[:1000]) if header else ("", "")
    return _clean(name).strip(), _clean(address or envelope_from).strip()


def _attachments(files, info: dict) -> tuple[list[Attachment], list[str]]:
    """The attached files, in order, within the count and size caps; and those dropped."""
    keyed = sorted(
        ((int(m.group(1)), key) for key in files if (m := ATTACHMENT_FIELD.match(key))),
    )
    uploads, dropped = [], []
    for _, key in keyed:
        upload = files[key]
        meta = info.get(key) if isinstance(info.get(key), dict) else {}
        name = meta.get("filename") or meta.get("name") or upload.filename or key
        filename = safe_filename(name if isinstance(name, str) else key)
        if len(uploads) >= MAX_ATTACHMENTS:
            log.warning("inbound reply: attachment %r dropped, more than %d", key, MAX_ATTACHMENTS)
            dropped.append(filename)
            continue
        data = upload.stream.read(MAX_ATTACHMENT_BYTES + 1)
        if len(data) > MAX_ATTACHMENT_BYTES:
            log.warning("inbound reply: attachment %r dropped, larger than the cap", key)
            dropped.append(filename)
            continue
        mime = str(meta.get("type") or upload.mimetype or "").strip().lower()
        uploads.append(
            Attachment(
                filename=filename,
                mime=mime if MIME_SHAPE.match(mime) else "application/octet-stream",
                data=data,
            )
        )
    return uploads, dropped


class _LosslessFields(MultiPartParser):
    """Reads every form field as Latin-1, which maps each byte to one character.

    Werkzeug decodes fields as UTF-8 and replaces what does not fit, but a reply keeps
    the character set its sender's mail program used (windows-1252, ISO-8859-2...), and
    SendGrid names it per field in `charsets`. Latin-1 loses nothing, so decode_fields
    can decode each field's bytes with the charset SendGrid gives.
    """

    def get_part_charset(self, headers) -> str:
        """Latin-1 for every part: its bytes, one per character."""
        return "latin-1"


def _form_as_bytes(
    body: bytes, boundary: str, max_bytes: int
) -> tuple[dict[str, bytes], MultiDict]:
    """The post's fields as bytes (first value of each) and its files.

    A body that is not multipart reads as no fields, as Werkzeug's own form does; the
    parser then says which field is missing.
    """
    # Text and HTML parts of a long email thread easily pass Flask's 500 kB per field.
    parser = _LosslessFields(max_form_memory_size=max_bytes)
    try:
        form, files = parser.parse(io.BytesIO(body), boundary.encode("latin-1"), len(body))
    except ValueError:
        return {}, MultiDict()
    return {name: value.encode("latin-1") for name, value in form.items()}, files

"""Reading a SendGrid Inbound Parse post: its fields, text, attachments and sender checks.

The endpoint hands the post's raw fields (bytes, size-capped) and files here; what comes
back is an `Inbound`, the plain parts a stored reply is made of (services/replies.py).
"""

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr

from ..errors import Invalid
from ..mail.reply_address import addresses
from . import html_text, sender_check

log = logging.getLogger(__name__)

#: More files than this in one reply are dropped (and named in the log).
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Enough for any real reply; a longer text is cut, with a note saying so.
MAX_TEXT_CHARS = html_text.MAX_TEXT_CHARS
ATTACHMENT_FIELD = re.compile(r"^attachment(\d{1,4})$")
MIME_SHAPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,48}/[a-z0-9][a-z0-9!#$&^_.+-]{0,48}$")
#: NUL and other control characters (tabs and newlines stay); PostgreSQL refuses NUL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
UNSAFE_FILENAME_CHARS = re.compile(r"[^\w .()+,-]")


@dataclass
class Upload:
    """One attached file as received: the sender's name and type for it, and its bytes."""

    filename: str
    mime: str
    data: bytes


@dataclass
class Inbound:
    """The parts of an Inbound Parse post that a reply is made of."""

    to: list[str]
    from_email: str
    from_name: str
    subject: str
    text: str
    uploads: list[Upload] = field(default_factory=list)
    #: SendGrid's SPF and DKIM results, as received (shown to organisers).
    spf: str = ""
    dkim: str = ""
    #: Why the From address is not verified; None when SPF or DKIM vouch for it.
    unverified: str | None = None


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


def parse_sendgrid(raw: Mapping[str, bytes], files) -> Inbound:
    """Read the fields of an Inbound Parse post (already size-capped); Invalid if malformed."""
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
    text = _clean(fields.get("text"))
    if not text.strip() and fields.get("html"):
        text = html_text.html_to_text(_clean(fields.get("html")))
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + html_text.CUT_NOTE
    uploads, dropped = _uploads(files, info)
    if dropped:
        # Said in the reply itself, so organisers know to ask the target for the file.
        text += "\n\n[Not kept (too many or too large): " + ", ".join(dropped) + "]"
    spf = _clean(fields.get("SPF"), 32).strip()
    dkim = _clean(fields.get("dkim"), sender_check.MAX_FIELD_CHARS).strip()
    return Inbound(
        to=[a.strip() for a in to][:50] + addresses(_clean(fields.get("to"))),
        from_email=from_email[:254],
        from_name=from_name[:200],
        subject=_clean(fields.get("subject"), 300).strip(),
        text=text,
        uploads=uploads,
        spf=spf,
        dkim=dkim[:500],
        unverified=sender_check.problem(from_email, _clean(envelope_from), spf, dkim),
    )


def _sender(header: str, envelope_from: str) -> tuple[str, str]:
    """The sender's name and address: the From header, else the envelope sender."""
    name, address = parseaddr(header[:1000]) if header else ("", "")
    return _clean(name).strip(), _clean(address or envelope_from).strip()


def _uploads(files, info: dict) -> tuple[list[Upload], list[str]]:
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
            Upload(
                filename=filename,
                mime=mime if MIME_SHAPE.match(mime) else "application/octet-stream",
                data=data,
            )
        )
    return uploads, dropped

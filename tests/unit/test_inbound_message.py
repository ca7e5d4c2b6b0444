"""SendGrid's Inbound Parse format is read in campaign/mail/inbound.py and nowhere else."""

import json
from io import BytesIO
from pathlib import Path

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campaign.mail.inbound import InboundMessage, parse_post

ROOT = Path(__file__).resolve().parents[2]


def _post(fields: dict, files: dict | None = None) -> tuple[bytes, str]:
    """A multipart body as SendGrid posts it, and its boundary."""
    data = dict(fields)
    for name, (filename, mime, content) in (files or {}).items():
        data[name] = FileStorage(BytesIO(content), filename=filename, content_type=mime)
    boundary, body = encode_multipart(data)
    return body, boundary


def test_a_post_reads_as_a_neutral_message():
    """Every part a reply needs, threading headers and DKIM verdicts included, as plain data."""
    body, boundary = _post(
        {
            "envelope": json.dumps({"to": ["r+1@replies.example"], "from": "bounce@argus.example"}),
            "from": "Ada Ceo <ceo@argus.example>",
            "to": "Someone <other@replies.example>",
            "subject": "Re: our letter",
            "text": "",
            "html": "<p>We have read it.</p>",
            "SPF": "pass",
            "dkim": "{@argus.example : pass, @esp.example : fail}",
            "headers": "Message-ID: <abc@argus.example>\nIn-Reply-To:\n <xyz@undersigned>\n",
        },
        {"attachment1": ("answer.pdf", "application/pdf", b"%PDF-1.7")},
    )
    message = parse_post(body, boundary, 1_000_000)
    assert isinstance(message, InboundMessage)
    assert message.to == ["r+1@replies.example", "other@replies.example"]
    assert (message.from_name, message.from_email) == ("Ada Ceo", "ceo@argus.example")
    assert message.envelope_from == "bounce@argus.example"
    assert message.subject == "Re: our letter"
    assert message.html == "<p>We have read it.</p>" and message.text == ""
    assert message.dkim_passed == ["argus.example"]
    assert message.spf == "pass"
    assert message.message_id == "<abc@argus.example>"
    assert message.in_reply_to == "<xyz@undersigned>"
    [attachment] = message.attachments
    assert (attachment.filename, attachment.mime, attachment.data) == (
        "answer.pdf",
        "application/pdf",
        b"%PDF-1.7",
    )


def test_only_the_mail_adapter_reads_inbound_parse_fields():
    """Views and services handle an InboundMessage, never SendGrid's fields."""
    markers = ("MultiPartParser", '"attachment-info"', '"charsets"', "DKIM_RESULT")
    offenders = [
        f"{path.relative_to(ROOT)}: {marker}"
        for path in (ROOT / "campaign").rglob("*.py")
        if path != ROOT / "campaign" / "mail" / "inbound.py"
        for marker in markers
        if marker in path.read_text()
    ]
    assert offenders == []

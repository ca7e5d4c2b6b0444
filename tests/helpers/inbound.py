"""SendGrid Inbound Parse as the tests speak it: its settings and a posted reply."""

import io
import json

from tests import factories as f

DOMAIN = "replies.coalition.test"
SECRET = "inbound-secret-for-tests"
URL = f"/webhooks/sendgrid/inbound/{SECRET}"


def post_reply(client, *, to, text="We have received your letter.", files=None, **fields):
    """Post an email the way SendGrid Inbound Parse does (multipart/form-data)."""
    files = files or {}
    data = {
        "to": to,
        "from": "Jordan Vale <ceo@argus.example>",
        "subject": "Re: Stop selling face surveillance",
        "text": text,
        "envelope": json.dumps({"to": [to], "from": "ceo@argus.example"}),
        # What SendGrid reports for mail from a domain that signs and publishes SPF.
        "SPF": "pass",
        "dkim": "{@argus.example : pass}",
        "attachments": str(len(files)),
        "attachment-info": json.dumps(
            {key: {"filename": name, "type": mime} for key, (name, mime, _) in files.items()}
        ),
        **{key: (io.BytesIO(body), name, mime) for key, (name, mime, body) in files.items()},
    }
    data.update(fields)
    return client.post(URL, data=data, content_type="multipart/form-data")


def signer(c, owner, name, *, wants_updates):
    """A partner of `c` who signed, opting in or out of updates."""
    p = f.partner(c, owner, name=name)
    f.sign(c, owner, p, wants_updates=wants_updates)
    return p

"""The SendGrid adapter: the only module in the project that imports `sendgrid`.

Sending goes through the official client (`SendGridAPIClient`, whose `host` the tests
point at a local fake API), and event webhooks are verified with SendGrid's own helper.
"""

import base64
import binascii
import functools
import http.client
import json
import logging
import re
import urllib.error

import python_http_client.exceptions as http_errors
import sendgrid
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from sendgrid.helpers.mail import (
    Attachment,
    ClickTracking,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Header,
    Mail,
    OpenTracking,
    ReplyTo,
    SubscriptionTracking,
    To,
    TrackingSettings,
)
from sendgrid.helpers.mail.exceptions import SendGridException

from ..extensions import db
from ..models import Blob, OutboundEmail
from ..models.mail import OutboundBatch
from .failures import PermanentFailure, TemporaryFailure, UnknownOutcome
from .suppression import list_unsubscribe_headers

log = logging.getLogger(__name__)

SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP
DEFAULT_TIMEOUT_SECONDS = 10
#: 429 is "slow down" and 408 "try again"; every other 4xx means the request is wrong.
RETRYABLE_4XX = {408, 429}
MAX_REASON_CHARS = 1000
#: SendGrid names a bad recipient's field as "personalizations.<n>.to.0.email".
PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\b")
#: Characters that make SendGrid split or garble a display name unless it is quoted.
NAME_NEEDS_QUOTES = re.compile(r'[,;"\\]')


class SendGridBackend:
    """Sends an OutboundEmail through SendGrid's v3 mail/send API."""

    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        host: str,
        *,
        from_email: str | None = None,
        from_name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        config = current_app.config
        self.client = sendgrid.SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        # The client has no timeout by default; a hung connection would hold a worker.
        self.client.client.timeout = timeout
        self.from_email = from_email or config["MAIL_FROM"]
        self.from_name = from_name if from_name is not None else config["MAIL_FROM_NAME"]

    def message(self, email: OutboundEmail) -> Mail:
        """Build the SendGrid request body for one email."""
        mail = Mail(
            from_email=From(self.from_email, self.from_name or None),
            to_emails=To(email.to_email, recipient_name(email.to_name)),
            subject=email.subject,
            plain_text_content=email.text_body,
            html_content=email.html_body or None,
        )
        # The webhook finds the row by this id even before we know the message id.
        mail.add_custom_arg(CustomArg("outbound_id", str(email.id)))
        if email.reply_to:
            # A target's per-copy address, so the reply comes back through Inbound Parse.
            mail.reply_to = ReplyTo(email.reply_to)
        for key, value in list_unsubscribe_headers(email).items():
            mail.add_header(Header(key, value))
        mail.tracking_settings = _tracking(email.tracking)
        if email.attachment_sha256:
            blob = db.session.get(Blob, email.attachment_sha256)
            if blob is None:
                raise PermanentFailure("the attachment is no longer stored")
            mail.attachment = Attachment(
                FileContent(base64.b64encode(blob.data).decode("ascii")),
                FileName(email.attachment_name or "attachment"),
                FileType(blob.mime),
                Disposition("attachment"),
            )
        return mail

    def batch_message(self, batch: OutboundBatch, emails: list[OutboundEmail]) -> dict:
        """Build one request for many emails: a shared body, a personalization each."""
        mail = Mail(
            from_email=From(self.from_email, self.from_name or None),
            plain_text_content=batch.text_template,
        )
        mail.tracking_settings = _tracking(emails[0].tracking)
        body = mail.get()
        # Plain dicts in the v3 shape: the helper's Personalization objects check each
        # recipient against all the others, which is quadratic over 1,000 of them.
        body["personalizations"] = [_personalization(email) for email in emails]
        return body

    def send(self, email: OutboundEmail) -> str:
        """Hand the email to SendGrid and return its X-Message-Id."""
        return self._post(lambda: self.message(email))

    def send_batch(self, batch: OutboundBatch, emails: list[OutboundEmail]) -> dict[int, str]:
        """Send emails of one batch in a single request; return each email's message id."""
        message_id = self._post(lambda: self.batch_message(batch, emails))
        return {email.id: message_id for email in emails}

    def _post(self, build) -> str:
        """POST the message `build()` makes; map every failure to a MailError."""
        try:
            message = build()
        except SendGridException as exc:
            # The helper refuses bodies that look like they carry an API key.
            raise PermanentFailure(f"SendGrid helper refused the message: {exc!r}") from exc
        try:
            response = self.client.send(message)
        except http_errors.HTTPError as exc:
            raise _failure(exc) from exc
        except urllib.error.URLError as exc:
            # urllib wraps errors raised while connecting or writing the request: nothing
            # complete reached SendGrid, so sending again cannot duplicate.
            raise TemporaryFailure(f"could not reach SendGrid: {_describe(exc)}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # Raised while waiting for the answer: the request went out and may have been
            # accepted. Only SendGrid's 'processed' event can tell.
            raise UnknownOutcome(f"no answer from SendGrid: {_describe(exc)}") from exc
        if not 200 <= response.status_code < 300:
            raise TemporaryFailure(f"SendGrid answered {response.status_code}")
        return response.headers.get("X-Message-Id") or ""


def _personalization(email: OutboundEmail) -> dict:
    """One recipient of a batch: address, own subject, own values, own outbound id."""
    to = {"email": email.to_email}
    if email.to_name:
        to["name"] = recipient_name(email.to_name)
    person = {
        "to": [to],
        "subject": email.subject,
        # Per personalization, so each event names its own row.
        "custom_args": {"outbound_id": str(email.id)},
    }
    if email.substitutions:
        person["substitutions"] = dict(email.substitutions)
    headers = list_unsubscribe_headers(email)
    if headers:
        person["headers"] = headers  # each recipient unsubscribes only themselves
    return person


def recipient_name(name: str | None) -> str | None:
    """A recipient's display name as SendGrid needs it: RFC 5322-quoted if it has , ; " or \\.

    SendGrid builds the To header from a personalization's bare name, so "Smith, Alex"
    became two recipients; the sendgrid client passes names through untouched (it dropped
    its own quoting). A quoted-string escapes its own quotes and backslashes. The sender's
    name is left alone: SendGrid quotes `from` itself, and quoting it here too would
    put the quotes inside the name.
    """
    if not name:
        return None
    if not NAME_NEEDS_QUOTES.search(name):
        return name
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _tracking(enabled: bool) -> TrackingSettings:
    """Explicit either way, so the account's default never decides for an organiser.

    Subscription tracking (SendGrid's own unsubscribe footer and link) is always off: our
    partner mail carries its own unsubscribe link, and a letter to a target must arrive
    exactly as the coalition wrote it.
    """
    return TrackingSettings(
        click_tracking=ClickTracking(bool(enabled), False),
        open_tracking=OpenTracking(bool(enabled)),
        subscription_tracking=SubscriptionTracking(False),
    )


def _failure(exc: http_errors.HTTPError) -> Exception:
    """Map an HTTP error from the API to a temporary or permanent failure."""
    status = exc.status_code
    reason = _error_reason(status, exc.body)
    if status >= 500 or status in RETRYABLE_4XX:
        return TemporaryFailure(reason, retry_after=_retry_after(exc.headers))
    return PermanentFailure(reason, recipients=_bad_recipients(exc.body))


def _bad_recipients(body) -> list[int]:
    """Positions of the personalizations SendGrid blamed, if it blamed only those."""
    try:
        errors = json.loads(body).get("errors") or []
        fields = [str(error.get("field") or "") for error in errors]
    except (TypeError, ValueError, AttributeError):
        return []
    matches = [PERSONALIZATION_FIELD.match(field) for field in fields]
    if not matches or not all(matches):
        # Any error about the request as a whole (sender, content, key) fails every email.
        return []
    return sorted({int(match.group(1)) for match in matches})


def _error_reason(status: int, body) -> str:
    """Turn SendGrid's `{"errors": [{"field", "message"}]}` body into one readable line."""
    messages = []
    try:
        data = json.loads(body)
        for error in data.get("errors") or []:
            message = str(error.get("message") or "").strip()
            field = error.get("field")
            if message:
                messages.append(f"{field}: {message}" if field else message)
    except (TypeError, ValueError, AttributeError):
        pass
    detail = "; ".join(messages) or "no reason given"
    return f"SendGrid {status}: {detail}"[:MAX_REASON_CHARS]


def _retry_after(headers) -> int | None:
    """Read a Retry-After given in seconds; the HTTP-date form is rare enough to ignore."""
    try:
        value = headers.get("Retry-After") if headers is not None else None
        return max(0, int(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _describe(exc: Exception) -> str:
    """Name a network error without a traceback."""
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason if reason is not None else exc}"[:MAX_REASON_CHARS]


@functools.lru_cache(maxsize=8)
def _public_key(public_key: str) -> ec.EllipticCurvePublicKey:
    """Load the webhook verification key, given bare (as SendGrid shows it) or as PEM."""
    # Operators paste either the bare base64 from SendGrid's settings page or a PEM file.
    bare = "".join(
        line.strip() for line in public_key.strip().splitlines() if not line.startswith("-----")
    )
    base64.b64decode(bare, validate=True)
    key = EventWebhook().convert_public_key_to_ecdsa(bare)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("the webhook verification key is not an elliptic-curve key")
    return key


def verify_event_signature(public_key: str, payload: bytes, signature: str, timestamp: str) -> bool:
    """Return whether SendGrid signed `timestamp + payload`; any malformed input is False."""
    try:
        if not isinstance(payload, bytes | bytearray | memoryview):
            return False
        if not (isinstance(timestamp, str) and timestamp.isascii() and timestamp):
            return False
        if not isinstance(signature, str) or not base64.b64decode(signature, validate=True):
            return False
        key = _public_key(public_key)
        # The helper takes text and re-encodes it as UTF-8; a strict decode round-trips to
        # the exact bytes received, and a body that is not UTF-8 cannot be SendGrid's.
        text = bytes(payload).decode("utf-8")
        return bool(EventWebhook().verify_signature(text, signature, timestamp, public_key=key))
    except (binascii.Error, UnicodeDecodeError):
        return False
    except Exception as exc:
        # Unsupported key types and malformed DER signatures surface as assorted errors.
        log.warning("webhook signature check refused malformed input: %s", type(exc).__name__)
        return False

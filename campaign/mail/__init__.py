"""Outgoing email: the outbox, the provider adapters and the provider's events.

`outbox` writes and sends OutboundEmail rows, `sendgrid` is the only module that talks
to SendGrid, `local` is the no-provider default, and `events` applies webhook events.
`inbound` reads SendGrid's Inbound Parse posts into a neutral InboundMessage, and
`failures` names how a send can fail (imported by the adapters, never the other way).
"""

from .failures import MailError, PermanentFailure, TemporaryFailure, UnknownOutcome
from .outbox import backend, queue_email, retry, send_email

__all__ = [
    "MailError",
    "PermanentFailure",
    "TemporaryFailure",
    "UnknownOutcome",
    "backend",
    "queue_email",
    "retry",
    "send_email",
]

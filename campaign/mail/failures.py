"""How a send can fail, as the provider adapters report it to the outbox."""


class MailError(Exception):
    """A send did not go through; `reason` is shown to the organiser."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(MailError):
    """The provider could not take the email now (rate limit, outage, timeout)."""

    def __init__(self, reason: str, retry_after: int | None = None):
        super().__init__(reason)
        #: Seconds the provider asked us to wait, when it said (429 Retry-After).
        self.retry_after = retry_after


class PermanentFailure(MailError):
    """The provider refused the email; sending it again unchanged will not help."""

    def __init__(self, reason: str, recipients: list[int] | None = None):
        super().__init__(reason)
        #: Positions (in the request) of the recipients the provider named as the problem;
        #: empty when the whole request was refused.
        self.recipients = recipients or []


class UnknownOutcome(MailError):
    """The request was sent but no answer came back: it may or may not have been accepted."""

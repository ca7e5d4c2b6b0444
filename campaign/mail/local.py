"""The default mail backend when no provider is configured: the outbox is the mailbox.

Organisers read these emails in the app (the OutboundEmail rows themselves), so a
single machine without a SendGrid account still shows exactly what would have gone out.
"""

from ..models import OutboundEmail


class LocalBackend:
    """Keeps the email in the in-app outbox instead of handing it to a provider."""

    name = "local"

    def send(self, email: OutboundEmail) -> str:
        """Accept the email into the local outbox and return its local message id."""
        return f"local-{email.id}"

    def send_batch(self, batch, emails: list[OutboundEmail]) -> dict[int, str]:
        """Accept a batch into the local outbox: each email keeps its own full text."""
        return {email.id: self.send(email) for email in emails}

"""All tables; importing this module registers them with the metadata."""

from .audit import AuditEvent
from .base import utcnow
from .campaigns import STATUSES, Campaign, LetterVersion, Target
from .files import Blob, RenderedLetter
from .mail import PROGRESS, TERMINAL, EmailEvent, OutboundEmail
from .public import BlockedSource, PublicLink
from .signing import (
    REFUSED_STATUSES,
    REQUEST_STATUSES,
    TIERS,
    VISIBILITY,
    Partner,
    ReminderSent,
    Signature,
    SignatureRequest,
)
from .users import ROLES, CampaignMember, User

__all__ = [
    "PROGRESS",
    "REQUEST_STATUSES",
    "ROLES",
    "STATUSES",
    "TERMINAL",
    "TIERS",
    "VISIBILITY",
    "REFUSED_STATUSES",
    "AuditEvent",
    "BlockedSource",
    "Blob",
    "Campaign",
    "CampaignMember",
    "EmailEvent",
    "LetterVersion",
    "OutboundEmail",
    "Partner",
    "PublicLink",
    "ReminderSent",
    "RenderedLetter",
    "Signature",
    "SignatureRequest",
    "Target",
    "User",
    "utcnow",
]

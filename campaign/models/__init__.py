"""All tables; importing this module registers them with the metadata."""

from .audit import AuditEvent
from .base import utcnow
from .campaigns import STATUSES, Campaign, LetterVersion, Target
from .files import Blob, RenderedLetter
from .mail import PROGRESS, TERMINAL, EmailEvent, OutboundEmail
from .signing import REQUEST_STATUSES, TIERS, Partner, Signature, SignatureRequest
from .users import ROLES, CampaignMember, User

__all__ = [
    "PROGRESS",
    "REQUEST_STATUSES",
    "ROLES",
    "STATUSES",
    "TERMINAL",
    "TIERS",
    "AuditEvent",
    "Blob",
    "Campaign",
    "CampaignMember",
    "EmailEvent",
    "LetterVersion",
    "OutboundEmail",
    "Partner",
    "RenderedLetter",
    "Signature",
    "SignatureRequest",
    "Target",
    "User",
    "utcnow",
]

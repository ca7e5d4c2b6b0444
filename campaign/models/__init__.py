"""All tables; importing this module registers them with the metadata."""

from .audit import AuditEvent
from .base import utcnow
from .campaigns import (
    PAGE_SIZES,
    SIGNATURE_STYLES,
    STATUSES,
    Campaign,
    CampaignStatus,
    LetterRevision,
    LetterVersion,
    ReviewComment,
    Target,
)
from .evidence import IssuedDocument
from .exports import EXPORT_STATUSES, ExportRun, ExportStatus
from .files import Blob, RenderedLetter, RenderStatus, RenderWanted
from .mail import PROGRESS, TERMINAL, EmailEvent, EmailStatus, OutboundEmail, WebhookBatch
from .public import BlockedSource, PublicLink
from .responses import Alert, FollowUpSent, FollowUpStep, InboundAttachment, InboundReply
from .signing import (
    COALITION_ROLES,
    REFUSED_STATUSES,
    REQUEST_STATUSES,
    TIERS,
    VISIBILITY,
    Partner,
    ReminderSent,
    RequestStatus,
    Signature,
    SignatureRequest,
    SignedVersion,
)
from .users import MEMBER_ROLES, ROLES, CampaignMember, CoLeadInvite, User

__all__ = [
    "RenderWanted",
    "EXPORT_STATUSES",
    "ExportRun",
    "COALITION_ROLES",
    "Alert",
    "FollowUpSent",
    "FollowUpStep",
    "InboundAttachment",
    "InboundReply",
    "IssuedDocument",
    "MEMBER_ROLES",
    "PAGE_SIZES",
    "SIGNATURE_STYLES",
    "CoLeadInvite",
    "LetterRevision",
    "ReviewComment",
    "SignedVersion",
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
    "WebhookBatch",
    "utcnow",
    "CampaignStatus",
    "EmailStatus",
    "ExportStatus",
    "RenderStatus",
    "RequestStatus",
]

"""Partners, their personal signing links and their signatures."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

TIERS = ("national", "state", "local")
#: A partner's part in the coalition: "" (a signatory), "lead" or "co_lead"; the letter
#: lists lead organisations first, then co-leads, then each tier.
COALITION_ROLES = ("", "lead", "co_lead")
#: How a signature appears: listed; listed only in copies made at or after delivery;
#: or counted but never listed ("support privately").
VISIBILITY = ("listed", "after_delivery", "private")


#: Invited partners: invited -> viewed -> signed, or declined / withdrawn. Public sign-ups:
#: unconfirmed (email not yet confirmed) -> pending (awaiting moderation) -> signed, or
#: rejected; any signature can later be invalidated in bulk (a botnet or a prank).
class RequestStatus(StrEnum):
    """Where a signing link stands; the values are what the database stores."""

    INVITED = "invited"
    VIEWED = "viewed"
    SIGNED = "signed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    UNCONFIRMED = "unconfirmed"
    PENDING = "pending"
    REJECTED = "rejected"
    INVALIDATED = "invalidated"


REQUEST_STATUSES = tuple(RequestStatus)
#: Statuses in which a public sign-up is not (or no longer) counted and cannot be edited.
REFUSED_STATUSES = (RequestStatus.REJECTED, RequestStatus.INVALIDATED)


class Partner(db.Model):
    """An organisation invited to co-sign a campaign's letter."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    organisation: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254))
    #: national, state or local: the signature list is grouped by it.
    tier: Mapped[str] = mapped_column(String(16), default="national")
    #: "", "lead" or "co_lead"; see COALITION_ROLES.
    coalition_role: Mapped[str] = mapped_column(String(16), default="")
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    #: "invited" by organisers, or "public" when it signed up through the public link.
    source: Mapped[str] = mapped_column(String(16), default="invited")
    #: Who put the organisation on the list: a co-lead's own network, or (None or an
    #: organiser) the lead's. Co-leads see and manage the partners they added.
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped["Campaign"] = relationship()  # noqa: F821
    added_by: Mapped["User | None"] = relationship()  # noqa: F821
    requests: Mapped[list["SignatureRequest"]] = relationship(
        back_populates="partner",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SignatureRequest.id",
    )

    @property
    def current_request(self) -> "SignatureRequest | None":
        """The newest signing link, the one that counts."""
        return self.requests[-1] if self.requests else None


class SignatureRequest(db.Model):
    """A personal signing link; only the sha256 of its token is stored."""

    __tablename__ = "signature_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    #: sha256 hex of the URL token; the token itself is only ever in the invitation email.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: Random per-link salt: the token is an HMAC of it under SECRET_KEY, so a reminder can
    #: mail the same link again without storing it. None for links made before salts.
    token_salt: Mapped[str | None] = mapped_column(String(32))
    #: Follows the campaign's deadline (moved with it when the deadline changes).
    expires_at: Mapped[datetime]
    #: invited -> viewed -> signed; or declined / withdrawn.
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.INVITED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    viewed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: Who this link was sent to, when not the partner's usual contact (a forward).
    addressee_name: Mapped[str] = mapped_column(String(200), default="")
    addressee_email: Mapped[str] = mapped_column(String(254), default="")
    #: The link this one replaced when its holder forwarded it: the delegation chain.
    forwarded_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("signature_requests.id", ondelete="SET NULL")
    )
    #: Public sign-ups: when the signer confirmed their address, and the moderation outcome.
    confirmed_at: Mapped[datetime | None]
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Why a sign-up was rejected or invalidated, shown to the signer.
    moderation_reason: Mapped[str] = mapped_column(Text, default="")

    partner: Mapped[Partner] = relationship(back_populates="requests")
    signature: Mapped["Signature | None"] = relationship(back_populates="request")
    forwarded_from: Mapped["SignatureRequest | None"] = relationship(remote_side=[id])

    @property
    def state(self) -> str:
        """Status as organisers see it: a revoked, unsigned link shows as revoked."""
        answered = (RequestStatus.SIGNED, RequestStatus.WITHDRAWN)
        if self.revoked_at is not None and self.status not in answered:
            return "revoked"
        return self.status


class Signature(db.Model):
    """One organisation's signature, bound to the exact letter text its signer saw."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    #: One signature per link: a second submission updates, never duplicates.
    request_id: Mapped[int] = mapped_column(
        ForeignKey("signature_requests.id", ondelete="CASCADE"), unique=True
    )
    letter_version_id: Mapped[int] = mapped_column(
        ForeignKey("letter_versions.id", ondelete="CASCADE")
    )
    #: sha256 of the published version shown on the signing page, kept forever.
    letter_sha256: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(200))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    signer_email: Mapped[str] = mapped_column(String(254))
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    #: An optional personal signature: typed (the words) or drawn (a checked, re-encoded PNG).
    signature_typed: Mapped[str] = mapped_column(String(200), default="")
    signature_image_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    #: The exact declaration text the signer ticked.
    declaration: Mapped[str] = mapped_column(Text)
    #: The exact consent wording the signer agreed to for sharing contact details ("" if not).
    contact_consent: Mapped[str] = mapped_column(Text, default="")
    contact_consent_at: Mapped[datetime | None]
    #: The signer asked to hear when a target replies (and about follow-ups).
    wants_updates: Mapped[bool] = mapped_column(default=False)
    #: listed, after_delivery or private; see VISIBILITY.
    visibility: Mapped[str] = mapped_column(String(16), default="listed")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    request: Mapped[SignatureRequest] = relationship(back_populates="signature")
    letter_version: Mapped["LetterVersion"] = relationship()  # noqa: F821
    history: Mapped[list["SignedVersion"]] = relationship(
        back_populates="signature",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SignedVersion.id",
    )

    @property
    def tier(self) -> str:
        """The partner's tier, used to group the signature list."""
        return self.request.partner.tier


class SignedVersion(db.Model):
    """Each letter version a signer agreed to, with its sha256, kept for good.

    Signature.letter_version_id says which version the signature counts for now; this
    table remembers every text the signer saw and agreed to, and how.
    """

    __tablename__ = "signed_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    letter_version_id: Mapped[int] = mapped_column(
        ForeignKey("letter_versions.id", ondelete="CASCADE")
    )
    letter_sha256: Mapped[str] = mapped_column(String(64))
    #: signed (first signature or an edit of the details) or reconfirmed (after a revision).
    how: Mapped[str] = mapped_column(String(16), default="signed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    signature: Mapped[Signature] = relationship(back_populates="history")
    letter_version: Mapped["LetterVersion"] = relationship()  # noqa: F821


class ReminderSent(db.Model):
    """A reminder already sent to a partner for one threshold, so `tick` never repeats it."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("partner_id", "days_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

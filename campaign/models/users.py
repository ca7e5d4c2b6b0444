"""Accounts and campaign membership."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import utcnow

ROLES = ("admin", "organiser", "staff")


def new_session_token() -> str:
    """A fresh random value that every session of an account must carry."""
    return secrets.token_hex(16)


def hash_password(password: str) -> str:
    """A salted hash of a password (one hasher and cost for every account and the dummy)."""
    return generate_password_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (the only place a password is checked)."""
    return check_password_hash(password_hash, password)


#: A member's part in one campaign: organisers run it; co-leads review the draft.
MEMBER_ROLES = ("organiser", "co_lead")


class User(UserMixin, db.Model):
    """A person with an account: admin, organiser or staff (read and export)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    #: admin sees every campaign; organiser edits their campaigns; staff reads and exports.
    role: Mapped[str] = mapped_column(String(16), default="organiser")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Carried in every session cookie of this account; logging out replaces it, so a copy
    #: of an old cookie no longer signs anyone in.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)

    memberships: Mapped[list["CampaignMember"]] = relationship(back_populates="user")

    def get_id(self) -> str:
        """The session's user id: the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password, never the password itself."""
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        """Return whether the password matches the stored hash."""
        return verify_password(self.password_hash, password)

    @property
    def can_edit(self) -> bool:
        """Whether this account may change campaigns (staff may only read and export)."""
        return self.role in ("admin", "organiser")


class CampaignMember(db.Model):
    """Links a user to a campaign they may see."""

    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: organiser or co_lead; see MEMBER_ROLES.
    role: Mapped[str] = mapped_column(String(16), default="organiser")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    campaign: Mapped["Campaign"] = relationship(back_populates="members")  # noqa: F821


class CoLeadInvite(db.Model):
    """An emailed invitation to co-lead a campaign; only the token's sha256 is stored."""

    __tablename__ = "colead_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    campaign: Mapped["Campaign"] = relationship()  # noqa: F821
    invited_by: Mapped["User | None"] = relationship(foreign_keys=[invited_by_id])

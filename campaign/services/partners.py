"""Partner organisations: adding them one by one or from CSV, and inviting them."""

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..mail.outbox import queue_email
from ..models import TIERS, Campaign, Partner, SignatureRequest, utcnow
from . import audit
from .campaigns import require_editor

#: The CSV columns, documented on the import page; only organisation and email are required.
CSV_COLUMNS = {
    "organisation": "Organisation name as it should appear on the letter (required)",
    "contact_email": "Email address the personal signing link goes to (required)",
    "contact_name": "Person to greet in the invitation",
    "website": "Organisation website, e.g. https://example.org",
    "tier": "national, state or local (default national)",
}
MAX_CSV_ROWS = 5000


@dataclass
class RowError:
    """One bad CSV row: its line in the file and what is wrong with it."""

    line: int
    reason: str


class CsvRejected(Exception):
    """The CSV had bad rows; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


def normalise_email(value: str, field: str = "contact_email") -> str:
    """Validate an email address's shape, returning it normalised."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(field, f"{value.strip() or 'empty'} is not a valid email address") from exc


CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(fields: dict) -> dict:
    for name in ("organisation", "contact_email", "contact_name", "website", "tier"):
        if CONTROL_CHARS.search(fields.get(name) or ""):
            # PostgreSQL refuses NUL in text, and none of these belong in a letter.
            raise Invalid(name, "contains invisible control characters; retype the value")
    organisation = (fields.get("organisation") or "").strip()
    if not organisation:
        raise Invalid("organisation", "is required")
    if len(organisation) > 200:
        raise Invalid("organisation", "must be at most 200 characters")
    tier = (fields.get("tier") or "national").strip().lower()
    if tier not in TIERS:
        raise Invalid("tier", f"{tier!r} is not one of national, state, local")
    website = (fields.get("website") or "").strip()
    if website and not website.startswith(("http://", "https://")):
        website = "https://" + website
    return {
        "organisation": organisation,
        "contact_email": normalise_email(fields.get("contact_email") or ""),
        "contact_name": (fields.get("contact_name") or "").strip()[:200],
        "website": website[:300],
        "tier": tier,
    }


def _existing_emails(campaign: Campaign) -> set[str]:
    rows = db.session.scalars(
        select(func.lower(Partner.contact_email)).where(Partner.campaign_id == campaign.id)
    )
    return set(rows)


def add_partner(campaign: Campaign, user, fields: dict) -> Partner:
    """Add one partner organisation to the campaign."""
    require_editor(user)
    clean = _clean(fields)
    if clean["contact_email"].lower() in _existing_emails(campaign):
        raise Invalid("contact_email", "this address is already on the partner list")
    partner = Partner(campaign_id=campaign.id, **clean)
    db.session.add(partner)
    db.session.flush()
    audit.record("partner.added", campaign=campaign, user=user, organisation=partner.organisation)
    return partner


def import_csv(campaign: Campaign, user, data: bytes) -> list[Partner]:
    """Import partners from CSV: all rows or, if any row is bad, none."""
    require_editor(user)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("file", "is not UTF-8 text; save the sheet as 'CSV UTF-8'") from exc
    reader = csv.DictReader(io.StringIO(text))
    try:
        headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise Invalid("file", f"the header row is not valid CSV ({exc})") from exc
    missing = [c for c in ("organisation", "contact_email") if c not in headers]
    if missing:
        raise Invalid("file", f"the header row lacks the column(s): {', '.join(missing)}")
    reader.fieldnames = headers
    try:
        return _import_rows(campaign, user, reader)
    except csv.Error as exc:
        raise Invalid("file", f"line {reader.line_num} is not valid CSV ({exc})") from exc


def _import_rows(campaign: Campaign, user, reader: csv.DictReader) -> list[Partner]:
    seen = _existing_emails(campaign)
    errors: list[RowError] = []
    clean_rows = []
    for row in reader:
        line = reader.line_num
        if len(clean_rows) + len(errors) >= MAX_CSV_ROWS:
            errors.append(RowError(line, f"more than {MAX_CSV_ROWS} rows; split the file"))
            break
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue  # blank lines are common at the end of exported sheets
        try:
            clean = _clean(row)
        except Invalid as exc:
            errors.append(RowError(line, f"{exc.field}: {exc.reason}"))
            continue
        email = clean["contact_email"].lower()
        if email in seen:
            errors.append(RowError(line, f"contact_email: {email} appears twice"))
            continue
        seen.add(email)
        clean_rows.append(clean)
    if errors:
        raise CsvRejected(errors)
    if not clean_rows:
        raise Invalid("file", "has no partner rows under the header")
    partners = [Partner(campaign_id=campaign.id, **row) for row in clean_rows]
    db.session.add_all(partners)
    db.session.flush()
    audit.record("partners.imported", campaign=campaign, user=user, count=len(partners))
    return partners


def get_partner(campaign: Campaign, partner_id: int) -> Partner:
    """A partner of this campaign, or NotFound."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.campaign_id != campaign.id:
        raise NotFound(partner_id)
    return partner


def hash_token(token: str) -> str:
    """The stored form of a signing token: its sha256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def signing_url(token: str) -> str:
    """The absolute personal signing link for a token."""
    # Built from BASE_URL, not the request, so CLI runs and workers make the same links.
    return f"{current_app.config['BASE_URL']}/s/{token}"


def issue_link(campaign: Campaign, partner: Partner) -> tuple[SignatureRequest, str]:
    """Create a personal link; only its hash is stored, the token is returned once."""
    for old in partner.requests:
        if old.revoked_at is None and old.status not in ("signed", "withdrawn"):
            old.revoked_at = utcnow()  # a reissued link kills the previous one at once
    token = secrets.token_urlsafe(32)
    req = SignatureRequest(
        campaign_id=campaign.id,
        partner_id=partner.id,
        token_sha256=hash_token(token),
        expires_at=campaign.deadline,
        status="invited",
    )
    partner.requests.append(req)
    db.session.flush()
    return req, token


def uninvited(campaign: Campaign) -> list[Partner]:
    """Partners who have never been sent a link."""
    stmt = (
        select(Partner)
        .where(Partner.campaign_id == campaign.id, ~Partner.requests.any())
        .order_by(Partner.organisation)
    )
    return list(db.session.scalars(stmt))


def invite(campaign: Campaign, user, partners: list[Partner]) -> dict[int, str]:
    """Issue links and queue invitation emails (sent after the commit); return the tokens."""
    require_editor(user)
    if campaign.status != "open":
        raise Conflict("Publish the letter to open the campaign before inviting partners.")
    tokens = {}
    for partner in partners:
        _, token = issue_link(campaign, partner)
        tokens[partner.id] = token
        context = {
            "partner": partner,
            "campaign": campaign,
            "url": signing_url(token),
            "deadline": f"{campaign.deadline.day} {campaign.deadline:%B %Y}",
        }
        queue_email(
            kind="invitation",
            to_email=partner.contact_email,
            to_name=partner.contact_name,
            subject=f"Will {partner.organisation} co-sign? {campaign.title}",
            text_body=render_template("emails/invitation.txt", **context),
            campaign_id=campaign.id,
            partner_id=partner.id,
            tracking=campaign.tracking_enabled,
        )
    if partners:
        audit.record("partners.invited", campaign=campaign, user=user, count=len(partners))
    return tokens

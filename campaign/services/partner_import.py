"""Importing partners from CSV or XLSX: read, map columns, validate and preview, import.

Nothing is stored between the steps: the preview page carries the parsed sheet in a
signed, compressed, time-limited form field, so an abandoned import leaves no data
behind on the server, and a tampered field is refused.
"""

import json
import re
import zlib
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Campaign, Partner
from . import audit
from .duplicates import Flag, find_flags
from .org_names import formula_warning
from .partner_list_access import require_manager
from .partners import clean_partner_fields
from .sheets import Sheet, read_upload

#: The columns we understand, documented on the import page.
COLUMNS = {
    "organisation": "Organisation name as it should appear on the letter (required)",
    "contact_email": "Email address the personal signing link goes to (required)",
    "contact_name": "Person to greet in the invitation",
    "website": "Organisation website, e.g. https://example.org",
    "tier": "national, state or local (default national)",
}
REQUIRED = ("organisation", "contact_email")
#: Header spellings seen in real sheets, matched after lower-casing and trimming.
SYNONYMS = {
    "organisation": {
        "organisation",
        "organization",
        "org",
        "org name",
        "organisation name",
        "organization name",
        "group",
        "group name",
        "name of organisation",
        "name",
    },
    "contact_email": {"contact_email", "contact email", "email", "e-mail", "email address", "mail"},
    "contact_name": {
        "contact_name",
        "contact name",
        "contact",
        "person",
        "first name",
        "full name",
        "contact person",
    },
    "website": {"website", "web site", "url", "site", "homepage", "web"},
    "tier": {"tier", "level", "scope", "type"},
}
SEAL_MAX_AGE = 3600


@dataclass
class RowError:
    """One bad row: its line in the file and what is wrong with it."""

    line: int
    reason: str


class ImportRejected(Exception):
    """The file had bad rows; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


@dataclass
class Preview:
    """What an import would do with a given column mapping."""

    mapping: dict[str, int | None]
    rows: list[tuple[int, dict]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    #: Row-level warnings that are not about duplicates (a name read as a formula).
    warnings: dict[int, str] = field(default_factory=dict)

    @property
    def flagged_lines(self) -> set[int]:
        """Lines that look like a duplicate (related organisations are not counted)."""
        return {f.key for f in self.flags if f.kind == "duplicate"}

    def flag_for(self, line: int) -> Flag | None:
        """The duplicate or related-organisation flag of a line, if any."""
        return next((f for f in self.flags if f.key == line), None)

    @property
    def decisions(self) -> list[tuple[int, dict, Flag | None, str | None]]:
        """Each row that needs the organiser's decision: line, row, flag, warning."""
        flags = {f.key: f for f in self.flags}
        return [
            (line, row, flags.get(line), self.warnings.get(line))
            for line, row in self.rows
            if line in flags or line in self.warnings
        ]

    def options(self, line: int) -> list[str]:
        """What the organiser may do with a line: CHOICES keys, the default first."""
        flag = self.flag_for(line)
        options = ["skip", "import"]
        if flag is not None and flag.same_email:
            options.remove("import")  # one partner per address: see partners.add_partner
        if flag is not None and flag.existing_id is not None:
            options.append("merge")
        if flag is None or flag.kind != "duplicate":
            options.sort(key=lambda option: option != "import")
        return options


#: What may happen to a flagged row; "merge" updates the existing partner it resembles.
CHOICES = {
    "skip": "Skip this row",
    "import": "Import anyway",
    "merge": "Same as existing: update its details",
}


@dataclass
class Imported:
    """What an import did."""

    added: list[Partner]
    updated: list[Partner]
    skipped: int


def _header(text: str) -> str:
    # "Organization_Name", "organisation-name " and "Organisation name" are one header.
    text = re.sub(r"[\s_\-/.:]+", " ", text).strip().lower()
    return text.replace("organization", "organisation")


def guess_mapping(headers: list[str]) -> dict[str, int | None]:
    """Match our columns to the file's headers by their usual spellings."""
    normalised = [_header(h) for h in headers]
    mapping: dict[str, int | None] = {}
    for column, names in SYNONYMS.items():
        spellings = {_header(n) for n in names}
        mapping[column] = next(
            (i for i, h in enumerate(normalised) if h in spellings and i not in mapping.values()),
            None,
        )
    if mapping["contact_name"] is None and "name" in normalised:
        # Beside an organisation column, a bare "Name" is the contact person's.
        index = normalised.index("name")
        if index not in mapping.values():
            mapping["contact_name"] = index
    return mapping


def build_preview(
    campaign: Campaign, sheet: Sheet, mapping: dict[str, int | None], *, on_row=None
) -> Preview:
    """Validate every row under a mapping and flag likely duplicates; changes nothing."""
    missing = [c for c in REQUIRED if mapping.get(c) is None]
    if missing:
        raise Invalid("mapping", f"choose the file's column for: {', '.join(missing)}")
    preview = Preview(mapping)
    existing = db.session.scalars(select_partners(campaign)).all()
    # Address -> (organisation, existing partner id or None, line in this file or None).
    seen = {p.contact_email.lower(): (p.organisation, p.id, None) for p in existing}
    email_flags = []
    for line, cells in sheet.rows:
        if on_row is not None:
            on_row(1)  # progress for the command line
        raw = {
            c: (cells[i] if i is not None and i < len(cells) else "") for c, i in mapping.items()
        }
        try:
            clean = clean_partner_fields(raw)
        except Invalid as exc:
            preview.errors.append(RowError(line, f"{exc.field}: {exc.reason}"))
            continue
        email = clean["contact_email"].lower()
        if email in seen:
            # The same address is the same partner: a decision for this row, not an error.
            other, partner_id, other_line = seen[email]
            where = f"line {other_line}" if other_line else "a partner already on the list"
            reason = f"the same contact email as {where}"
            email_flags.append(Flag(line, other, "duplicate", reason, partner_id, True))
        else:
            seen[email] = (clean["organisation"], None, line)
        warning = formula_warning(clean["organisation"])
        if warning:
            preview.warnings[line] = warning
        preview.rows.append((line, clean))
    by_email = {f.key for f in email_flags}
    preview.flags = email_flags + find_flags(
        [(line, row) for line, row in preview.rows if line not in by_email],
        [
            {
                "id": p.id,
                "organisation": p.organisation,
                "website": p.website,
                "contact_email": p.contact_email,
                "tier": p.tier,
            }
            for p in existing
        ],
    )
    preview.flags.sort(key=lambda f: f.key)
    return preview


def select_partners(campaign: Campaign):
    """The statement for a campaign's partners."""
    from sqlalchemy import select

    return select(Partner).where(Partner.campaign_id == campaign.id)


def _choice(preview: Preview, line: int, choices: dict | None, skip_flagged: bool) -> str:
    options = preview.options(line)
    if choices is not None and choices.get(line) in options:
        return choices[line]
    if choices is None and not skip_flagged and "import" in options:
        return "import"  # the command line without --skip-duplicates imports every row
    return options[0]


def _merge(campaign: Campaign, user, partner_id: int, row: dict, line: int) -> Partner:
    """Update an existing partner from a row the organiser says is the same organisation."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.campaign_id != campaign.id:
        raise Invalid("file", f"line {line}: the partner it matched is gone; upload again")
    try:
        require_manager(user, campaign, [partner])
    except NotFound:
        raise Invalid(
            "file", f"line {line}: you can update only partners you added; skip it instead"
        ) from None
    for name in ("contact_name", "website"):
        if row.get(name):
            setattr(partner, name, row[name])
    if row.get("tier"):
        partner.tier = row["tier"]
    return partner


def commit_preview(
    campaign: Campaign,
    user,
    preview: Preview,
    *,
    skip_flagged: bool = False,
    choices: dict[int, str] | None = None,
) -> Imported:
    """Import a preview in the current transaction: every row as chosen, or nothing.

    `choices` maps a flagged line to skip, import or merge (the preview page's answers);
    without them, flagged duplicates are skipped when `skip_flagged` and imported
    otherwise, and rows whose address is already on the list are always skipped.
    """
    require_manager(user, campaign)
    if preview.errors:
        raise ImportRejected(preview.errors)
    flagged = {f.key: f for f in preview.flags} | dict.fromkeys(preview.warnings)
    added, updated, skipped = [], [], 0
    for line, row in preview.rows:
        choice = _choice(preview, line, choices, skip_flagged) if line in flagged else "import"
        if choice == "skip":
            skipped += 1
        elif choice == "merge":
            updated.append(_merge(campaign, user, preview.flag_for(line).existing_id, row, line))
        else:
            added.append(Partner(campaign_id=campaign.id, added_by_id=user.id, **row))
    if not (added or updated):
        raise Invalid("file", "has no partner rows left to import")
    db.session.add_all(added)
    db.session.flush()
    audit.record(
        "partners.imported",
        campaign=campaign,
        user=user,
        count=len(added),
        updated=len(updated),
        skipped=skipped,
    )
    return Imported(added, updated, skipped)


def import_file(
    campaign: Campaign, user, filename: str, data: bytes, *, skip_flagged: bool = False
) -> Imported:
    """One-shot import with the guessed mapping (command line and API use)."""
    sheet = read_upload(filename, data)
    preview = build_preview(campaign, sheet, guess_mapping(sheet.headers))
    return commit_preview(campaign, user, preview, skip_flagged=skip_flagged)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="partner-import")


def seal(sheet: Sheet, campaign: Campaign) -> str:
    """Pack a sheet for the preview form: compressed, signed, bound to the campaign."""
    packed = zlib.compress(
        json.dumps([campaign.id, sheet.filename, sheet.headers, sheet.rows]).encode(), 6
    )
    return _serializer().dumps(packed.hex())


def unseal(token: str, campaign: Campaign) -> Sheet:
    """Unpack a sealed sheet, refusing tampered, foreign or stale ones."""
    try:
        packed = bytes.fromhex(_serializer().loads(token or "", max_age=SEAL_MAX_AGE))
        campaign_id, filename, headers, rows = json.loads(zlib.decompress(packed))
    except SignatureExpired as exc:
        raise Invalid("file", "this preview is over an hour old; upload the file again") from exc
    except (BadSignature, ValueError, zlib.error) as exc:
        raise Invalid("file", "the preview could not be read; upload the file again") from exc
    if campaign_id != campaign.id:
        raise Invalid("file", "this preview belongs to another campaign; upload the file again")
    return Sheet(filename, headers, [(line, cells) for line, cells in rows])

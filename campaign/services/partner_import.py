"""Importing partners from CSV or XLSX: read, map columns, validate and preview, import.

Nothing is stored between the steps: the preview page carries the parsed sheet in a
signed, compressed, time-limited form field, so an abandoned import leaves no data
behind on the server, and a tampered field is refused.
"""

import csv
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Campaign, Partner
from . import audit
from .coalition import require_manager
from .duplicates import Flag, find_flags
from .org_names import formula_warning
from .partners import clean_partner_fields

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
MAX_ROWS = 5000
SEAL_MAX_AGE = 3600
#: An .xlsx is a zip of XML files. A sheet of 5,000 partners unpacks to a few MB; these
#: caps refuse a small file that would unpack (and be parsed) into gigabytes.
XLSX_MAX_MEMBER_BYTES = 10 * 1024 * 1024
XLSX_MAX_TOTAL_BYTES = 30 * 1024 * 1024
#: Real sheets compress 5 to 30 times; a far higher ratio on a large member is a bomb.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM_BYTES = 1024 * 1024
#: Rows read from a sheet before giving up, blank ones included (openpyxl yields every
#: row up to the last one named, so a one-row file can claim row 1,048,576).
XLSX_MAX_SCANNED_ROWS = 2 * MAX_ROWS + 1000
#: Columns read per row: far more than any partner sheet has.
XLSX_MAX_COLUMNS = 100


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
class Sheet:
    """An uploaded table: its header row and its rows with their line numbers."""

    filename: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]


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


def _cell(value) -> str:
    return "" if value is None else str(value).strip()


def read_upload(filename: str, data: bytes) -> Sheet:
    """Read a CSV (UTF-8) or XLSX file into a Sheet, refusing anything else clearly."""
    if not data:
        raise Invalid("file", "is empty")
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        table = _read_xlsx(data)
    else:
        table = _read_csv(data)
    table = [(line, cells) for line, cells in table if any(cells)]
    if not table:
        raise Invalid("file", "has no rows")
    (_, headers), rows = table[0], table[1:]
    if len(rows) > MAX_ROWS:
        raise _too_many_rows()
    return Sheet(filename, headers, rows)


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("file", "is not UTF-8 text; save the sheet as 'CSV UTF-8'") from exc
    reader = csv.reader(io.StringIO(text))
    try:
        return [(reader.line_num, [_cell(c) for c in row]) for row in reader]
    except csv.Error as exc:
        raise Invalid("file", f"line {reader.line_num} is not valid CSV ({exc})") from exc


def _too_many_rows() -> Invalid:
    return Invalid(
        "file", f"has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}, split the file"
    )


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a workbook whose parts would unpack to far more than a partner list needs."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Invalid("file", "is not a readable .xlsx workbook; save it again as .xlsx") from exc
    advice = "save just the partner list as a new .xlsx or CSV file and upload that"
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        too_big = member.file_size > XLSX_MAX_MEMBER_BYTES or total > XLSX_MAX_TOTAL_BYTES
        packed = member.file_size > XLSX_RATIO_FROM_BYTES and ratio > XLSX_MAX_RATIO
        if too_big or packed:
            size = f"{member.file_size / 1024 / 1024:,.0f} MB"
            raise Invalid(
                "file",
                f"unpacks to far more than a partner list needs ({member.filename} alone is "
                f"{size}); {advice}",
            )


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        # read_only streams the sheet; formulas come back as their cached values or text.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  (openpyxl raises many kinds for bad files)
        raise Invalid("file", "is not a readable .xlsx workbook; save it again as .xlsx") from exc
    try:
        sheet = book.worksheets[0]
        table, filled = [], 0
        # The sheet's own dimension can claim 16,384 columns; openpyxl pads every row to it.
        width = min(sheet.max_column or XLSX_MAX_COLUMNS, XLSX_MAX_COLUMNS)
        rows = sheet.iter_rows(values_only=True, max_col=width)
        # Stop at the limit instead of reading a million rows to count them.
        for n, row in enumerate(rows, start=1):
            cells = [_cell(c) for c in row]
            while cells and not cells[-1]:
                cells.pop()
            filled += any(cells)
            if filled > MAX_ROWS + 1 or n > XLSX_MAX_SCANNED_ROWS:
                raise _too_many_rows()
            table.append((n, cells))
        return table
    finally:
        book.close()


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

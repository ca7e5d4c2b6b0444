"""Signatory lists: the signatory list as CSV and XLSX (the PDFs come from rendering).

The list is the letter's own (services/roster.py), so it respects each signer's choice:
who supports privately or is named only once delivered is counted, not named, and no
signer's email address leaves without their consent. Organisers who need everything ask
for the full list, a separate action recorded in the audit chain.
"""

import csv
import hashlib
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from ..errors import Invalid
from ..models import Campaign
from . import audit
from .campaigns import require_organiser
from .roster import Entry, Roster, letter_roster

#: Spreadsheet programs run cells starting with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = [
    "organisation",
    "signer_name",
    "signer_title",
    "signer_email",
    "tier",
    "signed_at_utc",
    "letter_version",
    "letter_sha256",
    #: listed, after_delivery or private: the signer's choice (roster.VISIBILITY_LABELS).
    "visibility",
]
#: The organisers' full list adds where each signature stands and whether its signer
#: agreed to the lead organisation keeping their contact details.
FULL_HEADER = [*CSV_HEADER, "on_letter", "contact_consent"]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What the organisers' full list holds, as its page and the audit entry say it.
FULL_LIST_CONTENTS = (
    "every live signature, named or not: organisations that support privately, those to "
    "be named only once the letter is delivered, and signers of an earlier version who "
    "have not re-confirmed; with every signer's email address, including those who did "
    "not agree to the lead organisation keeping their contact details"
)


def neutralise(value: str) -> str:
    """Defuse spreadsheet formula injection by prefixing a quote to risky cells."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _row(entry: Entry, *, full: bool) -> list[str]:
    sig = entry.signature
    consented = bool(sig.contact_consent)
    return [
        sig.organisation,
        sig.signer_name,
        sig.signer_title,
        # Contact details leave the platform only with their owner's consent.
        sig.signer_email if consented or full else "",
        entry.partner.tier,
        sig.signed_at.strftime("%Y-%m-%d %H:%M:%S"),
        str(entry.version_number),
        sig.letter_sha256,
        sig.visibility,
    ]


def _summary_rows(roster: Roster) -> list[list[str]]:
    """Lines counting the signatories the letter counts without naming them."""
    rows = []
    for visibility, count, words in (
        ("private", roster.private, "support the letter privately (counted, not named)"),
        (
            "after_delivery",
            roster.held,
            "will be named once the letter is delivered (counted, not yet named)",
        ),
    ):
        if count:
            orgs = "organisation" if count == 1 else "organisations"
            if count == 1:
                words = words.replace("support ", "supports ", 1)
            text = f"{count} {orgs} {words}"
            rows.append([text, "", "", "", "", "", "", "", visibility])
    return rows


def signatory_rows(campaign: Campaign, *, full: bool = False) -> list[list[str]]:
    """The header and one row per signatory, every cell text and neutralised.

    By default the list is the letter's own (services/roster.py): named signatories as
    the letter names them, then one line counting those it does not name, and no email
    address of a signer who did not consent to its keeping. `full` is the organisers'
    audited full list (FULL_LIST_CONTENTS).
    """
    roster = letter_roster(campaign)
    if not full:
        rows = [list(CSV_HEADER)]
        rows += [_row(entry, full=False) for entry in roster.named]
        rows += _summary_rows(roster)
        return [[neutralise(cell or "") for cell in row] for row in rows]
    rows = [list(FULL_HEADER)]
    everyone = sorted(
        (*roster.entries, *roster.awaiting),
        key=lambda e: (e.signature.organisation.casefold(), e.signature.id),
    )
    for entry in everyone:
        if entry in roster.awaiting:
            standing = "awaiting re-confirmation (not counted)"
        elif entry.named:
            standing = "named"
        else:
            standing = "counted, not named"
        consent = "yes" if entry.signature.contact_consent else "no"
        rows.append([*_row(entry, full=True), standing, consent])
    return [[neutralise(cell or "") for cell in row] for row in rows]


def signatories_csv(campaign: Campaign, *, full: bool = False) -> str:
    """The signatory list as CSV text, safe to open in a spreadsheet (see signatory_rows)."""
    out = io.StringIO()
    csv.writer(out).writerows(signatory_rows(campaign, full=full))
    return out.getvalue()


def signatories_xlsx(campaign: Campaign, *, full: bool = False) -> bytes:
    """The signatory list as an Excel workbook, every cell stored as text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Signatories")
    for row in signatory_rows(campaign, full=full):
        sheet.append([_text_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def full_list(campaign: Campaign, fmt: str, *, user=None, actor: str = "") -> bytes:
    """The organisers' full list (CSV or XLSX), recorded in the audit chain (flushes).

    A signed-in user must be one of the campaign's organisers; staff and co-leads are
    refused. The command line passes no user and says who it is in `actor`.
    """
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format", "choose CSV or XLSX")
    if user is not None:
        require_organiser(user, campaign)
    data = (
        signatories_csv(campaign, full=True).encode()
        if fmt == "csv"
        else signatories_xlsx(campaign, full=True)
    )
    roster = letter_roster(campaign)
    audit.record(
        "export.full_list",
        campaign=campaign,
        user=user,
        actor=actor,
        format=fmt,
        signatures=roster.count + len(roster.awaiting),
        not_named_on_letter=roster.unnamed + len(roster.awaiting),
        contains=FULL_LIST_CONTENTS,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return data


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    # openpyxl stores any string starting with "=" as a formula; neutralise() already
    # removed those, and the explicit type keeps every cell a plain string regardless.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell

"""Exports: the signatory list as CSV and XLSX (the PDFs come from rendering)."""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from ..models import Campaign, Signature
from .letters import active_signatures

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
]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """Defuse spreadsheet formula injection by prefixing a quote to risky cells."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _row(sig: Signature) -> list[str]:
    return [
        sig.organisation,
        sig.signer_name,
        sig.signer_title,
        sig.signer_email,
        sig.tier,
        sig.signed_at.strftime("%Y-%m-%d %H:%M:%S"),
        str(sig.letter_version.number),
        sig.letter_sha256,
    ]


def signatory_rows(campaign: Campaign) -> list[list[str]]:
    """The header and one row per active signatory, every cell text and neutralised."""
    rows = [list(CSV_HEADER)]
    rows.extend(
        [neutralise(cell or "") for cell in _row(sig)] for sig in active_signatures(campaign)
    )
    return rows


def signatories_csv(campaign: Campaign) -> str:
    """The active signatories as CSV text, safe to open in a spreadsheet."""
    out = io.StringIO()
    csv.writer(out).writerows(signatory_rows(campaign))
    return out.getvalue()


def signatories_xlsx(campaign: Campaign) -> bytes:
    """The active signatories as an Excel workbook, every cell stored as text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Signatories")
    for row in signatory_rows(campaign):
        sheet.append([_text_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    # openpyxl stores any string starting with "=" as a formula; neutralise() already
    # removed those, and the explicit type keeps every cell a plain string regardless.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell

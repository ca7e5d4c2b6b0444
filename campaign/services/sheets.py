"""Reading an uploaded CSV or XLSX partner sheet into rows, within bounds.

An .xlsx file is a zip of XML: its unpacked sizes are checked before openpyxl parses
anything, and rows are read only up to the import's row limit.
"""

import csv
import io
import zipfile
from dataclasses import dataclass

from ..errors import Invalid

MAX_ROWS = 5000
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
class Sheet:
    """An uploaded table: its header row and its rows with their line numbers."""

    filename: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]


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

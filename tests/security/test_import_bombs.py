"""XLSX bombs are refused before they are parsed, quickly and with a message (issue 11, C13).

A 144 KB sheet of a million rows took 28 s, and a shared-strings bomb peaked at 1.4 GB.
Each file is built here; each import runs in a forked child under a watchdog, so a
regression fails the test instead of hanging the run or taking the machine's memory.
"""

import io
import multiprocessing
import re
import resource
import time
import zipfile

import pytest
from openpyxl import Workbook

from campaign.errors import Invalid
from campaign.services import partner_import, sheets
from tests import factories as f
from tests.helpers.forms import upload_partners

WATCHDOG_SECONDS = 10
#: Refusals must come well inside a web request's patience.
MAX_SECONDS = 2.0
MAX_GROWTH_MB = 150
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _base_workbook() -> bytes:
    book = Workbook()
    book.active.append(["Organisation", "Email"])
    book.active.append(["Privacy First", "info@pf.example"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _replace(members: dict[str, object]) -> bytes:
    """The base workbook with some parts replaced (bytes, or a function writing to a stream)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_base_workbook())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for name in source.namelist():
            if name not in members:
                target.writestr(name, source.read(name))
        for name, content in members.items():
            with target.open(name, "w") as stream:
                if callable(content):
                    content(stream)
                else:
                    stream.write(content)
    return out.getvalue()


def _million_rows(stream) -> None:
    stream.write(SHEET_HEAD + b"<sheetData>")
    # Rows without numbers repeat exactly, which is how a million of them pack into 144 KB.
    rows = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 10_000
    for _ in range(100):
        stream.write(rows)
    stream.write(b"</sheetData></worksheet>")


def _shared_strings_bomb(stream) -> None:
    stream.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
    chunk = b"A" * (1024 * 1024)
    for _ in range(300):
        stream.write(chunk)
    stream.write(b"</t></si></sst>")


def _sheet(rows: str, dimension: str = "") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return SHEET_HEAD + f"{dim}<sheetData>{rows}</sheetData></worksheet>".encode()


def _cells(n: int, *values: str) -> str:
    cell = '<c r="{}{}" t="inlineStr"><is><t>{}</t></is></c>'
    cells = "".join(cell.format(col, n, v) for col, v in zip("AB", values, strict=True))
    return f'<row r="{n}">{cells}</row>'


HEADER_AND_ONE = _cells(1, "Organisation", "Email") + _cells(2, "Privacy First", "info@pf.example")


def _read_in_child(data: bytes, queue) -> None:
    with open("/proc/self/status") as status:
        text = status.read()
    before = _kb(text, "VmRSS")
    room = (_kb(text, "VmSize") + 4 * MAX_GROWTH_MB * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
    started = time.monotonic()
    try:
        sheet = partner_import.read_upload("bomb.xlsx", data)
        outcome = ("read", f"{len(sheet.rows)} rows, {len(sheet.headers)} columns")
    except Invalid as exc:
        outcome = ("refused", exc.reason)
    except MemoryError:
        outcome = ("memory", "")
    elapsed = time.monotonic() - started
    with open("/proc/self/status") as status:
        peak = _kb(status.read(), "VmHWM")
    queue.put((*outcome, elapsed, (peak - before) / 1024))


def _kb(status: str, key: str) -> int:
    return int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M)[1])


def _watched(data: bytes):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(data, queue), daemon=True)
    child.start()
    try:
        result = queue.get(timeout=WATCHDOG_SECONDS)
    except Exception:  # noqa: BLE001 - queue.Empty or a dead child: both are failures
        result = None
    finally:
        child.kill()
        child.join()
    assert result is not None, f"reading the file did not finish within {WATCHDOG_SECONDS} s"
    return result


def test_million_row_sheet_is_refused_before_parsing():
    data = _replace({SHEET: _million_rows})
    assert len(data) < 200 * 1024  # small on the wire, like the 144 KB file
    outcome, reason, elapsed, growth = _watched(data)
    assert outcome == "refused", reason
    assert "unpacks to far more than a partner list needs" in reason
    assert SHEET in reason and "save just the partner list" in reason
    assert elapsed < MAX_SECONDS and growth < MAX_GROWTH_MB, (elapsed, growth)


def test_shared_strings_bomb_is_refused_before_parsing():
    data = _replace({"xl/sharedStrings.xml": _shared_strings_bomb})
    outcome, reason, elapsed, growth = _watched(data)
    assert outcome == "refused", reason
    assert "xl/sharedStrings.xml alone is 300 MB" in reason
    assert elapsed < MAX_SECONDS and growth < MAX_GROWTH_MB, (elapsed, growth)


def test_highly_compressed_member_is_refused_even_under_the_size_cap():
    # 8 MB of one repeated row: under the size cap, but packed about 1000 times.
    filler = _cells(3, "x", "y") * 100_000
    data = _replace({SHEET: _sheet(HEADER_AND_ONE + filler)})
    outcome, reason, _, _ = _watched(data)
    assert outcome == "refused" and "unpacks to far more" in reason, reason


def test_reading_stops_at_the_row_limit_when_a_row_claims_to_be_the_last_of_a_million():
    # A tiny file: openpyxl would yield a million empty rows up to row 1,048,576.
    rows = HEADER_AND_ONE + _cells(1_048_576, "Late Org", "late@late.example")
    outcome, reason, elapsed, growth = _watched(_replace({SHEET: _sheet(rows)}))
    assert outcome == "refused", reason
    assert reason == "has more than 5,000 rows; the limit is 5,000, split the file"
    assert elapsed < MAX_SECONDS and growth < MAX_GROWTH_MB, (elapsed, growth)


def test_a_dimension_of_16384_columns_is_not_padded_into_every_row():
    data = _replace({SHEET: _sheet(HEADER_AND_ONE, dimension="A1:XFD1048576")})
    outcome, detail, elapsed, _ = _watched(data)
    assert (outcome, detail) == ("read", "1 rows, 2 columns")
    assert elapsed < MAX_SECONDS


def test_a_real_sheet_over_the_limit_names_the_limit():
    book = Workbook()
    book.active.append(["Organisation", "Email"])
    for n in range(sheets.MAX_ROWS + 1):
        book.active.append([f"Org {n}", f"org{n}@example.net"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(Invalid, match="has more than 5,000 rows"):
        partner_import.read_upload("big.xlsx", out.getvalue())


def test_upload_page_shows_the_bomb_message(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    data = _replace({"xl/sharedStrings.xml": _shared_strings_bomb})
    resp = upload_partners(submit, c, data, name="partners.xlsx")
    assert resp.status_code == 400
    assert "unpacks to far more than a partner list needs" in resp.get_data(as_text=True)

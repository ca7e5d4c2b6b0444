"""Benchmark: importing a 5,000-row partner CSV (read, validate, flag duplicates, insert)."""

import time

import pytest

from campaign.extensions import db
from campaign.models import Partner
from campaign.services import partner_import
from tests import factories as f

pytestmark = pytest.mark.bench


def _csv(rows: int) -> bytes:
    lines = ["organisation,contact_email,contact_name,website,tier"]
    tiers = ("national", "state", "local")
    for n in range(rows):
        lines.append(
            f"Coalition Member {n},contact{n}@member{n}.example,Person {n},"
            f"https://member{n}.example,{tiers[n % 3]}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_import_5000_rows(app):
    u = f.user()
    c = f.campaign(u)
    data = _csv(5000)
    start = time.perf_counter()
    sheet = partner_import.read_upload("partners.csv", data)
    read = time.perf_counter()
    preview = partner_import.build_preview(c, sheet, partner_import.guess_mapping(sheet.headers))
    checked = time.perf_counter()
    partner_import.commit_preview(c, u, preview, skip_flagged=False)
    db.session.commit()
    done = time.perf_counter()
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 5000
    print(
        f"\n[{app.config['DATABASE_BACKEND']}] 5,000-row CSV import: {done - start:.2f} s "
        f"(read {read - start:.2f} s, validate+flag {checked - read:.2f} s, "
        f"insert+commit {done - checked:.2f} s)"
    )

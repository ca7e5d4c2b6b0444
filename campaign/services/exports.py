"""Exports: the signatory CSV (the PDF comes from rendering)."""

import csv
import io

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


def signatories_csv(campaign: Campaign) -> str:
    """The active signatories as CSV text, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for sig in active_signatures(campaign):
        writer.writerow([neutralise(cell) for cell in _row(sig)])
    return out.getvalue()

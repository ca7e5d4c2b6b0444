"""Organisation names that a spreadsheet would read as a formula.

A name starting with = + - or @ prints on the letter exactly as typed, and exports of the
signatory list have to neutralise it (a leading apostrophe), so the letter and the
spreadsheet then disagree. Imports flag such a row for the organiser; the signing form
asks the signer to confirm the name is really written that way.
"""

from ..errors import Invalid

FORMULA_STARTS = ("=", "+", "-", "@")


def formula_warning(name: str) -> str | None:
    """A message for a name that starts like a spreadsheet formula, or None."""
    name = (name or "").strip()
    if not name.startswith(FORMULA_STARTS):
        return None
    return (
        f'the name starts with "{name[0]}", which spreadsheets read as a formula; it would '
        "print on the letter exactly like this"
    )


def check_signing_name(name: str, confirmed: bool) -> None:
    """Refuse a formula-like organisation name on signing until the signer confirms it."""
    warning = formula_warning(name)
    if warning and not confirmed:
        raise Invalid(
            "organisation",
            f"{warning}. Remove the first character, or tick "
            '"Print the name exactly as written" below',
        )

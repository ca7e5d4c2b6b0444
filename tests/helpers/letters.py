"""Plain letter data, as the PDF engine takes it."""

TARGETS = [
    {
        "name": "Dana Whitfield",
        "title": "Chief Executive Officer",
        "organisation": "Northwind Vision Systems",
        "email": "ceo@example.com",
        "salutation": "Dear Ms Whitfield",
    },
    {
        "name": "Sam Okoye",
        "title": "Chair of the Board",
        "organisation": "Northwind Vision Systems",
        "email": "chair@example.com",
        "salutation": "Dear Mr Okoye",
    },
]


def letter_data(signatories, *, target=TARGETS[0], draft=False) -> dict:
    """The letter data for the engine, signed by `signatories`."""
    return {
        "campaign": {
            "title": "Stop selling face surveillance to police",
            "slug": "face-surveillance",
            "lead_organisation": "Digital Rights Coalition",
            "lead_address": "1200 Market Street\nSan Francisco, CA 94102",
            "deadline": "15 January 2027",
        },
        "target": target,
        "targets": TARGETS,
        "subject": "Letter to {{ target.organisation }}",
        "body_source": (
            "{{ target.salutation }},\n\n"
            "We, {{ signatory_count }} organisations, ask you to stop.[^1]\n\n"
            + "Face recognition endangers rights and liberties of everyone.\n\n"
            * 12
            + "Please reply by {{ campaign.deadline }}.\n\n"
            "[^1]: Coalition report, 2026."
        ),
        "today": "27 November 2026",
        "version": {"number": 3, "sha256": "ab" * 32},
        "signatories": signatories,
        "draft": draft,
    }

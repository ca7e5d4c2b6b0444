"""One count, everywhere (issue 11, A3 and A4).

After a revision sends signers back to "pending" and some re-confirm, the letter's
merge field, the PDF (real WeasyPrint, read back with pypdf), the Overview, the
who-invited-whom tree, delivery review and the CSV export all give the same count,
from the one definition in services/roster.py.
"""

import csv
import io
import re

import pytest
from pypdf import PdfReader

from campaign.extensions import db
from campaign.services import campaigns, letters, reconsent
from tests import factories as f
from tests.conftest import csrf_from

NEW_BODY = f.BODY.replace("to police.", "to any police force.")
#: (organisation, visibility, consents to contact details, re-confirms version 2)
SIGNERS = [
    ("Alpha Rights", "listed", True, True),
    ("Beta Watch", "listed", False, False),
    ("Gamma Quiet", "private", True, True),
    ("Delta Later", "after_delivery", False, True),
    ("Epsilon Net", "listed", True, False),
]


def _pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def signed_mixed_then_revised(u, *, list_earlier: bool = False):
    """Five signers of mixed visibility sign v1; v2 is published; three re-confirm."""
    c = f.published(u)
    c.list_earlier_signers = list_earlier
    f.commit()
    partners = {}
    for name, visibility, consent, _ in SIGNERS:
        p = f.partner(c, u, name=name)
        f.sign(c, u, p, visibility=visibility, contact_consent=consent)
        partners[name] = p
    letters.save_draft(c, u, subject="Stop selling face surveillance", body=NEW_BODY)
    letters.publish(c, u)
    f.commit()
    v2 = letters.published_version(c)
    for name, _, _, again in SIGNERS:
        if again:
            req = partners[name].current_request
            reconsent.reconfirm(req, v2.id, link_url="http://127.0.0.1:5000/s/x")
    f.commit()
    return c


def _tree_states(page: str) -> dict[str, str]:
    tree = page[page.index('class="tree"') :]
    tree = tree[: tree.index("</section>")]
    return dict(re.findall(r"<li>([^<]+?) <span class=\"status [^\"]+\">([^<]+)</span>", tree))


def _csv_count(data: str) -> tuple[int, list[str]]:
    """How many signatories a CSV export accounts for, and the organisations it names."""
    rows = list(csv.DictReader(io.StringIO(data)))
    named = [r["organisation"] for r in rows if r["signer_name"]]
    counted = sum(int(r["organisation"].split()[0]) for r in rows if not r["signer_name"])
    return len(named) + counted, named


@pytest.mark.parametrize("list_earlier", [False, True], ids=["earlier-left-out", "earlier-listed"])
def test_one_count_everywhere_after_a_revision(client, app, list_earlier):
    u = f.user()
    c = signed_mixed_then_revised(u, list_earlier=list_earlier)
    # Re-confirmed: Alpha (listed), Gamma (private), Delta (named once delivered).
    # Awaiting: Beta and Epsilon, listed (marked) only when the campaign lists them.
    expected = 5 if list_earlier else 3
    named = {"Alpha Rights", "Beta Watch", "Epsilon Net"} if list_earlier else {"Alpha Rights"}
    never = {"Gamma Quiet", "Delta Later"} | ({"Beta Watch", "Epsilon Net"} - named)
    f.login(client, u)

    # The merge field in the rendered letter.
    preview = _text(client.get(f"/c/{c.slug}/letter/preview").get_data(as_text=True))
    assert f"We, the undersigned {expected} organisations" in preview

    # The PDF: the merge field, the heading's count, and only the named organisations.
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = _pdf_text(resp.data)
    assert f"We, the undersigned {expected} organisations" in text
    assert f"Signatories ({expected})" in text
    for name in named:
        assert name in text
    for name in never:
        assert name not in text
    unnamed = expected - len(named)
    assert f"{unnamed} more organisations support this letter without being named" in text

    # The Overview.
    overview = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert re.search(rf'<span class="num">{expected}</span><span>signed</span>', overview)
    if not list_earlier:
        assert '<span class="num">2</span><span>awaiting re-confirmation</span>' in overview

    # The who-invited-whom tree: "signed" only for those the letter counts for v2.
    states = _tree_states(client.get(f"/c/{c.slug}/partners").get_data(as_text=True))
    assert states == {
        "Alpha Rights": "signed",
        "Beta Watch": "awaiting re-confirmation",
        "Gamma Quiet": "signed",
        "Delta Later": "signed",
        "Epsilon Net": "awaiting re-confirmation",
    }

    # The CSV export: named rows plus the lines counting who is not named.
    count, csv_named = _csv_count(client.get(f"/c/{c.slug}/signatories.csv").get_data(as_text=True))
    assert count == expected and set(csv_named) == named

    # Delivery review, once signing is closed: the header and every copy agree.
    campaigns.close_signing(c, u)
    f.commit()
    review = client.get(f"/c/{c.slug}/deliver").get_data(as_text=True)
    assert f'<strong class="letter-count">{expected}</strong> organisations' in review
    listed = re.findall(r"(\d+) signator(?:y|ies)", _text(review))
    assert listed and set(listed) == {str(expected)}, listed
    # The stored render and the delivery email say the same number too.
    from campaign.models import RenderedLetter

    rendered = db.session.scalar(db.select(RenderedLetter).order_by(RenderedLetter.id.desc()))
    assert rendered.signatory_count == expected


def test_publishing_a_revision_says_how_the_count_changes(client, app):
    u = f.user()
    c = f.published(u)
    for name, visibility, consent, _ in SIGNERS:
        f.sign(c, u, f.partner(c, u, name=name), visibility=visibility, contact_consent=consent)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/letter").get_data(as_text=True)
    csrf = csrf_from(page)
    resp = client.post(
        f"/c/{c.slug}/letter",
        data={"subject": "Stop selling face surveillance", "body": NEW_BODY, "csrf_token": csrf},
    )
    assert resp.status_code == 302
    studio = client.get(f"/c/{c.slug}/letter").get_data(as_text=True)
    # Before publishing: the dry run and the publish button's confirmation both warn.
    assert "Signatories on the letter: 5 → 0 until they re-confirm." in _text(studio)
    confirm = re.search(r'data-confirm="(Publish\?[^"]*)"', studio)[1]
    assert confirm.endswith("Signatories on the letter: 5 → 0 until they re-confirm.")

    c.list_earlier_signers = True
    f.commit()
    studio = _text(client.get(f"/c/{c.slug}/letter").get_data(as_text=True))
    assert "Signatories on the letter: 5 → 5 (earlier signers stay listed, marked" in studio

    c.list_earlier_signers = False
    f.commit()
    resp = client.post(
        f"/c/{c.slug}/letter/publish", data={"csrf_token": csrf}, follow_redirects=True
    )
    shown = _text(resp.get_data(as_text=True))
    assert "Version 2 is published" in shown
    assert "Signatories on the letter: 5 → 0 until they re-confirm." in shown
    assert re.search(r'<span class="num">0</span><span>signed</span>', resp.get_data(as_text=True))

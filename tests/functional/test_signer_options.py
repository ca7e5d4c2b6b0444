"""Signer options: hide our name until delivery, or support privately (counted, not listed)."""

import io

from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import Blob
from campaign.services import campaigns
from campaign.services.rendering import render_now, request_render
from tests import factories as f


def _sign(c, u, name, visibility):
    p = f.partner(c, u, name=name)
    f.sign(c, u, p, signer_name=f"Signer {name}", visibility=visibility)


def _pdf_text(c):
    rendered = request_render(c)
    if rendered.status == "pending":
        render_now(rendered)
    f.commit()
    blob = db.session.get(Blob, rendered.pdf_sha256)
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(blob.data)).pages)


def test_hidden_and_private_signers(app):
    u = f.user()
    c = f.published(u)
    _sign(c, u, "Open Alliance", "listed")
    _sign(c, u, "Cautious Collective", "after_delivery")
    _sign(c, u, "Quiet Fund", "private")
    text = _pdf_text(c)
    assert "Open Alliance" in text
    assert "Cautious Collective" not in text and "Quiet Fund" not in text
    assert "undersigned 3 organisations" in " ".join(text.split())  # private ones count
    campaigns.close_signing(c, u)
    c.status = "delivered"  # copies made at delivery or after list the hidden signers
    f.commit()
    text = _pdf_text(c)
    assert "Open Alliance" in text and "Cautious Collective" in text
    assert "Quiet Fund" not in text


def test_visibility_is_chosen_on_the_signing_page(client, app):
    from tests.helpers.forms import sign_via_link as sign_via_form

    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Support privately" in page
    assert sign_via_form(client, token, visibility="private").status_code == 302
    from campaign.models import Signature

    assert db.session.scalar(db.select(Signature.visibility)) == "private"
    resp = sign_via_form(client, token, visibility="shout-it")
    assert resp.status_code == 400 and "Not a valid choice" in resp.get_data(as_text=True)

"""A signer's own signature: typed, drawn on the page, or uploaded; checked like a logo."""

import base64
import io

from campaign.extensions import db
from campaign.letters.document import letter_html
from campaign.models import Blob, Signature
from campaign.services.letters import letter_data, published_version
from tests import factories as f
from tests.helpers.files import SVG, bomb_png
from tests.helpers.forms import sign_via_link


def _data_uri(data: bytes, mime="image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _signed(client, **fields):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = sign_via_link(client, token, **fields)
    return c, token, resp


def _letter(c) -> str:
    return letter_html(letter_data(c, published_version(c)))


def test_a_typed_signature_is_printed_under_the_organisation(client, app):
    c, _token, resp = _signed(
        client, signer_name="Amara Okafor", signature_typed="  Amara   Okafor "
    )
    assert resp.status_code == 302
    assert db.session.scalar(db.select(Signature.signature_typed)) == "Amara Okafor"
    assert "/s/ Amara Okafor" in _letter(c)


def test_a_drawing_is_checked_reencoded_and_printed(client, app):
    drawing = f.png(size=(600, 180), colour=(20, 20, 20)) + b"<script>alert(1)</script>"
    c, _token, resp = _signed(client, signature_drawn=_data_uri(drawing))
    assert resp.status_code == 302
    sig = db.session.scalar(db.select(Signature))
    blob = db.session.get(Blob, sig.signature_image_sha256)
    assert blob.data.startswith(b"\x89PNG") and b"<script>" not in blob.data
    assert f'class="drawn-signature" src="/blobs/{blob.sha256}"' in _letter(c)


def test_without_javascript_a_picture_of_the_signature_can_be_uploaded(client, app):
    c, _token, resp = _signed(client, signature_file=(io.BytesIO(f.png()), "sig.png"))
    assert resp.status_code == 302
    assert db.session.scalar(db.select(Signature.signature_image_sha256))


def test_hostile_drawings_are_refused_on_the_field_and_nothing_is_signed(client, app):
    cases = {
        "svg": _data_uri(SVG, "image/svg+xml"),
        "not base64 png": "data:image/png;base64,@@@@",
        "bomb": _data_uri(bomb_png()),
        "truncated": _data_uri(f.png(size=(300, 100))[:60]),
    }
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    for name, uri in cases.items():
        resp = sign_via_link(client, token, signature_drawn=uri)
        assert resp.status_code == 400, name
        html = resp.get_data(as_text=True)
        assert (
            "drawing could not be read" in html
            or "not a readable" in html
            or ("megapixels" in html)
        ), name
    resp = sign_via_link(client, token, signature_file=(io.BytesIO(SVG), "sig.svg"))
    assert resp.status_code == 400 and "not a readable PNG" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0


def test_a_drawn_signature_can_be_removed_later(client, app):
    c, token, _resp = _signed(client, signature_drawn=_data_uri(f.png()))
    assert db.session.scalar(db.select(Signature.signature_image_sha256))
    sign_via_link(client, token, signature_clear="1")
    db.session.expire_all()
    assert db.session.scalar(db.select(Signature.signature_image_sha256)) is None

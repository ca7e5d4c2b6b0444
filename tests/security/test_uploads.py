"""Logo uploads: only real, small PNG/JPEG/WebP images, re-encoded."""

import io

import pytest
from PIL import Image

from campaign.errors import Invalid
from campaign.services.blobs import store_logo
from tests import factories as f
from tests.helpers.files import SVG, bomb_png


def _image(fmt, size=(40, 20), **kw):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format=fmt, **kw)
    return out.getvalue()


def _truncated_png():
    out = io.BytesIO()
    Image.effect_noise((200, 200), 80).save(out, format="PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "data, message",
    [
        (SVG, "not a readable PNG, JPEG or WebP"),
        (b"GIF89a" + b"\x00" * 100, "not a readable"),
        (_image("GIF"), "GIF files are not accepted"),
        (_image("BMP"), "BMP files are not accepted"),
        (_truncated_png(), "not a readable"),
        (b"", "empty"),
        (_image("PNG", size=(5000, 5000)), "keep it under 12 megapixels"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(app, data, message):
    with pytest.raises(Invalid) as exc:
        store_logo(data)
    assert exc.value.field == "logo"
    assert message in exc.value.reason


def test_oversize_file_is_refused(app):
    with pytest.raises(Invalid) as exc:
        store_logo(b"\x89PNG" + b"\x00" * 100, max_bytes=50)
    assert "larger than" in exc.value.reason


def test_good_images_are_reencoded_to_png_without_metadata(app):
    exif = Image.Exif()
    exif[0x010E] = "secret GPS-ish description"
    jpeg = _image("JPEG", exif=exif.tobytes())
    assert b"secret GPS-ish" in jpeg
    blob = store_logo(jpeg)
    assert blob.mime == "image/png"
    assert blob.data.startswith(b"\x89PNG")
    assert b"secret GPS-ish" not in blob.data
    assert store_logo(_image("WEBP")).mime == "image/png"


def test_svg_logo_on_the_signing_form_is_refused_on_the_field(client, app):
    from tests.helpers.forms import sign_via_link

    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = sign_via_link(client, token, logo=(io.BytesIO(SVG), "logo.svg"))
    assert resp.status_code == 400
    assert "not a readable PNG, JPEG or WebP image" in resp.get_data(as_text=True)


def test_decompression_bomb_is_refused_before_decoding(app):
    bomb = bomb_png()
    assert len(bomb) < 2000
    with pytest.raises(Invalid) as exc:
        store_logo(bomb)
    assert "megapixels" in exc.value.reason or "not a readable" in exc.value.reason


def test_polyglot_png_loses_its_payload_when_reencoded(app):
    payload = b"<html><script>alert(document.cookie)</script></html>PK\x03\x04zipdata"
    polyglot = _image("PNG", size=(30, 30)) + payload
    blob = store_logo(polyglot)
    assert blob.data.startswith(b"\x89PNG")
    assert b"<script>" not in blob.data and b"PK\x03\x04" not in blob.data


def test_a_50_mb_upload_is_refused_with_a_clear_message(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    # A raw body: the size is refused from Content-Length, before anything is parsed.
    resp = client.post(
        f"/s/{token}",
        data=b"\0" * (50 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert resp.status_code == 413
    assert "larger than this site accepts" in resp.get_data(as_text=True)

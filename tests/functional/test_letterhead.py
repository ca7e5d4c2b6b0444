"""The letterhead and look page, and the style block's hash in the preview's CSP."""

import base64
import hashlib
import io
import re

import pytest
from PIL import Image

from campaign.extensions import db
from campaign.models import AuditEvent, Campaign
from campaign.services.campaigns import add_member
from tests import factories as f
from tests.conftest import csrf_from

STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)
VALID = {
    "lead_organisation": "Coalition for Privacy",
    "lead_address": "1 Liberty Street\r\nMillbrook",
    "accent_colour": "#8a1538",
    "page_size": "Letter",
    "margin_mm": "25",
    "signature_style": "logo_wall",
    "list_earlier_signers": "y",
}


def _url(c):
    return f"/c/{c.slug}/letterhead"


def _campaign(client, **kw):
    u = f.user()
    c = f.published(u, **kw) if kw.pop("published", True) else f.campaign(u)
    f.login(client, u)
    return u, c


def _reload(c) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, c.id)


def _hashes(csp: str) -> list[str]:
    style_src = next(d for d in csp.split("; ") if d.startswith("style-src "))
    return re.findall(r"'sha256-([^']+)'", style_src)


def _sha(css: str) -> str:
    return base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


def test_organiser_changes_the_look_and_it_is_audited(client, app, submit):
    u, c = _campaign(client)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert f'href="{_url(c)}"' in page  # linked from the campaign page
    resp = submit(_url(c), VALID)
    assert resp.status_code == 302
    saved = _reload(c)
    assert (saved.accent_colour, saved.page_size, saved.margin_mm) == ("#8a1538", "Letter", 25)
    assert saved.signature_style == "logo_wall" and saved.list_earlier_signers is True
    assert saved.lead_address == "1 Liberty Street\nMillbrook"
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "letterhead.changed")
    )
    assert event.user_id == u.id
    assert set(event.details["changed"]) == {
        "accent_colour",
        "page_size",
        "margin_mm",
        "signature_style",
        "list_earlier_signers",
    }
    # Saving the same values again changes nothing and records nothing.
    assert submit(_url(c), VALID).status_code == 302
    count = db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "letterhead.changed")
    assert db.session.scalar(count) == 1


@pytest.mark.parametrize(
    "colour",
    [
        "red;}body{display:none",
        "#123456;}body{display:none}",
        "#123456</style><script>alert(1)</script>",
        "#fff",
        "#12345g",
        "#1234567",
        "#123456\n",
        "red",
    ],
)
def test_accent_colour_that_is_not_rrggbb_is_refused(client, app, submit, colour):
    _u, c = _campaign(client)
    resp = submit(_url(c), {**VALID, "accent_colour": colour})
    assert resp.status_code == 400
    assert "Enter a colour like #1d4e89." in resp.get_data(as_text=True)
    assert _reload(c).accent_colour == "#1d4e89"
    assert (
        db.session.scalar(
            db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "letterhead.changed")
        )
        == 0
    )


def test_service_refuses_a_bad_colour_even_without_the_form(app):
    from campaign.errors import Invalid
    from campaign.services.letterhead import update_letterhead

    u = f.user()
    c = f.campaign(u)
    values = {**VALID, "margin_mm": 20, "accent_colour": "#123456;}body{display:none"}
    with pytest.raises(Invalid) as exc:
        update_letterhead(c, u, values)
    assert exc.value.field == "accent_colour"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("margin_mm", "9", "between 10 and 40"),
        ("margin_mm", "41", "between 10 and 40"),
        ("margin_mm", "20mm;}", "Enter a number from 10 to 40"),
        ("page_size", "A3", "Not a valid choice"),
        ("signature_style", "grid", "Not a valid choice"),
        ("lead_organisation", "", "This field is required"),
    ],
)
def test_other_bad_settings_are_refused(client, app, submit, field, value, message):
    _u, c = _campaign(client)
    resp = submit(_url(c), {**VALID, field: value})
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert _reload(c).page_size == "A4"


def test_lead_logo_upload_replace_and_remove(client, app, submit):
    _u, c = _campaign(client)
    resp = submit(_url(c), {**VALID, "logo": (io.BytesIO(f.png()), "logo.png")})
    assert resp.status_code == 302
    sha = _reload(c).lead_logo_sha256
    assert sha and re.fullmatch(r"[0-9a-f]{64}", sha)
    page = client.get(_url(c)).get_data(as_text=True)
    assert f'src="/blobs/{sha}"' in page and "Remove the current logo" in page
    assert client.get(f"/blobs/{sha}").mimetype == "image/png"

    resp = submit(_url(c), {**VALID, "remove_logo": "y"})
    assert resp.status_code == 302
    assert _reload(c).lead_logo_sha256 is None


def test_a_logo_that_is_not_an_allowed_image_is_refused(client, app, submit):
    _u, c = _campaign(client)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, name in ((gif.getvalue(), "logo.gif"), (svg, "logo.svg")):
        resp = submit(_url(c), {**VALID, "logo": (io.BytesIO(data), name)})
        assert resp.status_code == 400
        assert "use PNG, JPEG or WebP" in resp.get_data(as_text=True) or (
            "not a readable PNG, JPEG or WebP image" in resp.get_data(as_text=True)
        )
    saved = _reload(c)
    assert saved.lead_logo_sha256 is None and saved.accent_colour == "#1d4e89"


def test_staff_get_403_and_other_campaigns_404(client, app):
    owner = f.user()
    c = f.campaign(owner)
    staff = f.user(role="staff")
    add_member(c, staff)
    db.session.commit()
    f.login(client, staff)
    assert client.get(_url(c)).status_code == 403
    token = csrf_from(client.get(f"/c/{c.slug}").get_data(as_text=True))
    assert client.post(_url(c), data={**VALID, "csrf_token": token}).status_code == 403
    assert "/letterhead" not in client.get(f"/c/{c.slug}").get_data(as_text=True)
    client.get("/logout")

    stranger = f.user()
    f.campaign(stranger, title="Their own campaign")
    f.login(client, stranger)
    assert client.get(_url(c)).status_code == 404
    token = csrf_from(client.get("/campaigns/new").get_data(as_text=True))
    assert client.post(_url(c), data={**VALID, "csrf_token": token}).status_code == 404
    assert _reload(c).accent_colour == "#1d4e89"


def test_post_without_csrf_token_changes_nothing(client, app):
    _u, c = _campaign(client)
    assert client.post(_url(c), data=VALID).status_code == 400
    assert _reload(c).page_size == "A4"


# -- The preview's Content-Security-Policy ------------------------------------------------


def test_preview_csp_allows_exactly_the_letters_style_block(client, app):
    _u, c = _campaign(client)
    resp = client.get(f"/c/{c.slug}/letter/preview")
    html = resp.get_data(as_text=True)
    blocks = STYLE_RE.findall(html)
    assert len(blocks) == 1
    assert _hashes(resp.headers["Content-Security-Policy"]) == [_sha(blocks[0])]
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    # Pages that show no letter keep the default policy.
    other = client.get(f"/c/{c.slug}").headers["Content-Security-Policy"]
    assert "style-src 'self';" in other and "sha256" not in other


def test_studio_and_live_preview_allow_the_style_block(client, app, submit):
    _u, c = _campaign(client, published=False)
    studio = client.get(f"/c/{c.slug}/letter")
    token = csrf_from(studio.get_data(as_text=True))
    live = client.post(
        f"/c/{c.slug}/letter/preview",
        data={"csrf_token": token, "subject": "Hello", "body": "Dear all,\n\nStop."},
    )
    assert live.status_code == 200
    (block,) = STYLE_RE.findall(live.get_data(as_text=True))
    assert _hashes(live.headers["Content-Security-Policy"]) == [_sha(block)]
    # The live preview goes into an iframe srcdoc, which runs under the studio's policy.
    assert _hashes(studio.headers["Content-Security-Policy"]) == [_sha(block)]


def test_a_style_block_in_the_letter_body_does_not_get_through(client, app, submit):
    _u, c = _campaign(client, published=False)
    body = "Dear all,\n\n<style>body{display:none}</style>\n\n<div style='display:none'>x</div>"
    assert submit(f"/c/{c.slug}/letter", {"subject": "Hi", "body": body}).status_code == 302
    resp = client.get(f"/c/{c.slug}/letter/preview")
    html = resp.get_data(as_text=True)
    blocks = STYLE_RE.findall(html)
    assert len(blocks) == 1 and "display:none" not in html
    assert _hashes(resp.headers["Content-Security-Policy"]) == [_sha(blocks[0])]
    assert _sha("body{display:none}") not in resp.headers["Content-Security-Policy"]


def test_saved_look_shows_in_the_preview(client, app, submit):
    _u, c = _campaign(client)
    submit(_url(c), {**VALID, "logo": (io.BytesIO(f.png()), "logo.png")})
    sha = _reload(c).lead_logo_sha256
    resp = client.get(f"/c/{c.slug}/letter/preview")
    html = resp.get_data(as_text=True)
    assert "--accent:#8a1538" in html and "size:Letter" in html
    assert f'class="lead-logo" src="/blobs/{sha}"' in html
    studio = client.get(f"/c/{c.slug}/letter")
    assert _hashes(studio.headers["Content-Security-Policy"]) == _hashes(
        resp.headers["Content-Security-Policy"]
    )


def test_co_leads_cannot_reach_the_letterhead(client, app):
    owner = f.user()
    c = f.campaign(owner)
    co_lead = f.user()
    add_member(c, co_lead, role="co_lead")
    db.session.commit()
    f.login(client, co_lead)
    assert client.get(_url(c)).status_code == 404


def test_the_letter_pages_partners_open_allow_exactly_their_style_block(client, app):
    from campaign.services import public_sign_on as public_signing

    u = f.user()
    c = f.published(u)
    c.accent_colour = "#8a1538"
    f.commit()
    token = f.invited(c, u, f.partner(c, u))
    public = public_signing.set_enabled(c, u, True).token
    f.commit()
    for url in (f"/s/{token}/letter", f"/p/{public}/letter"):
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        blocks = STYLE_RE.findall(html)
        assert len(blocks) == 1 and "#8a1538" in blocks[0], url
        # Only that block: the rest of the policy stays as strict as everywhere else.
        assert _hashes(resp.headers["Content-Security-Policy"]) == [_sha(blocks[0])], url
        assert "'unsafe-inline'" not in resp.headers["Content-Security-Policy"]

"""A made-up letter for the render forkserver to lay out once, before it forks children.

Every render child starts from the forkserver's memory: what it has loaded and cached
(fonts, Pango's shaping caches, WeasyPrint's, PIL's codecs) the child need not do again.
A warm-up page that used less than real letters do left each child about 20 ms of
first-time work on the demo letter (6% of its render). So this letter uses what real
ones use, every weight and style, PNG and JPEG logos, footnotes, a drawn and a typed
signature, the verification QR code, tagged output, and comes from the real template,
so the warm-up keeps up with the layout.
"""

import io

from PIL import Image, ImageDraw

from .document import standalone_letter_html
from .pdf import render_in_child

_BODY = """We, the undersigned **organisations**, write to you about *face surveillance*.[^1]

## What we ask

1. Stop selling it to police.
2. Publish every contract, with its *dates* and **sums**.

- The coalition’s “briefing paper” — October 2026.

Łódź, Zürich, São Paulo and Kraków groups join us.[^2]

[^1]: See the report of 1 January 2026.
[^2]: Listed below, with their logos.
"""
_TIERS = ("national", "state", "local")


def _image(colour: str, fmt: str) -> bytes:
    """A small badge like an organisation's logo, as PNG (with alpha) or JPEG."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, (240, 240), (255, 255, 255, 0) if mode == "RGBA" else "white")
    ImageDraw.Draw(image).rounded_rectangle((8, 8, 232, 232), radius=48, fill=colour)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def sample_letter() -> tuple[dict, dict]:
    """Letter data and its images (sha256 -> (mime, bytes)), shaped like letter_data's."""
    images = {}

    def stored(colour: str, fmt: str) -> str:
        sha = f"{len(images) + 1:064x}"
        images[sha] = (f"image/{fmt.lower()}", _image(colour, fmt))
        return sha

    logos = [stored(c, "PNG") for c in ("#2a6f97", "#9c2f2f", "#3d7a3a")]
    logos.append(stored("#6b4c9a", "JPEG"))
    signatories = [
        {
            "organisation": f"Organisation {i} für Bürgerrechte",
            "name": f"Signer {i}",
            "title": "Director",
            "tier": _TIERS[i % 3],
            "role": "lead" if i == 0 else ("co_lead" if i == 1 else ""),
            "logo_sha256": logos[i % len(logos)] if i % 5 else "",
            "signature_typed": "Signer 2" if i == 2 else "",
            "signature_sha256": logos[0] if i == 3 else "",
            "earlier_version": 1 if i == 4 else None,
        }
        for i in range(40)
    ]
    target = {
        "name": "Jordan Vale",
        "title": "Chief Executive",
        "organisation": "Example Corp",
        "salutation": "Dear Mr Vale",
        "postal_address": "1 Example Way\nSeattle, WA 98109",
    }
    data = {
        "look": {"lead_logo_sha256": logos[1]},
        "campaign": {
            "title": "Stop selling face surveillance",
            "lead_organisation": "Civil Liberties Union",
            "lead_address": "125 Broad Street\nNew York, NY",
            "deadline": "1 February 2027",
            "url": "https://undersigned.example/c/sample",
        },
        "target": target,
        "targets": [target],
        "subject": "Face surveillance and {{ target.organisation }}",
        "body_source": _BODY,
        "today": "1 January 2027",
        "version": {"number": 2, "sha256": "ab" * 32},
        "signatories": signatories,
        "unlisted_signatories": 1,
        "verification": {
            "url": "https://undersigned.example/v/SAMPLE",
            "qr": _qr_data_uri(),
        },
    }
    return data, images


def _qr_data_uri() -> str:
    """A PNG data: URI like the footer's QR code (made by segno, as evidence.py does)."""
    import segno

    return segno.make("https://undersigned.example/v/SAMPLE", error="m").png_data_uri(
        scale=4, border=1
    )


#: Fonts in letters use up to about 200 glyphs each; a longer array is parsed as it comes.
GLYPH_ARRAYS = 256


def parse_glyph_array_types() -> None:
    """Have cffi parse, once, the array types WeasyPrint's font subsetting asks for."""
    # WeasyPrint subsets each font with ffi.new(f"hb_codepoint_t[{n}]"), n being how many
    # glyphs the document uses from it. cffi parses each new type name with pycparser
    # (1.6 ms) before it caches it, and a child starts with the forkserver's cache: 8
    # fonts cost the demo letter's child 15-20 ms, a tenth of its render.
    from weasyprint.text.ffi import ffi

    for n in range(1, GLYPH_ARRAYS + 1):
        ffi.typeof(f"hb_codepoint_t[{n}]")


def warm_up() -> None:
    """Render the sample letter, as a child would, so the forkserver holds its caches."""
    data, images = sample_letter()
    render_in_child(standalone_letter_html(data), images, 0, True)
    parse_glyph_array_types()

"""Logos drawn on a wide transparent or white canvas are stored trimmed to their mark."""

import io

from PIL import Image, ImageChops, ImageDraw

from campaign.services.blobs import MIN_LOGO_SIDE, store_logo

MARK = (10, 60, 140)


def _padded(canvas, mark, *, background, fmt="PNG", mode="RGBA"):
    """A `canvas`-sized image of `background` with a `mark`-sized blue mark in the middle."""
    image = Image.new(mode, canvas, background)
    left, top = (canvas[0] - mark[0]) // 2, (canvas[1] - mark[1]) // 2
    ImageDraw.Draw(image).rectangle((left, top, left + mark[0] - 1, top + mark[1] - 1), MARK)
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def _stored(blob) -> Image.Image:
    return Image.open(io.BytesIO(blob.data)).convert("RGBA")


def _mark_box(image: Image.Image):
    """Bounding box of the non-white, non-transparent pixels of a stored logo."""
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, image).convert("RGB")
    diff = ImageChops.difference(flat, Image.new("RGB", image.size, "white")).convert("L")
    return diff.point(lambda v: 255 if v > 40 else 0).getbbox()


def test_transparent_padding_is_trimmed_so_the_mark_fills_the_logo(app):
    """A 1200×1200 transparent PNG with a 120×60 mark is stored as the mark, 2:1."""
    blob = store_logo(_padded((1200, 1200), (120, 60), background=(0, 0, 0, 0)))
    image = _stored(blob)
    assert image.size == (120, 60)
    assert _mark_box(image) == (0, 0, 120, 60)


def test_white_padding_of_a_jpeg_is_trimmed_despite_compression_noise(app):
    """JPEG noise around a mark on a white canvas counts as padding, not content."""
    data = _padded((1600, 1000), (300, 100), background="white", fmt="JPEG", mode="RGB")
    image = _stored(store_logo(data))
    width, height = image.size
    assert 296 <= width <= 304 and 96 <= height <= 104, image.size
    left, top, right, bottom = _mark_box(image)
    assert right - left >= width - 4 and bottom - top >= height - 4


def test_a_tiny_mark_keeps_a_minimum_size(app):
    """A 2×2 mark is kept with some room, not cropped to a speck of two pixels."""
    image = _stored(store_logo(_padded((400, 400), (2, 2), background=(255, 255, 255, 0))))
    assert image.size == (MIN_LOGO_SIDE, MIN_LOGO_SIDE)
    assert _mark_box(image) is not None


def test_a_white_mark_on_transparency_is_trimmed_to_its_opaque_box(app):
    """A logo made for dark backgrounds (white on transparent) is not thrown away."""
    image = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 100, 299, 199), (255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    assert _stored(store_logo(out.getvalue())).size == (200, 100)


def test_a_logo_without_padding_is_unchanged_in_size(app):
    """Trimming leaves a logo that already fills its canvas alone."""
    data = _padded((300, 120), (300, 120), background="white")
    assert _stored(store_logo(data)).size == (300, 120)

"""Letter HTML to PDF with WeasyPrint, fetching only our own assets, under limits.

A letter's HTML contains text written by organisers and partners. WeasyPrint would
otherwise follow any URL in it (file:, http:, internal hosts), so every fetch goes
through AssetFetcher: our CSS and fonts, the stored images it was handed, and data:
URIs. Nothing else.

html_to_pdf runs WeasyPrint in a child process (isolation.py) with a time, memory and
page limit. The child never opens the database: the caller looks up the images the
HTML names (/blobs/<sha256>) and passes their bytes along.
"""

import re
import urllib.parse
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import weasyprint
import weasyprint.layout
from flask import current_app, has_app_context
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..errors import Invalid
from . import isolation

SCHEME = "undersigned"
BASE_URL = f"{SCHEME}://app/"
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/webp"})
#: PDF readers' limit on a page side (ISO 32000-1, annex C): 14,400 points = 200 inches.
MAX_PAGE_SIDE_PX = 200 * 96
_STATIC_PATH = re.compile(
    r"/static/(css/[a-z0-9][a-z0-9_-]*\.css|fonts/[a-z0-9][a-z0-9_.-]*\.woff2?)"
)
_BLOB_PATH = re.compile(r"/blobs/([0-9a-f]{64})")
_STATIC_MIMES = {".css": "text/css", ".woff": "font/woff", ".woff2": "font/woff2"}

#: sha256 -> (mime type, bytes) of the stored images a letter may show.
Images = Mapping[str, tuple[str, bytes]]

# urljoin only resolves relative references for schemes it knows; without this,
# "/static/css/letter.css" stays relative and could not be fetched.
for _registry in (urllib.parse.uses_relative, urllib.parse.uses_netloc):
    if SCHEME not in _registry:
        _registry.append(SCHEME)


class RenderFailed(Invalid):
    """The PDF could not be made: a limit was hit or the renderer failed."""

    def __init__(self, reason: str):
        super().__init__("letter", reason)


@dataclass(frozen=True)
class RenderLimits:
    """Limits on one render: wall-clock seconds, pages and memory (0 = unlimited)."""

    seconds: float = 60.0
    pages: int = 300
    memory_mb: int = 1024


def configured_limits() -> RenderLimits:
    """The app's PDF_MAX_* settings, or the defaults outside an app."""
    if not has_app_context():
        return RenderLimits()
    config = current_app.config
    return RenderLimits(
        seconds=config.get("PDF_MAX_SECONDS", 60),
        pages=config.get("PDF_MAX_PAGES", 300),
        memory_mb=config.get("PDF_MAX_MEMORY_MB", 1024),
    )


class AssetFetcher(URLFetcher):
    """Serve our CSS, fonts and the given stored images to WeasyPrint; refuse every other URL."""

    def __init__(self, images: Images | None = None) -> None:
        super().__init__(allowed_protocols={"data", SCHEME}, allow_redirects=False)
        self.images = images or {}

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        """Return the asset for `url`, or raise ValueError (WeasyPrint then skips it)."""
        if url[:5].lower() == "data:":
            return super().fetch(url, headers)
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (SCHEME, "app") or parts.query or parts.fragment:
            raise ValueError(f"refused to fetch {url[:200]!r}: only the letter's own assets")
        if ".." in parts.path or "%" in parts.path:
            raise ValueError(f"refused to fetch {url[:200]!r}: not a plain asset path")
        if match := _STATIC_PATH.fullmatch(parts.path):
            return self._static(url, match[1])
        if match := _BLOB_PATH.fullmatch(parts.path):
            return self._image(url, match[1])
        raise ValueError(f"refused to fetch {url[:200]!r}: not a letter asset")

    @staticmethod
    def _static(url: str, relative: str) -> URLFetcherResponse:
        path = (STATIC_DIR / relative).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise ValueError(f"no such asset: {relative}")
        mime = _STATIC_MIMES[path.suffix]
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    def _image(self, url: str, sha256: str) -> URLFetcherResponse:
        mime, data = self.images.get(sha256, ("", b""))
        if mime not in IMAGE_MIMES:
            raise ValueError(f"no stored image {sha256}")
        return URLFetcherResponse(url, body=data, headers={"Content-Type": mime})


def referenced_images(html: str) -> set[str]:
    """The sha256 of every stored file the HTML names as /blobs/<sha256>."""
    return set(re.findall(r"/blobs/([0-9a-f]{64})", html))


def html_to_pdf(
    html: str,
    *,
    images: Images | None = None,
    limits: RenderLimits | None = None,
    tagged: bool = True,
    usage: dict | None = None,
) -> bytes:
    """Render letter HTML to PDF bytes in a limited child process.

    Raises RenderFailed, with a reason for people, when the document is too long, too
    large, too slow or too big in memory. Title, author, subject and keywords come from
    the HTML's <title> and <meta> elements. `tagged` adds the structure tree (headings,
    paragraphs, lists, figures with alt text) that screen readers follow. `usage`, when
    given, receives the render's CPU seconds and peak memory.
    """
    limits = limits or configured_limits()
    wanted = referenced_images(html)
    images = {sha: images[sha] for sha in wanted if images and sha in images}
    try:
        return isolation.run(
            render_in_child,
            html,
            images,
            limits.pages,
            tagged,
            limits=isolation.Limits(seconds=limits.seconds, memory_mb=limits.memory_mb),
            usage=usage,
        )
    except isolation.Failed as exc:
        raise RenderFailed(exc.reason) from None


def render_in_child(html: str, images: Images, max_pages: int, tagged: bool) -> bytes:
    """Lay out and write the PDF in this process; meant to run in the limited child."""
    return lay_out(html, images, max_pages, tagged=tagged).write_pdf(**_pdf_options(tagged))


def lay_out(
    html: str,
    images: Images,
    max_pages: int,
    *,
    tagged: bool = False,
    stylesheets: list | None = None,
    font_config=None,
) -> weasyprint.Document:
    """Lay out letter HTML with only its own assets, stopping at the page limits.

    For the limited child only: raises isolation.Refused, with a reason for people, when
    the document is too long or a page too large. `stylesheets` and `font_config`, when
    given, are already parsed (stamping.Styles shares them between documents).
    """
    with _page_limit(max_pages):
        document = weasyprint.HTML(
            string=html, base_url=BASE_URL, url_fetcher=AssetFetcher(images)
        ).render(stylesheets=stylesheets, font_config=font_config, **_pdf_options(tagged))
    if max_pages and len(document.pages) > max_pages:
        raise isolation.Refused(_too_long(max_pages))
    for page in document.pages:
        if max(page.width, page.height) > MAX_PAGE_SIDE_PX:
            raise isolation.Refused(
                f"a page would be {page.width / 96:,.0f} × {page.height / 96:,.0f} inches; "
                "pages may be at most 200 inches on a side"
            )
    return document


def _pdf_options(tagged: bool) -> dict:
    # pdf_tags, not pdf_variant="pdf/ua-1": the variant only adds a claim of PDF/UA
    # conformance, which we cannot check here (no validator) and so must not make.
    return {"pdf_tags": True} if tagged else {}


def _too_long(max_pages: int) -> str:
    return (
        f"the letter would be more than {max_pages} pages long, the limit. "
        "Shorten the text or split the signatory list."
    )


@contextmanager
def _page_limit(max_pages: int):
    """Stop layout as soon as it passes `max_pages`, rather than after all of them.

    WeasyPrint lays out every page before it can be counted, and a 10,000-page document
    takes minutes. Its paginator is a generator, so counting what it yields stops the
    layout at page max_pages + 1. The patch is undone afterwards; if a WeasyPrint release
    renames the paginator, the check after layout and the time limit still apply.
    """
    paginate = getattr(weasyprint.layout, "make_all_pages", None)
    if not max_pages or paginate is None:
        yield
        return

    def limited(*args, **kwargs):
        for count, page in enumerate(paginate(*args, **kwargs), 1):
            if count > max_pages:
                raise isolation.Refused(_too_long(max_pages))
            yield page

    weasyprint.layout.make_all_pages = limited
    try:
        yield
    finally:
        weasyprint.layout.make_all_pages = paginate

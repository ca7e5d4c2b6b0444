"""Letter HTML to PDF with WeasyPrint, fetching only our own stored assets.

A letter's HTML contains text written by organisers and partners. WeasyPrint would
otherwise follow any URL in it (file:, http:, internal hosts), so every fetch goes
through AssetFetcher: our CSS and fonts, logos by hash, and data: URIs. Nothing else.
"""

import re
import urllib.parse
from pathlib import Path
from urllib.parse import urlsplit

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..errors import Invalid
from ..extensions import db
from ..models.files import Blob

SCHEME = "undersigned"
BASE_URL = f"{SCHEME}://app/"
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/webp"})
_STATIC_PATH = re.compile(
    r"/static/(css/[a-z0-9][a-z0-9_-]*\.css|fonts/[a-z0-9][a-z0-9_.-]*\.woff2?)"
)
_BLOB_PATH = re.compile(r"/blobs/([0-9a-f]{64})")
_STATIC_MIMES = {".css": "text/css", ".woff": "font/woff", ".woff2": "font/woff2"}

# urljoin only resolves relative references for schemes it knows; without this,
# "/static/css/letter.css" stays relative and could not be fetched.
for _registry in (urllib.parse.uses_relative, urllib.parse.uses_netloc):
    if SCHEME not in _registry:
        _registry.append(SCHEME)


class AssetFetcher(URLFetcher):
    """Serve our CSS, fonts and stored logos to WeasyPrint; refuse every other URL."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data", SCHEME}, allow_redirects=False)

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
            return self._blob(url, match[1])
        raise ValueError(f"refused to fetch {url[:200]!r}: not a letter asset")

    @staticmethod
    def _static(url: str, relative: str) -> URLFetcherResponse:
        path = (STATIC_DIR / relative).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise ValueError(f"no such asset: {relative}")
        mime = _STATIC_MIMES[path.suffix]
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    @staticmethod
    def _blob(url: str, sha256: str) -> URLFetcherResponse:
        blob = db.session.get(Blob, sha256)
        if blob is None or blob.mime not in IMAGE_MIMES:
            raise ValueError(f"no stored image {sha256}")
        return URLFetcherResponse(url, body=bytes(blob.data), headers={"Content-Type": blob.mime})


def html_to_pdf(html: str, *, title: str = "", max_pages: int = 300) -> bytes:
    """Render letter HTML to PDF bytes; more than `max_pages` pages raises Invalid."""
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=AssetFetcher()).render()
    if len(document.pages) > max_pages:
        raise Invalid(
            "letter",
            f"the letter would be {len(document.pages)} pages long; the limit is {max_pages}. "
            "Shorten the text or split the signatory list.",
        )
    if title:
        document.metadata.title = title
    return document.write_pdf()

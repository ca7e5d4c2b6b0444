"""WeasyPrint fetches only our CSS, fonts, stored logos and data: URIs, nothing else."""

import hashlib
import io
import socket

import pytest
import weasyprint
from pypdf import PdfReader

from campaign.extensions import db
from campaign.letters.pdf import BASE_URL, AssetFetcher, html_to_pdf
from campaign.models.files import Blob
from campaign.services.letters import letter_images

REFUSED = [
    "file:///etc/passwd",
    "FILE:///etc/passwd",
    "http://127.0.0.1:1/x.css",
    "https://example.org/logo.png",
    "ftp://example.org/x",
    "undersigned://app/campaign/config.py",
    "undersigned://app/static/../campaign/config.py",
    "undersigned://app/static/css/../../campaign/config.py",
    "undersigned://app/static/css/%2e%2e/%2e%2e/campaign/config.py",
    "undersigned://app/static/fonts/..%2f..%2fcampaign%2fconfig.py",
    "undersigned://app/static/js/app.js",
    "undersigned://app/static/css/letter.css?x=1",
    "undersigned://app/static/css/letter.py",
    "undersigned://app/blobs/../../etc",
    "undersigned://app/blobs/" + "g" * 64,
    "undersigned://app/blobs/" + "A" * 64,
    "undersigned://evil.example/static/css/letter.css",
    "undersigned://app@127.0.0.1/static/css/letter.css",
    "gopher://127.0.0.1/",
    "/etc/passwd",
]


@pytest.mark.parametrize("url", REFUSED)
def test_fetcher_refuses_everything_but_our_assets(url):
    with pytest.raises(ValueError):
        AssetFetcher().fetch(url)


def test_fetcher_serves_css_fonts_and_data_uris():
    css = AssetFetcher().fetch(BASE_URL + "static/css/letter.css")
    assert css.content_type == "text/css" and b"@font-face" in css.read()
    font = AssetFetcher().fetch(BASE_URL + "static/fonts/source-serif-4-latin-400-normal.woff")
    assert font.content_type == "font/woff" and font.read(4) == b"wOFF"
    data = AssetFetcher().fetch("data:text/plain;base64,aGk=")
    assert data.read() == b"hi"


def test_fetcher_serves_stored_images_only(app):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 16
    secret = b"%PDF-1.7 another campaign's letter"
    for data, mime in ((png, "image/png"), (secret, "application/pdf")):
        sha = hashlib.sha256(data).hexdigest()
        db.session.add(Blob(sha256=sha, mime=mime, size=len(data), data=data))
    # Committed: the per-test cleanup runs in a new session and must not wait on ours.
    db.session.commit()
    png_sha, secret_sha = hashlib.sha256(png).hexdigest(), hashlib.sha256(secret).hexdigest()
    html = f'<img src="/blobs/{png_sha}"><img src="/blobs/{secret_sha}">'
    images = letter_images(html)

    image = AssetFetcher(images).fetch(BASE_URL + "blobs/" + png_sha)
    assert image.content_type == "image/png" and image.read() == png
    # A stored PDF is not an image, even when the letter names it.
    with pytest.raises(ValueError):
        AssetFetcher(images).fetch(BASE_URL + "blobs/" + secret_sha)
    with pytest.raises(ValueError):
        AssetFetcher(images).fetch(BASE_URL + "blobs/" + "0" * 64)
    # The fetcher serves only what it was handed: it never looks in the database.
    with pytest.raises(ValueError):
        AssetFetcher().fetch(BASE_URL + "blobs/" + png_sha)


class RecordingFetcher(AssetFetcher):
    """The real fetcher, noting what it served and what it refused."""

    def __init__(self):
        super().__init__()
        self.served, self.refused = [], []

    def fetch(self, url, headers=None):
        try:
            response = super().fetch(url, headers)
        except ValueError:
            self.refused.append(url)
            raise
        self.served.append(url)
        return response


@pytest.fixture
def listener():
    """A local port that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server.getsockname()[1]
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        pass
    else:
        connection.close()
        pytest.fail("the renderer connected to a URL in the letter")
    finally:
        server.close()


def test_hostile_html_renders_without_fetching(listener):
    hostile = f"""<!doctype html><html><head>
      <link rel="stylesheet" href="/static/css/letter.css">
      <link rel="stylesheet" href="http://127.0.0.1:{listener}/x.css">
      <link rel="attachment" href="file:///etc/passwd">
      <style>@import url(file:///etc/passwd); @import url(http://127.0.0.1:{listener}/i.css);
        body {{ background: url(http://127.0.0.1:{listener}/bg.png) }}</style>
    </head><body>
      <p>Visible letter text</p>
      <img src="file:///etc/passwd">
      <img src="http://127.0.0.1:{listener}/logo.png">
      <img src="/static/../campaign/config.py">
      <img src="undersigned://app/blobs/../../etc">
      <object data="file:///etc/hostname"></object>
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
    </body></html>"""
    fetcher = RecordingFetcher()
    weasyprint.HTML(string=hostile, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()

    assert all(url.startswith((BASE_URL + "static/", "data:")) for url in fetcher.served), (
        fetcher.served
    )
    refused = " ".join(fetcher.refused)
    for expected in ("file:///etc/passwd", f"127.0.0.1:{listener}/x.css", "config.py"):
        assert expected in refused, (expected, fetcher.refused)

    pdf = html_to_pdf(hostile)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Visible letter text" in text
    assert "root:" not in text


def test_css_import_of_a_local_file_does_not_leak():
    # If the import were followed, /etc/passwd's first line would be parsed as CSS and
    # the rule below could never apply; either way no file text may reach the PDF.
    html = """<html><head><style>
      @import url(file:///etc/passwd);
      p::after { content: " [styled]" }
    </style></head><body><p>Body</p></body></html>"""
    fetcher = RecordingFetcher()
    pdf = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    assert fetcher.refused == ["file:///etc/passwd"]
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Body [styled]" in text
    assert "root" not in text and "/bin/" not in text

"""SSRF and local-file attacks on the PDF renderer: no request leaves it, no file gets in.

A loopback HTTP server stands in for an internal service (and redirects one path to
file:///etc/passwd). Every attack below must make 0 connections to it and put no byte
of a local file into the PDF, both when the HTML reaches html_to_pdf directly (what the
engine guarantees whatever the HTML) and when it comes through a letter (what the app
guarantees: Markdown is sanitised, merge fields are escaped, the engine holds anyway).
"""

import base64
import io
import re
import uuid
import zlib

import pytest
import weasyprint
from pypdf import PdfReader

from campaign.letters.pdf import html_to_pdf
from tests import factories as f
from tests.plugins.servers import CountingServer


@pytest.fixture
def secret(tmp_path):
    """A local file with a unique marker, standing in for any file on the server."""
    marker = f"TOPSECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(f"{marker}\nroot:x:0:0:root:/root:/bin/bash\n")
    return path, marker


def _svg(inner: str) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="100" height="100">{inner}</svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


#: Each attack as an HTML template: {base} is the listener, {secret} a local file's URL.
ATTACKS = {
    "img file": '<img src="file:///etc/passwd"><img src="{secret}">',
    "img http": '<img src="{base}/logo.png">',
    "attachment file": '<link rel="attachment" href="file:///etc/passwd">'
    '<link rel="attachment" href="{secret}">',
    "attachment http": '<link rel="attachment" href="{base}/leak.txt">',
    "css import": "<style>@import url({base}/import.css); @import '{secret}';</style>",
    "css url": "<style>body {{ background: url({base}/bg.png) }}"
    " p {{ list-style-image: url({base}/li.png) }}"
    " @font-face {{ font-family: X; src: url({base}/font.woff) }}"
    " h1 {{ font-family: X }}</style><h1>Heading</h1>",
    "stylesheet link": '<link rel="stylesheet" href="{base}/sheet.css">'
    '<link rel="stylesheet" href="{secret}">',
    "svg image file": '<img src="{svg_file}">',
    "svg image http": '<img src="{svg_http}">',
    "inline svg": '<svg width="50" height="50"><image href="file:///etc/passwd"'
    ' width="50" height="50"/><image href="{base}/inline.png" width="50" height="50"/>'
    "</svg>",
    "redirect": '<img src="{base}/redirect"><link rel="stylesheet" href="{base}/redirect.css">',
    "object iframe": '<object data="{secret}"></object><iframe src="{base}/frame"></iframe>'
    '<embed src="file:///etc/passwd">',
}


def _fill(template: str, base: str, secret_url: str) -> str:
    return template.format(
        base=base,
        secret=secret_url,
        svg_file=_svg(
            '<image href="file:///etc/passwd" width="100" height="100"/>'
            f'<image xlink:href="{secret_url}" width="100" height="100"/>'
        ),
        svg_http=_svg(
            f'<image href="{base}/svg.png" width="100" height="100"/>'
            f'<use href="{base}/sprite.svg#x"/>'
        ),
    )


def everything_in(pdf: bytes) -> str:
    """The PDF's raw bytes, every inflated stream and its text: where a leak would show."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match[1]))
        except zlib.error:
            pass
    reader = PdfReader(io.BytesIO(pdf))
    parts.extend(page.extract_text().encode() for page in reader.pages)
    for name, contents in reader.attachments.items():
        parts.append(name.encode())
        parts.extend(contents)
    return b"\n".join(parts).decode("latin-1")


def assert_no_leak(pdf: bytes, server: CountingServer, marker: str) -> None:
    assert server.connections == 0, f"the renderer connected: {server.paths}"
    contents = everything_in(pdf)
    assert marker not in contents
    assert "root:x:0:0" not in contents
    assert not PdfReader(io.BytesIO(pdf)).attachments, "a file was attached"


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_engine_fetches_nothing(attack, listener, secret):
    server, base = listener
    path, marker = secret
    fragment = _fill(ATTACKS[attack], base, path.as_uri())
    html = f"<!doctype html><html><body><p>Letter text</p>{fragment}</body></html>"
    pdf = html_to_pdf(html)
    assert "Letter text" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert_no_leak(pdf, server, marker)


def test_letter_with_every_attack_fetches_nothing(client, app, listener, secret, submit):
    """Every attack at once in the letter body, the subject and a signatory's details."""
    server, base = listener
    path, marker = secret
    secret_url = path.as_uri()
    fragments = [_fill(t, base, secret_url) for t in ATTACKS.values()]
    body = (
        "{{ target.salutation }},\n\nPlease stop.\n\n"
        + "\n\n".join(fragments)
        + (f"\n\n[link]({base}/link) ![image]({base}/md.png) ![local](file:///etc/passwd)\n")
    )
    u = f.user()
    c = f.published(u, body=body)
    p = f.partner(c, u, name="Evil Org")
    f.sign(
        c,
        u,
        p,
        organisation=f'<img src="{base}/org.png"><link rel=attachment href="{secret_url}">',
        signer_name=f"<style>@import url({base}/name.css);</style>",
        signer_title='<img src="file:///etc/passwd">',
    )
    f.login(client, u)
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    squeezed = "".join(text.split())  # line breaks in the columns may fall anywhere
    assert "Pleasestop." in squeezed
    # The signatory's HTML was escaped: it prints as text and fetches nothing.
    assert f'<imgsrc="{base}/org.png">' in squeezed
    assert '<imgsrc="file:///etc/passwd">' in squeezed
    assert_no_leak(resp.data, server, marker)


def test_the_harness_sees_a_leak(listener, secret):
    """Control: WeasyPrint's default fetcher does connect and attach, and we notice."""
    server, base = listener
    path, marker = secret
    html = _fill(ATTACKS["img http"] + ATTACKS["attachment file"], base, path.as_uri())
    pdf = weasyprint.HTML(string=f"<p>Letter text</p>{html}").write_pdf()
    assert server.connections == 1 and server.paths == ["/logo.png"]
    assert marker in everything_in(pdf)

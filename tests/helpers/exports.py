"""The organiser's ZIP export, pressed and downloaded through the pages."""

import re

from tests.conftest import csrf_from


def start_export(client, slug: str):
    """Press "Export ZIP" on the campaign page; return the export page it leads to."""
    page = client.get(f"/c/{slug}").get_data(as_text=True)
    resp = client.post(f"/c/{slug}/exports", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client.get(resp.headers["Location"])


def export_zip(client, slug: str):
    """Export the ZIP as an organiser does and download it; return the download."""
    page = start_export(client, slug).get_data(as_text=True)
    link = re.search(r'href="(/c/[^"]+/exports/\d+/download)"', page)
    assert link, page
    return client.get(link[1])

"""Browser-test fixtures: Debian's Chromium (the live server is in tests/plugins/servers.py)."""

import os
import shutil

import pytest

from tests.conftest import need

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (Debian's package) for the whole run: launching it costs ~1 s."""
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        need("browser tests need Debian's chromium package: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def browser(chromium):
    """The shared Chromium; every context a test opens is closed after it.

    Tests open their own contexts (each with its own viewport), and a context holds the
    cookies and storage, so closing them all keeps one test's session out of the next.
    """
    assert not chromium.contexts, "a previous test left a browser context open"
    yield chromium
    for context in list(chromium.contexts):
        context.close()

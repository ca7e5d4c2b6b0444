"""Browser-test fixtures: Debian's Chromium, one per test (live server: tests/plugins)."""

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


@pytest.fixture
def browser():
    """A headless Chromium (Debian's package), closed after the test.

    Not one per session: Playwright's sync API keeps an asyncio loop running in the
    test thread while it is open, and the PDF seal (pyhanko) runs its own loop there.
    """
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        need("browser tests need Debian's chromium package: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()

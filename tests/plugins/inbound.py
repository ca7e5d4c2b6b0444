"""The Inbound Parse fixture: a reply domain and the URL secret configured."""

import pytest

from tests.helpers.inbound import DOMAIN, SECRET


@pytest.fixture
def inbound(app, monkeypatch):
    """Inbound Parse configured: a reply domain and the URL secret."""
    monkeypatch.setitem(app.config, "INBOUND_DOMAIN", DOMAIN)
    monkeypatch.setitem(app.config, "INBOUND_SECRET", SECRET)

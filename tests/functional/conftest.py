"""Fixtures shared by the functional tests."""

import pytest

from campaign.letters import chunked


@pytest.fixture
def small_chunks(app, tmp_path, monkeypatch):
    """Chunk above 10 signatories, in chunks of about 8; a fresh chunk cache per test."""
    monkeypatch.setitem(app.config, "PDF_CHUNK_THRESHOLD", 10)
    monkeypatch.setitem(app.config, "PDF_CHUNK_CACHE_DIR", str(tmp_path / "chunks"))
    monkeypatch.setattr(chunked, "AVERAGE_CHUNK", 8)
    monkeypatch.setattr(chunked, "MIN_CHUNK", 3)
    monkeypatch.setattr(chunked, "MAX_CHUNK", 20)
    return tmp_path / "chunks"

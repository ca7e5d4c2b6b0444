"""The Redis queue fixture for tests that run jobs through real RQ workers."""

import os
import uuid

import pytest

from tests.conftest import need


@pytest.fixture
def redis_queue(app, monkeypatch):
    """A queue of this test's own on the Redis at REDIS_URL; yields (url, queue name)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        need(
            "RQ tests need a Redis server: install redis-server and set REDIS_URL=redis://127.0.0.1:6379/0"
        )
    from redis import Redis

    try:
        Redis.from_url(url).ping()
    except Exception as exc:  # noqa: BLE001
        need(f"Redis at {url} is not answering ({exc}); start redis-server")
    name = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "RQ_QUEUE", name)
    return url, name

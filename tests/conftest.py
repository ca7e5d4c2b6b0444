"""Shared fixtures: an app per database backend, a clean database per test, no network."""

import os
import re
import socket
import threading
import uuid
from contextlib import contextmanager

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from campaign import create_app
from campaign.extensions import db as _db
from campaign.extensions import limiter

# Fixtures used by more than one module; a test module never imports a fixture from another.
pytest_plugins = [
    "tests.plugins.inbound",
    "tests.plugins.jobs",
    "tests.plugins.sendgrid",
    "tests.plugins.servers",
]

BACKENDS = ["sqlite", "postgresql"]
LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that tries to reach beyond this machine."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in LOCAL_HOSTS:
                raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    real_getaddrinfo = socket.getaddrinfo

    def guarded_lookup(host, *args, **kwargs):
        if host not in LOCAL_HOSTS and host is not None:
            raise AssertionError(f"test tried to resolve a network host: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)


def need(reason: str):
    """Skip for lack of a service, or fail when CI promised every service (REQUIRE_ALL_BACKENDS)."""
    if os.environ.get("REQUIRE_ALL_BACKENDS"):
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@contextmanager
def _database(backend: str, tmp_path_factory):
    """A database of this test run's own: a SQLite file, or a fresh PostgreSQL database.

    A PostgreSQL database per run keeps two runs on one server (a developer's and CI's,
    or two helpers') from dropping each other's tables.
    """
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        need(
            "PostgreSQL tests need TEST_DATABASE_URL "
            "(install postgresql and set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1/test)"
        )
    admin = create_engine(_normalise(url), isolation_level="AUTOCOMMIT")
    name = f"undersigned_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        need(f"cannot create a test database on {url}: {exc.orig}")
    try:
        yield _normalise(url.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on one database backend, schema built once per session."""
    with _database(request.param, tmp_path_factory) as url:
        yield from _app(request.param, url, tmp_path_factory)


def _app(backend: str, url: str, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    flask_app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-not-for-production",
            "REDIS_URL": None,
            "SENDGRID_API_KEY": None,
            "SERVER_NAME": None,
            "BASE_URL": "http://127.0.0.1:5000",
            "DATABASE_BACKEND": backend,
            # No timer threads rendering PDFs behind a test's back; tests run the job.
            "RENDER_AHEAD_SECONDS": -1,
        }
    )
    flask_app.instance_path = str(instance)
    with flask_app.app_context():
        _db.create_all()
        yield flask_app
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()  # close pooled connections, or psycopg warns at exit


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    # The test's own session (in the app fixture's context) may hold a failed transaction.
    _db.session.rollback()
    _db.session.info.clear()
    # Only the tables this test wrote to: a probe costs ~2 ms, where TRUNCATE of all
    # ~30 tables cost ~80 ms a test on PostgreSQL. Children go before their parents.
    tables = list(reversed(_db.metadata.sorted_tables))
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in tables
    )
    written = set(_db.session.execute(text(probe)).scalars())
    for table in tables:
        if table.name in written:
            _db.session.execute(table.delete())
    if app.config["DATABASE_BACKEND"] == "postgresql":
        # Ids start at 1 again, as TRUNCATE ... RESTART IDENTITY did; a sequence nobody
        # read since its last reset has no last value and is left alone.
        _db.session.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                "FROM pg_sequences WHERE last_value IS NOT NULL"
            )
        )
    _db.session.commit()
    # A fresh session: the old identity map would clash with reused primary keys.
    _db.session.remove()
    limiter.reset()  # rate-limit counters are per test, like the database


class IsolatedClient(FlaskClient):
    """Runs each request in its own thread, so it gets its own app context and session.

    The tests keep an app context pushed for their own database work. Flask would reuse it
    for requests, sharing `g` (cached CSRF token, logged-in user) and the SQLAlchemy session
    between requests and the test. A real server never does that, so neither do we.
    """

    def open(self, *args, **kwargs):
        """Send one request from a fresh thread, after ending the test's transaction."""
        if not has_app_context():
            # A redirect being followed, already inside the request thread.
            return super().open(*args, **kwargs)
        _db.session.commit()  # the request must see the test's data and not wait on its locks
        outcome = {}

        def run():
            try:
                outcome["response"] = super(IsolatedClient, self).open(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001  (re-raised in the test's thread)
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        _db.session.expire_all()  # see what the request committed
        return outcome["response"]


@pytest.fixture
def client(app):
    """A test client with a cookie jar, like one browser."""
    app.test_client_class = IsolatedClient
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    """Pull the CSRF token out of a rendered form."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token field"
    return match.group(1)


@pytest.fixture
def submit(client):
    """Submit a form the way a browser does: load the page, then post with its CSRF token."""

    def _submit(page_url, data=None, post_url=None, **kwargs):
        page = client.get(page_url)
        assert page.status_code == 200, page.status_code
        payload = {"csrf_token": csrf_from(page.get_data(as_text=True)), **(data or {})}
        return client.post(post_url or page_url, data=payload, **kwargs)

    return _submit

"""Real worker processes against the fake SendGrid: killed mid-send, retried, rolled back.

Each test runs twice: with RQ on the real Redis (a `flask worker --burst` process) when
REDIS_URL is set, and in-process (a separate Python process calling the job, as the web
process does after its commit) always.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from campaign import jobs
from campaign.extensions import db
from campaign.mail.outbox import queue_email
from campaign.mail.sending import PAUSE_ENV
from campaign.mail.sweep import sweep_outbox
from campaign.models import OutboundEmail
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
SEND_IN_PROCESS = (
    "import sys\n"
    "from campaign import create_app\n"
    "from campaign.mail.outbox import send_email\n"
    "with create_app().app_context():\n"
    "    send_email(int(sys.argv[1]))\n"
)


@pytest.fixture(params=["in-process", "rq"])
def mode(request, app, monkeypatch):
    """How the send job runs: in a plain process, or by an RQ worker on the real Redis."""
    if request.param == "rq":
        url = os.environ.get("REDIS_URL")
        if not url:
            need("RQ tests need REDIS_URL=redis://127.0.0.1:6379/0")
        from redis import Redis

        try:
            Redis.from_url(url).ping()
        except Exception as exc:  # noqa: BLE001
            need(f"Redis at {url} is not answering ({exc})")
        monkeypatch.setitem(app.config, "REDIS_URL", url)
        monkeypatch.setitem(app.config, "RQ_QUEUE", f"test-{uuid.uuid4().hex[:8]}")
    return request.param


@pytest.fixture
def sendgrid(sendgrid, webhook_signer):
    """The test process and its child processes both send through the fake SendGrid."""
    return sendgrid


def _env(app, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "worker-test",
        "FLASK_APP": "app",
        "SENDGRID_API_KEY": app.config["SENDGRID_API_KEY"] or "",
        "SENDGRID_API_HOST": app.config["SENDGRID_API_HOST"] or "",
        "SENDGRID_WEBHOOK_PUBLIC_KEY": app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY") or "",
        "REDIS_URL": app.config.get("REDIS_URL") or "",
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "MAIL_LEASE_SECONDS": "1",
        "MAIL_RETRY_BASE_SECONDS": "1",
    }
    env.pop(PAUSE_ENV, None)
    env.update(extra)
    return env


def _start_sender(app, mode: str, email_id: int, **extra) -> subprocess.Popen:
    """Start the process that runs the send job, in its own process group."""
    if mode == "rq":
        args = [sys.executable, "-m", "flask", "worker", "--burst"]
    else:
        args = [sys.executable, "-c", SEND_IN_PROCESS, str(email_id)]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=_env(app, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _queue_committed(mode: str) -> int:
    email = queue_email(
        kind="letter", to_email="ceo@bigcorp.test", subject="Our letter", text_body="Dear CEO"
    )
    db.session.commit()
    # In-process mode: the web process would run this job now; the child process does.
    db.session.info.pop(jobs.READY, None)
    return email.id


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _email(email_id: int) -> OutboundEmail:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (RQ's work horse starts its own session)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the sender and everything it forked, like a machine losing power."""
    for pid in [proc.pid, *_descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate(timeout=30)


def test_worker_killed_after_the_api_call_loses_nothing_and_sends_once(
    app,
    mode,
    sendgrid,
    client,
    webhook_signer,
):
    email_id = _queue_committed(mode)
    proc = _start_sender(app, mode, email_id, **{PAUSE_ENV: "after_send:120"})
    try:
        _wait_for(lambda: len(sendgrid.accepted) == 1, "the API call")
    finally:
        _kill(proc)
    assert _email(email_id).status == "sending"  # the answer was never recorded

    time.sleep(1.1)  # the dead worker's lease runs out
    sweep_outbox()
    email = _email(email_id)
    assert email.status == "unknown"
    assert len(sendgrid.requests) == 1  # not sent again on a guess

    # SendGrid reports the message it did accept, naming our row in custom_args.
    message_id = "fake000001"
    events = [
        {
            "email": "ceo@bigcorp.test",
            "timestamp": int(time.time()),
            "event": "processed",
            "sg_event_id": "crash-evt-1",
            "sg_message_id": f"{message_id}.filter0001.1.0",
            "outbound_id": str(email_id),
        }
    ]
    body = json.dumps(events).encode()
    resp = client.post("/webhooks/sendgrid", data=body, headers=webhook_signer.headers(body))
    assert resp.status_code == 204
    if mode == "rq":
        # The post is stored and its events wait in Redis for a worker to apply them.
        worker = _start_sender(app, mode, email_id)
        worker.communicate(timeout=120)
        assert worker.returncode == 0
    for _ in range(3):
        sweep_outbox()

    email = _email(email_id)
    assert email.status == "processed"
    assert len(sendgrid.requests) == len(sendgrid.accepted) == 1


def test_worker_killed_before_the_api_call_is_sent_once_after_reconciling(
    app, mode, sendgrid, monkeypatch
):
    email_id = _queue_committed(mode)
    proc = _start_sender(app, mode, email_id, **{PAUSE_ENV: "before_send:120"})
    try:
        _wait_for(lambda: _email(email_id).status == "sending", "the claim")
    finally:
        _kill(proc)
    assert sendgrid.requests == []

    time.sleep(1.1)
    sweep_outbox()
    assert _email(email_id).status == "unknown"  # no event yet; the window is still open
    assert sendgrid.requests == []

    # The reconcile window passes with no 'processed' event: SendGrid never had it.
    monkeypatch.setitem(app.config, "MAIL_RECONCILE_SECONDS", 0)
    sweep_outbox()
    sweep_outbox()
    email = _email(email_id)
    assert email.status == "sent" and email.attempts == 2
    assert len(sendgrid.requests) == len(sendgrid.accepted) == 1


def test_rolled_back_email_never_reaches_a_worker(app, mode, sendgrid):
    queue_email(kind="letter", to_email="no@bigcorp.test", subject="Draft", text_body="Never")
    db.session.rollback()
    kept = _queue_committed(mode)

    proc = _start_sender(app, mode, kept)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]

    assert [r.body["personalizations"][0]["to"][0]["email"] for r in sendgrid.requests] == [
        "ceo@bigcorp.test"
    ]
    assert db.session.scalar(db.select(db.func.count(OutboundEmail.id))) == 1


def test_429_then_500_then_202_is_accepted_exactly_once(app, mode, sendgrid):
    sendgrid.rate_limit(retry_after=1)
    sendgrid.error(500, "hiccup")
    email_id = _queue_committed(mode)

    proc = _start_sender(app, mode, email_id)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    email = _email(email_id)
    assert email.status == "queued" and "429" in email.error

    # cron runs `flask tick` until the backoff has passed twice.
    deadline = time.monotonic() + 60
    while _email(email_id).status != "sent" and time.monotonic() < deadline:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "tick"],
            cwd=ROOT,
            env=_env(app),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        time.sleep(0.3)

    email = _email(email_id)
    assert email.status == "sent" and email.attempts == 3
    assert len(sendgrid.requests) == 3
    assert len(sendgrid.accepted) == 1

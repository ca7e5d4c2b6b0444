"""Background jobs: RQ on Redis when REDIS_URL is set, otherwise in-process after commit.

Jobs are queued with `after_commit(func, *ids)` inside a transaction. Nothing is queued
unless that transaction commits, so a rolled-back request never sends an email or
renders a PDF. Job functions take ids, not ORM objects, and commit their own work.

Without Redis the same functions are called directly once the request (or CLI command)
has committed. We call them directly rather than running RQ's synchronous mode against
fakeredis: RQ's sync mode adds nothing but a dependency and a fake server.
"""

import functools
import importlib
import logging
import threading
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

PENDING = "undersigned_pending_jobs"
READY = "undersigned_ready_jobs"
LATER = "undersigned_later_jobs"


def job(func):
    """Mark a function as a job: it runs inside an app context wherever it executes."""

    @functools.wraps(func)
    def wrapper(*args):
        if has_app_context():
            return func(*args)
        # An RQ worker process imports the job without an app; build one.
        from . import create_app

        with create_app().app_context():
            return func(*args)

    return wrapper


def after_commit(func, *args) -> None:
    """Run `func(*args)` as a job once the current transaction commits.

    `func` is a function or its dotted path ("campaign.tasks.render_letter"); a path lets
    a service queue a job without importing the module that commits.
    """
    db.session().info.setdefault(PENDING, []).append((func, args))


def _resolve(func):
    """The callable for a job given as a function or a dotted path."""
    if callable(func):
        return func
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_connection():
    """Return a Redis connection for REDIS_URL, or None when jobs run in-process."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis

    return Redis.from_url(url)


def queue():
    """Return the RQ queue jobs go to (only when REDIS_URL is set)."""
    from rq import Queue

    return Queue(current_app.config["RQ_QUEUE"], connection=redis_connection())


def later(func, *args) -> None:
    """Run `func(*args)` as a job RENDER_AHEAD_SECONDS after the current transaction commits.

    For work nobody waits for (rendering ahead): with Redis it is scheduled on RQ (the
    worker runs RQ's scheduler); without, a timer thread of this process runs it, so the
    request that caused it answers at once. Jobs for the same arguments already waiting
    on a timer are not queued twice. A negative delay queues nothing: `flask tick`
    picks the work up instead.
    """
    db.session().info.setdefault(LATER, []).append((func, args))


_timers: dict[tuple, threading.Timer] = {}
_timers_lock = threading.Lock()


def _run_later(app, func, args) -> None:
    """A timer's job: run it in an app context of its own, then the jobs it released."""
    with _timers_lock:
        _timers.pop((func, args), None)
    with app.app_context():
        try:
            _resolve(func)(*args)
            run_ready()
        except Exception:
            log.exception("job %s%r failed", func, args)
        finally:
            db.session.remove()


def _release_later(session) -> None:
    later_jobs = session.info.pop(LATER, [])
    if not later_jobs or not has_app_context():
        return
    seconds = current_app.config.get("RENDER_AHEAD_SECONDS", 5)
    if seconds is None or seconds < 0:
        return
    if current_app.config.get("REDIS_URL"):
        q = queue()
        for func, args in later_jobs:
            q.enqueue_in(timedelta(seconds=seconds), func, *args, job_timeout=600)
        return
    app = current_app._get_current_object()
    with _timers_lock:
        for func, args in later_jobs:
            if (func, args) in _timers:
                continue  # one is waiting already: it will see this change too
            timer = threading.Timer(seconds, _run_later, (app, func, args))
            timer.daemon = True
            _timers[(func, args)] = timer
            timer.start()


@event.listens_for(Session, "after_commit")
def _release(session):
    _release_later(session)
    pending = session.info.pop(PENDING, [])
    if not pending:
        return
    if has_app_context() and current_app.config.get("REDIS_URL"):
        q = queue()
        for func, args in pending:
            q.enqueue(func, *args, job_timeout=600)
    else:
        session.info.setdefault(READY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _discard(session):
    session.info.pop(PENDING, None)
    session.info.pop(LATER, None)


def run_ready() -> int:
    """Run, in this process, the jobs released by commits so far; return how many ran."""
    session = db.session()
    ran = 0
    # A job may commit and release further jobs; keep going until none are left.
    while session.info.get(READY):
        func, args = session.info[READY].pop(0)
        try:
            _resolve(func)(*args)
        except Exception:
            log.exception("job %s%r failed", getattr(func, "__name__", func), args)
            db.session.rollback()
        ran += 1
    return ran

"""Undersigned: coalition sign-on letters."""

import logging
from pathlib import Path

from flask import Flask

from .config import DEFAULT_CSP, load_settings


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application; `config` overrides settings (tests use it)."""
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=str(root / "instance"),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.update(load_settings(Path(app.instance_path)))
    if config:
        app.config.update(config)
    logging.basicConfig(level=logging.INFO)
    # WeasyPrint narrates every render step at INFO; keep its warnings only.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    # Alembic announces each of its plugins at INFO on import: noise on every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # pikepdf announces its logger bridge at INFO the first time a PDF is opened.
    logging.getLogger("pikepdf").setLevel(logging.WARNING)

    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)

    from .cli import register_cli
    from .errors import register_error_handlers

    register_error_handlers(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension singletons to this app."""
    from . import models  # noqa: F401  (registers the tables)
    from .extensions import csrf, db, limiter, login_manager, migrate
    from .services import render_ahead  # noqa: F401  (marks changed letters on each flush)

    db.init_app(app)
    # Batch mode lets Alembic alter SQLite tables by copying them.
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    init_rate_limits(app, limiter)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."

    register_sessions(app, login_manager)


def register_sessions(app: Flask, login_manager) -> None:
    """Sessions end at logout (server-side) and a fixed time after sign-in."""
    import time

    from flask import session
    from flask_login import user_logged_in

    from .services.users import session_user

    @login_manager.user_loader
    def load_user(session_id: str):
        return session_user(session_id, session.get("signed_in_at"), app.permanent_session_lifetime)

    @user_logged_in.connect_via(app)
    def start_session(_app, user, **_extra):
        # Permanent: the cookie carries PERMANENT_SESSION_LIFETIME as its expiry too.
        session.permanent = True
        session["signed_in_at"] = time.time()


def init_rate_limits(app: Flask, limiter) -> None:
    """Keep rate-limit counters in Redis when there is one, in memory otherwise."""
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a proxy the peer is the proxy; limits must count the real client.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    if app.config.get("REDIS_URL"):
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        _warn_memory_limits_once_serving(app)


def _warn_memory_limits_once_serving(app: Flask) -> None:
    """Say that limits are per process, once a process serves requests (not for CLI commands)."""
    warned = []

    @app.before_request
    def warn_once():
        # Only a serving process enforces limits; `flask tick` and friends need not hear it.
        if not warned:
            warned.append(True)
            logging.getLogger(__name__).warning(
                "rate limits are counted in memory, per process: set REDIS_URL to share them "
                "between web processes"
            )


def register_blueprints(app: Flask) -> None:
    """Mount every view module."""
    from .views import BLUEPRINTS

    for bp in BLUEPRINTS:
        app.register_blueprint(bp)


#: Set on `flask.g` when a view reports a refusal (refuse, field_error): roll back, even on 3xx.
REQUEST_FAILED = "undersigned_request_failed"
#: Set on `flask.g` by a view whose 4xx answer reports an outcome that must be stored.
KEEP_DESPITE_STATUS = "undersigned_keep_despite_status"


def register_request_hooks(app: Flask) -> None:
    """The request's one commit, in-process jobs after it, and security headers."""
    from flask import g, request

    from . import jobs
    from .extensions import db

    @app.after_request
    def finish(response):
        # The one commit of a request (views and services never commit): a response below
        # 400 keeps its changes, anything else (a refused form, a 404, an error page) and a
        # view that marked itself failed (views.helpers.refuse) keep nothing. A failing
        # commit raises here, so the user gets the 500 page and this hook rolls back.
        keep = response.status_code < 400 or (
            # A 4xx that reports a stored outcome (views.helpers.keep_despite_status).
            response.status_code < 500 and g.get(KEEP_DESPITE_STATUS)
        )
        if keep and not g.get(REQUEST_FAILED):
            db.session.commit()
        else:
            db.session.rollback()
        # Jobs and emails released by that commit run now when there is no Redis; a
        # rolled-back request released none.
        jobs.run_ready()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        # Only our own assets: no third-party scripts, fonts or trackers, ever.
        response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Served over HTTPS: browsers must never fall back to plain HTTP.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and request.blueprint != "verify":
            # Pages, signing links and exports hold personal data: no browser or proxy
            # keeps a copy. (Logos by content hash set their own caching.)
            response.headers.setdefault("Cache-Control", "no-store")
        return response

"""Domain exceptions raised by services, and the handlers that turn them into pages."""

from flask import render_template


class DomainError(Exception):
    """Base class for errors a service raises about the request's meaning."""


class Invalid(DomainError):
    """Input is well-formed but wrong: names the field, the problem and the fix."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DomainError):
    """The object does not exist or the user may not see it; both look the same."""


class Conflict(DomainError):
    """The action does not fit the object's current state."""


class NotAllowed(DomainError):
    """The user may see the object but may not do this to it (a 403, unlike NotFound)."""


def register_error_handlers(app) -> None:
    """Render friendly pages for 4xx and domain errors; never leak a traceback."""

    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(_exc):
        return page(404, "Not found", "There is nothing here, or it is no longer available.")

    @app.errorhandler(Conflict)
    def conflict(exc):
        return page(409, "That can't be done now", str(exc))

    @app.errorhandler(Invalid)
    def invalid(exc):
        return page(400, "Please check your input", f"{exc.field}: {exc.reason}")

    @app.errorhandler(400)
    def bad_request(exc):
        return page(400, "Bad request", getattr(exc, "description", "") or "Bad request.")

    @app.errorhandler(NotAllowed)
    @app.errorhandler(403)
    def forbidden(exc):
        # The one place a refused permission becomes a response; the service says why.
        reason = str(exc) if isinstance(exc, NotAllowed) and str(exc) else ""
        return page(403, "Not allowed", reason or "Your account may not do that.")

    @app.errorhandler(405)
    def not_allowed(_exc):
        return page(405, "Method not allowed", "That address does not take this kind of request.")

    @app.errorhandler(413)
    def too_large(_exc):
        return page(413, "Upload too large", "The file is larger than this site accepts.")

    @app.errorhandler(500)
    def server_error(_exc):
        return page(500, "Something went wrong", "The error is logged. Please try again later.")

    @app.errorhandler(429)
    def too_many(exc):
        # A limit with a message of its own (the per-account login throttle) says why.
        limit = getattr(exc, "limit", None)
        if limit is not None and limit.error_message:
            return page(429, "Too many requests", exc.description)
        return page(429, "Too many requests", "Please wait a minute and try again.")

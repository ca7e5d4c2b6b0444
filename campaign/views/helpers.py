"""Small helpers shared by the views."""

from collections.abc import Callable

from flask import abort, flash, g, make_response, redirect, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import Conflict, Invalid, NotFound
from ..forms import ConfirmForm
from ..letters.document import letter_html
from ..letters.look import csp_allowing_style, style_css
from ..services.campaigns import get_campaign, require_editor


def campaign_or_404(slug: str, *, co_leads: bool = False):
    """The campaign named by the URL, if the current user may see it.

    Deny by default: co-leads only get the pages that opt in with `co_leads=True`
    (the review pages); every other campaign page is a 404 for them.
    """
    try:
        return get_campaign(current_user, slug, co_leads=co_leads)
    except NotFound:
        abort(404)


def letter_response(letter: dict):
    """A letter's HTML as a page, allowing (by CSP hash) exactly its own style block."""
    response = make_response(letter_html(letter))
    response.headers["Content-Security-Policy"] = csp_allowing_style(style_css(letter.get("look")))
    return response


def editor_required() -> None:
    """Staff accounts read and export; they get 403 on changes (the services' rule)."""
    require_editor(current_user)


def field_error(form, exc: Invalid) -> None:
    """Show a service's Invalid on the form; the request then keeps none of its changes."""
    _mark_failed()
    field = getattr(form, exc.field, None)
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(exc.reason)
    else:
        form.form_errors.append(f"{exc.field}: {exc.reason}")


def confirmed_action(
    action: Callable,
    *,
    success: str | Callable[..., str],
    back: str,
    done: str | None = None,
    errors: tuple[type[Exception], ...] = (Conflict,),
    category: str = "success",
    stale_status: int | None = None,
):
    """Confirm, call, flash, redirect: the body of every one-button POST view.

    With a valid confirm form, run `action()`. A service error of a kind in `errors` is
    refused (nothing is kept) and goes `back`; otherwise `success` (a message, or a
    function of what `action` returned) is flashed, and the user goes to `done` (or
    `back`). A form without its CSRF token goes `back` silently, or is refused with
    `stale_status` where a view has always answered so. Missing objects are 404 anyway.
    """
    if not ConfirmForm().validate_on_submit():
        if stale_status:
            abort(stale_status)
        return redirect(back)
    try:
        result = action()
    except errors as exc:
        refuse(str(exc))
        return redirect(back)
    flash(success(result) if callable(success) else success, category)
    return redirect(done or back)


def plain(status: int, text: str):
    """A short plain-text answer; the HTML error pages are for people, not SendGrid."""
    return text + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def capped_body(max_bytes: int) -> bytes | None:
    """The raw request body, or None when it is larger than max_bytes (chunked ones too).

    Checked before anything parses the body; callers parse the bytes returned.
    """
    if request.content_length is not None and request.content_length > max_bytes:
        return None
    # Chunked bodies carry no Content-Length. Werkzeug stops a capped stream at the cap
    # without an error, so read one byte past it to tell "too large" from "exactly full".
    request.max_content_length = max_bytes + 1
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return None
    if len(body) > max_bytes:
        return None
    return body


def refuse(message: str) -> None:
    """Flash why the action was refused; the request then keeps none of its changes.

    For a refusal answered with a redirect (a 3xx): the boundary commits responses below
    400, so it must be told that a service may have flushed half of a change first.
    """
    _mark_failed()
    flash(message, "error")


def _mark_failed() -> None:
    """Tell the request boundary to roll back, whatever the response's status."""
    from .. import REQUEST_FAILED

    g.setdefault(REQUEST_FAILED, True)


def keep_despite_status() -> None:
    """Commit this request's changes even though it answers with a 4xx.

    The one deliberate exception to "below 400 commits": a 409 that reports a failure
    which is itself the stored result (a failed render, shown on the campaign page too).
    """
    from .. import KEEP_DESPITE_STATUS

    g.setdefault(KEEP_DESPITE_STATUS, True)

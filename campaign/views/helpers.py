"""Small helpers shared by the views."""

from flask import abort, flash, g, make_response
from flask_login import current_user

from ..errors import Invalid, NotFound
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

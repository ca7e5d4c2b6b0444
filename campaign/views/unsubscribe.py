"""One-click unsubscribe from partner mail (no account; the link is signed)."""

from flask import Blueprint, abort, render_template

from ..errors import NotFound
from ..extensions import csrf
from ..mail import suppression as service

bp = Blueprint("unsubscribe", __name__)


def _address(token):
    try:
        return service.address_for(token)
    except NotFound:
        abort(404)


@bp.get("/u/<token>")
def show(token):
    """Ask for confirmation: mail scanners open links, so a GET changes nothing."""
    return render_template("unsubscribe.html", email=_address(token), done=False)


@bp.post("/u/<token>")
@csrf.exempt  # one-click unsubscribe (RFC 8058) posts from the mail client, without a form
def confirm(token):
    """Stop all further partner mail to this address."""
    email = _address(token)
    service.unsubscribe(email)
    return render_template("unsubscribe.html", email=email, done=True)

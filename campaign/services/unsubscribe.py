"""Unsubscribing from partner mail through a signed link, with no account and no lookup table."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..errors import NotFound
from ..extensions import db
from ..mail.suppression import suppressed
from ..models.mail import Suppression


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_url(email: str) -> str:
    """A link that unsubscribes this address; the signature proves we issued it."""
    token = _serializer().dumps(email.strip().lower())
    return f"{current_app.config['BASE_URL']}/u/{token}"


def address_for(token: str) -> str:
    """The address an unsubscribe token was made for, or NotFound for a forged one."""
    try:
        email = _serializer().loads(token or "")
    except BadSignature as exc:
        raise NotFound("unsubscribe link") from exc
    if not isinstance(email, str) or "@" not in email:
        raise NotFound("unsubscribe link")
    return email


def unsubscribe(email: str) -> bool:
    """Suppress all further partner mail to this address; False if it already was."""
    if suppressed([email]):
        return False
    db.session.add(Suppression(email=email.lower(), reason="unsubscribe"))
    db.session.flush()
    return True

"""Accounts: creation and password checks."""

import secrets
import time
from datetime import timedelta
from functools import cache

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from ..errors import Invalid
from ..extensions import db
from ..models import ROLES, User
from ..models import users as users_model

MIN_PASSWORD = 10


def account_email(value: str) -> str:
    """The one rule for account addresses: the login form and `flask create-user` both use it.

    Returns the address normalised (lower case, as accounts are looked up by it); an address
    that could never be typed into the login form raises Invalid naming what is wrong.
    """
    value = (value or "").strip()
    if not value:
        raise Invalid("email", "is empty; enter an email address such as name@example.org")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid("email", f"{value} is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def create_user(email: str, password: str, role: str = "organiser") -> User:
    """Create an account, refusing duplicates, unknown roles and short passwords."""
    email = account_email(email)
    if role not in ROLES:
        raise Invalid("role", f"must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")
    if find_user(email) is not None:
        raise Invalid("email", f"{email} already has an account")
    user = User(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def find_user(email: str) -> User | None:
    """Look a user up by email, ignoring case."""
    stmt = select(User).where(func.lower(User.email) == email.strip().lower())
    return db.session.scalar(stmt)


@cache
def _dummy_hash() -> str:
    """A hash of a random password no one knows, made once per process."""
    return users_model.hash_password(secrets.token_urlsafe(32))


def authenticate(email: str, password: str) -> User | None:
    """Return the user when the password is right, else None (same answer for unknown email).

    An unknown address costs one password check as well, against a dummy hash of the same
    hasher and cost, so the time taken does not tell who has an account.
    """
    user = find_user(login_address(email))
    if user is None:
        users_model.verify_password(_dummy_hash(), password)
        return None
    if not user.check_password(password):
        return None
    return user


def login_address(submitted: str | None) -> str:
    """A typed login address normalised like accounts (the lookup and the throttle's key)."""
    try:
        return account_email(submitted or "")
    except Invalid:
        # Not an address an account could have; still counted, under what was typed.
        return (submitted or "").strip().lower()


def session_user(session_id: str, signed_in_at: float | None, lifetime: timedelta) -> User | None:
    """The account a session cookie names, or None when it was logged out or has expired.

    `session_id` is what User.get_id put in the session: the account id and the session
    token it had at sign-in. `signed_in_at` (a Unix time) bounds the session's life from
    sign-in, however busy it is.
    """
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    if signed_in_at is None or time.time() - signed_in_at > lifetime.total_seconds():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def end_sessions(user: User) -> None:
    """Log this account out everywhere: every session cookie issued so far stops working."""
    user.session_token = users_model.new_session_token()
    db.session.flush()

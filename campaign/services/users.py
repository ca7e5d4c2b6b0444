"""Accounts: creation and password checks."""

from sqlalchemy import func, select

from ..errors import Invalid
from ..extensions import db
from ..models import ROLES, User

MIN_PASSWORD = 10


def create_user(email: str, password: str, role: str = "organiser") -> User:
    """Create an account, refusing duplicates, unknown roles and short passwords."""
    email = email.strip().lower()
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


def authenticate(email: str, password: str) -> User | None:
    """Return the user when the password is right, else None (same answer for unknown email)."""
    user = find_user(email)
    if user is None or not user.check_password(password):
        return None
    return user

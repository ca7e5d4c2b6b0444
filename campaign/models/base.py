"""Column helpers shared by every model."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time in UTC, naive, as every timestamp column stores it."""
    # Stored naive-UTC so SQLite and PostgreSQL round-trip the same value.
    return datetime.now(UTC).replace(tzinfo=None)

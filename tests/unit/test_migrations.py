"""The Alembic history builds the schema on empty databases and matches the models."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]


def _flask(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "app", "SECRET_KEY": "migration-test"}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _upgrade_and_check(db_url: str) -> None:
    up = _flask(db_url, "upgrade")
    assert up.returncode == 0, up.stderr
    check = _flask(db_url, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_upgrade_on_empty_sqlite(tmp_path):
    _upgrade_and_check(f"sqlite:///{tmp_path / 'empty.db'}")


def test_upgrade_on_empty_postgresql():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        need("PostgreSQL migration test needs TEST_DATABASE_URL")
    name = f"undersigned_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _upgrade_and_check(url.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

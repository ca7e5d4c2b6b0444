"""Item 32: `flask` commands print what they did, not library start-up chatter."""

import logging
import os
import subprocess
import sys
from pathlib import Path

from campaign import create_app
from campaign.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def _flask(args, env):
    """Run `flask --app app ARGS` from the project root, as an operator does."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _operator_env(tmp_path) -> dict:
    """The environment of an operator's shell, with a fresh SQLite database of its own."""
    url = f"sqlite:///{tmp_path / 'quiet.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "quiet-test"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP")},
        "DATABASE_URL": url,
        "SECRET_KEY": "quiet-test",
        "PDF_CHUNK_CACHE_DIR": str(tmp_path / "chunks"),
    }


def test_flask_commands_print_no_plugin_lines_or_rate_limit_warning(tmp_path):
    env = _operator_env(tmp_path)
    for args in (["--help"], ["tick"]):
        result = _flask(args, env)
        assert result.returncode == 0, result.stderr
        assert "setup plugin" not in result.stderr, (args, result.stderr)
        assert "rate limits are counted in memory" not in result.stderr, (args, result.stderr)
        # The command still says what it did.
        if args == ["tick"]:
            assert "reminders: 0 sent" in result.stdout


def test_a_command_that_renders_pdfs_prints_no_library_chatter(tmp_path):
    """`flask demo` renders and seals PDFs; only our own lines may reach the terminal."""
    env = _operator_env(tmp_path)
    result = _flask(["demo"], env)
    assert result.returncode == 0, result.stderr
    assert "signing link:" in result.stdout
    chatter = [
        line
        for line in result.stderr.splitlines()
        if line.startswith(("INFO", "DEBUG")) and not line.startswith("INFO:campaign")
    ]
    assert chatter == [], chatter


def test_a_serving_process_still_warns_that_limits_are_per_process(tmp_path, caplog):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'serve.db'}",
            "SECRET_KEY": "quiet-test",
            "REDIS_URL": None,
            "TESTING": True,
        }
    )
    with caplog.at_level(logging.WARNING, logger="campaign"):
        client = app.test_client()
        client.get("/login")
        client.get("/login")
    warnings = [r for r in caplog.records if "counted in memory" in r.getMessage()]
    assert len(warnings) == 1

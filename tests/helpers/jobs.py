"""Run the app's `flask` commands (worker, scheduler) in their own processes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def flask_command(app, url, queue, *args) -> subprocess.CompletedProcess:
    """Run a `flask` command in its own process against this test's database and queue."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": url,
        "RQ_QUEUE": queue,
        "SECRET_KEY": "worker-test",
        "FLASK_APP": "app",
    }
    env.pop("SENDGRID_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def work(app, url, queue):
    """Run a burst `flask worker` over the queue until it is empty."""
    flask_command(app, url, queue, "worker", "--burst")

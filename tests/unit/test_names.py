"""Issue 12 part 6: a name says what the thing is, so one name means one thing."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "campaign"


def _functions_named(name: str) -> list[str]:
    """Where `campaign/` defines a function or method called `name` (file:line)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_tick_names_at_most_one_thing():
    # The periodic run, the outbox sweep and the CLI command were all `tick`; a reader
    # of `tick()` could not tell which ran. The letter sandbox's time check may keep it.
    assert len(_functions_named("tick")) <= 1, _functions_named("tick")


def test_the_periodic_run_and_the_outbox_sweep_have_their_own_names():
    from campaign import cli, tasks
    from campaign.mail import sweep

    assert callable(tasks.run_periodic) and callable(sweep.sweep_outbox)
    # `flask tick` stays the operator's command name: cron lines keep working.
    assert cli.tick_command.name == "tick"


#: Service modules renamed so the name says what each one does (old -> new).
RENAMED_SERVICES = {
    "sends": "invitation_dry_run",
    "exports": "signatory_lists",
    "export_runs": "export_jobs",
    "export_bundle": "export_zip",
    "signing": "personal_link_signing",
    "public_signing": "public_sign_on",
    "personal_signature": "signature_image",
    "coalition": "partner_list_access",
    "coleads": "colead_invites",
    "review": "draft_comments",
}


def test_the_look_alike_service_names_do_not_come_back():
    # exports/export_runs/export_bundle and signing/public_signing/personal_signature
    # read alike; a newcomer could not tell from the name which one held what.
    import importlib.util

    back = [old for old in RENAMED_SERVICES if importlib.util.find_spec(f"campaign.services.{old}")]
    assert not back, back
    missing = [
        new
        for new in RENAMED_SERVICES.values()
        if importlib.util.find_spec(f"campaign.services.{new}") is None
    ]
    assert not missing, missing


def test_queued_job_paths_still_resolve():
    # A job queued before a rename runs after it: every dotted path a service queues
    # must still name a function.
    import re

    from campaign.jobs import _resolve

    paths = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("jobs.py", "tasks.py"):  # their docstrings show an example path
            continue
        paths.update(re.findall(r"after_commit\(\s*\"(campaign\.[\w.]+)\"", path.read_text()))
    assert paths, "no dotted job paths found"
    for dotted in sorted(paths):
        assert callable(_resolve(dotted)), dotted

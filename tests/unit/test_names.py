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

"""Flask commands for the outbox."""

import click

from .sweep import tick


@click.command("tick")
def tick_command():
    """Sweep the outbox once: send due emails, settle dead workers' claims (cron: each minute)."""
    report = tick()
    click.echo(f"tick: {report}")

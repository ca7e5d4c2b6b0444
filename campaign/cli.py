"""Flask commands: create-user, export, demo, worker."""

import sys
from pathlib import Path

import click
from flask import current_app

from . import jobs
from .errors import Invalid
from .extensions import db


def register_cli(app) -> None:
    """Attach the commands to `flask`."""
    app.cli.add_command(create_user)
    app.cli.add_command(export)
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(audit)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organiser", "staff"]), default="organiser")
@click.password_option(help="Prompted for when not given.")
def create_user(email, role, password):
    """Create an account; the password is prompted for, never echoed."""
    from .services.users import create_user as make

    try:
        user = make(email, password, role)
    except Invalid as exc:
        raise click.UsageError(f"{exc.field}: {exc.reason}") from exc
    db.session.commit()
    click.echo(f"created {user.role} {user.email}")


@click.command("export")
@click.argument("slug")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, writable=True))
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True))
def export(slug, pdf_path, csv_path):
    """Write the signed PDF and/or the signatory CSV of campaign SLUG."""
    from sqlalchemy import select

    from .models import Blob, Campaign
    from .services.exports import signatories_csv
    from .services.rendering import render_now, request_render

    if not (pdf_path or csv_path):
        raise click.UsageError("give --pdf FILE, --csv FILE or both")
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.UsageError(f"no campaign with the slug {slug!r}")
    if csv_path:
        Path(csv_path).write_text(signatories_csv(campaign), encoding="utf-8")
        click.echo(f"wrote {csv_path}")
    if pdf_path:
        try:
            rendered = request_render(campaign)
        except Invalid as exc:
            raise click.ClickException(exc.reason) from exc
        if rendered.status == "pending":
            # The command waits for its own PDF rather than leaving it to a worker.
            render_now(rendered)
        db.session.commit()
        if rendered.status != "ready":
            raise click.ClickException(f"rendering failed: {rendered.error}")
        blob = db.session.get(Blob, rendered.pdf_sha256)
        Path(pdf_path).write_bytes(blob.data)
        click.echo(
            f"wrote {pdf_path} ({rendered.signatory_count} signatories, sha256 {blob.sha256})"
        )


@click.command("demo")
def demo():
    """Load (or reset) the demo campaign and print how to log in."""
    from .demo import load_demo

    info = load_demo()
    db.session.commit()
    jobs.run_ready()
    click.echo(f"organiser: {info['email']} {info['password']}")
    click.echo(f"campaign: {info['slug']}")
    click.echo(f"signing link: {info['signing_link']}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst):
    """Run an RQ worker for the background jobs (needs REDIS_URL)."""
    from rq import Worker

    conn = jobs.redis_connection()
    if conn is None:
        click.echo("REDIS_URL is not set: jobs already run inside the web process.", err=True)
        sys.exit(1)
    Worker([current_app.config["RQ_QUEUE"]], connection=conn).work(burst=burst)


@click.group("audit")
def audit():
    """Check the tamper-evident audit ledger."""


@audit.command("verify")
@click.argument("slug")
def audit_verify(slug):
    """Recompute campaign SLUG's audit hash chain and name the first broken entry."""
    from sqlalchemy import select

    from .models import Campaign
    from .services.audit import verify_chain

    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.UsageError(f"no campaign with the slug {slug!r}")
    report = verify_chain(campaign)
    if report.ok:
        click.echo(f"ok: {report.entries} entries, the chain is intact")
        return
    bad = report.broken
    click.echo(
        f"BROKEN at entry {bad.seq} (id {bad.id}, {bad.action}, "
        f"{bad.created_at:%Y-%m-%d %H:%M:%S} UTC): {report.reason}",
        err=True,
    )
    sys.exit(1)

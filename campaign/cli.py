"""Flask commands: create-user, export, keys, demo, worker."""

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
    app.cli.add_command(keys)
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(tick_command)
    app.cli.add_command(scheduler)
    app.cli.add_command(audit)
    app.cli.add_command(partners_cli)
    app.cli.add_command(campaign_cli)


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
@click.option("--target", "target_id", type=int, help="Whose copy --pdf writes (target id).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True))
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--zip",
    "zip_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Every target's signed PDF, the audit certificate and the signatory lists.",
)
@click.option(
    "--certificate",
    "certificate_path",
    type=click.Path(dir_okay=False, writable=True),
    help="The audit certificate: every signature, how and for which text, the chain head.",
)
@click.option(
    "--full-list",
    is_flag=True,
    help="--csv/--xlsx write the organisers' full list (private supporters and every "
    "email address included); recorded in the campaign's audit log.",
)
def export(slug, pdf_path, target_id, csv_path, xlsx_path, zip_path, certificate_path, full_list):
    """Write the signed PDFs and the signatory lists of campaign SLUG.

    The lists respect each signer's choices, as the letter does; --full-list is the
    organisers' complete list, and writing it is recorded in the audit chain.
    """
    from sqlalchemy import select

    from .errors import NotFound
    from .models import Blob, Campaign
    from .services.campaigns import get_target
    from .services.export_zip import ready_pdf, write_zip
    from .services.signatory_lists import signatories_csv, signatories_xlsx

    if full_list and not (csv_path or xlsx_path):
        raise click.UsageError("--full-list changes what --csv/--xlsx write; give one of them")
    if not (pdf_path or csv_path or xlsx_path or zip_path or certificate_path):
        raise click.UsageError(
            "give at least one of --pdf FILE, --csv FILE, --xlsx FILE, --zip FILE, "
            "--certificate FILE"
        )
    if target_id is not None and not pdf_path:
        raise click.UsageError("--target chooses whose copy --pdf writes; give --pdf FILE too")
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.UsageError(f"no campaign with the slug {slug!r}")
    target = None
    if target_id is not None:
        try:
            target = get_target(campaign, target_id)
        except NotFound:
            known = ", ".join(f"{t.id} ({t.name})" for t in campaign.targets) or "none"
            raise click.UsageError(
                f"campaign {slug!r} has no target {target_id}; its targets: {known}"
            ) from None
    try:
        if full_list:
            _export_full_list(campaign, csv_path, xlsx_path)
        else:
            if csv_path:
                Path(csv_path).write_text(signatories_csv(campaign), encoding="utf-8")
                click.echo(f"wrote {csv_path}")
            if xlsx_path:
                Path(xlsx_path).write_bytes(signatories_xlsx(campaign))
                click.echo(f"wrote {xlsx_path}")
        if pdf_path:
            with click.progressbar(length=1, label="Rendering the signed PDF") as bar:
                rendered = ready_pdf(campaign, target)
                bar.update(1)
            db.session.commit()
            blob = db.session.get(Blob, rendered.pdf_sha256)
            Path(pdf_path).write_bytes(blob.data)
            click.echo(
                f"wrote {pdf_path} ({rendered.signatory_count} signatories, sha256 {blob.sha256})"
            )
        if zip_path:
            _export_zip(campaign, Path(zip_path), write_zip)
        if certificate_path:
            from .services.evidence import certificate_pdf, verify_url

            pdf, doc = certificate_pdf(campaign)
            db.session.commit()
            Path(certificate_path).write_bytes(pdf)
            click.echo(
                f"wrote {certificate_path} ({doc.signatory_count} signatures, "
                f"verify at {verify_url(doc.code)})"
            )
    except Invalid as exc:
        db.session.commit()  # keep the failed render, so the campaign page shows why
        raise click.ClickException(exc.reason) from exc


def _export_full_list(campaign, csv_path, xlsx_path) -> None:
    """Write the organisers' full list, each file recorded in the audit chain first."""
    import getpass

    from .services.signatory_lists import FULL_LIST_CONTENTS, full_list

    actor = f"command line (flask export --full-list), system user {getpass.getuser()}"
    for path, fmt in ((csv_path, "csv"), (xlsx_path, "xlsx")):
        if path:
            data = full_list(campaign, fmt, actor=actor)
            db.session.commit()  # the audit entry is kept before the file is written
            Path(path).write_bytes(data)
            click.echo(f"wrote {path}: the full list, recorded in the audit log")
    click.echo(f"It holds {FULL_LIST_CONTENTS}.")


def _export_zip(campaign, path: Path, write_zip) -> None:
    """Write the export ZIP with a progress bar; a failure leaves no partial file."""
    from .services.export_zip import zip_steps

    partial = path.with_name(path.name + ".part")
    try:
        with click.progressbar(length=zip_steps(campaign), label="Rendering PDFs") as bar:
            with partial.open("wb") as out:
                files = write_zip(
                    campaign, out, progress=lambda done, _total, _step: bar.update(done - bar.pos)
                )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    db.session.commit()
    click.echo(f"wrote {path} ({len(files)} files)")


@click.group("keys")
def keys():
    """The instance's seal key, which signs every exported PDF."""


@keys.command("init")
@click.option("--force", is_flag=True, help="Replace an existing key (old PDFs still verify).")
def keys_init(force):
    """Create the seal key (mode 0600) and self-signed certificate in the instance folder."""
    from .errors import Conflict
    from .letters.seal import init_instance_key

    if current_app.config.get("SEAL_PKCS12_PATH"):
        click.echo(
            "note: SEAL_PKCS12_PATH is set, so PDFs are sealed with that file, not this key",
            err=True,
        )
    try:
        key_path, cert_path = init_instance_key(force=force)
    except Conflict as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {key_path} (mode 0600) and {cert_path}")


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
    # The scheduler moves jobs queued for later (rendering ahead) onto the queue when due.
    Worker([current_app.config["RQ_QUEUE"]], connection=conn).work(burst=burst, with_scheduler=True)


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


@click.group("partners")
def partners_cli():
    """Manage a campaign's partner list."""


@partners_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--skip-duplicates",
    is_flag=True,
    help="Leave out likely duplicates (same name, address or own domain); related rows stay.",
)
@click.option("--as", "as_email", required=True, help="Email of the organiser doing the import.")
def partners_import(slug, file, skip_duplicates, as_email):
    """Import partners into campaign SLUG from a CSV or XLSX FILE: all rows, or none."""
    from pathlib import Path

    from sqlalchemy import select

    from .models import Campaign
    from .services import partner_import as importer
    from .services.users import find_user

    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.UsageError(f"no campaign with the slug {slug!r}")
    user = find_user(as_email)
    if user is None:
        raise click.UsageError(f"no account with the email {as_email!r}")
    try:
        sheet = importer.read_upload(file, Path(file).read_bytes())
        with click.progressbar(length=len(sheet.rows), label="checking rows") as bar:
            preview = importer.build_preview(
                campaign, sheet, importer.guess_mapping(sheet.headers), on_row=bar.update
            )
        for flag in preview.flags:
            click.echo(f"line {flag.key}: {flag.kind} of {flag.other} ({flag.reason})")
        for line, warning in preview.warnings.items():
            click.echo(f"line {line}: {warning}")
        done = importer.commit_preview(campaign, user, preview, skip_flagged=skip_duplicates)
    except importer.ImportRejected as exc:
        for error in exc.errors:
            click.echo(f"line {error.line}: {error.reason}", err=True)
        raise click.ClickException(f"nothing imported: {len(exc.errors)} bad rows") from exc
    except Invalid as exc:
        raise click.ClickException(f"{exc.field}: {exc.reason}") from exc
    db.session.commit()
    skipped = f", skipped {done.skipped}" if done.skipped else ""
    click.echo(f"imported {len(done.added)} partners into {slug}{skipped}")


@click.command("tick")
def tick_command():
    """Send due reminders, then sweep the outbox once (cron: every minute; safe to repeat)."""
    from .tasks import run_periodic

    reminders, report = run_periodic()
    click.echo(f"reminders: {reminders} sent")
    click.echo(f"tick: {report}")


@click.command("scheduler")
@click.option(
    "--interval",
    default=60,
    show_default=True,
    type=click.IntRange(10, 3600),
    help="Seconds between ticks.",
)
@click.option("--once", is_flag=True, help="Queue one tick now and stop (for checks and tests).")
def scheduler(interval, once):
    """With Redis: queue `tick` on RQ every INTERVAL seconds, for `flask worker` to run.

    This replaces the cron line for set-ups that run RQ. Running both is harmless, as
    `tick` is idempotent; run one scheduler per deployment.
    """
    from rq.cron import CronScheduler

    from .tasks import run_periodic

    conn = jobs.redis_connection()
    if conn is None:
        click.echo("REDIS_URL is not set: run `flask tick` from cron instead.", err=True)
        sys.exit(1)
    cron = CronScheduler(connection=conn, name=f"undersigned-{current_app.config['RQ_QUEUE']}")
    cron.register(run_periodic, queue_name=current_app.config["RQ_QUEUE"], interval=interval)
    if once:
        queued = cron.enqueue_jobs()
        click.echo(f"queued {len(queued)} tick")
        return
    cron.start()


@click.group("campaign")
def campaign_cli():
    """Manage a campaign's members."""


@campaign_cli.command("add-member")
@click.argument("slug")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["organiser", "co-lead", "staff"]),
    required=True,
    help="organiser (runs it), co-lead (reviews, brings partners) or staff (reads, exports).",
)
def campaign_add_member(slug, email, role):
    """Give the account EMAIL access to campaign SLUG (the Members page does the same)."""
    from sqlalchemy import select

    from .errors import Conflict
    from .models import Campaign
    from .services import members

    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.UsageError(f"no campaign with the slug {slug!r}")
    try:
        members.add_member(campaign, None, email, members.CLI_KINDS[role])
    except Invalid as exc:
        raise click.UsageError(f"{exc.field}: {exc.reason}") from exc
    except Conflict as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"added {email.strip()} to {slug} as {role}")

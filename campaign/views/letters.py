"""Writing, previewing, versioning and publishing the letter."""

import time
from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from ..errors import Conflict, Invalid, NotFound
from ..extensions import limiter
from ..forms import ConfirmForm, LetterForm
from ..letters.document import letter_html
from ..letters.look import csp_allowing_style, style_css
from ..letters.pdf import html_to_pdf
from ..letters.sandbox import FIELDS
from ..services import letters as service
from ..services import page_preview, reconsent, revisions
from ..services.campaigns import get_target
from ..services.diffs import compare_versions
from ..services.letterhead import look_of
from .helpers import campaign_or_404, confirmed_action, editor_required, field_error, refuse

bp = Blueprint("letters", __name__)

STARTER = """{{ target.salutation }},

Write your letter here. Merge fields such as {{ target.name }} are filled in for each target.

Sincerely,

The undersigned organisations
"""


def _rate_key() -> str:
    """Count previews per signed-in user (several organisers may share one office address)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


def _with_letter_style(response, css: str):
    """Allow exactly the letter's own style block (by hash) on a page that shows it."""
    response.headers["Content-Security-Policy"] = csp_allowing_style(css)
    return response


def _studio(campaign, form, latest, status=200):
    response = make_response(
        render_template(
            "letters/edit.html",
            campaign=campaign,
            form=form,
            fields=FIELDS,
            latest=latest,
            confirm=ConfirmForm(),
            reconsent_to=reconsent.publish_recipients(campaign),
            publish_effect=reconsent.publish_effect(campaign),
        ),
        status,
    )
    # Live preview puts the letter into an iframe's srcdoc, which runs under this page's
    # policy, so the page must allow the letter's style block too.
    return _with_letter_style(response, style_css(look_of(campaign)))


@bp.route("/c/<slug>/letter", methods=["GET", "POST"])
@login_required
def edit(slug):
    """Edit the working draft of the letter."""
    campaign = campaign_or_404(slug)
    latest = service.latest_version(campaign)
    form = LetterForm(
        subject=latest.subject if latest else campaign.title,
        body=latest.body if latest else STARTER,
    )
    if request.method == "GET":
        return _studio(campaign, form, latest)
    editor_required()
    if form.validate_on_submit():
        try:
            version = service.save_draft(
                campaign, current_user, subject=form.subject.data, body=form.body.data
            )
        except Invalid as exc:
            field_error(form, exc)
        except Conflict as exc:
            refuse(str(exc))
        else:
            flash(f"Draft of version {version.number} saved.", "success")
            return redirect(url_for("letters.edit", slug=slug))
    return _studio(campaign, form, latest, 400)


def _target_from(campaign, raw: str | None):
    """The target a preview is for: an id of this campaign's, or None for the generic copy."""
    if not raw:
        return None
    try:
        return get_target(campaign, int(raw))
    except (ValueError, NotFound):
        abort(404)


def _preview_error(campaign, exc: Invalid):
    return render_template("letters/preview_error.html", campaign=campaign, error=exc), 400


@bp.get("/c/<slug>/letter/preview")
@login_required
def preview(slug):
    """The exact HTML the PDF is made from, for the newest version (draft or published)."""
    campaign = campaign_or_404(slug)
    version = service.latest_version(campaign)
    if version is None:
        abort(404)
    target = _target_from(campaign, request.args.get("target"))
    try:
        data = service.letter_data(campaign, version, target)
        html = letter_html(data)
    except Invalid as exc:
        return _preview_error(campaign, exc)
    return _with_letter_style(make_response(html), style_css(data.get("look")))


def _draft_data(campaign) -> dict:
    """The posted, unsaved text as letter data; raises Invalid."""
    form = LetterForm()
    if not form.validate_on_submit():
        name, errors = next(iter(form.errors.items()))
        raise Invalid(name, errors[0] if isinstance(errors, list) else str(errors))
    target = _target_from(campaign, request.form.get("target"))
    return service.draft_letter_data(campaign, form.subject.data, form.body.data, target)


def _draft_html(campaign) -> tuple[str, str, float]:
    """Render the posted, unsaved text with the PDF's pipeline: HTML, its style block, ms.

    Raises Invalid.
    """
    started = time.perf_counter()
    data = _draft_data(campaign)
    html = letter_html(data)
    return html, style_css(data.get("look")), (time.perf_counter() - started) * 1000


def _draft_pages(campaign):
    """The posted text as the PDF's pages, drawn, for the studio's live pane; raises Invalid."""
    started = time.perf_counter()
    drawn = page_preview.letter_pages(page_preview.with_sample_code(_draft_data(campaign)))
    ms = (time.perf_counter() - started) * 1000
    response = make_response(render_template("letters/pages.html", campaign=campaign, drawn=drawn))
    response.headers["Server-Timing"] = f"render;dur={ms:.1f}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/c/<slug>/letter/preview")
@limiter.limit(lambda: current_app.config["PREVIEW_RATE_LIMIT"], key_func=_rate_key)
@login_required
def preview_draft(slug):
    """Live preview: the posted text rendered exactly as the PDF would be, nothing saved.

    The studio's script asks for `view=pages`: the PDF's own pages, drawn (E31); the
    plain form (no script) gets the letter's HTML.
    """
    campaign = campaign_or_404(slug)
    try:
        if request.form.get("view") == "pages":
            return _draft_pages(campaign)
        html, css, ms = _draft_html(campaign)
    except Invalid as exc:
        return _preview_error(campaign, exc)
    response = _with_letter_style(make_response(html), css)
    response.headers["Server-Timing"] = f"render;dur={ms:.1f}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/c/<slug>/letter/preview.pdf")
@limiter.limit(lambda: current_app.config["PREVIEW_PDF_RATE_LIMIT"], key_func=_rate_key)
@login_required
def preview_pdf(slug):
    """The posted text as a draft PDF, shown in the browser; nothing saved."""
    campaign = campaign_or_404(slug)
    try:
        html, _css, _ms = _draft_html(campaign)
        pdf = html_to_pdf(html, images=service.letter_images(html))
    except Invalid as exc:
        return _preview_error(campaign, exc)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{campaign.slug}-draft.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/c/<slug>/letter/publish")
@login_required
def publish(slug):
    """Freeze the draft and open the campaign for signatures."""
    campaign = campaign_or_404(slug)
    editor_required()
    if ConfirmForm().validate_on_submit():
        effect = reconsent.publish_effect(campaign)
        try:
            version = service.publish(campaign, current_user)
        except (Conflict, Invalid) as exc:
            refuse(str(exc))
        else:
            change = f" Signatories on the letter: {effect['summary']}." if effect else ""
            flash(
                f"Version {version.number} is published and open for signatures.{change}",
                "success",
            )
            return redirect(url_for("campaigns.show", slug=slug))
    return redirect(url_for("letters.edit", slug=slug))


def _version_arg(campaign, name: str, default):
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return service.get_version(campaign, int(raw))
    except (ValueError, NotFound):
        abort(404)


@bp.get("/c/<slug>/letter/versions")
@login_required
def versions(slug):
    """Every version with who saved and published it, and a word diff of any two."""
    campaign = campaign_or_404(slug)
    all_versions = campaign.versions
    diff = None
    if all_versions:
        newest = all_versions[-1]
        older = all_versions[-2] if len(all_versions) > 1 else newest
        old = _version_arg(campaign, "from", older)
        new = _version_arg(campaign, "to", newest)
        diff = compare_versions(old, new)
    return render_template(
        "letters/versions.html", campaign=campaign, diff=diff, confirm=ConfirmForm()
    )


# The saves page posts to the same view under its own URL (views/revisions.py).
@bp.post("/c/<slug>/letter/versions/<int:number>/restore")
@login_required
def restore(slug, number=None, revision_id=None):
    """Make an older version, or an earlier save, the working draft; nothing is lost."""
    campaign = campaign_or_404(slug)
    editor_required()
    if revision_id is None:
        action = partial(service.restore, campaign, current_user, number)
        what = f"Version {number} is restored as"
    else:
        action = partial(revisions.restore_revision, campaign, current_user, revision_id)
        what = "That save is now"
    return confirmed_action(
        action,
        success=lambda draft: f"{what} the draft of version {draft.number}.",
        back=url_for("letters.versions", slug=slug),
        done=url_for("letters.edit", slug=slug),
        errors=(Conflict, Invalid),
        stale_status=400,
    )

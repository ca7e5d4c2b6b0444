"""Logging in and out."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter
from ..forms import ConfirmForm, LoginForm
from ..services.users import authenticate, end_sessions, login_address

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//"):
        if not urlsplit(target).netloc:
            return target
    return url_for("campaigns.index")


def _account_key() -> str:
    return "account:" + login_address(request.form.get("email"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
# Per account as well, against guessing one password from many addresses; only failed
# attempts count (a failure re-shows the form, a success redirects).
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
    error_message=(
        "Too many failed logins for this account. Wait a few minutes, then try again; "
        "this pause protects the account from password guessing."
    ),
)
def login():
    """Show the login form and sign the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That email and password do not match an account.")
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    form = ConfirmForm()
    if form.validate_on_submit():
        # Server-side: a copy of this session's cookie must not sign anyone in again.
        end_sessions(current_user)
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))

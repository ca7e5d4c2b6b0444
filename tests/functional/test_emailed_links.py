"""Issue 12 part 4: every link we email or print is built from its route, on BASE_URL.

A link made in a web request, in a background job and by a `flask` command must be the
same link, and it must open the page it names: renaming a route renames the link.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.routing import Map, Rule

from campaign import create_app

ROOT = Path(__file__).resolve().parents[2]
SECRET = "links-test-secret"
BASE = "https://letters.example.org/coalition"

#: What each kind of link must open. Invitations, reminders, re-consent requests and a
#: public sign-up's confirmation all carry the partner's personal signing link.
ENDPOINTS = {
    "signing": "signing.show",
    "public": "public.show",
    "colead": "review.accept",
    "unsubscribe": "unsubscribe.show",
    "verify": "verify.code",
}

#: Builds one link of each kind with the services' own functions; run in every context.
LINKS = """
import json
from types import SimpleNamespace
from campaign.mail.suppression import unsubscribe_url
from campaign.services.colead_invites import invite_url
from campaign.services.evidence import verify_url
from campaign.services.partners import signing_url
from campaign.services.public_sign_on import public_url
print(json.dumps({
    "signing": signing_url("sign-token_1"),
    "public": public_url(SimpleNamespace(token="public-token")),
    "colead": invite_url("colead-token"),
    "unsubscribe": unsubscribe_url("Partner@Example.org"),
    "verify": verify_url("ABCD2345EFGH"),
}))
"""


def _links() -> dict:
    """Run LINKS here (in whatever context is current) and return its links."""
    from campaign.mail.suppression import unsubscribe_url
    from campaign.services.colead_invites import invite_url
    from campaign.services.evidence import verify_url
    from campaign.services.partners import signing_url
    from campaign.services.public_sign_on import public_url

    return {
        "signing": signing_url("sign-token_1"),
        "public": public_url(SimpleNamespace(token="public-token")),
        "colead": invite_url("colead-token"),
        "unsubscribe": unsubscribe_url("Partner@Example.org"),
        "verify": verify_url("ABCD2345EFGH"),
    }


@pytest.fixture
def links_app(tmp_path):
    """An app whose BASE_URL has its own scheme, host and path, as behind a proxy."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'links.db'}",
            "REDIS_URL": None,
            "BASE_URL": BASE,
        }
    )


def _endpoint(app, url: str) -> tuple[str, dict]:
    """The endpoint and arguments a link opens, matched through the app's URL map."""
    assert url.startswith(BASE + "/"), url
    adapter = app.url_map.bind("letters.example.org", script_name="/coalition", url_scheme="https")
    return adapter.match(url.removeprefix(BASE), method="GET")


def _cli_links(tmp_path) -> dict:
    """The links as a `flask` command in its own process makes them (config from env)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SECRET_KEY": SECRET,
        "BASE_URL": BASE + "/",  # a trailing slash, as people type it
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "shell"],
        input=LINKS,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # The interactive shell echoes its prompts to stdout; the links follow them.
    start = result.stdout.index('{"signing"')
    return json.JSONDecoder().raw_decode(result.stdout[start:])[0]


def test_every_emailed_link_is_the_same_from_a_request_a_job_and_the_cli(links_app, tmp_path):
    # A request that reached the app on an internal host over plain http, as behind a proxy.
    with links_app.test_request_context("/c/x", base_url="http://10.0.0.7:8000"):
        from_request = _links()
    # A job (RQ worker or in-process after commit) has an app context and no request.
    with links_app.app_context():
        from_job = _links()
    from_cli = _cli_links(tmp_path)

    assert from_request == from_job == from_cli
    for kind, url in from_job.items():
        endpoint, args = _endpoint(links_app, url)
        assert endpoint == ENDPOINTS[kind], (kind, url)
    assert from_job["signing"] == f"{BASE}/s/sign-token_1"
    assert _endpoint(links_app, from_job["verify"])[1] == {"code": "ABCD2345EFGH"}


def _renamed(app, old: str, new: str) -> Map:
    """A copy of the app's URL map with every rule under `old` moved to `new`."""
    rules = [
        Rule(
            rule.rule.replace(old, new, 1) if rule.rule.startswith(old) else rule.rule,
            endpoint=rule.endpoint,
            methods=rule.methods,
        )
        for rule in app.url_map.iter_rules()
    ]
    return Map(rules)


@pytest.mark.parametrize(
    ("kind", "old", "new"),
    [
        ("signing", "/s/", "/sign/"),
        ("public", "/p/", "/join/"),
        ("colead", "/colead/", "/co-lead/"),
        ("unsubscribe", "/u/", "/unsubscribe/"),
        ("verify", "/v/", "/check/"),
    ],
)
def test_renaming_a_route_renames_the_link_we_email(links_app, monkeypatch, kind, old, new):
    monkeypatch.setattr(links_app, "url_map", _renamed(links_app, old, new))
    with links_app.app_context():
        url = _links()[kind]
    assert url.startswith(BASE + new), url
    assert _endpoint(links_app, url)[0] == ENDPOINTS[kind]

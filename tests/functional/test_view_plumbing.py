"""Issue 12 part 6: one restore view, and one helper for "confirm, call, flash, redirect"."""

import ast
from pathlib import Path

from campaign.extensions import db
from campaign.models import Target
from tests import factories as f

VIEWS = Path(__file__).resolve().parents[2] / "campaign" / "views"

#: Views that still spell out the confirm-form check themselves. Lower it as more views
#: move to `confirmed_action`; it must never grow.
MOST_INLINE_CONFIRMS = 11


def test_versions_and_saves_are_restored_by_one_view(app):
    # Both URLs stay (the versions and saves pages post to them); the code is written once.
    assert app.view_functions["letters.restore"] is app.view_functions["revisions.restore"]
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.endswith(".restore")}
    assert rules == {
        "/c/<slug>/letter/versions/<int:number>/restore",
        "/c/<slug>/letter/saves/<int:revision_id>/restore",
    }


def _inline_confirms() -> list[str]:
    """Where a view checks `ConfirmForm().validate_on_submit()` itself (file:line)."""
    found = []
    for path in sorted(VIEWS.glob("*.py")):
        if path.name == "helpers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "validate_on_submit"
                and isinstance(node.func.value, ast.Call)
                and getattr(node.func.value.func, "id", None) == "ConfirmForm"
            ):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_the_confirm_call_flash_redirect_block_is_not_copied_again():
    assert len(_inline_confirms()) <= MOST_INLINE_CONFIRMS, _inline_confirms()


def test_a_confirmed_action_commits_flashes_and_redirects(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    target_id = c.targets[0].id
    f.login(client, u)
    url = f"/c/{c.slug}/targets/{target_id}/delete"
    # Without the form's token nothing happens.
    assert client.post(url).status_code == 400
    assert db.session.get(Target, target_id) is not None
    # With it, the change is kept and said, back where the organiser was.
    resp = submit(f"/c/{c.slug}", {}, post_url=url)
    assert resp.status_code == 302 and resp.location.endswith(f"/c/{c.slug}#targets")
    assert "Target removed." in client.get(resp.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Target, target_id) is None


def test_a_refused_action_flashes_why_and_changes_nothing(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    target_id = c.targets[0].id
    c.status = "delivered"
    db.session.commit()
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}",
        {},
        post_url=f"/c/{c.slug}/targets/{target_id}/delete",
        follow_redirects=True,
    )
    assert "targets can no longer change" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Target, target_id) is not None

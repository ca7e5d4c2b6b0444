"""Co-lead review: invitations, joining, commenting on paragraphs, resolving."""

import io
import re

from pypdf import PdfReader

from campaign.extensions import db
from campaign.letters.document import letter_html
from campaign.models import AuditEvent, CampaignMember, OutboundEmail, ReviewComment, User
from campaign.services import colead_invites as coleads
from campaign.services import draft_comments as review
from campaign.services import letters
from tests import factories as f
from tests.conftest import csrf_from

LINK = re.compile(r"http://127\.0\.0\.1:5000/colead/([A-Za-z0-9_-]+)")


def co_lead(c, owner, email="casey@ally.example"):
    """A co-lead of `c` who joined through an invitation, with the shared test password."""
    row, _token = coleads.invite(c, owner, name="Casey Ally", email=email)
    user = coleads.accept_new(row, f.PASSWORD)
    f.commit()
    return user


def logout(client):
    """Log out through the real form."""
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def comment(submit, c, number, body, **extra):
    """Post a comment on paragraph `number` from the review page's form."""
    return submit(
        f"/c/{c.slug}/review",
        {"body": body, **extra},
        post_url=f"/c/{c.slug}/review/paragraphs/{number}/comments",
    )


def actions():
    return db.session.scalars(db.select(AuditEvent.action)).all()


def test_invitation_email_has_a_link_and_accepting_creates_an_account(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    f.login(client, owner)
    resp = submit(
        f"/c/{c.slug}/review",
        {"name": "Casey Ally", "email": "casey@ally.example"},
        post_url=f"/c/{c.slug}/review/coleads",
    )
    assert resp.status_code == 302
    email = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "colead_invite"))
    assert email.to_email == "casey@ally.example" and email.campaign_id == c.id
    assert "Casey Ally" in email.text_body and c.title in email.text_body
    token = LINK.search(email.text_body).group(1)
    assert "colead.invited" in actions()
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "casey@ally.example" in page and "invited" in page
    logout(client)

    page = client.get(f"/colead/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Choose a password" in page.get_data(as_text=True)
    resp = submit(f"/colead/{token}", {"password": "short", "confirm": "short"})
    assert resp.status_code == 400
    assert "at least 10 characters" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.email == "casey@ally.example")) is None

    resp = submit(f"/colead/{token}", {"password": f.PASSWORD, "confirm": f.PASSWORD})
    assert resp.status_code == 302 and resp.location.endswith(f"/c/{c.slug}/review")
    user = db.session.scalar(db.select(User).where(User.email == "casey@ally.example"))
    assert user.role == "staff"  # least privilege: co-leads cannot create campaigns
    member = db.session.scalar(db.select(CampaignMember).where(CampaignMember.user_id == user.id))
    assert member.campaign_id == c.id and member.role == "co_lead"
    assert "colead.joined" in actions()
    # Logged in already, and the campaign list opens the review page.
    assert client.get(f"/c/{c.slug}/review").status_code == 200
    index = client.get("/").get_data(as_text=True)
    assert f'href="/c/{c.slug}/review"' in index and f'href="/c/{c.slug}"' not in index
    # The link is used up.
    assert client.get(f"/colead/{token}").status_code == 404


def test_an_existing_account_logs_in_then_joins_without_losing_its_role(client, app, submit):
    owner, other = f.user(), f.user()
    c = f.published(owner)
    _row, token = coleads.invite(c, owner, name="Other", email=other.email)
    f.commit()
    page = client.get(f"/colead/{token}").get_data(as_text=True)
    assert "Log in to accept" in page and "Choose a password" not in page
    f.login(client, other)
    page = client.get(f"/colead/{token}").get_data(as_text=True)
    assert "Join as co-lead" in page
    resp = submit(f"/colead/{token}", {})
    assert resp.status_code == 302
    db.session.refresh(other)
    assert other.role == "organiser"
    roles = db.session.scalars(
        db.select(CampaignMember.role).where(CampaignMember.user_id == other.id)
    ).all()
    assert roles == ["co_lead"]


def test_someone_logged_in_as_another_account_cannot_accept_for_an_existing_one(client, app):
    owner, invitee, bystander = f.user(), f.user(), f.user()
    c = f.published(owner)
    _row, token = coleads.invite(c, owner, name="Invitee", email=invitee.email)
    f.commit()
    f.login(client, bystander)
    page = client.get(f"/colead/{token}").get_data(as_text=True)
    assert f"this invitation is for <strong>{invitee.email}</strong>" in page
    csrf = csrf_from(client.get("/").get_data(as_text=True))
    client.post(f"/colead/{token}", data={"csrf_token": csrf})
    assert db.session.scalar(db.select(db.func.count(CampaignMember.id))) == 1


def test_co_lead_reads_the_draft_comments_on_paragraph_2_and_the_organiser_resolves(
    client, app, submit
):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    f.login(client, casey)
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    # The generic copy, merged: the target's organisation is filled in.
    assert "ask Argus Vision to stop" in page and "Paragraph 2" in page
    assert "Independent audits found" in page  # footnote shown where cited
    resp = comment(submit, c, 2, "Name the contract, please.")
    assert resp.status_code == 302
    saved = db.session.scalar(db.select(ReviewComment))
    assert saved.paragraph == 1 and saved.author_id == casey.id
    assert saved.version_id == letters.latest_version(c).id
    assert saved.quote.startswith("We, the undersigned 0 organisations, ask Argus Vision")
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "Name the contract, please." in page and "Resolve" not in page

    # Co-leads cannot resolve, and are told why: a 403 (they see it, but may not do it).
    csrf = csrf_from(page)
    resp = client.post(f"/c/{c.slug}/review/comments/{saved.id}/resolve", data={"csrf_token": csrf})
    assert resp.status_code == 403
    assert "Only the campaign&#39;s organisers" in resp.get_data(as_text=True)
    db.session.refresh(saved)
    assert saved.resolved_at is None

    logout(client)
    f.login(client, owner)
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "Name the contract, please." in page and "1 open comment." in page
    resp = submit(
        f"/c/{c.slug}/review", {}, post_url=f"/c/{c.slug}/review/comments/{saved.id}/resolve"
    )
    assert resp.status_code == 302
    db.session.refresh(saved)
    assert saved.resolved_at is not None and saved.resolved_by_id == owner.id
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "0 open comments." in page and "Reopen" in page
    submit(f"/c/{c.slug}/review", {}, post_url=f"/c/{c.slug}/review/comments/{saved.id}/reopen")
    db.session.refresh(saved)
    assert saved.resolved_at is None


def test_comments_on_an_earlier_version_stay_listed_with_their_quote(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    review.add_comment(c, casey, 1, "Too long.")
    f.commit()
    letters.save_draft(c, owner, subject="Stop it", body="Dear all,\n\nA shorter ask.")
    f.commit()
    f.login(client, casey)
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "Version 2 (draft)" in page and "A shorter ask." in page
    assert "Comments on earlier versions" in page
    assert "On version 1, paragraph 2" in page
    assert "selling face surveillance to police." in page and "Too long." in page


def test_comment_problems_are_named_and_nothing_is_saved(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    f.login(client, owner)
    resp = comment(submit, c, 2, "   ")
    assert resp.status_code == 400 and "Write your comment" in resp.get_data(as_text=True)
    resp = comment(submit, c, 2, "x" * 2001)
    assert resp.status_code == 400
    assert "is 2001 characters long; shorten it to at most 2000" in resp.get_data(as_text=True)
    resp = comment(submit, c, 2, "x" * 2001)
    assert "x" * 2001 in resp.get_data(as_text=True)  # what they wrote is kept
    resp = comment(submit, c, 99, "Where?")
    assert resp.status_code == 400 and "the draft has no paragraph 99" in resp.get_data(
        as_text=True
    )
    # The paragraph changed after the page was opened: the comment is not pinned to new text.
    resp = comment(submit, c, 2, "On the old text", seen="0123456789abcdef")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Paragraph 2 changed after you opened the page" in page
    assert db.session.scalar(db.select(db.func.count(ReviewComment.id))) == 0
    # The comment is kept, now pinned to the text shown, so sending it again works.
    assert "On the old text</textarea>" in page
    fresh = re.search(r'id="seen-2" name="seen" type="hidden" value="([0-9a-f]+)"', page)
    assert comment(submit, c, 2, "On the old text", seen=fresh.group(1)).status_code == 302
    assert db.session.scalar(db.select(ReviewComment.body)) == "On the old text"


def test_invitation_problems(client, app, submit):
    owner, colleague = f.user(), f.user()
    c = f.published(owner)
    from campaign.services.campaigns import add_member

    add_member(c, colleague)
    f.commit()
    f.login(client, owner)

    def invite(name, email):
        return submit(
            f"/c/{c.slug}/review",
            {"name": name, "email": email},
            post_url=f"/c/{c.slug}/review/coleads",
        )

    assert "Invalid email address" in invite("X", "not-an-email").get_data(as_text=True)
    resp = invite("Colleague", colleague.email.upper())
    assert resp.status_code == 400
    assert "is already a member of this campaign" in resp.get_data(as_text=True)
    assert invite("Casey", "casey@ally.example").status_code == 302
    resp = invite("Casey again", "Casey@Ally.example")
    assert "already has an open invitation" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(OutboundEmail.id))) == 1


def test_revoking_kills_the_link_and_removing_a_co_lead_ends_their_access(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    pending, token = coleads.invite(c, owner, name="Pending", email="pending@ally.example")
    casey = co_lead(c, owner)
    f.commit()
    f.login(client, owner)
    submit(f"/c/{c.slug}/review", {}, post_url=f"/c/{c.slug}/review/coleads/{pending.id}/revoke")
    assert client.get(f"/colead/{token}").status_code == 404
    joined = db.session.scalar(
        db.select(coleads.CoLeadInvite).where(coleads.CoLeadInvite.user_id == casey.id)
    )
    submit(f"/c/{c.slug}/review", {}, post_url=f"/c/{c.slug}/review/coleads/{joined.id}/revoke")
    assert actions().count("colead.revoked") == 2
    logout(client)
    f.login(client, casey)
    assert client.get(f"/c/{c.slug}/review").status_code == 404


def test_comments_never_appear_in_the_letter_or_the_pdf(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    secret = "Zebra-quokka-77 remark"
    review.add_comment(c, casey, 1, secret)
    review.add_comment(c, owner, 0, secret + " from the organiser")
    f.commit()
    version = letters.latest_version(c)
    for target in (None, c.targets[0]):
        html = letter_html(letters.letter_data(c, version, target))
        assert "Zebra-quokka" not in html and "ask Argus Vision" in html
    f.login(client, owner)
    preview = client.get(f"/c/{c.slug}/letter/preview").get_data(as_text=True)
    assert "Zebra-quokka" not in preview
    pdf = client.get(f"/c/{c.slug}/letter.pdf")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Argus Vision" in text and "Zebra" not in text and "quokka" not in text

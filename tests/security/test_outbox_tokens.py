"""Nobody signs, confirms or unsubscribes as someone else with a link read in the Outbox.

Issue 11 B8: a staff member read a live /s/<token> in the Outbox and signed as a partner;
organisers could open public sign-up confirmation links and fake "email confirmed".
"""

import html
import re
from urllib.parse import urlsplit

from campaign.extensions import db
from campaign.models import InboundReply, OutboundEmail, SignatureRequest
from campaign.services import colead_invites as coleads
from campaign.services import letters
from campaign.services import public_sign_on as public_signing
from campaign.services.campaigns import add_member
from tests import factories as f
from tests.conftest import csrf_from

#: Anything on a page that looks like one of the app's personal links.
LINK = re.compile(r"/(?:s|u|colead)/[^\s\"'<>()]+")
NEW_BODY = f.BODY.replace("to police.", "to any police force.")


def _links(text: str) -> set[str]:
    """Every personal-link path in a page, its HTML entities decoded first."""
    return {urlsplit(m.group(0)).path for m in LINK.finditer(html.unescape(text))}


def _every_kind_of_personal_email(client, owner, c):
    """Invitation (sign + unsubscribe), public confirmation, re-consent (HTML), co-lead."""
    partner = f.partner(c, owner, name="Digital Rights Alliance")
    token = f.invited(c, owner, partner)
    f.sign(c, owner, partner, token=token)
    letters.save_draft(c, owner, subject="Stop selling face surveillance", body=NEW_BODY)
    letters.publish(c, owner)  # mails the signer a fresh link, in text and HTML
    coleads.invite(c, owner, name="Cole Lead", email="cole@lead.example")
    f.commit()
    public = public_signing.set_enabled(c, owner, True).token
    f.commit()
    page = client.get(f"/p/{public}").get_data(as_text=True)
    resp = client.post(
        f"/p/{public}",
        data={
            "csrf_token": csrf_from(page),
            "version_id": page.split('name="version_id" value="')[1].split('"')[0],
            "organisation": "Victim Org",
            "signer_name": "Vic Tim",
            "signer_email": "vic@victim.example",
            "tier": "local",
            "authorised": "y",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200


def _live_links_in_the_database() -> set[str]:
    """The links the emails really carry (so the test proves they exist and work)."""
    found = set()
    for email in db.session.scalars(db.select(OutboundEmail)):
        found |= _links(email.text_body) | _links(email.html_body or "")
    # f.sign passes a made-up "/s/x" as the signer's link; real tokens are 43 characters.
    return {path for path in found if len(path.split("/")[2]) > 16}


def _outbox_pages(client, slug) -> str:
    """Every Outbox page a member can load: the list, each email, each email's HTML part."""
    pages = [client.get(f"/c/{slug}/outbox").get_data(as_text=True)]
    for email in db.session.scalars(db.select(OutboundEmail)):
        for suffix in ("", "/html"):
            resp = client.get(f"/c/{slug}/outbox/{email.id}{suffix}")
            if resp.status_code == 200:
                pages.append(resp.get_data(as_text=True))
    return "\n".join(pages)


def test_outbox_shows_no_working_personal_link_to_staff_or_organisers(client, app):
    owner = f.user()
    staff = f.user(role="staff")
    c = f.published(owner)
    add_member(c, staff)
    f.commit()
    _every_kind_of_personal_email(client, owner, c)

    live = _live_links_in_the_database()
    kinds = {path.split("/")[1] for path in live}
    assert kinds == {"s", "u", "colead"}, live  # the emails do carry live links
    confirmation = db.session.scalar(
        db.select(OutboundEmail).where(OutboundEmail.kind == "public_confirmation")
    )
    (confirm,) = _links(confirmation.text_body)
    assert client.get(confirm).status_code == 200  # ...that work for whoever holds them

    for reader in (owner, staff):
        client = app.test_client()  # a browser of their own
        f.login(client, reader)
        shown = _links(_outbox_pages(client, c.slug))
        assert shown, "the outbox should still show where each link was"
        assert not shown & live
        for path in shown:
            assert client.get(path).status_code == 404, path
            token = path.split("/")[2]
            resp = client.post(f"/s/{token}/confirm", data={"csrf_token": "x"})
            assert resp.status_code in (400, 404), path
    # The public sign-up is still waiting for its real owner to confirm the address.
    pending = db.session.scalars(db.select(SignatureRequest.status)).all()
    assert "unconfirmed" in pending


def test_outbox_text_says_the_link_is_hidden(client, app):
    owner = f.user()
    c = f.published(owner)
    f.invited(c, owner, f.partner(c, owner))
    email = db.session.scalar(db.select(OutboundEmail))
    f.login(client, owner)
    page = client.get(f"/c/{c.slug}/outbox/{email.id}").get_data(as_text=True)
    assert "/s/•••• (personal link, hidden)" in page
    assert "/u/•••• (personal link, hidden)" in page


def test_a_reply_quoting_an_invitation_does_not_show_its_live_link(client, app):
    owner = f.user()
    c = f.published(owner)
    partner = f.partner(c, owner)
    token = f.invited(c, owner, partner)
    quoted = f"Thanks, we will look.\n\n> Sign through your link:\n> http://x.example/s/{token}\n"
    db.session.add(
        InboundReply(
            campaign_id=c.id,
            target_id=c.targets[0].id,
            from_email=partner.contact_email,
            subject="Re: Will you co-sign?",
            text=quoted,
        )
    )
    db.session.add(InboundReply(from_email=partner.contact_email, subject="Re", text=quoted))
    f.commit()
    admin = f.user(role="admin")
    for reader, url in ((owner, f"/c/{c.slug}/replies"), (admin, "/inbox")):
        browser = app.test_client()
        f.login(browser, reader)
        page = browser.get(url).get_data(as_text=True)
        assert "Thanks, we will look." in page, url
        assert token not in page and "/s/•••• (personal link, hidden)" in page, url

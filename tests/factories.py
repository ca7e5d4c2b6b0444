"""Builders for test data, going through the real services."""

import io
import itertools
from datetime import timedelta

from PIL import Image

from campaign import jobs
from campaign.extensions import db
from campaign.models import utcnow
from campaign.services import campaigns, letters, partners
from campaign.services.users import create_user

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)

BODY = """{{ target.salutation }},

We, the undersigned {{ signatory_count }} organisations, ask {{ target.organisation }} to stop
selling face surveillance to police.[^1]

Sincerely,

The undersigned

[^1]: Independent audits found higher error rates for darker-skinned women.
"""


def commit():
    """Commit like a request does: then run the jobs the commit released."""
    db.session.commit()
    jobs.run_ready()


def user(role="organiser", email=None):
    """A committed user with the shared test password."""
    u = create_user(email or f"user{next(_seq)}@example.org", PASSWORD, role)
    commit()
    return u


def campaign(owner, title="Stop face surveillance", **kw):
    """A draft campaign owned by `owner`, with one target."""
    c = campaigns.create_campaign(
        owner,
        title=title,
        lead_organisation=kw.get("lead", "Coalition for Privacy"),
        lead_address="1 Liberty Street\nMillbrook",
        deadline=kw.get("deadline", utcnow() + timedelta(days=14)),
    )
    campaigns.add_target(
        c,
        owner,
        name="Jordan Vale",
        title="CEO",
        organisation="Argus Vision",
        email="ceo@argus.example",
        salutation="Dear Mr Vale",
    )
    commit()
    return c


def published(owner, **kw):
    """A campaign with a published letter, open for signatures."""
    c = campaign(owner, **kw)
    letters.save_draft(
        c, owner, subject="Stop selling face surveillance", body=kw.get("body", BODY)
    )
    letters.publish(c, owner)
    commit()
    return c


def partner(c, owner, name=None, tier="national", email=None):
    """A partner organisation on campaign `c`."""
    n = next(_seq)
    p = partners.add_partner(
        c,
        owner,
        {
            "organisation": name or f"Partner Org {n}",
            "contact_email": email or f"p{n}@org{n}.example",
            "contact_name": f"Contact {n}",
            "tier": tier,
        },
    )
    commit()
    return p


def invited(c, owner, p):
    """Invite one partner; return the raw token from the link."""
    tokens = partners.invite(c, owner, [p])
    commit()
    return tokens[p.id]


def png(size=(64, 32), colour=(200, 30, 30)):
    """A small real PNG file's bytes."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def login(client, u):
    """Log `u` in through the real login form."""
    from tests.conftest import csrf_from

    page = client.get("/login")
    resp = client.post(
        "/login",
        data={
            "email": u.email,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp


def sign(c, owner, p, token=None, **fields):
    """Sign for partner `p` through the signing service (inviting it unless a token is given)."""
    from campaign.services import personal_link_signing as signing
    from campaign.services.letters import published_version

    req = signing.resolve(token or invited(c, owner, p))
    form = {
        "organisation": p.organisation,
        "signer_name": f"Signer of {p.organisation}",
        "signer_email": p.contact_email,
        "authorised": True,
        # A signer whose name starts with = + - @ has confirmed it (services/org_names.py).
        "confirm_organisation": True,
        **fields,
    }
    signing.sign(
        req,
        form,
        None,
        ip="127.0.0.1",
        user_agent="test",
        version_id=published_version(c).id,
        link_url="http://127.0.0.1:5000/s/x",
    )
    commit()
    return p


def queued_email(**overrides):
    """A partner email in the outbox (flushed, not committed)."""
    from campaign.mail.outbox import queue_email

    fields = {
        "kind": "invitation",
        "to_email": "partner@group.test",
        "subject": "Will you sign?",
        "text_body": "Please sign our letter.",
        **overrides,
    }
    return queue_email(**fields)


def reload_email(email_id: int):
    """An outbox row as the database holds it now."""
    from campaign.models import OutboundEmail

    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id)

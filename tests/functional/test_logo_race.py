"""Issue 11 C14: concurrent signatures with one new logo, and one link posted twice at once.

The app is served by a real threaded HTTP server and hit by real concurrent requests,
released together by a barrier; on PostgreSQL these collided on pk_blobs (and on the one
signature per link) and one signer got a 500 and lost their signature.
"""

import http.client
import io
import re
import threading
from functools import partial
from urllib.parse import urlsplit

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campaign.extensions import db
from campaign.models import Blob, OutboundEmail, Signature
from tests import factories as f
from tests.conftest import csrf_from

ROUNDS = 3


class Browser:
    """One signer's browser: a cookie jar and plain HTTP/1.1 requests (no redirects followed)."""

    def __init__(self, base: str):
        self.host, self.port = urlsplit(base).hostname, urlsplit(base).port
        self.cookies: dict[str, str] = {}

    def _send(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp.status, data

    def open_form(self, token):
        """Load the signing page; return the fields a browser would post back."""
        status, page = self._send("GET", f"/s/{token}")
        assert status == 200, status
        version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
        return {"csrf_token": csrf_from(page), "version_id": version}

    def sign(self, token, form, org, logo: bytes | None):
        """Post the signing form (with a logo upload if given), as multipart like a browser."""
        fields = {
            **form,
            "organisation": org,
            "signer_name": f"Signer for {org}",
            "signer_email": "signer@" + re.sub(r"\W", "", org.lower()) + ".example",
            "authorised": "y",
            "visibility": "listed",
        }
        if logo is not None:
            fields["logo"] = FileStorage(
                io.BytesIO(logo), filename="logo.png", content_type="image/png"
            )
        boundary, body = encode_multipart(fields)
        return self._send(
            "POST",
            f"/s/{token}",
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


def _all_at_once(jobs):
    """Run the callables in threads released together by a barrier; return their results."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _count(model, *where):
    db.session.commit()  # end the test's snapshot: see what the server committed
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def test_signers_uploading_the_same_new_logo_at_once_all_sign(app, live_server):
    u = f.user()
    c = f.published(u)
    for n in range(ROUNDS):
        partners = [f.partner(c, u, name=f"Round {n} Org {i}") for i in range(4)]
        tokens = [f.invited(c, u, p) for p in partners]
        browsers = [Browser(live_server) for _ in tokens]
        forms = [b.open_form(t) for b, t in zip(browsers, tokens, strict=True)]
        logo = f.png(size=(80, 40), colour=(10 + 60 * n, 90, 200))  # new to the store
        names = [p.organisation for p in partners]  # plain strings: threads have no session
        results = _all_at_once(
            [
                partial(b.sign, t, form, name, logo)
                for b, t, form, name in zip(browsers, tokens, forms, names, strict=True)
            ]
        )
        assert [status for status, _ in results] == [302] * 4, results
        assert _count(Signature) == 4 * (n + 1)
        logos = {
            sha
            for sha in db.session.scalars(
                db.select(Signature.logo_sha256).where(Signature.organisation.like(f"Round {n} %"))
            )
        }
        assert len(logos) == 1 and None not in logos  # one blob, shared by all four
        assert _count(Blob, Blob.sha256.in_(logos)) == 1


def test_one_link_posted_twice_at_once_gives_one_signature(app, live_server):
    u = f.user()
    c = f.published(u)
    first_logo = f.png(size=(90, 30), colour=(200, 20, 40))
    # New logos, then one the store already holds, then none: without a new blob to wait
    # on, only the link's own lock keeps the two submissions apart.
    for n, logo in enumerate(
        [first_logo, f.png(size=(90, 30), colour=(200, 90, 40)), first_logo, None]
    ):
        p = f.partner(c, u, name=f"Double Click Org {n}")
        token = f.invited(c, u, p)
        name, partner_id = p.organisation, p.id  # plain values: threads have no session
        browser = Browser(live_server)
        form = browser.open_form(token)
        results = _all_at_once([partial(browser.sign, token, form, name, logo)] * 3)
        statuses = [status for status, _ in results]
        assert 500 not in statuses and statuses == [302] * 3, results
        assert _count(Signature, Signature.organisation == name) == 1
        assert (
            _count(
                OutboundEmail,
                OutboundEmail.kind == "signed_confirmation",
                OutboundEmail.partner_id == partner_id,
            )
            == 1
        )  # one "thank you", not one per click

"""Absolute links for emails, PDFs and the CLI, built from the app's routes on BASE_URL.

`flask.url_for(..., _external=True)` takes the host and scheme from the request being
served, or, outside a request, from SERVER_NAME. Neither suits an emailed link: behind a
proxy the request may arrive on an internal host over plain http, and setting SERVER_NAME
would tie the app to one host name. So a link someone is sent is built here instead:
through the same URL map (renaming a route renames every link), on the scheme, host and
path of BASE_URL, read when the link is made. A web request, an RQ job and a CLI command
therefore make the same link, and the app still answers on any host it is served on.
"""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` (as in url_for) on BASE_URL, in or out of a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc,
        # A BASE_URL with a path (https://example.org/letters) serves the app under it.
        script_name=base.path.rstrip("/") or "/",
        url_scheme=base.scheme or "https",
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)

"""Forms filled in the way a browser does: signing links, public links, partner imports."""

import io

from tests.conftest import csrf_from


def sign_via_link(client, token, **overrides):
    """Sign through a personal link's form; returns the response."""
    page = client.get(f"/s/{token}").get_data(as_text=True)
    version_id = page.split('name="version_id" value="')[1].split('"')[0]
    data = {
        "csrf_token": csrf_from(page),
        "version_id": version_id,
        "organisation": "Digital Rights Alliance",
        "signer_name": "Amara Okafor",
        "signer_title": "Executive Director",
        "signer_email": "amara@dra.example",
        "authorised": "y",
    }
    data.update(overrides)
    return client.post(f"/s/{token}", data=data, content_type="multipart/form-data")


def ask_publicly(client, token, **overrides):
    """Ask to sign through the public link's form; returns the response."""
    page = client.get(f"/p/{token}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "version_id": page.split('name="version_id" value="')[1].split('"')[0],
        "organisation": "Harbor City Copwatch",
        "website": "https://copwatch.example",
        "tier": "local",
        "signer_name": "Rae Lopez",
        "signer_title": "Organiser",
        "signer_email": "rae@copwatch.example",
        "authorised": "y",
    }
    data.update(overrides)
    return client.post(f"/p/{token}", data=data, content_type="multipart/form-data")


def upload_partners(submit, c, content: bytes, name="partners.csv"):
    """Upload a partner list on the partners page; returns the preview response."""
    return submit(
        f"/c/{c.slug}/partners",
        {"file": (io.BytesIO(content), name)},
        post_url=f"/c/{c.slug}/partners/import",
        content_type="multipart/form-data",
    )


def hidden_value(html: str, name: str) -> str:
    """The value of the hidden input `name` in `html`."""
    return html.split(f'name="{name}" value="')[1].split('"')[0]


def confirm_import(client, c, preview_html: str, **extra):
    """Confirm an import from its preview page, keeping the proposed mapping."""
    form = {
        "csrf_token": csrf_from(preview_html),
        "sealed": hidden_value(
            preview_html.split('id="mapping-form"')[0] + preview_html.split("3. Import")[1],
            "sealed",
        ),
    }
    confirm_part = preview_html.split("3. Import")[1]
    for column in ("organisation", "contact_email", "contact_name", "website", "tier"):
        form[f"map_{column}"] = hidden_value(confirm_part, f"map_{column}")
    form.update(extra)
    return client.post(f"/c/{c.slug}/partners/import/confirm", data=form)

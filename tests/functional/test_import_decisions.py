"""Flagged import rows are decided one by one and never block the file (issue 11, E23)."""

import re

from campaign.extensions import db
from campaign.models import Partner, Signature
from tests import factories as f
from tests.helpers.forms import confirm_import, sign_via_link, upload_partners

SHEET = (
    "Name,Email,Website,Tier\n"
    "Alpha Tenants Union,alpha@gmail.com,,local\n"  # 2: gmail, like line 3
    "Beta Privacy Network,beta@gmail.com,https://beta.wordpress.com,local\n"  # 3
    "Gamma Watch,gamma@example.org,,local\n"  # 4: example.org, like line 5
    "Delta Rights,delta@example.org,,local\n"  # 5
    "Digital Rights Alliance,press@dra.org,https://dra.org,national\n"  # 6: same name
    "DRA Comms,hello@dra.org,,national\n"  # 7: address already on the list
    "=HYPERLINK(1),eps@eps.org,,local\n"  # 8: a formula
)


def _decisions(html: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for line, value in re.findall(r'name="choice_(\d+)" value="(\w+)"', html):
        found.setdefault(int(line), []).append(value)
    return found


def _campaign_with_dra(client):
    u = f.user()
    c = f.campaign(u)
    f.partner(c, u, name="Digital Rights Alliance", email="hello@dra.org")
    f.login(client, u)
    return u, c


def test_shared_free_mail_hosts_and_example_domains_raise_no_flag(client, app, submit):
    _, c = _campaign_with_dra(client)
    html = upload_partners(submit, c, SHEET.encode()).get_data(as_text=True)
    assert "<strong>7</strong> rows are ready" in html and "3 need your decision" in html
    # A "Name" column is the organisation's name.
    assert 'name="map_organisation" value="0"' in html
    decisions = _decisions(html)
    assert sorted(decisions) == [6, 7, 8]
    assert decisions[6] == ["skip", "import", "merge"]  # duplicate: skip is the default
    assert decisions[7] == ["skip", "merge"]  # the same address cannot be a second partner
    assert decisions[8] == ["import", "skip"]  # a warning only: import is the default
    assert "Line 6: looks like <strong>Digital Rights Alliance</strong> (the same name)" in html
    assert "(the same contact email as a partner already on the list)" in html
    assert "Line 8: the name starts with &#34;=&#34;, which spreadsheets read as a formula" in html


def test_each_flagged_row_is_skipped_imported_or_merged_as_chosen(client, app, submit):
    _, c = _campaign_with_dra(client)
    html = upload_partners(submit, c, SHEET.encode()).get_data(as_text=True)
    resp = confirm_import(client, c, html, choice_6="import", choice_7="merge", choice_8="skip")
    assert resp.status_code == 302
    page = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert "Imported 5 partners, updated 1 already on the list and skipped 1 rows" in page
    partners = db.session.scalars(db.select(Partner).order_by(Partner.id)).all()
    assert [p.organisation for p in partners] == [
        "Digital Rights Alliance",
        "Alpha Tenants Union",
        "Beta Privacy Network",
        "Gamma Watch",
        "Delta Rights",
        "Digital Rights Alliance",
    ]
    # "Same as existing" kept the existing partner and took the row's details.
    assert partners[0].tier == "national" and partners[0].contact_email == "hello@dra.org"


def test_merge_updates_the_existing_partners_details(client, app, submit):
    _, c = _campaign_with_dra(client)
    sheet = "organisation,email,contact name,website\nDRA,hello@dra.org,Amara,https://dra.org\n"
    html = upload_partners(submit, c, sheet.encode()).get_data(as_text=True)
    assert confirm_import(client, c, html, choice_2="merge").status_code == 302
    partner = db.session.scalar(db.select(Partner))
    assert (partner.organisation, partner.contact_name, partner.website) == (
        "Digital Rights Alliance",
        "Amara",
        "https://dra.org",
    )
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 1


def test_cli_skip_duplicates_skips_only_real_duplicates(app, tmp_path):
    u = f.user()
    c = f.campaign(u)
    f.partner(c, u, name="Digital Rights Alliance", email="hello@dra.org")
    sheet = tmp_path / "partners.csv"
    sheet.write_text(SHEET)
    runner = app.test_cli_runner()
    args = ["partners", "import", c.slug, str(sheet), "--as", u.email, "--skip-duplicates"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "imported 5 partners into" in result.output and "skipped 2" in result.output
    assert 'line 8: the name starts with "="' in result.output
    names = set(db.session.scalars(db.select(Partner.organisation)))
    assert {"Alpha Tenants Union", "Beta Privacy Network", "Gamma Watch", "Delta Rights"} <= names
    assert "=HYPERLINK(1)" in names
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 6


def test_signing_with_a_formula_name_asks_to_confirm(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u, name="@Home Collective"))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Print the name exactly as written" in page
    resp = sign_via_link(client, token, organisation="@Home Collective")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "the name starts with &#34;@&#34;, which spreadsheets read as a formula" in body
    assert "Print the name exactly as written" in body
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0
    resp = sign_via_link(client, token, organisation="@Home Collective", confirm_organisation="y")
    assert resp.status_code == 302
    assert db.session.scalar(db.select(Signature.organisation)) == "@Home Collective"
    # An ordinary name needs no confirmation.
    token = f.invited(c, u, f.partner(c, u, name="Riverside Collective", email="r@river.org"))
    assert sign_via_link(client, token, organisation="Riverside Collective").status_code == 302


def test_name_columns_are_matched_however_they_are_spelled():
    from campaign.services.partner_import import guess_mapping

    for header in ("Name", "NAME ", "Org. Name", "Name of organization", "Organization/Name"):
        assert guess_mapping([header, "E-mail"])["organisation"] == 0, header
    # Beside an organisation column, "Name" is the contact person's.
    mapping = guess_mapping(["Organisation", "Name", "Email"])
    assert (mapping["organisation"], mapping["contact_name"]) == (0, 1)


def test_public_sign_up_with_a_formula_name_asks_to_confirm(client, app):
    from tests.helpers.campaigns import enable_public_link
    from tests.helpers.forms import ask_publicly

    u = f.user()
    c = f.published(u)
    token = enable_public_link(c, u)
    resp = ask_publicly(client, token, organisation="=cmd|' /C calc'!A0")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "which spreadsheets read as a formula" in body
    assert "Print the name exactly as written" in body
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0
    resp = ask_publicly(client, token, organisation="+Plus Collective", confirm_organisation="y")
    assert resp.status_code == 200 and "Check your email" in resp.get_data(as_text=True)

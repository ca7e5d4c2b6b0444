import io
import re

from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import Campaign, Partner, SignatureRequest, User


def test_create_user_prompts_for_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "ORG@Example.org", "--role", "organiser"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User))
    assert user.email == "org@example.org" and user.check_password("a long enough password")
    result = runner.invoke(args=["create-user", "x@example.org"], input="short\nshort\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output


def test_demo_prints_login_and_link_and_resets(app, client, tmp_path):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    organiser = re.search(r"^organiser: (\S+) (\S+)$", first.output, re.M)
    slug = re.search(r"^campaign: (\S+)$", first.output, re.M).group(1)
    link = re.search(r"^signing link: (\S+)$", first.output, re.M).group(1)
    assert organiser and slug
    c = db.session.scalar(db.select(Campaign).where(Campaign.slug == slug))
    assert len(c.targets) == 2
    statuses = [
        p.current_request.status if p.current_request else "not invited"
        for p in db.session.scalars(db.select(Partner))
    ]
    assert len(statuses) == 43 and statuses.count("signed") == 30
    # A few are left uninvited, so the invitation dry run has something to show.
    assert statuses.count("not invited") == 3
    # The printed organiser can log in with the printed password.
    from tests.conftest import csrf_from

    login_page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login",
        data={
            "email": organiser.group(1),
            "password": organiser.group(2),
            "csrf_token": csrf_from(login_page),
        },
    )
    assert resp.status_code == 302
    assert client.get(f"/c/{slug}").status_code == 200
    # The printed link belongs to a partner who has not signed yet, and it works.
    page = client.get(link.replace("http://127.0.0.1:5000", ""))
    assert page.status_code == 200 and "Sign the letter" in page.get_data(as_text=True)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert db.session.scalar(db.select(db.func.count(Campaign.id))) == 1
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 43
    assert db.session.scalar(db.select(db.func.count(SignatureRequest.id))) == 40
    # export: PDF and CSV from the command line
    pdf_path, csv_path = tmp_path / "letter.pdf", tmp_path / "signatories.csv"
    result = runner.invoke(args=["export", slug, "--pdf", str(pdf_path), "--csv", str(csv_path)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Digital Rights Alliance" in text
    assert len(csv_path.read_text().splitlines()) == 31


def test_export_unknown_campaign_is_a_clear_error(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["export", "nope", "--csv", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "no campaign with the slug 'nope'" in result.output


def test_partners_import_command(app, tmp_path):
    from tests import factories as f

    u = f.user()
    c = f.campaign(u)
    good = tmp_path / "partners.csv"
    good.write_text("organisation,email\nAlpha,a@alpha.example\nBeta,b@beta.example\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["partners", "import", c.slug, str(good), "--as", u.email])
    assert result.exit_code == 0, result.output
    assert "imported 2 partners" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("organisation,email\nGamma,nope\n")
    result = runner.invoke(args=["partners", "import", c.slug, str(bad), "--as", u.email])
    assert result.exit_code == 1
    assert "line 2: contact_email: nope is not a valid email address" in result.output
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 2

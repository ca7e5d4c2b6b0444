"""HTML-only replies: readable text out, and no markup an outsider sends can stall a worker."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from campaign.extensions import db
from campaign.mail.reply_address import reply_address
from campaign.models import InboundReply
from campaign.services.html_text import CUT_NOTE, MAX_HTML_CHARS, html_to_text
from tests import factories as f
from tests.helpers.inbound import post_reply

ROOT = Path(__file__).resolve().parents[2]

#: Posts HTML-only replies (a JSON list in a file) to the real endpoint of a fresh app on a
#: SQLite file, and prints the text each was stored with. "ready" marks the end of set-up,
#: so the parent times only the posts.
POSTER = textwrap.dedent(
    """
    import json, sys
    from campaign import create_app
    from campaign.extensions import db
    from campaign.models import InboundReply

    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "k",
        "REDIS_URL": None, "SENDGRID_API_KEY": None, "INBOUND_SECRET": "s",
        "INBOUND_DOMAIN": "replies.test", "SERVER_NAME": None,
    })
    with open(sys.argv[2], encoding="utf-8") as posts:
        markups = json.load(posts)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        print("ready", flush=True)
        for markup in markups:
            response = client.post(
                "/webhooks/sendgrid/inbound/s",
                data={
                    "from": "ceo@argus.example", "to": "letters@coalition.test",
                    "subject": "Re: our letter", "text": "", "html": markup,
                    "envelope": json.dumps({"to": ["letters@coalition.test"]}),
                },
                content_type="multipart/form-data",
            )
            assert response.status_code == 200, response.get_data(as_text=True)
        texts = db.session.scalars(db.select(InboundReply.text).order_by(InboundReply.id))
        print(json.dumps(list(texts)), flush=True)
    """
)


def _post_in_child(markups: list[str], tmp_path, limit: float) -> list[str]:
    """The stored texts of these HTML replies; fails if the posts take longer than `limit`."""
    posts = tmp_path / "posts.json"
    posts.write_text(json.dumps(markups), encoding="utf-8")
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", POSTER, f"sqlite:///{tmp_path / 'inbound.db'}", str(posts)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        out, err = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"storing {len(markups)} HTML replies took more than {limit} s")
    assert child.returncode == 0, err
    return json.loads(out)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_deeply_nested_html_reply_is_converted_in_linear_time(app, tmp_path):
    # 488 KB that took 28 s in nh3's tree builder. The limit leaves room for a busy machine
    # (the conversion itself takes about 0.3 s) and still fails the quadratic one.
    [text] = _post_in_child(["<div>" * 100_000 + "x"], tmp_path, limit=10)
    assert text == "x"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_malformed_html_cannot_stall_the_conversion(app, tmp_path):
    hostile = [
        "<!--" * 100_000 + "x",  # Python's html.parser rescans these: 45 s for 320 KB
        "</" * 200_000 + "x",
        "<a b='" * 80_000 + "x",
        "<p>" * 50_000 + "deep</p>" + "<b></b>" * 50_000 + "flat",
    ]
    texts = _post_in_child(hostile, tmp_path, limit=20)
    # An unclosed comment, "</" not followed by a name, and an unclosed quote hide the
    # rest, as in a browser.
    assert texts == ["", "", "", "deep\nflat"]


def test_html_reply_reads_as_the_target_wrote_it(client, app, inbound):
    u = f.user()
    c = f.published(u)
    markup = (
        "<!DOCTYPE html><html><head><title>Re: letter</title>"
        "<style>p { color: red }</style><meta charset='utf-8'></head>"
        "<body><div dir='ltr'>Dear coalition,<br><br>Thank you for your letter &amp; the"
        "\n   signatures.<div>We will <b>review</b> our contracts by 1&nbsp;March.</div>"
        "<script>alert(1)</script><a href='https://argus.example/?a=1&amp;b=>2'>Our policy</a>"
        "<!-- tracking --><p>Regards,<br>Jordan</p></div>"
        "<blockquote><p>On Monday, you wrote:</p><p>&lt;the letter&gt;</p></blockquote>"
        "</body></html>"
    )
    post_reply(client, to=reply_address(c.targets[0].id), text="", html=markup)
    assert db.session.scalar(db.select(InboundReply.text)) == (
        "Dear coalition,\n\nThank you for your letter & the signatures.\n"
        "We will review our contracts by 1 March.\nOur policy\nRegards,\nJordan\n"
        "On Monday, you wrote:\n<the letter>"
    )


def test_html_past_the_size_cap_is_cut_with_a_note():
    text = html_to_text("<p>" + "word " * (MAX_HTML_CHARS // 5) + "</p><p>after the cap</p>")
    assert text.endswith(CUT_NOTE) and "after the cap" not in text
    assert html_to_text("a &lt; b < c") == "a < b < c"


def test_the_deadline_stops_a_conversion_whatever_the_input():
    text = html_to_text("<i>x</i>" * 100_000, time_limit=0)
    assert text.endswith(CUT_NOTE) and len(text) < 100_000

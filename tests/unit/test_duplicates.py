import pytest

from campaign.services.duplicates import (
    compare,
    email_domain,
    find_flags,
    normalise_name,
    site_domain,
)


def org(name, website="", email="x@gmail.com", tier="national"):
    return {"organisation": name, "website": website, "contact_email": email, "tier": tier}


def test_names_are_normalised():
    assert normalise_name("The Digital Rights Alliance, Inc.") == "digital rights alliance"
    assert normalise_name("Données & Libertés") == "donnees and libertes"


def test_domains():
    assert site_domain("https://www.dra.org/about") == "dra.org"
    assert site_domain("dra.org") == "dra.org"
    assert site_domain("https://ns.chapters.privacy.org.uk") == "privacy.org.uk"
    assert email_domain("ana@mail.dra.org") == "dra.org"
    assert email_domain("someone@gmail.com") == ""  # free mail tells nothing


def test_same_name_is_a_duplicate():
    assert compare(org("Privacy First"), org("privacy first!"))[0] == "duplicate"


def test_same_domain_different_name_is_a_duplicate():
    a = org("Privacy First", website="pf.org")
    b = org("PF Coalition", email="boss@pf.org")
    assert compare(a, b) == ("duplicate", "the same domain, pf.org")


def test_chapter_of_a_national_group_is_related_not_duplicate():
    national = org("Civil Liberties Union", website="clu.org")
    chapter = org("Civil Liberties Union of Northstate", email="ns@clu.org", tier="state")
    assert compare(chapter, national)[0] == "related"


def test_unrelated_groups_on_gmail_are_not_flagged():
    assert compare(org("A", email="a@gmail.com"), org("B", email="b@gmail.com")) is None


def test_find_flags_scales_by_index():
    existing = [org(f"Org {n}", website=f"org{n}.example") for n in range(5000)]
    entries = [(n, org(f"New {n}", website=f"new{n}.example")) for n in range(5000)]
    entries.append((9999, org("ORG 42")))
    flags = find_flags(entries, existing)
    assert [(f.key, f.other, f.kind) for f in flags] == [(9999, "Org 42", "duplicate")]


def test_thousands_of_chapters_on_one_domain_stay_linear():
    # Every row shares clu.org: without a cap this is 10 million comparisons.
    national = org("Civil Liberties Union", website="clu.org")
    chapters = [
        (n, org(f"Civil Liberties Union Chapter {n}", email=f"c{n}@clu.org", tier="local"))
        for n in range(4000)
    ]
    flags = find_flags(chapters, [national])
    assert len(flags) == 4000
    assert {f.kind for f in flags} == {"related"}


# Issue 11, E23: a shared domain that is not the organisations' own is no evidence.
SHARED = {
    "free mail (gmail.com)": ({"email": "a@gmail.com"}, {"email": "b@gmail.com"}),
    "free mail (proton.me)": ({"email": "a@proton.me"}, {"email": "b@proton.me"}),
    "free mail (outlook.com)": ({"email": "a@outlook.com"}, {"email": "b@outlook.com"}),
    "github.io pages": ({"website": "https://alpha.github.io"}, {"website": "beta.github.io"}),
    "blogspot blogs": ({"website": "alpha.blogspot.com"}, {"website": "beta.blogspot.com"}),
    "wordpress.com blogs": (
        {"website": "https://alpha.wordpress.com/"},
        {"website": "https://beta.wordpress.com/about"},
    ),
    "facebook pages": (
        {"website": "https://www.facebook.com/alphagroup"},
        {"website": "facebook.com/betagroup/"},
    ),
    "example.org": ({"email": "a@example.org"}, {"email": "b@example.org"}),
    "example.com": ({"website": "example.com"}, {"email": "b@example.com"}),
    "example.net": ({"email": "a@mail.example.net"}, {"email": "b@example.net"}),
    ".test": ({"email": "a@groups.test"}, {"website": "groups.test"}),
    ".example": ({"email": "a@dra.example"}, {"website": "https://dra.example"}),
    ".invalid": ({"email": "a@x.invalid"}, {"email": "b@x.invalid"}),
    ".localhost": ({"website": "http://site.localhost"}, {"email": "b@site.localhost"}),
}


@pytest.mark.parametrize(("a", "b"), SHARED.values(), ids=SHARED.keys())
def test_a_shared_domain_that_is_not_their_own_is_no_evidence(a, b):
    first = org("Alpha Tenants Union", **a)
    second = org("Beta Privacy Network", **b)
    assert compare(first, second) is None
    assert find_flags([(2, first), (3, second)], []) == []


def test_the_same_own_domain_is_still_a_duplicate():
    pages = compare(
        org("Alpha", website="https://alpha.org/about"), org("Beta", email="x@alpha.org")
    )
    assert pages == ("duplicate", "the same domain, alpha.org")
    blog = org("Alpha", website="alpha.wordpress.com")
    assert compare(blog, org("Beta", website="https://alpha.wordpress.com/contact"))[0] == (
        "duplicate"
    )


def test_sibling_chapters_on_subdomains_are_related():
    a = org("Civil Liberties Union of Ohio", website="oh.clu.org", tier="state")
    b = org("Civil Liberties Union of Iowa", website="ia.clu.org", tier="state")
    assert compare(a, b)[0] == "related"

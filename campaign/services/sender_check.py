"""Whether a reply's From address is vouched for by SendGrid's SPF and DKIM results.

Anyone can write any From header, so a reply only counts as the target's answer when the
receiving server's checks tie it to the From domain: a DKIM signature that passed for
that domain, or an SPF pass for an envelope sender in that domain (SPF checks the
envelope sender, which a forger chooses freely, so an SPF pass for some other domain
proves nothing about the From). Domains match as DMARC's relaxed alignment does: the
same domain, or one a subdomain of the other.
"""

import re

#: One result in SendGrid's `dkim` field, e.g. "{@argus.example : pass, @esp.example : fail}".
DKIM_RESULT = re.compile(r"@([a-z0-9.-]{1,253})\s*:\s*([a-z]{1,20})", re.IGNORECASE)
MAX_FIELD_CHARS = 2000


def _domain(address: str) -> str:
    """The domain of an address, lower-cased, without a trailing dot; "" if none."""
    return address.rpartition("@")[2].strip().strip(">").rstrip(".").lower()


def aligned(one: str, other: str) -> bool:
    """Whether two domains belong together: equal, or one a subdomain of the other."""
    if not one or not other:
        return False
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def dkim_passes(dkim: str) -> list[str]:
    """The domains whose DKIM signature passed, from SendGrid's `dkim` field."""
    return [
        domain.lower().rstrip(".")
        for domain, result in DKIM_RESULT.findall(dkim[:MAX_FIELD_CHARS])
        if result.lower() == "pass"
    ]


def problem(from_email: str, envelope_from: str, spf: str, dkim: str) -> str | None:
    """Why the sender is not verified, in words for an organiser; None when it is."""
    domain = _domain(from_email)
    if not domain:
        return "the reply has no sender address to check"
    if any(aligned(signed, domain) for signed in dkim_passes(dkim)):
        return None
    spf = spf.strip().lower()
    if spf == "pass" and aligned(_domain(envelope_from), domain):
        return None
    spf_said = f"SPF {spf}" if spf else "no SPF result"
    if spf == "pass":
        spf_said += f" for {_domain(envelope_from) or 'another domain'}, not {domain}"
    return f"{spf_said} and no passing DKIM signature from {domain}"

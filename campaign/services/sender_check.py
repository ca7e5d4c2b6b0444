"""Whether a reply's From address is vouched for by the receiving server's SPF and DKIM.

Anyone can write any From header, so a reply only counts as the target's answer when the
receiving server's checks tie it to the From domain: a DKIM signature that passed for
that domain, or an SPF pass for an envelope sender in that domain (SPF checks the
envelope sender, which a forger chooses freely, so an SPF pass for some other domain
proves nothing about the From). Domains match as DMARC's relaxed alignment does: the
same domain, or one a subdomain of the other.
"""


def _domain(address: str) -> str:
    """The domain of an address, lower-cased, without a trailing dot; "" if none."""
    return address.rpartition("@")[2].strip().strip(">").rstrip(".").lower()


def aligned(one: str, other: str) -> bool:
    """Whether two domains belong together: equal, or one a subdomain of the other."""
    if not one or not other:
        return False
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def problem(from_email: str, envelope_from: str, spf: str, dkim_passed: list[str]) -> str | None:
    """Why the sender is not verified, in words for an organiser; None when it is.

    `dkim_passed` names the domains whose DKIM signature passed (mail.inbound reads them).
    """
    domain = _domain(from_email)
    if not domain:
        return "the reply has no sender address to check"
    if any(aligned(signed, domain) for signed in dkim_passed):
        return None
    spf = spf.strip().lower()
    if spf == "pass" and aligned(_domain(envelope_from), domain):
        return None
    spf_said = f"SPF {spf}" if spf else "no SPF result"
    if spf == "pass":
        spf_said += f" for {_domain(envelope_from) or 'another domain'}, not {domain}"
    return f"{spf_said} and no passing DKIM signature from {domain}"

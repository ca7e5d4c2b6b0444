"""Per-target Reply-To addresses that need no storage and cannot be forged.

Each target's copy of the letter says `Reply-To: reply+<target_id>.<mac>@<INBOUND_DOMAIN>`,
where mac is a truncated HMAC-SHA256 of "reply:<target_id>" under the app's SECRET_KEY.
A reply is matched by recomputing the mac, so guessing another target's address means
guessing 64 bits. Rotating SECRET_KEY retires every address already sent.
"""

import hashlib
import hmac
import re
from email.utils import getaddresses

from flask import current_app

#: Hex, lowercase: mail systems may lowercase the local part on the way back.
MAC_CHARS = 16
LOCAL_PART = re.compile(rf"^reply\+(\d{{1,12}})\.([0-9a-f]{{{MAC_CHARS}}})$")
#: An address list longer than this is not a reply worth parsing in full.
MAX_HEADER_CHARS = 10_000


def _mac(target_id: int) -> str:
    """The truncated HMAC that proves an address was made by this deployment."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, f"reply:{target_id}".encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:MAC_CHARS]


def reply_address(target_id: int) -> str | None:
    """The Reply-To for a target's copy of the letter, or None without INBOUND_DOMAIN."""
    domain = current_app.config.get("INBOUND_DOMAIN")
    if not domain:
        return None
    return f"reply+{target_id}.{_mac(target_id)}@{domain}"


def target_id_from(address: str) -> int | None:
    """The target id an address of ours names, if its mac checks out; None otherwise."""
    domain = current_app.config.get("INBOUND_DOMAIN")
    if not domain or not isinstance(address, str) or "@" not in address:
        return None
    local, _, host = address.strip().lower().rpartition("@")
    if host != domain.lower():
        return None
    match = LOCAL_PART.match(local)
    if match is None:
        return None
    target_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _mac(target_id)):
        return None
    return target_id


def addresses(header: str) -> list[str]:
    """The bare addresses in a To-style header ("Name <a@b>, c@d"); junk gives none."""
    if not isinstance(header, str) or not header:
        return []
    try:
        pairs = getaddresses([header[:MAX_HEADER_CHARS]])
    except (ValueError, TypeError, IndexError):
        return []
    return [address for _, address in pairs if address]

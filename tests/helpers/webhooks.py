"""SendGrid events as the event webhook receives them."""

import itertools

START = 1_800_000_000  # 2027-01-15 08:00:00 UTC


_ids = itertools.count(1)


def event(email, name, offset, **extra):
    """One SendGrid event about `email`, `offset` seconds after START."""
    data = {
        "email": email.to_email,
        "timestamp": START + offset,
        "event": name,
        "sg_event_id": f"ledger-{next(_ids)}",
        "outbound_id": str(email.id),
        **extra,
    }
    if email.provider_message_id:
        data["sg_message_id"] = f"{email.provider_message_id}.filter0001"
    return data

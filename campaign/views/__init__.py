"""Blueprints, one per file; thin: parse, call a service, commit, render or redirect."""

from . import (
    auth,
    blobs,
    campaigns,
    exports,
    letters,
    moderation,
    outbox,
    partner_import,
    partners,
    public,
    signing,
    unsubscribe,
    webhooks,
)

BLUEPRINTS = [
    auth.bp,
    campaigns.bp,
    letters.bp,
    partners.bp,
    partner_import.bp,
    signing.bp,
    public.bp,
    moderation.bp,
    unsubscribe.bp,
    exports.bp,
    outbox.bp,
    blobs.bp,
    webhooks.bp,
]

"""Blueprints, one per file; thin: parse, call a service, commit, render or redirect."""

from . import (
    auth,
    blobs,
    campaigns,
    exports,
    letterhead,
    letters,
    moderation,
    outbox,
    partner_import,
    partners,
    public,
    review,
    revisions,
    signing,
    unsubscribe,
    webhooks,
)

BLUEPRINTS = [
    auth.bp,
    campaigns.bp,
    letters.bp,
    letterhead.bp,
    revisions.bp,
    partners.bp,
    partner_import.bp,
    signing.bp,
    public.bp,
    moderation.bp,
    review.bp,
    unsubscribe.bp,
    exports.bp,
    outbox.bp,
    blobs.bp,
    webhooks.bp,
]

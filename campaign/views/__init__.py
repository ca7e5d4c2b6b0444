"""Blueprints, one per file; thin: parse, call a service, commit, render or redirect."""

from . import auth, blobs, campaigns, exports, letters, outbox, partners, signing, webhooks

BLUEPRINTS = [
    auth.bp,
    campaigns.bp,
    letters.bp,
    partners.bp,
    signing.bp,
    exports.bp,
    outbox.bp,
    blobs.bp,
    webhooks.bp,
]

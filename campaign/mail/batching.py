"""Shared templates for batched emails: render once with placeholders, fill in per person.

A placeholder stands in for a value only where that value is not empty, so a template's
`{% if name %}` takes the same branch for the placeholder as for the real value; people
whose values are empty in different places simply end up in different batches. The keys
carry a random nonce, so no organiser's text can contain one by accident or design.
"""

import secrets
from collections.abc import Callable


class Placeholders:
    """Substitution keys for one batch of emails, e.g. `%url_3f9a1c2e%`."""

    def __init__(self):
        self.nonce = secrets.token_hex(4)
        self._templates: dict[tuple, str] = {}

    def key(self, name: str) -> str:
        """The substitution key standing for the value `name`."""
        return f"%{name}_{self.nonce}%"

    def merge(
        self, render: Callable[[dict[str, str]], str], values: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        """Return (template, substitutions) for these values; templates are rendered once."""
        shape = tuple(sorted((name, bool(value)) for name, value in values.items()))
        if shape not in self._templates:
            stand_ins = {name: self.key(name) if value else value for name, value in values.items()}
            self._templates[shape] = render(stand_ins)
        substitutions = {self.key(name): value for name, value in values.items() if value}
        return self._templates[shape], substitutions

"""The work one letter render may do, and the values it may hold or print.

Every hook of the sandbox that does work (loops, ~, + and *, filters, tests, method
calls, printing) charges this budget, so no construct escapes the time and size caps:
a chain of filters such as |list|string|list|string grows fivefold at each step, and
each step is refused once its input or output passes the caps below.
"""

import time
from collections.abc import Iterator
from contextvars import ContextVar

from jinja2 import Undefined
from jinja2.sandbox import SecurityError

MAX_STRING_CHARS = 100_000
#: Total characters (and list items) all operations of one render may produce.
MAX_WORK_CHARS = 2_000_000
#: Largest value (in characters str() would take) a filter may take or give back; the
#: merge values themselves may be larger (a letter with thousands of signatories).
MAX_VALUE_WEIGHT = 1_000_000
MAX_LOOP_ITERATIONS = 20_000
#: Nesting deeper than letters' data (a list of dicts of text) is refused.
MAX_DEPTH = 8
_PLAIN = (str, int, float, bool, type(None))


class LimitExceeded(SecurityError):
    """A template asked for more work or memory than a letter needs."""


class Budget:
    """Work done by one render, counted across every loop, filter and string operation."""

    def __init__(self, seconds: float = 2.0, context: object = None) -> None:
        self.loops = 0
        self.chars = 0
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        #: Weights of the merge values' lists and dicts (which the render cannot change),
        #: so a filter in a loop over thousands of signatories does not walk them each time.
        self._weights: dict[int, tuple[object, int]] = {}
        self.value_cap = MAX_VALUE_WEIGHT
        if context is not None:
            self._remember = True
            self.value_cap = max(MAX_VALUE_WEIGHT, self.weigh(context, cap=None))
        self._remember = False

    def check_time(self) -> None:
        """Stop the render once its time is up; called from every hook that does work."""
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"the letter took longer than {self.seconds:g} s to render")

    def loop(self) -> None:
        """Count one loop iteration."""
        self.check_time()
        self.loops += 1
        if self.loops > MAX_LOOP_ITERATIONS:
            raise LimitExceeded(f"loops ran more than {MAX_LOOP_ITERATIONS:,} times in total")

    def charge(self, size: int) -> None:
        """Count `size` new characters, refusing one operation or a render that builds too much."""
        self.check_time()
        if size > MAX_STRING_CHARS:
            limit = f"{MAX_STRING_CHARS:,}"
            raise LimitExceeded(f"this would build text longer than {limit} characters")
        self.chars += size
        if self.chars > MAX_WORK_CHARS:
            raise LimitExceeded("the template builds too much text; simplify it")

    def spend(self, units: int) -> None:
        """Count work that builds nothing (sorting), against the same total."""
        self.check_time()
        self.chars += units
        if self.chars > MAX_WORK_CHARS:
            raise LimitExceeded("the template does too much work; simplify it")

    def produced(self, value) -> None:
        """Charge a value an operation built: its characters, or its items for a list."""
        if isinstance(value, str):
            self.charge(len(value))
        elif isinstance(value, (list, tuple, dict)):
            if len(value) > MAX_STRING_CHARS:
                cap = f"{MAX_STRING_CHARS:,}"
                raise LimitExceeded(f"this would build a list of more than {cap} items")
            self.charge(len(value))

    def weigh(self, value, *, cap: int | None = -1, allow_iterator: bool = False) -> int:
        """Characters str(value) would take, without building it; refuses Python objects.

        Raises LimitExceeded above `cap` (the render's value cap by default; None for
        no cap) and for anything but text, numbers and lists or dicts of them: a method
        or a lazy sequence would print as a Python repr (`<function str.format ...>`).
        """
        cap = self.value_cap if cap == -1 else cap
        if allow_iterator and isinstance(value, (Iterator, range)):
            return 0
        weight = self._weigh(value, 0)
        if cap is not None and weight > cap:
            raise LimitExceeded(f"this value is larger than {cap:,} characters; simplify it")
        return weight

    def _weigh(self, value, depth: int) -> int:
        if isinstance(value, _PLAIN):
            return len(value) if isinstance(value, str) else 24
        if isinstance(value, Undefined):
            return len(str(value))  # StrictUndefined raises its "is undefined" message here
        if depth >= MAX_DEPTH:
            raise LimitExceeded("values in a letter cannot be nested this deeply")
        if isinstance(value, (list, tuple, dict)):
            memo = self._weights.get(id(value))
            if memo is not None and memo[0] is value:
                return memo[1]
            if isinstance(value, dict):
                weight = sum(
                    self._weigh(k, depth + 1) + self._weigh(v, depth + 1) + 4
                    for k, v in value.items()
                )
            elif set(map(type, value)) <= {str}:  # a list of text, e.g. from |list: C speed
                weight = sum(map(len, value)) + 2 * len(value)
            else:
                weight = sum(self._weigh(v, depth + 1) + 2 for v in value)
            if self._remember:
                # Holding the value keeps its id from being reused by another object.
                self._weights[id(value)] = (value, weight)
            return weight
        raise LimitExceeded(_not_printable(value))


def _not_printable(value) -> str:
    if isinstance(value, (Iterator, range)):
        return (
            "a list made by range(), select, reject or map must end in |list "
            "before it is printed or passed on"
        )
    if callable(value):
        return (
            "a method cannot be printed in a letter; call it with () or use a merge field "
            "such as {{ target.name }}"
        )
    return "only text, numbers and lists of them can be printed in a letter"


_BUDGET: ContextVar[Budget | None] = ContextVar("letter_budget", default=None)


def current() -> Budget:
    """The running render's budget (a fresh one outside render_text, e.g. constant folding)."""
    return _BUDGET.get() or Budget()


def start(seconds: float, context) -> tuple[Budget, object]:
    """Begin a render's budget; returns it and the token for `stop`."""
    budget = Budget(seconds, context)
    return budget, _BUDGET.set(budget)


def stop(token) -> None:
    """End the render's budget."""
    _BUDGET.reset(token)

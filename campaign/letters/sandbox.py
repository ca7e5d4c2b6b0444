"""Letter templates: sandboxed Jinja with a fixed set of merge fields and bounded work.

Organisers write letters in Jinja+Markdown; partners' names and titles are merged in.
Neither is trusted, so a template may only read the merge fields (checks.py refuses
everything else before it runs), and each render has caps on template size, loop
iterations, string building, output size and time (the app settings TEMPLATE_MAX_BYTES,
TEMPLATE_MAX_OUTPUT and TEMPLATE_MAX_SECONDS). Every filter, test and method call goes
through the render's budget (budget.py), which weighs what it is given and what it
returns, so no construct builds more than the caps allow or prints a Python object.
"""

import functools
import html
import re
from collections.abc import MappingView
from dataclasses import dataclass

from flask import current_app, has_app_context
from jinja2 import StrictUndefined, TemplateSyntaxError, pass_context, pass_eval_context
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import Invalid
from . import budget
from .budget import LimitExceeded
from .checks import (
    CONCAT_FILTER,
    FIELDS,
    LOOP_FILTER,
    REMOVED_FILTERS,
    SLICE_FILTER,
    Harden,
    Problem,
    check_plain,
    check_tree,
    sample_context,
)

__all__ = ["FIELDS", "LimitExceeded", "Limits", "check_template", "render_text", "sample_context"]

MAX_RANGE = 10_000
MAX_EXPONENT = 100
#: Numbers in letters are counts and years; nothing needs more than 64 bits.
MAX_INT_BITS = 64


@dataclass(frozen=True)
class Limits:
    """Per-render caps; the defaults match the app settings' defaults."""

    template_bytes: int = 100 * 1024
    output_bytes: int = 2 * 1024 * 1024
    seconds: float = 2.0

    @classmethod
    def from_app(cls) -> "Limits":
        """The caps configured for the current app (the defaults outside one)."""
        if not has_app_context():
            return cls()
        config = current_app.config
        return cls(
            template_bytes=int(config.get("TEMPLATE_MAX_BYTES", cls.template_bytes)),
            output_bytes=int(config.get("TEMPLATE_MAX_OUTPUT", cls.output_bytes)),
            seconds=float(config.get("TEMPLATE_MAX_SECONDS", cls.seconds)),
        )


_SAFE_METHODS = (
    (
        str,
        frozenset(
            "upper lower title capitalize casefold swapcase strip lstrip rstrip split "
            "rsplit splitlines startswith endswith count find rfind removeprefix "
            "removesuffix partition rpartition isdigit isalpha isalnum isspace "
            "islower isupper istitle".split()
        ),
    ),
    (dict, frozenset(("get", "items", "keys", "values"))),
    ((list, tuple), frozenset(("index", "count"))),
    (LoopContext, frozenset(("cycle", "changed"))),
)
_FILENAME = "<letter>"
# Markdown that a merged value could use to add links, code or emphasis anywhere, or a
# heading or list when it starts a line. Escaping more would show backslashes in plain text.
_INLINE_MARKDOWN = re.compile(r"([\\`*_\[\]])")
_LEADING_MARKDOWN = re.compile(r"^(\s*)(?:([#+\-])|(\d+)(\.))")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()>#+\-.!])")
# Reprs such as <function ...>, <class 'str'> or "object at 0x7f..." never reach the page.
_REPR = re.compile(r"<[^<>]*(?:class|function|built-in|method|module|object at)[^<>]*>")


def _range(*args):
    try:
        items = range(*args)
        size = len(items)
    except OverflowError:
        size = MAX_RANGE + 1
    if size > MAX_RANGE:
        raise LimitExceeded(f"range() is limited to {MAX_RANGE:,} numbers")
    return items


@pass_context
def _counted_loop(_context, iterable):
    work = budget.current()
    for item in iterable:
        work.loop()
        yield item


@pass_context
def _capped_concat(context, parts):
    work = budget.current()
    work.charge(sum(work.weigh(part) for part in parts))
    return markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)


def _capped_slice(value, start, stop, step):
    # A slice copies: charged like any list or text a template builds.
    result = value[start:stop:step]
    budget.current().produced(result)
    return result


@pass_eval_context
def _finalize(_eval_ctx, value):
    # Merged values are plain text: Markdown in a partner's organisation name must not
    # become a link or a heading. HTML escaping happens after this.
    if value is None:
        return ""
    work = budget.current()
    work.charge(work.weigh(value))
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(value))
    text = _INLINE_MARKDOWN.sub(r"\\\1", text)
    text = _LEADING_MARKDOWN.sub(
        lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), text, count=1
    )
    return type(value)(text) if isinstance(value, str) else text


def to_plain_text(rendered: str) -> str:
    """Turn render_text output into plain text (for email subjects and text bodies)."""
    return html.unescape(_MARKDOWN_ESCAPE.sub(r"\1", rendered))


class LetterEnvironment(ImmutableSandboxedEnvironment):
    """Jinja sandbox for letters: no loader, strict names, autoescape and work caps."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined, finalize=_finalize)
        for name in REMOVED_FILTERS:
            self.filters.pop(name, None)
        base_replace, base_join = self.filters["replace"], self.filters["join"]

        @pass_context
        def replace(context, value, old, new, count=None):
            text, old, new = str(value), str(old), str(new)
            hits = text.count(old) if count is None else min(text.count(old), max(count, 0))
            budget.current().charge(len(text) + hits * max(len(new) - len(old), 0))
            return base_replace(context.eval_ctx, value, old, new, count)

        @pass_context
        def join(context, value, d="", attribute=None):
            items, work = list(value), budget.current()
            work.charge(sum(work.weigh(i) for i in items) + len(items) * work.weigh(d))
            return base_join(context.eval_ctx, items, d, attribute)

        self.filters.update(replace=replace, join=join)
        # Every filter and test runs through a guard that weighs what goes in and what
        # comes out; the originals are called through a plain environment of their own.
        self._unguarded = ImmutableSandboxedEnvironment()
        self._unguarded.filters, self._unguarded.tests = dict(self.filters), dict(self.tests)
        self.filters = {name: self._guard(name, True) for name in self.filters}
        self.tests = {name: self._guard(name, False) for name in self.tests}
        self.filters[LOOP_FILTER] = _counted_loop
        self.filters[CONCAT_FILTER] = _capped_concat
        self.filters[SLICE_FILTER] = _capped_slice
        # lipsum, cycler, joiner and namespace are not needed; namespace() would let a
        # loop accumulate text across iterations.
        self.globals.clear()
        self.globals["range"] = _range

    def _guard(self, name: str, is_filter: bool):
        """`name` as a filter or test that refuses values too large or not plain data."""
        inner = self._unguarded.call_filter if is_filter else self._unguarded.call_test
        # Filters that consume a lazy sequence (the result of select, map...) item by item.
        lazy_ok = name in _LAZY_INPUT
        sorts = name in _SORTING

        @pass_context
        def guarded(context, value, *args, **kwargs):
            work = budget.current()
            try:
                work.weigh(value, allow_iterator=lazy_ok)
                for arg in (*args, *kwargs.values()):
                    work.weigh(arg)
                result = inner(name, value, args, kwargs, context=context)
                work.produced(result)
                if sorts and isinstance(result, (list, tuple)):
                    # Sorting calls a key function per item: the slowest work a filter does.
                    work.spend(_SORT_COST * len(result))
                work.weigh(result, allow_iterator=True)
            except LimitExceeded as exc:
                raise LimitExceeded(f"|{name}: {exc}") from None
            return result

        return guarded

    def call_binop(self, context, operator, left, right):
        """Apply + * ** % only when the result stays small."""
        budget.current().check_time()
        if operator == "%" and isinstance(left, str):
            raise LimitExceeded("% does not format text in letters; write {{ value }} instead")
        if operator == "**" and _is_number(left) and _is_number(right):
            too_big = isinstance(left, int) and right > 0 and left.bit_length() * right
            if abs(right) > MAX_EXPONENT or (too_big and too_big > MAX_INT_BITS):
                raise LimitExceeded(f"exponents are limited to {MAX_EXPONENT} and small numbers")
        if operator in ("*", "+"):
            _check_growth(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        """Call an allowed function, within the render's time."""
        work = budget.current()
        work.check_time()
        for arg in (*args, *kwargs.values()):
            work.weigh(arg)
        result = super().call(__context, __obj, *args, **kwargs)
        if not isinstance(result, MappingView):  # dict.items() and friends, for loops
            work.produced(result)
            work.weigh(result, allow_iterator=True)  # range() is printed only as a list
        return result

    def is_safe_callable(self, obj) -> bool:
        """Only range() and a few harmless methods of text, lists and the loop."""
        if obj is _range:
            return True
        owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
        allowed = any(isinstance(owner, kind) and name in names for kind, names in _SAFE_METHODS)
        return allowed and super().is_safe_callable(obj)


_LAZY_INPUT = frozenset(
    "list join sort reverse unique select reject map selectattr rejectattr first last "
    "length count min max groupby dictsort items".split()
)

_SORTING = frozenset("sort unique groupby dictsort".split())
#: Characters of work one sorted item counts as (measured: 2 µs per item, 20 ns per char).
_SORT_COST = 10


def _is_number(value) -> bool:
    return isinstance(value, (int, float))


def _check_growth(operator: str, left, right) -> None:
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        raise LimitExceeded(f"lists cannot be combined with {operator} in letters")
    if isinstance(left, int) and isinstance(right, int) and operator == "*":
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded("that number is too large")
    elif operator == "*" and isinstance(left, str) and isinstance(right, int):
        budget.current().charge(len(left) * max(right, 0))
    elif operator == "*" and isinstance(right, str) and isinstance(left, int):
        budget.current().charge(len(right) * max(left, 0))
    elif operator == "+" and isinstance(left, str) and isinstance(right, str):
        budget.current().charge(len(left) + len(right))


_ENV = LetterEnvironment()


@functools.lru_cache(maxsize=64)
def _compile(source: str):
    """Parse, check and compile a template; the result is safe to reuse."""
    try:
        tree = _ENV.parse(source, filename=_FILENAME)
        check_tree(tree, _ENV.filters, _ENV.tests)
        tree = Harden().visit(tree)
        tree.set_environment(_ENV)
        code = _ENV.compile(tree, filename=_FILENAME)
    except TemplateSyntaxError as exc:
        raise Problem(exc.lineno, exc.message or "syntax error") from None
    except (RecursionError, MemoryError, SyntaxError):
        raise Problem(None, "the template is nested too deeply") from None
    return _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None))


def _error_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _size(limit: int) -> str:
    return f"{limit // 1024:,} KB" if limit % 1024 == 0 else f"{limit:,} bytes"


def _message(exc: BaseException) -> str:
    """The error as the organiser sees it, with any Python object's repr taken out."""
    message = str(exc) or type(exc).__name__
    return _REPR.sub("a value", message)


def render_text(
    source: str, context: dict, *, field: str = "body", limits: Limits | None = None
) -> str:
    """Render a letter template with plain-data `context`; problems raise Invalid(field)."""
    limits = limits or Limits.from_app()
    check_plain(context, "context")
    if len(source.encode("utf-8")) > limits.template_bytes:
        cap = _size(limits.template_bytes)
        raise Invalid(field, f"the template is larger than {cap}; shorten it")
    work, token = budget.start(limits.seconds, context)
    out, size = [], 0
    try:
        template = _compile(source)
        for chunk in template.generate(context):
            work.check_time()
            size += len(chunk.encode("utf-8"))
            if size > limits.output_bytes:
                cap = _size(limits.output_bytes)
                raise LimitExceeded(f"the letter would be larger than {cap}")
            out.append(chunk)
    except Problem as exc:
        raise Invalid(field, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - every failure of user code becomes a message
        line = _error_line(exc)
        message = _message(exc)
        raise Invalid(field, f"line {line}: {message}" if line else message) from exc
    finally:
        budget.stop(token)
    return "".join(out)


def check_template(source: str, *, field: str = "body", limits: Limits | None = None) -> None:
    """Raise Invalid(field, "line N: ...") unless the template is safe and renders."""
    render_text(source, sample_context(), field=field, limits=limits)

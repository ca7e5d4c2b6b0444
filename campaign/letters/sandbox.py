"""Letter templates: sandboxed Jinja with a fixed set of merge fields and bounded work.

Organisers write letters in Jinja+Markdown; partners' names and titles are merged in.
Neither is trusted, so a template may only read the merge fields below, every
construct that reaches Python internals or other templates is refused, and each
render has caps on loop iterations, string building and output size.
"""

import functools
import html
import re
from contextvars import ContextVar
from datetime import date, timedelta

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes, pass_context, pass_eval_context
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

from ..errors import Invalid

FIELDS: dict[str, str] = {
    "target.name": "Full name of the person the letter is addressed to",
    "target.title": "Their job title, for example Chief Executive Officer",
    "target.organisation": "The organisation they lead or speak for",
    "target.salutation": "The greeting, for example Dear Ms Rivera",
    "campaign.title": "The campaign's title",
    "campaign.lead_organisation": "The organisation leading the coalition",
    "campaign.deadline": "The date by which a response is asked for",
    "today": "The date printed on the letter",
    "signatory_count": "How many organisations have signed",
    "signatories": "The signing organisations, a list: each has organisation, name, title, tier",
}

MAX_TEMPLATE_CHARS = 50_000
MAX_OUTPUT_CHARS = 200_000
MAX_STRING_CHARS = 100_000
#: Total characters all string-building operations of one render may produce.
MAX_WORK_CHARS = 2_000_000
MAX_RANGE = 10_000
MAX_LOOP_ITERATIONS = 20_000
MAX_EXPONENT = 100
#: Numbers in letters are counts and years; nothing needs more than 64 bits.
MAX_INT_BITS = 64
MAX_LITERAL_ITEMS = 500

_OBJECTS = {
    "target": tuple(k.split(".")[1] for k in FIELDS if k.startswith("target.")),
    "campaign": tuple(k.split(".")[1] for k in FIELDS if k.startswith("campaign.")),
    "signatory": ("organisation", "name", "title", "tier"),
    "loop": ("index", "index0", "revindex", "revindex0", "first", "last", "length")
    + ("cycle", "depth", "depth0", "previtem", "nextitem", "changed"),
}
_TOP_LEVEL = {k.split(".")[0] for k in FIELDS}
# Filters that reach attributes by name, pad or format text to any width, build lists
# of any size, add randomness to a hashed letter, or switch off escaping.
_REMOVED_FILTERS = frozenset(
    "attr format center indent wordwrap batch slice tojson pprint random safe urlize "
    "xmlattr sum".split()
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
_METHOD_NAMES = frozenset().union(*(names for _, names in _SAFE_METHODS))
_FORBIDDEN_TAGS = (
    (
        (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport),
        "a letter cannot load other templates; paste the text in instead",
    ),
    ((nodes.Macro, nodes.CallBlock), "macros are not available in letters"),
    ((nodes.Block,), "blocks are not available in letters"),
    ((nodes.FilterBlock,), "use a filter on a value instead, e.g. {{ target.name|upper }}"),
    ((nodes.AssignBlock,), "use {% set name = value %} instead of {% set %}...{% endset %}"),
    ((nodes.EvalContextModifier,), "escaping cannot be switched off in letters"),
)
_LIST_FILTERS = frozenset("sort reverse list unique selectattr rejectattr select reject".split())
_FILENAME = "<letter>"
_LOOP_FILTER = "_counted_loop"
_CONCAT_FILTER = "_capped_concat"
# Markdown that a merged value could use to add links, code or emphasis anywhere, or a
# heading or list when it starts a line. Escaping more would show backslashes in plain text.
_INLINE_MARKDOWN = re.compile(r"([\\`*_\[\]])")
_LEADING_MARKDOWN = re.compile(r"^(\s*)(?:([#+\-])|(\d+)(\.))")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()>#+\-.!])")
_PLAIN_TYPES = (str, int, float, bool, type(None))


class LimitExceeded(SecurityError):
    """A template asked for more work or memory than a letter needs."""


class _Budget:
    """Work done by one render, counted across every loop and string operation."""

    def __init__(self) -> None:
        self.loops = 0
        self.chars = 0

    def loop(self) -> None:
        self.loops += 1
        if self.loops > MAX_LOOP_ITERATIONS:
            raise LimitExceeded(f"loops ran more than {MAX_LOOP_ITERATIONS:,} times in total")

    def charge(self, size: int) -> None:
        if size > MAX_STRING_CHARS:
            limit = f"{MAX_STRING_CHARS:,}"
            raise LimitExceeded(f"this would build text longer than {limit} characters")
        self.chars += size
        if self.chars > MAX_WORK_CHARS:
            raise LimitExceeded("the template builds too much text; simplify it")


_BUDGET: ContextVar[_Budget | None] = ContextVar("letter_budget", default=None)


def _budget() -> _Budget:
    # Outside render_text (compile-time constant folding) only the per-operation caps apply.
    return _BUDGET.get() or _Budget()


def _weight(value, depth: int = 0) -> int:
    """Characters str(value) would take, without building it."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict) and depth < 8:
        return sum(_weight(k, depth + 1) + _weight(v, depth + 1) + 4 for k, v in value.items())
    if isinstance(value, (list, tuple)) and depth < 8:
        return sum(_weight(v, depth + 1) + 2 for v in value)
    return 24


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
    budget = _budget()
    for item in iterable:
        budget.loop()
        yield item


@pass_context
def _capped_concat(context, parts):
    _budget().charge(sum(_weight(part) for part in parts))
    return markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)


@pass_eval_context
def _finalize(_eval_ctx, value):
    # Merged values are plain text: Markdown in a partner's organisation name must not
    # become a link or a heading. HTML escaping happens after this.
    if value is None:
        return ""
    _budget().charge(_weight(value))
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
        for name in _REMOVED_FILTERS:
            self.filters.pop(name, None)
        base_replace, base_join = self.filters["replace"], self.filters["join"]

        @pass_context
        def replace(context, value, old, new, count=None):
            text, old, new = str(value), str(old), str(new)
            hits = text.count(old) if count is None else min(text.count(old), max(count, 0))
            _budget().charge(len(text) + hits * max(len(new) - len(old), 0))
            return base_replace(context.eval_ctx, value, old, new, count)

        @pass_context
        def join(context, value, d="", attribute=None):
            items = list(value)
            _budget().charge(sum(_weight(i) for i in items) + len(items) * _weight(d))
            return base_join(context.eval_ctx, items, d, attribute)

        self.filters.update(replace=replace, join=join)
        self.filters[_LOOP_FILTER] = _counted_loop
        self.filters[_CONCAT_FILTER] = _capped_concat
        # lipsum, cycler, joiner and namespace are not needed; namespace() would let a
        # loop accumulate text across iterations.
        self.globals.clear()
        self.globals["range"] = _range

    def call_binop(self, context, operator, left, right):
        """Apply + * ** % only when the result stays small."""
        if operator == "%" and isinstance(left, str):
            raise LimitExceeded("% does not format text in letters; write {{ value }} instead")
        if operator == "**" and _is_number(left) and _is_number(right):
            too_big = isinstance(left, int) and right > 0 and left.bit_length() * right
            if abs(right) > MAX_EXPONENT or (too_big and too_big > MAX_INT_BITS):
                raise LimitExceeded(f"exponents are limited to {MAX_EXPONENT} and small numbers")
        if operator in ("*", "+"):
            _check_growth(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def is_safe_callable(self, obj) -> bool:
        """Only range() and a few harmless methods of text, lists and the loop."""
        if obj is _range:
            return True
        owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
        allowed = any(isinstance(owner, kind) and name in names for kind, names in _SAFE_METHODS)
        return allowed and super().is_safe_callable(obj)


def _is_number(value) -> bool:
    return isinstance(value, (int, float))


def _check_growth(operator: str, left, right) -> None:
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        raise LimitExceeded(f"lists cannot be combined with {operator} in letters")
    if isinstance(left, int) and isinstance(right, int) and operator == "*":
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded("that number is too large")
    elif operator == "*" and isinstance(left, str) and isinstance(right, int):
        _budget().charge(len(left) * max(right, 0))
    elif operator == "*" and isinstance(right, str) and isinstance(left, int):
        _budget().charge(len(right) * max(left, 0))
    elif operator == "+" and isinstance(left, str) and isinstance(right, str):
        _budget().charge(len(left) + len(right))


class _Harden(NodeTransformer):
    """Count every loop iteration and cap every ~ concatenation."""

    def visit_For(self, node):
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node):
        self.generic_visit(node)
        parts = nodes.Tuple(node.nodes, "load", lineno=node.lineno)
        return nodes.Filter(parts, _CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


class _Problem(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(f"line {line}: {message}" if line else message)


_ENV = LetterEnvironment()


def _fail(node, message: str):
    raise _Problem(getattr(node, "lineno", None), message)


def _kind(expr, kinds: dict) -> str | None:
    """What a template expression refers to, when it is a merge field or signatory."""
    if isinstance(expr, nodes.Name):
        return kinds.get(expr.name)
    inner = _kind(getattr(expr, "node", None), kinds) if hasattr(expr, "node") else None
    if inner == "signatories":
        if isinstance(expr, nodes.Filter):
            if expr.name in _LIST_FILTERS:
                return "signatories"
            return "signatory" if expr.name in ("first", "last") else None
        if isinstance(expr, nodes.Getitem):
            return "signatories" if isinstance(expr.arg, nodes.Slice) else "signatory"
    return None


def _check_field(node, kind: str | None, attr: str) -> None:
    if attr.startswith("_"):
        _fail(node, f"names starting with _ are not allowed ({attr})")
    if kind in _OBJECTS and attr not in _OBJECTS[kind]:
        owner = node.node.name if isinstance(node.node, nodes.Name) else kind
        allowed = ", ".join(_OBJECTS[kind])
        _fail(node, f"{owner}.{attr} is not a merge field; {owner} has: {allowed}")
    if kind == "signatories" and attr not in _METHOD_NAMES:
        _fail(node, "signatories is a list: use {% for s in signatories %}{{ s.organisation }}")


def _check_tree(tree: nodes.Template) -> None:
    """Refuse unknown fields and every construct outside the letter language."""
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    known = _TOP_LEVEL | assigned | {"loop", "range"}
    kinds = {"target": "target", "campaign": "campaign", "signatories": "signatories"}
    kinds["loop"] = "loop"
    for node in _walk(tree):
        for types, why in _FORBIDDEN_TAGS:
            if isinstance(node, types):
                _fail(node, why)
        if isinstance(node, nodes.For):
            if node.recursive:
                _fail(node, "recursive loops are not available in letters")
            if isinstance(node.target, nodes.Name):
                is_list = _kind(node.iter, kinds) == "signatories"
                kinds[node.target.name] = "signatory" if is_list else None
        elif isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
            kinds[node.target.name] = _kind(node.node, kinds)
        elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in known:
            fields = ", ".join(FIELDS)
            _fail(node, f"'{node.name}' is not a merge field; the fields are: {fields}")
        elif isinstance(node, nodes.Getattr):
            _check_field(node, _kind(node.node, kinds), node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if isinstance(node.arg.value, str):
                _check_field(node, _kind(node.node, kinds), node.arg.value)
        elif isinstance(node, (nodes.Filter, nodes.Test)):
            _check_filter(node)
        elif isinstance(node, nodes.Call):
            _check_call(node)
        elif isinstance(node, (nodes.List, nodes.Tuple, nodes.Dict)):
            if len(node.items) > MAX_LITERAL_ITEMS:
                _fail(node, f"lists in a letter are limited to {MAX_LITERAL_ITEMS} items")


def _walk(node):
    # Document order, so a loop variable is known before the loop body uses it.
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _check_filter(node) -> None:
    if isinstance(node, nodes.Test):
        if node.name not in _ENV.tests:
            _fail(node, f"there is no test named '{node.name}'")
    elif node.name in _REMOVED_FILTERS:
        _fail(node, f"the {node.name} filter is not allowed in letters")
    elif node.name.startswith("_") or node.name not in _ENV.filters:
        _fail(node, f"there is no filter named '{node.name}'")


def _check_call(node) -> None:
    func = node.node
    if isinstance(func, nodes.Name) and func.name == "range":
        return
    if isinstance(func, nodes.Getattr) and func.attr in _METHOD_NAMES:
        return
    name = func.attr if isinstance(func, nodes.Getattr) else getattr(func, "name", "this")
    _fail(node, f"{name}() cannot be called in a letter")


@functools.lru_cache(maxsize=64)
def _compile(source: str):
    """Parse, check and compile a template; the result is safe to reuse."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise _Problem(None, f"the template is longer than {MAX_TEMPLATE_CHARS:,} characters")
    try:
        tree = _ENV.parse(source, filename=_FILENAME)
        _check_tree(tree)
        tree = _Harden().visit(tree)
        tree.set_environment(_ENV)
        code = _ENV.compile(tree, filename=_FILENAME)
    except TemplateSyntaxError as exc:
        raise _Problem(exc.lineno, exc.message or "syntax error") from None
    except (RecursionError, MemoryError, SyntaxError):
        raise _Problem(None, "the template is nested too deeply") from None
    return _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None))


def _error_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _check_plain(value, path: str) -> None:
    """Refuse anything but dicts, lists, text and numbers (never ORM objects)."""
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"letter context keys must be strings: {path}")
            _check_plain(item, f"{path}.{key}")
    elif type(value) in (list, tuple):
        for i, item in enumerate(value):
            _check_plain(item, f"{path}[{i}]")
    elif type(value) not in _PLAIN_TYPES:
        raise TypeError(f"letter context must be plain data, {path} is {type(value).__name__}")


def render_text(source: str, context: dict, *, field: str = "body") -> str:
    """Render a letter template with plain-data `context`; problems raise Invalid(field)."""
    _check_plain(context, "context")
    try:
        template = _compile(source)
    except _Problem as exc:
        raise Invalid(field, str(exc)) from None
    token = _BUDGET.set(_Budget())
    out, size = [], 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise LimitExceeded(f"the letter is longer than {MAX_OUTPUT_CHARS:,} characters")
            out.append(chunk)
    except Exception as exc:  # noqa: BLE001 - every failure of user code becomes a message
        line = _error_line(exc)
        message = str(exc) or type(exc).__name__
        raise Invalid(field, f"line {line}: {message}" if line else message) from exc
    finally:
        _BUDGET.reset(token)
    return "".join(out)


def check_template(source: str, *, field: str = "body") -> None:
    """Raise Invalid(field, "line N: ...") unless the template is safe and renders."""
    render_text(source, sample_context(), field=field)


def sample_context() -> dict:
    """Plausible merge values for previews and template checks."""
    today = date.today()
    deadline = today + timedelta(days=30)
    signatories = [
        {
            "organisation": "Civil Liberties Union",
            "name": "Ana Ortiz",
            "title": "Director",
            "tier": "national",
        },
        {
            "organisation": "Privacy Alliance of Ohio",
            "name": "Ben Okafor",
            "title": "Policy Lead",
            "tier": "state",
        },
        {
            "organisation": "Riverside Tenants' Association",
            "name": "Chloé Martin",
            "title": "Chair",
            "tier": "local",
        },
    ]
    return {
        "target": {
            "name": "Dana Whitfield",
            "title": "Chief Executive Officer",
            "organisation": "Northwind Vision Systems",
            "salutation": "Dear Ms Whitfield",
        },
        "campaign": {
            "title": "Stop selling face surveillance to police",
            "lead_organisation": "Digital Rights Coalition",
            "deadline": f"{deadline.day} {deadline:%B %Y}",
        },
        "today": f"{today.day} {today:%B %Y}",
        "signatory_count": len(signatories),
        "signatories": signatories,
    }

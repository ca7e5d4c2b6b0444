"""Checks on a letter template before it runs, and on the values merged into it.

The sandbox (sandbox.py) stops what slips through at run time; these checks give the
organiser a precise message instead: the line, the construct and, for an unknown field,
the fields that exist. Also here: the tree rewrite that routes loops and ~ through the
sandbox's counters, the plain-data check on merge values, and the sample values that
trial renders use.
"""

from datetime import date, timedelta

from jinja2 import nodes
from jinja2.visitor import NodeTransformer

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

MAX_LITERAL_ITEMS = 500
LOOP_FILTER = "_counted_loop"
CONCAT_FILTER = "_capped_concat"
SLICE_FILTER = "_capped_slice"
PLAIN_TYPES = (str, int, float, bool, type(None))

OBJECTS = {
    "target": tuple(k.split(".")[1] for k in FIELDS if k.startswith("target.")),
    "campaign": tuple(k.split(".")[1] for k in FIELDS if k.startswith("campaign.")),
    "signatory": ("organisation", "name", "title", "tier"),
    "loop": ("index", "index0", "revindex", "revindex0", "first", "last", "length")
    + ("cycle", "depth", "depth0", "previtem", "nextitem", "changed"),
}
TOP_LEVEL = {k.split(".")[0] for k in FIELDS}
# Filters that reach attributes by name, pad or format text to any width, build lists
# of any size, add randomness to a hashed letter, or switch off escaping.
REMOVED_FILTERS = frozenset(
    "attr format center indent wordwrap batch slice tojson pprint random safe urlize "
    "xmlattr sum".split()
)
#: Methods a template may call, by the type that owns them (sandbox.py checks the type).
METHOD_NAMES = frozenset(
    "upper lower title capitalize casefold swapcase strip lstrip rstrip split "
    "rsplit splitlines startswith endswith count find rfind removeprefix "
    "removesuffix partition rpartition isdigit isalpha isalnum isspace "
    "islower isupper istitle get items keys values index cycle changed".split()
)
_FORBIDDEN_TAGS = (
    (nodes.Extends, "{% extends %}"),
    (nodes.Include, "{% include %}"),
    (nodes.Import, "{% import %}"),
    (nodes.FromImport, "{% from ... import %}"),
    (nodes.Macro, "{% macro %}"),
    (nodes.CallBlock, "{% call %}"),
    (nodes.Block, "{% block %}"),
    (nodes.FilterBlock, "{% filter %}"),
    (nodes.AssignBlock, "{% set %}...{% endset %}"),
    (nodes.EvalContextModifier, "{% autoescape %}"),
)
_WHY = {
    "{% extends %}": "a letter cannot load other templates; paste the text in instead",
    "{% include %}": "a letter cannot load other templates; paste the text in instead",
    "{% import %}": "a letter cannot load other templates; paste the text in instead",
    "{% from ... import %}": "a letter cannot load other templates; paste the text in instead",
    "{% macro %}": "macros are not available in letters",
    "{% call %}": "macros are not available in letters",
    "{% block %}": "blocks are not available in letters",
    "{% filter %}": "use a filter on a value instead, e.g. {{ target.name|upper }}",
    "{% set %}...{% endset %}": "use {% set name = value %} instead",
    "{% autoescape %}": "escaping cannot be switched off in letters",
}
#: Names of methods of the values letters hold. Such a name not followed by () would
#: print the method itself (`<function str.format at 0x...>`), never a merge value.
_FIELD_NAMES = frozenset(name for names in OBJECTS.values() for name in names)
PYTHON_METHODS = (
    frozenset(name for kind in (str, dict, list) for name in dir(kind) if not name.startswith("_"))
    - _FIELD_NAMES
)
_ATTRIBUTE_FILTERS = frozenset(
    "map select reject selectattr rejectattr groupby sort unique min max dictsort".split()
)
_LIST_FILTERS = frozenset("sort reverse list unique selectattr rejectattr select reject".split())


class Problem(Exception):
    """A template outside the letter language, with the line where it goes wrong."""

    def __init__(self, line: int | None, message: str):
        super().__init__(f"line {line}: {message}" if line else message)


def _fail(node, message: str):
    raise Problem(getattr(node, "lineno", None), message)


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
    if kind in OBJECTS and attr not in OBJECTS[kind]:
        owner = node.node.name if isinstance(node.node, nodes.Name) else kind
        allowed = ", ".join(OBJECTS[kind])
        _fail(node, f"{owner}.{attr} is not a merge field; {owner} has: {allowed}")
    if kind == "signatories" and attr not in METHOD_NAMES:
        _fail(node, "signatories is a list: use {% for s in signatories %}{{ s.organisation }}")


def _dotted(node) -> str:
    """How the template spells a field access, e.g. target.name.format."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "this value"


def _check_method(node, attr: str, called: bool) -> None:
    if called or attr not in PYTHON_METHODS:
        return
    spelled = _dotted(node)
    if attr in METHOD_NAMES:
        _fail(node, f"{spelled} is a method, not text: write {spelled}() to use it")
    fields = ", ".join(FIELDS)
    _fail(node, f"{spelled} is not a merge field; the fields are: {fields}")


def check_tree(tree: nodes.Template, filters, tests) -> None:
    """Refuse unknown fields and every construct outside the letter language.

    `filters` and `tests` are the names the letter environment provides.
    """
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    known = TOP_LEVEL | assigned | {"loop", "range"}
    kinds = {"target": "target", "campaign": "campaign", "signatories": "signatories"}
    kinds["loop"] = "loop"
    callees = {id(call.node) for call in tree.find_all(nodes.Call)}
    for node in _walk(tree):
        for kind, tag in _FORBIDDEN_TAGS:
            if isinstance(node, kind):
                _fail(node, f"{tag}: {_WHY[tag]}")
        if isinstance(node, nodes.For):
            if node.recursive:
                _fail(node, "{% for ... recursive %}: recursive loops are not available")
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
            _check_method(node, node.attr, id(node) in callees)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if isinstance(node.arg.value, str):
                _check_field(node, _kind(node.node, kinds), node.arg.value)
                _check_method(node, node.arg.value, id(node) in callees)
        elif isinstance(node, (nodes.Filter, nodes.Test)):
            _check_filter(node, filters, tests)
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


def _check_filter(node, filters, tests) -> None:
    if isinstance(node, nodes.Test):
        if node.name not in tests:
            _fail(node, f"|{node.name}: there is no test with that name")
    elif node.name in REMOVED_FILTERS:
        _fail(node, f"|{node.name}: this filter is not allowed in letters")
    elif node.name.startswith("_") or node.name not in filters:
        _fail(node, f"|{node.name}: there is no filter with that name")
    # map('attr', ...), map(attribute='__class__'), sort(attribute=...) and friends name
    # a filter or an attribute in a string; those strings obey the same rules.
    if node.name not in _ATTRIBUTE_FILTERS:
        return
    for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            if arg.value.startswith("_") or ("._" in arg.value):
                _fail(node, f"|{node.name}: names starting with _ are not allowed")
            if arg.value in REMOVED_FILTERS and node.name in ("map", "select", "reject"):
                _fail(node, f"|{node.name}('{arg.value}'): that filter is not allowed")


def _check_call(node) -> None:
    func = node.node
    if isinstance(func, nodes.Name) and func.name == "range":
        return
    if isinstance(func, nodes.Getattr) and func.attr in METHOD_NAMES:
        return
    name = func.attr if isinstance(func, nodes.Getattr) else getattr(func, "name", "this")
    _fail(node, f"{name}(): this cannot be called in a letter")


class Harden(NodeTransformer):
    """Count every loop iteration and cap every ~ concatenation and slice."""

    def visit_Getitem(self, node):  # noqa: D102 - NodeTransformer's hook
        self.generic_visit(node)
        if not isinstance(node.arg, nodes.Slice):
            return node
        # Jinja compiles x[a:b] to a bare Python slice, past the sandbox: a copy of any size.
        bounds = [
            part if part is not None else nodes.Const(None)
            for part in (node.arg.start, node.arg.stop, node.arg.step)
        ]
        return nodes.Filter(node.node, SLICE_FILTER, bounds, [], None, None, lineno=node.lineno)

    def visit_For(self, node):  # noqa: D102 - NodeTransformer's hook
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node):  # noqa: D102 - NodeTransformer's hook
        self.generic_visit(node)
        parts = nodes.Tuple(node.nodes, "load", lineno=node.lineno)
        return nodes.Filter(parts, CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


def check_plain(value, path: str) -> None:
    """Refuse anything but dicts, lists, text and numbers (never ORM objects)."""
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"letter context keys must be strings: {path}")
            check_plain(item, f"{path}.{key}")
    elif type(value) in (list, tuple):
        for i, item in enumerate(value):
            check_plain(item, f"{path}[{i}]")
    elif type(value) not in PLAIN_TYPES:
        raise TypeError(f"letter context must be plain data, {path} is {type(value).__name__}")


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

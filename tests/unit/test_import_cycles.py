"""No import cycles among campaign's modules, and each mail/service module imports alone.

A cycle works only while every module in it happens to be imported in one order; the
first new import from the other end breaks the app with a half-initialised module. The
graph is read from each module's top-level imports (imports inside functions are the
accepted way to defer one and are left out); a package's `__init__` counts only where a
module imports a name from it.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "campaign"


def _module_name(path: Path) -> str:
    """The dotted name of a source file under the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of the campaign package, by dotted name."""
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _top_level_imports(tree: ast.Module):
    """Import statements run when the module is imported (not those inside functions)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try | ast.With):
            # `if TYPE_CHECKING:` imports never run; the other branches do.
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                pending.extend(node.orelse)
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)


def import_graph() -> dict[str, set[str]]:
    """Module -> the campaign modules it imports at load time."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in _top_level_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in modules)
                continue
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            source = f"{base}.{node.module}" if node.level and node.module else base
            if not node.level:
                source = node.module or ""
            for alias in node.names:
                # `from pkg import sub` loads the submodule; `from pkg import name`, pkg.
                if f"{source}.{alias.name}" in modules:
                    edges.add(f"{source}.{alias.name}")
                elif source in modules:
                    edges.add(source)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports_it_must():
    """The reader finds known edges, so an empty cycle list means something."""
    graph = import_graph()
    assert "campaign.mail.sending" in graph["campaign.mail.outbox"]
    assert "campaign.services.audit" in graph["campaign.services.letters"]
    assert "campaign.jobs" in graph["campaign.mail.events"]


def test_no_import_cycles_among_campaign_modules():
    """No group of campaign modules imports each other in a ring."""
    assert cycles(import_graph()) == []


def test_a_cycle_is_reported():
    """The cycle finder reports a ring it is shown."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "module",
    [
        "campaign.mail.outbox",
        "campaign.mail.sending",
        "campaign.mail.sendgrid",
        "campaign.mail.inbound",
        "campaign.mail",
        "campaign.services.reconsent",
        "campaign.services.letters",
        "campaign.services.replies",
    ],
)
def test_module_imports_on_its_own(module):
    """Each module of a former cycle imports first, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]

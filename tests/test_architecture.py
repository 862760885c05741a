"""The shape of the code, read from its imports with `ast` (nothing is imported or run).

DESIGN.md asks for a one-way flow, channels → bot → handlers → workflow → storage, with
`locales` a leaf that every layer may use. The repository's folders map onto it so:

- the *shell* that assembles a process — the CLI (`bot.cli`, `bot.__main__`,
  `bot.commands`), the web server and app factory (`bot.server`, `bot.web.app`) and the
  worker process (`bot.worker_process`) — stands on top: it mounts the channels;
- *channels* are `bot.channels` (Slack, Telegram, web chat, console and their kit);
- *bot* is the rest of `bot`: conversation router, language understanding, notifier,
  delivery, the web pages and services the channels share;
- then `handlers`, `workflow`, `storage`; `locales` imports nothing of ours.

An import may go to its own layer or any lower one, never up. Imports inside functions
count (a lazy import is still a dependency); imports under `if TYPE_CHECKING:` do not,
since they never run. Three rules are checked: no import circle between modules, no
import against the flow, and no module over `MAX_LINES` lines but the few named below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "workflow", "storage", "locales")
MAX_LINES = 400

SHELL = (
    "bot.cli",
    "bot.__main__",
    "bot.commands",
    "bot.server",
    "bot.web.app",
    "bot.worker_process",
)
LAYERS = {"shell": 5, "channels": 4, "bot": 3, "handlers": 2, "workflow": 1, "storage": 0}

# Modules allowed past MAX_LINES, each with the reason it is still one piece.
LONG_MODULES: dict[str, str] = {}
# Modules that load commands by name (a lazy registry): their strings that name one of
# our modules are imports too, so a command importing its registry is still a circle.
REGISTRIES = ("bot.cli",)


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_name(path)] = path
    return found


MODULES = _modules()


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that runs, skipping the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _ours(dotted: str) -> str | None:
    """The project module that importing `dotted` names (its longest known prefix)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def imports_of(module: str) -> set[str]:
    """The project modules that `module` imports, at module level or inside functions."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        elif (
            module in REGISTRIES
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in MODULES
        ):
            targets = [node.value]
        for target in targets:
            hit = _ours(target)
            if hit is not None and hit != module:
                found.add(hit)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer(module: str) -> int | None:
    """The module's place in the flow (higher imports lower); None for the `locales` leaf."""
    top = module.split(".")[0]
    if top == "locales":
        return None
    if top != "bot":
        return LAYERS[top]
    if any(module == s or module.startswith(s + ".") for s in SHELL):
        return LAYERS["shell"]
    if module == "bot.channels" or module.startswith("bot.channels."):
        return LAYERS["channels"]
    return LAYERS["bot"]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_reader_sees_the_imports_it_should() -> None:
    """The checks below are only as good as this reader: it must see an import inside a
    function and in the CLI's lazy registry, and skip what is imported only under
    TYPE_CHECKING."""
    assert "bot.worker_process" in GRAPH["bot.commands.worker"]  # inside the command
    assert "bot.commands.requests" in GRAPH["bot.cli"]  # by name in the registry
    assert "workflow.approvals" in GRAPH["bot.commands.requests"]  # inside a function
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bot.cli\n")
    assert [n for n in _nodes(tree) if isinstance(n, ast.Import)] == []


def test_no_import_circle() -> None:
    assert circles(GRAPH) == []


def test_no_import_against_the_flow() -> None:
    against = []
    for module, targets in GRAPH.items():
        here = layer(module)
        for target in sorted(targets):
            there = layer(target)
            if there is None:
                continue
            if here is None or there > here:
                against.append(f"{module} -> {target}")
    assert against == []


def test_long_modules_are_still_long() -> None:
    """An allowance ends when the module is split: keep the list honest."""
    for module in sorted(LONG_MODULES):
        lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
        assert lines > MAX_LINES, f"{module} has {lines} lines now: drop it from LONG_MODULES"


def test_no_module_over_the_limit() -> None:
    long = {
        module: len(path.read_text(encoding="utf-8").splitlines())
        for module, path in MODULES.items()
    }
    over = {m: n for m, n in long.items() if n > MAX_LINES and m not in LONG_MODULES}
    assert over == {}

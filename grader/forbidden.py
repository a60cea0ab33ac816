"""Static check for forbidden APIs in submitted files (an AST scan; policy, not a boundary).

Imports are matched by module prefix (`forbidden_imports`), dotted references by name
(`forbidden_calls`), both through aliases (`import numpy as np; np.linalg.inv`, `la =
np.linalg; la.inv`, `getattr(np.linalg, "inv")`). Dynamic escape hatches (`__import__`,
importlib, exec, eval, compile, sys.modules, ...) are never allowed. Messages look like
"layers.py:3: import of 'torch' is not allowed in this assignment".
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

from grader.package import AssignmentConfig

ALWAYS_IMPORTS = ("importlib", "imp", "runpy", "pkgutil", "zipimport", "builtins", "__builtin__")
ALWAYS_REFS = ("sys.modules", "sys.meta_path", "sys.path_hooks")
ALWAYS_NAMES = ("__import__", "exec", "eval", "compile", "__builtins__")
ALWAYS_ATTRS = ("__import__", "__builtins__", "__globals__", "__subclasses__")
NEVER = "is not allowed (dynamic imports and code execution are never allowed)"
NOT_HERE = "is not allowed in this assignment"

# CPython 3.11 keeps the AST builder's recursion counter in per-interpreter state, so two
# threads in ast.parse at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905). The self-check grades in threads: parse one at a time.
_PARSE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Rules:
    """What one file may not use."""

    imports: tuple[str, ...]
    calls: tuple[str, ...]
    allowed: tuple[str, ...]

    def verdict(self, name: str, importing: bool = False) -> str | None:
        """The message tail if `name` is forbidden, else None."""
        if any(_under(name, p) for p in ALWAYS_IMPORTS + ALWAYS_REFS):
            return NEVER
        if any(_under(name, a) for a in self.allowed):
            return None
        # Importing a parent of an allowed module (import torch, to use torch.nn) is fine:
        # the references made through it are checked one by one.
        if importing and any(a.startswith(name + ".") for a in self.allowed):
            return None
        if any(_under(name, p) for p in self.imports + self.calls):
            return NOT_HERE
        return None


def check_forbidden(files: dict[str, bytes], config: AssignmentConfig) -> list[str]:
    """Violations in the submitted .py files, one message per finding, in file order."""
    messages: list[str] = []
    for name in sorted(files):
        if name.endswith(".py"):
            rules = Rules(
                tuple(config.forbidden_imports),
                tuple(config.forbidden_calls),
                tuple(config.allow_by_file.get(name, ())),
            )
            messages += check_source(name, files[name], rules)
    return messages


def check_source(name: str, source: bytes, rules: Rules) -> list[str]:
    """Violations in one file; a file that does not parse is reported as such."""
    try:
        text = source.decode("utf-8")
        with _PARSE_LOCK:
            tree = ast.parse(text, filename=name)
    except UnicodeDecodeError:
        return [f"{name}: not valid UTF-8 text"]
    except SyntaxError as exc:
        return [f"{name}:{exc.lineno or 0}: syntax error: {exc.msg}"]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [f"{name}: cannot be read as Python ({type(exc).__name__})"]
    try:
        return [f"{name}:{line}: {text}" for line, text in _Scan(tree, rules).run()]
    except RecursionError:
        return [f"{name}: too deeply nested to check"]


class _Scan:
    """One pass over a parsed file: imports and aliases first, then every reference."""

    def __init__(self, tree: ast.Module, rules: Rules) -> None:
        self.nodes = list(ast.walk(tree))
        self.rules = rules
        self.aliases: dict[str, str] = {}  # local name -> qualified name
        self.reported: set[str] = set()  # local names whose binding was already reported
        self.bound = _locally_bound(self.nodes)
        self.found: dict[tuple[int, str], str] = {}  # (line, tail) -> longest offending name
        self.messages: list[tuple[int, str]] = []

    def run(self) -> list[tuple[int, str]]:
        for node in self.nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
        self._assignments()
        for node in self.nodes:
            self._escape_hatch(node)
            if isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
                self._reference(node)
        found = [(line, _use(tail, name)) for (line, tail), name in self.found.items()]
        return sorted(self.messages + found)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for local, qualified, checked in _bindings(node):
            tail = self.rules.verdict(checked, importing=True)
            if tail is not None:
                self.messages.append((node.lineno, f"import of {checked!r} {tail}"))
                self.reported.add(local)
            if local != "*":
                self.aliases[local] = qualified
            elif tail is None:
                self._star(node.lineno, checked)

    def _star(self, line: int, module: str) -> None:
        """`from m import *` would hide forbidden names of m: report it when m has any."""
        hidden = [c for c in self.rules.calls if c.startswith(module + ".")]
        if hidden:
            tail = f"{NOT_HERE} (it brings in {hidden[0]!r})"
            self.messages.append((line, f"'from {module} import *' {tail}"))

    def _assignments(self) -> None:
        """Follow `la = np.linalg` style aliases (a few rounds resolve chains in any order)."""
        pairs = []
        for node in self.nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                pairs += [(t.id, node.value) for t in targets if isinstance(t, ast.Name)]
        for _ in range(3):
            for local, value in pairs:
                resolved = self._resolve(value) if value is not None else None
                if resolved is not None:
                    self.aliases[local] = resolved[0]
                    if resolved[1] or self.rules.verdict(resolved[0]) is not None:
                        self.reported.add(local)

    def _escape_hatch(self, node: ast.AST) -> None:
        """eval/exec/__import__ and friends, by name, attribute or string literal."""
        name = None
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            unbound = node.id not in self.aliases and node.id not in self.bound
            name = node.id if node.id in ALWAYS_NAMES and unbound else None
        elif isinstance(node, ast.Attribute) and node.attr in ALWAYS_ATTRS:
            name = node.attr
        elif isinstance(node, ast.Constant) and node.value in ALWAYS_ATTRS:
            name = node.value
        if name is not None:
            self.found[(node.lineno, NEVER)] = name

    def _reference(self, node: ast.AST) -> None:
        resolved = self._resolve(node)
        if resolved is None or resolved[1]:
            return
        tail = self.rules.verdict(resolved[0])
        if tail is not None:
            key = (node.lineno, tail)
            if len(resolved[0]) > len(self.found.get(key, "")):
                self.found[key] = resolved[0]

    def _resolve(self, node: ast.AST) -> tuple[str, bool] | None:
        """(qualified dotted name, rooted at an already reported binding) or None."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id], node.id in self.reported
            return None
        if isinstance(node, ast.Attribute):
            inner = self._resolve(node.value)
            return (f"{inner[0]}.{node.attr}", inner[1]) if inner else None
        attr = _getattr_name(node) or _dict_item_name(node)
        if attr is not None:
            inner = self._resolve(attr[0])
            return (f"{inner[0]}.{attr[1]}", inner[1]) if inner else None
        return None


def _locally_bound(nodes: list[ast.AST]) -> set[str]:
    """Names the file defines itself (a student's own `compile` function is not builtins')."""
    bound = set()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound


def _bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str, str]]:
    """(local name, what it refers to, what to check) for each name an import binds."""
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            root = alias.name.split(".")[0]
            local = alias.asname or root
            out.append((local, alias.name if alias.asname else root, alias.name))
        return out
    module = node.module or ""
    for alias in node.names:
        if alias.name == "*":
            out.append(("*", module, module))
            continue
        full = f"{module}.{alias.name}" if module else alias.name
        out.append((alias.asname or alias.name, full, full))
    return out


def _getattr_name(node: ast.AST) -> tuple[ast.AST, str] | None:
    """getattr(obj, "literal") -> (obj, "literal")."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[0], node.args[1].value
    return None


def _dict_item_name(node: ast.AST) -> tuple[ast.AST, str] | None:
    """obj.__dict__["literal"] -> (obj, "literal")."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "__dict__"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.value.value, node.slice.value
    return None


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _use(tail: str, name: str) -> str:
    return f"{name!r} {tail}" if tail == NEVER else f"use of {name!r} {tail}"

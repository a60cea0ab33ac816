"""The web side and the worker side stay apart, read off the source (ast, nothing imported):
no import cycle between webapp's modules, imports at the top of the worker's modules, the
engine reached only through `grader`'s public names, and the web side starting work only
through webapp.jobs.enqueue; and a web process that never loads the engine."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grader

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
# What the web side may import from webapp.jobs: sending work, and reading where it stands.
WEB_MAY_IMPORT = {
    "webapp.jobs.enqueue",  # send a grading turn, a self-check, a bank fill
    "webapp.jobs.celery_app",  # the Celery app factory, queue names and limits
    "webapp.jobs.routing",  # a run's queue, position and expected wait
    "webapp.jobs.liveness",  # the case now running
    "webapp.jobs.fleet",  # who is alive (operations page, CLI)
    "webapp.jobs.reconcile",  # lost and stale runs for the operations page; staff's re-queue
}
# Staff tooling that runs a self-check in its own process, as the worker would.
CLI_MAY_ALSO_IMPORT = {"webapp.jobs.selfchecks"}


def module_name(path: Path) -> str:
    parts = path.relative_to(WEBAPP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in WEBAPP.rglob("*.py")}


def imported(node: ast.AST) -> list[str]:
    """Module names an import statement names (`from a import b` may be module a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def top_level_imports(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports nothing at run time
            continue
        names += imported(node)
    return names


def test_no_import_cycle_between_webapp_modules():
    trees = modules()
    graph = {
        name: {m for m in top_level_imports(tree) if m in trees and m != name}
        for name, tree in trees.items()
    }
    for package in [name for name in trees if (WEBAPP.parent / name.replace(".", "/")).is_dir()]:
        graph[package] = set()  # a package's __init__ importing a submodule is not a cycle
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for nxt in sorted(graph[name]):
            assert state.get(nxt) != "open", " -> ".join([*path, name, nxt])
            if nxt not in state:
                visit(nxt, [*path, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_worker_side_imports_at_the_top_of_its_modules():
    trees = modules()
    inside = []
    for name, tree in trees.items():
        if not (name.startswith("webapp.jobs") or name in ("webapp.selfcheck", "webapp.cli")):
            continue
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inside += [
                    f"{name}.{func.name}: {', '.join(imported(n))}"
                    for n in ast.walk(func)
                    if isinstance(n, (ast.Import, ast.ImportFrom))
                ]
    assert inside == []


def test_webapp_reaches_the_engine_only_through_its_public_names():
    private = []
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader"):
                if node.module != "grader":
                    private.append(f"{name}: from {node.module} import ...")
                else:
                    private += [
                        f"{name}: grader.{a.name}"
                        for a in node.names
                        if a.name not in grader.__all__
                    ]
            if isinstance(node, ast.Import):
                private += [
                    f"{name}: import {a.name}" for a in node.names if a.name.startswith("grader")
                ]
    assert private == []


def test_the_web_side_starts_work_only_through_enqueue():
    crossing = []
    for name, tree in modules().items():
        if name.startswith("webapp.jobs"):
            continue
        allowed = WEB_MAY_IMPORT | (CLI_MAY_ALSO_IMPORT if name == "webapp.cli" else set())
        for node in ast.walk(tree):
            for target in imported(node):
                module = target if target.count(".") <= 2 else target.rsplit(".", 1)[0]
                if module.startswith("webapp.jobs.") and module not in allowed:
                    crossing.append(f"{name} imports {target}")
    assert crossing == []


def test_the_web_app_starts_without_the_engine_or_the_tasks():
    """create_app loads neither the grading engine (NumPy with it) nor the Celery tasks: they
    are the worker's (webapp.jobs.worker imports the tasks), and every web process would
    otherwise pay their import time and memory."""
    probe = (
        "import sys\n"
        "from webapp import create_app\n"
        "create_app({'TESTING': True, 'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x',"
        " 'REDIS_URL': 'redis://127.0.0.1:6379/15'})\n"
        "print(sorted(m for m in ('grader.engine', 'numpy', 'webapp.jobs.tasks',"
        " 'webapp.jobs.grading') if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=WEBAPP.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"

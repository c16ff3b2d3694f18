"""Layers point down only: the library names settings, never the command's flags, and imports
nothing from the command line; the training's precision choice imports nothing from the benchmarks.

Read from the source with :mod:`ast`, so nothing here imports the package's modules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "informer"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
LOGGING_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log", "warn"}

# Command lines the bench harness writes on purpose (file, flag): the processes it starts, and
# the generated result pages, which say how their rows were run. A message raised or logged
# there is checked all the same.
ALLOWED = {
    ("bench/suite.py", "--standalone"),  # torch.distributed.run's command line
    ("bench/suite.py", "--nproc-per-node"),
    ("bench/reproduce.py", "--short"),  # git's command line (the commit of the results)
    ("bench/reproduce.py", "--porcelain"),
    ("bench/reproduce.py", "--untracked-files"),
    ("bench/reproduce.py", "--itr"),  # docs/results.md: std over seeds "as --itr reports it"
    ("bench/lookback96.py", "--set"),  # docs/benchmark.md: the --set changes each row ran with
}
# The ``python -m informer`` entry point runs the command: it sits above the command line.
CLI_CALLERS = {"__main__.py"}


def library_files() -> list[Path]:
    """Every module of the package outside its command line (informer/cli)."""
    return sorted(path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] != "cli")


def name_of(path: Path, root: Path = PACKAGE) -> str:
    """``path`` as the allow lists name it: relative to the package, e.g. ``bench/suite.py``."""
    return path.relative_to(root).as_posix()


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the module's, classes' and functions' docstring nodes: prose for readers of the
    code, which may describe the command line."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def is_message_call(node: ast.AST) -> bool:
    """A logging call (``log.warning(...)``) or ``warnings.warn(...)``."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOGGING_CALLS


def message_strings(tree: ast.AST) -> set[int]:
    """The ids of the string constants inside raised exceptions and logged or warned messages."""
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Raise) and node.exc is not None) or is_message_call(node):
            found.update(id(inner) for inner in ast.walk(node) if isinstance(inner, ast.Constant))
    return found


def flag_spellings(path: Path, root: Path = PACKAGE) -> list[str]:
    """``file:line: --flag in '...'`` for each flag spelling in a string of ``path`` (f-string
    parts included, docstrings skipped) that is not allowed there."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped, messages = docstrings(tree), message_strings(tree)
    name = name_of(path, root)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skipped:
            continue
        for flag in FLAG.findall(node.value):
            if id(node) in messages or (name, flag) not in ALLOWED:
                found.append(f"{name}:{node.lineno}: {flag} in {node.value[:80]!r}")
    return found


def imported_modules(path: Path, root: Path = PACKAGE) -> set[str]:
    """The modules ``path`` imports anywhere (functions included), as absolute names; for
    ``from x import y`` both ``x`` and ``x.y`` (y may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ["informer", *path.relative_to(root).parent.parts]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package ``level`` steps up
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def module_file(name: str) -> Path | None:
    """The source file of the package's module ``name`` (a package: its __init__), else None
    (another package's module, or a name imported from a module)."""
    if name != "informer" and not name.startswith("informer."):
        return None
    parts = name.split(".")[1:]
    candidates = [PACKAGE.joinpath(*parts).with_suffix(".py")] if parts else []
    return next((path for path in [*candidates, PACKAGE.joinpath(*parts, "__init__.py")] if path.exists()), None)


def reachable(start: str) -> set[str]:
    """The package's modules ``start`` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        path = module_file(todo.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        todo.extend(imported_modules(path))
    return {name_of(path) for path in seen}


def test_library_strings_name_settings_not_flags():
    found = [line for path in library_files() for line in flag_spellings(path)]
    assert not found, "library strings spell command-line flags (name the setting instead):\n" + "\n".join(found)


def test_no_library_module_imports_the_command_line():
    found = sorted(name_of(path) for path in library_files() if name_of(path) not in CLI_CALLERS and any(
        name == "informer.cli" or name.startswith("informer.cli.") for name in imported_modules(path)))
    assert not found, f"modules outside informer/cli import it: {', '.join(found)}"


def test_the_precision_choice_needs_nothing_from_the_benchmarks():
    below = reachable("informer.precision")  # itself and what it imports, directly or not
    assert "precision.py" in below and "hardware.py" in below
    found = sorted(name for name in below if name.startswith("bench/"))
    assert not found, f"informer.precision (every training run) imports benchmark modules: {', '.join(found)}"


@pytest.mark.parametrize("source, expected", [
    ('raise ValueError("use --cycle 24")\n', ["--cycle"]),
    ('log.warning("stopped; continue with informer train --resume %s", path)\n', ["--resume"]),
    ('NOTE = f"run it with --set {change}"\n', ["--set"]),
    ('"""A docstring may say --cycle."""\nx = "a-b --not-a-flag-here"[1:]\n', ["--not-a-flag-here"]),
    ('"""A docstring may say --cycle."""\nx = "2021--01 and a -- b"\n', []),
])
def test_the_scan_finds_flag_spellings(tmp_path, source, expected):
    """The scan itself fails on an offender (and only on one)."""
    path = tmp_path / "module.py"
    path.write_text(source)
    found = flag_spellings(path, root=tmp_path)
    assert [line.split(": ")[1].split(" in ")[0] for line in found] == expected


def test_an_allowed_flag_is_still_refused_in_a_message(tmp_path):
    (tmp_path / "bench").mkdir()
    path = tmp_path / "bench" / "lookback96.py"
    path.write_text('HEADER = "changes (--set)"\nraise ValueError("give --set model.x=1")\n')
    assert [line.split(":")[1] for line in flag_spellings(path, root=tmp_path)] == ["2"]


def test_a_library_import_of_the_command_line_is_seen(tmp_path):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "module.py"
    path.write_text("def f():\n    from .. import cli\n    from informer.cli.common import user_words\n")
    assert {"informer.cli", "informer.cli.common"} <= imported_modules(path, root=tmp_path)

"""The shape the README promises: a pure core, explicit registration, no network in tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_FORBIDDEN = {
    "telegram",
    "aiosqlite",
    "sqlite3",
    "aiohttp",
    "httpx",
    "loguru",
    "socket",
    "bot",
}
CORE_FORBIDDEN_CALLS = {"open", "time.time", "datetime.now", "time.monotonic"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def called_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names.add(ast.unparse(node.func))
    return names


CORE_FILES = sorted((ROOT / "policies").rglob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_transport_storage_or_the_shell(path: Path) -> None:
    assert not imported_modules(path) & CORE_FORBIDDEN


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_reads_no_files_and_no_clock(path: Path) -> None:
    assert not called_names(path) & CORE_FORBIDDEN_CALLS


def test_handler_modules_register_explicitly_and_do_nothing_at_import() -> None:
    for path in sorted((ROOT / "handlers").glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "register" in functions, path
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue
            assert not isinstance(node, ast.Expr | ast.For | ast.While | ast.With), (
                f"{path.name} runs code at import"
            )

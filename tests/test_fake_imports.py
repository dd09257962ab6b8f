"""The fake Telegram's modules import each other without a cycle, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "bot" / "fake"


def module_name(path: Path, root: Path = ROOT) -> str:
    relative = path.relative_to(root).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports_of(path: Path, known: set[str], root: Path = ROOT) -> set[str]:
    """Every fake module a file imports, wherever the import sits (functions, TYPE_CHECKING)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known}
    return found - {name}


def import_graph(files: list[Path], root: Path = ROOT) -> dict[str, set[str]]:
    known = {module_name(path, root) for path in files}
    return {module_name(path, root): imports_of(path, known, root) for path in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """Returns one import cycle as a list of modules, or [] if there is none."""
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> list[str]:
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in done:
            return []
        for target in sorted(graph.get(node, ())):
            cycle = visit(target, [*trail, node])
            if cycle:
                return cycle
        done.add(node)
        return []

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return []


def test_no_module_of_the_fake_is_part_of_an_import_cycle() -> None:
    graph = import_graph(sorted(FAKE.glob("*.py")))
    assert graph["bot.fake.state"], "the graph should see state's imports"
    assert find_cycle(graph) == []


@pytest.mark.parametrize(
    ("sources", "cycle"),
    [
        (
            {
                "a.py": "from bot.fake import b\n",
                "b.py": "import typing\nif typing.TYPE_CHECKING:\n    import bot.fake.a\n",
            },
            ["bot.fake.a", "bot.fake.b", "bot.fake.a"],
        ),
        (
            {"a.py": "def f():\n    from .b import g\n", "b.py": "from bot.fake.a import f\n"},
            ["bot.fake.a", "bot.fake.b", "bot.fake.a"],
        ),
        ({"a.py": "from bot.fake.b import g\n", "b.py": "import json\n"}, []),
    ],
    ids=["type-checking import", "lazy relative import", "no cycle"],
)
def test_the_checker_sees_lazy_and_type_checking_imports(
    tmp_path: Path, sources: dict[str, str], cycle: list[str]
) -> None:
    package = tmp_path / "bot" / "fake"
    package.mkdir(parents=True)
    files = []
    for name, text in sources.items():
        (package / name).write_text(text, encoding="utf-8")
        files.append(package / name)
    assert find_cycle(import_graph(files, tmp_path)) == cycle

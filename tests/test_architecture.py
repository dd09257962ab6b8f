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


def test_handler_modules_do_nothing_at_import() -> None:
    for path in sorted((ROOT / "handlers").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue
            assert not isinstance(node, ast.Expr | ast.For | ast.While | ast.With), (
                f"{path.name} runs code at import"
            )


def test_every_handler_module_is_wired_by_the_composition_root() -> None:
    """Each module registers its handlers from `bot.app`, or only holds command functions that
    the command table's registration names."""
    from bot.app import HANDLER_MODULES
    from handlers.commands import FUNCTIONS

    registered = {module.__name__ for module in HANDLER_MODULES}
    commands = {function.__module__ for function in FUNCTIONS.values()}
    present = {
        f"handlers.{path.stem}"
        for path in (ROOT / "handlers").glob("*.py")
        if path.name != "__init__.py"
    }
    assert present == registered | commands
    for name in registered:
        tree = ast.parse((ROOT / f"{name.replace('.', '/')}.py").read_text(encoding="utf-8"))
        assert "register" in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


# ----------------------------------------------------------------------------- the import graph


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PROJECT_FILES = sorted(
    path for top in ("bot", "handlers", "policies", "bench") for path in (ROOT / top).rglob("*.py")
)
PROJECT_MODULES = {module_name(path) for path in PROJECT_FILES}


def imports_of(path: Path) -> set[str]:
    """Every project module this file imports, wherever the import stands: at the top, inside a
    function (lazy) or under `if TYPE_CHECKING:`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in PROJECT_MODULES and module != name}


def import_graph(files: list[Path]) -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in files}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle_lazy_and_type_checking_imports_included() -> None:
    assert cycles(import_graph(PROJECT_FILES)) == []


def test_the_cycle_check_finds_a_planted_cycle() -> None:
    graph = import_graph(PROJECT_FILES)
    graph["bot.core.clock"] = {*graph["bot.core.clock"], "bot.features.moderation"}
    assert any("bot.core.clock" in component for component in cycles(graph))


def test_lazy_and_type_checking_imports_are_edges() -> None:
    planted = ROOT / "bot" / "core" / "clock.py"
    source = planted.read_text(encoding="utf-8")
    text = source + "\n\ndef _later() -> None:\n    from bot.core import services  # noqa\n"
    tree_file = planted.with_name("_planted_for_test.py")
    tree_file.write_text(text, encoding="utf-8")
    try:
        assert "bot.core.services" in imports_of(tree_file)
    finally:
        tree_file.unlink()


LAYER_RULES = {
    "bot.core": ("bot.features", "bot.cli", "handlers"),
    "bot.store": ("bot.features", "bot.cli", "bot.telegram", "bot.core.services", "handlers"),
    "bot.telegram": ("bot.features", "bot.cli", "bot.core.services", "handlers"),
    "bot.features": ("bot.cli", "handlers"),
    "policies": ("bot", "handlers"),
}
"""Layer: what it must never import. Infrastructure never knows the features."""


@pytest.mark.parametrize("layer", sorted(LAYER_RULES))
def test_layers_import_only_downwards(layer: str) -> None:
    forbidden = LAYER_RULES[layer]
    for module, targets in import_graph(PROJECT_FILES).items():
        if module == layer or module.startswith(layer + "."):
            bad = {t for t in targets if any(t == f or t.startswith(f + ".") for f in forbidden)}
            assert not bad, f"{module} imports {sorted(bad)}"


def test_only_the_composition_root_imports_handlers() -> None:
    for module, targets in import_graph(PROJECT_FILES).items():
        if module.startswith("handlers") or module == "bot.app":
            continue
        assert not any(t.startswith("handlers") for t in targets), module


HANDLER_FILES = sorted((ROOT / "handlers").glob("*.py"))


@pytest.mark.parametrize("path", HANDLER_FILES, ids=lambda p: p.name)
def test_handlers_never_touch_the_store(path: Path) -> None:
    assert not {t for t in imports_of(path) if t.startswith("bot.store")}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    touched = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "store"
    ]
    assert not touched, f"{path.name} reaches the store on lines {touched}"


# ------------------------------------------------------------------------------------- the door

EFFECT_METHODS = {
    "leave_chat",
    "ban_chat_member",
    "unban_chat_member",
    "restrict_chat_member",
    "delete_message",
    "delete_messages",
    "ban_chat_sender_chat",
    "unban_chat_sender_chat",
    "pin_chat_message",
    "unpin_chat_message",
    "send_message",
    "send_photo",
    "copy_message",
    "edit_message_text",
    "edit_message_reply_markup",
    "create_chat_invite_link",
    "reply_text",
    "reply_html",
    "reply_photo",
    "edit_text",
    "edit_reply_markup",
    "delete",
}
"""Bot API calls (and their PTB shortcuts) that change a chat; only the door may make them."""
DOOR = ROOT / "bot" / "telegram" / "door.py"
OUTSIDE_THE_DOOR = sorted(
    path
    for top in ("bot", "handlers")
    for path in (ROOT / top).rglob("*.py")
    if path != DOOR and "fake" not in path.parts
)


def effect_calls(source: str) -> list[str]:
    """Calls of an effect method on anything but the door (`door.delete(...)` is the door)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = ast.unparse(node.func.value)
        if node.func.attr in EFFECT_METHODS and not receiver.endswith("door"):
            found.append(f"{receiver}.{node.func.attr}")
    return found


@pytest.mark.parametrize("path", OUTSIDE_THE_DOOR, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_effect_on_a_chat_goes_through_the_door(path: Path) -> None:
    assert effect_calls(path.read_text(encoding="utf-8")) == []


def test_the_door_check_finds_a_planted_ban() -> None:
    planted = "async def punish(bot, chat, user):\n    await bot.ban_chat_member(chat, user)\n"
    assert effect_calls(planted) == ["bot.ban_chat_member"]
    assert effect_calls("async def f(door):\n    await door.ban(1, 2)\n") == []

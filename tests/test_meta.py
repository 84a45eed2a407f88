"""Rules the suite holds itself to."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
BOUNDS = {"fail_after", "move_on_after", "fail_at", "move_on_at"}


def _bounded(function: ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name in BOUNDS:
                return True
    return False


def test_every_async_test_has_a_time_bound() -> None:
    unbounded = []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.AsyncFunctionDef)
                and node.name.startswith("test_")
                and not _bounded(node)
            ):
                unbounded.append(f"{path.relative_to(TESTS)}::{node.name}")
    assert not unbounded, f"async tests without trio.fail_after/move_on_after: {unbounded}"

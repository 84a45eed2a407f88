"""The README's configuration table stays true to the config model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from trio_paper.config import Config

README = Path(__file__).resolve().parents[1] / "README.md"


def defaults(instance: Any, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for field in attrs.fields(type(instance)):
        value = getattr(instance, field.name)
        key = f"{prefix}{field.name}"
        if field.metadata.get("secret") or key == "strategy.params":
            continue
        if attrs.has(type(value)):
            out.update(defaults(value, key + "."))
        else:
            out[key] = value
    return out


def test_every_config_key_is_in_the_readme_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    for key, value in defaults(Config()).items():
        shown: object = value
        if isinstance(value, Decimal):
            shown = f"{value:f}"
        elif isinstance(value, float):
            shown = f"{value:g}"
        row = f"| `{key}` | `{shown}` |" if value is not None else f"| `{key}` | unset |"
        assert row in text, f"README.md lacks the row {row}"

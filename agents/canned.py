"""Fixed texts (replies to customers, instructions to models) from `canned.yaml`, per language."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def _texts() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (resources.files("agents") / "canned.yaml").read_text("utf-8")
    )
    return data


def canned(key: str, language: str = "en") -> str:
    """The customer-facing text `key` in `language` (English when it has no translation)."""
    texts: dict[str, str] = _texts()["customer"][key]
    return texts.get(language) or texts["en"]


def instruction(key: str) -> str:
    """A model-facing instruction (always English: the system prompt's language)."""
    text: str = _texts()["model"][key]
    return text


__all__ = ["canned", "instruction"]

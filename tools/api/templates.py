"""Sentences filled from data: a confirmation question from the arguments, an API's JSON answer
as the agent's sentence for it."""

from __future__ import annotations

import json
from typing import Any


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, values: Any) -> str:
    """`template` with `{field}` placeholders filled from `values` (missing ones blank)."""
    data = values if isinstance(values, dict) else {"result": values}
    return template.format_map(_Blank({k: v for k, v in data.items() if v is not None}))


def rendered(text: str, templates: dict[str, str] | None, language: str) -> str:
    """The API's JSON answer as the agent's sentence for it, when it has a template."""
    template = (templates or {}).get(language) or (templates or {}).get("en")
    if not template:
        return text
    try:
        return fill(template, json.loads(text))
    except ValueError:
        return text

"""Customer words for what the knowledge-base documents call otherwise (`equivalents.yaml`).

"which subscriptions can I choose from" sits far in meaning from "Hogar Smart Home has three
plans"; looked up as "which subscriptions can I choose from plans", it sits near. The documents'
word is added to the query, never put in place of the customer's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tools.text import fold


def parse_equivalents(data: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """{document word: customer phrases} from the YAML form, folded."""
    return {
        fold(str(word)): tuple(fold(str(p)) for p in phrases or [])
        for word, phrases in (data or {}).items()
    }


TOOLS_KEY = "tools"  # the table of the account tools' words, apart from the documents'


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    text = (resources.files("tools") / "equivalents.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text) or {})


@lru_cache(maxsize=1)
def equivalents() -> dict[str, tuple[str, ...]]:
    """The documents' words for customers' words."""
    return parse_equivalents({k: v for k, v in _tables().items() if k != TOOLS_KEY})


@lru_cache(maxsize=1)
def tool_equivalents() -> dict[str, tuple[str, ...]]:
    """The account tools' words for customers' words (`tools:`): "visa" is the card on file."""
    return parse_equivalents(_tables().get(TOOLS_KEY))


def with_document_words(query: str, table: dict[str, tuple[str, ...]] | None = None) -> str:
    """The query with the documents' word for each customer word it uses."""
    folded = fold(query)
    added = [
        word
        for word, phrases in (equivalents() if table is None else table).items()
        if not re.search(rf"\b{re.escape(word)}\b", folded)
        and any(re.search(rf"\b{re.escape(p)}\b", folded) for p in phrases)
    ]
    return f"{query} {' '.join(added)}" if added else query

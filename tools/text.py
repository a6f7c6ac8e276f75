"""Text folding for matching what customers type (case, accents, underscores)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lowercase without accents, for matching what customers type."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", " ")


__all__ = ["fold"]

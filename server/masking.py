"""Phone numbers never appear whole in logs."""

from __future__ import annotations


def mask_phone(number: str | None) -> str:
    """`15550001234` -> `+155****1234`: enough to tell users apart, not to call them."""
    if not number:
        return ""
    digits = number.removeprefix("whatsapp:").lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits)
    return f"+{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"

"""Resolving what a customer calls a device, room or music service to exactly one record value.

Nothing here guesses: an unknown or ambiguous reference yields a question listing the choices.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stores import Customer, Device
from tools.text import fold

_WORD = re.compile(r"[a-z0-9]+")
TYPE_WORDS: dict[str, set[str]] = {
    "speaker": {"speaker", "altavoz", "bocina", "parlante"},
    "display": {"display", "pantalla", "screen", "hub"},
    "thermostat": {"thermostat", "termostato"},
    "camera": {"camera", "camara"},
}
MAX_REFERENCE = 200


@dataclass(frozen=True)
class Choice:
    """A closed set from the business's config: canonical values and what customers call them."""

    names: dict[str, dict[str, str]]
    synonyms: dict[str, str]

    @classmethod
    def from_settings(cls, items: Mapping[str, Any]) -> Choice:
        names: dict[str, dict[str, str]] = {}
        synonyms: dict[str, str] = {}
        for value, spec in items.items():
            spec = spec or {}
            names[value] = {
                "en": str(spec.get("en", value.replace("_", " "))),
                "es": str(spec.get("es", spec.get("en", value.replace("_", " ")))),
            }
            for word in (value, *names[value].values(), *spec.get("also", [])):
                synonyms[fold(str(word)).strip()] = value
        return cls(names, synonyms)

    def mentioned(self, text: str) -> set[str]:
        """Every value `text` names."""
        folded = f" {fold(text).strip()} "
        return {v for word, v in self.synonyms.items() if f" {word} " in folded}

    def spoken(self, value: str) -> str:
        """Every name of `value` customers may use: "living room, salón, lounge"."""
        words = [word for word, of in self.synonyms.items() if of == value and word != value]
        return ", ".join(words)

    def values(self) -> list[str]:
        return list(self.names)

    def name(self, value: str, language: str) -> str:
        return self.names.get(value, {}).get(language) or value.replace("_", " ")

    def resolve(self, text: object) -> str | None:
        """The canonical value `text` names (exactly, or as the longest synonym it contains)."""
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REFERENCE:
            return None
        folded = f" {fold(text).strip()} "
        if folded.strip() in self.synonyms:
            return self.synonyms[folded.strip()]
        found = [
            (len(word), value)
            for word, value in self.synonyms.items()
            if f" {word} " in folded or f" {word}s " in folded
        ]
        values = {value for _, value in found}
        return max(found)[1] if len(values) == 1 else None

    def listed(self, language: str) -> str:
        joiner = " o " if language == "es" else " or "
        names = [self.name(v, language) for v in self.names]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]


def device_label(device: Device) -> str:
    return device.name or device.type


def _type_words(device: Device) -> set[str]:
    kind = fold(device.type)
    words = {kind, kind.removeprefix("smart")}
    for key, names in TYPE_WORDS.items():
        if key in kind:
            words |= names
    return words


def _name_words(device: Device) -> set[str]:
    generic = set().union(*TYPE_WORDS.values()) | {"room", "smart", "mini", "home", "the"}
    return {w for w in _WORD.findall(fold(device.name or "")) if len(w) > 2} - generic


def resolve_device(
    customer: Customer, reference: object, rooms: Choice | None = None
) -> Device | list[Device]:
    """The one device `reference` names among the customer's own, by id, name or type.

    Returns the device, or the candidates to ask about (all devices when it names none of them).
    An empty reference names the only device when there is one.
    """
    devices = list(customer.devices)
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE:
        return devices
    text = fold(reference).strip()
    if not text:
        return devices[0] if len(devices) == 1 else devices
    words = set(_WORD.findall(text))
    padded = f" {' '.join(_WORD.findall(text))} "
    by_id = [d for d in devices if f" {' '.join(_WORD.findall(fold(d.id)))} " in padded]
    if by_id:
        return by_id[0] if len(by_id) == 1 else by_id
    by_name = [d for d in devices if d.name and f" {fold(d.name)} " in padded]
    if not by_name:
        by_name = [d for d in devices if d.name and _name_words(d) & words]
    if len(by_name) == 1:
        return by_name[0]
    by_type = [d for d in (by_name or devices) if _type_words(d) & words]
    if len(by_type) == 1:
        return by_type[0]
    candidates = by_type or by_name or devices
    named_rooms = rooms.mentioned(text) if rooms is not None else set()
    in_room = [d for d in candidates if d.location in named_rooms]
    if (by_type or by_name) and len(in_room) == 1:
        return in_room[0]  # "the speaker in the kitchen"
    return candidates


__all__ = ["Choice", "device_label", "resolve_device"]

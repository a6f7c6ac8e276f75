"""A message naming nothing as the customer's own leans toward the catalogue agents."""

from __future__ import annotations

from agents import load_agents
from graph.ownership import Ownership, has_possessive


def test_possessives_are_found_in_both_languages() -> None:
    assert has_possessive("connect Spotify to my speaker")
    assert has_possessive("¿Cuándo vence MI pago?")
    assert not has_possessive("does premium let me use spotify")
    assert not has_possessive("con el plan básico puedo usar spotify")


def test_agents_lean_by_how_their_examples_speak() -> None:
    ownership = Ownership(load_agents())
    assert ownership.leaning["device_support"] > 0 > ownership.leaning["sales"]
    catalogue = ownership.adjustments("does premium let me use spotify", 0.05)
    assert catalogue["sales"] > 0 > catalogue["device_support"]
    owned = ownership.adjustments("connect spotify to my speaker", 0.05)
    assert set(owned.values()) == {0.0}

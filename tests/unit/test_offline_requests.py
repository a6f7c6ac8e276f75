"""The offline model tells a question from a request: only a request may lead to a change."""

from __future__ import annotations

import pytest

from agents.offline import is_request


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice, I want a refund",
        "Please refund the double charge",
        "you billed me two times, give me my money back",
        "me hicieron dos cargos, devuélvanme el dinero",
        "Move my speaker to the bedroom",
        "can you move my speaker to the kitchen?",
        "Conecta Spotify a mi cuenta",
        "Quiero un reembolso por favor",
    ],
)
def test_requests(text: str) -> None:
    assert is_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is your refund policy?",
        "¿Cuál es su política de reembolsos?",
        "hey, my speaker isn't connecting to wifi",
        "Mi altavoz se desconecta del wifi",
        "Is my speaker online?",
        "Me cobraron dos veces este mes",
        "How do I connect Spotify?",
    ],
)
def test_questions_and_statements(text: str) -> None:
    assert not is_request(text)

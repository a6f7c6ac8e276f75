"""A yes/no question holding a word of agreement ("do you accept X") is a question, not a yes
with nothing waiting for it: with no tool that answers it, the offline model does not know."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from agents.offline import OfflineChatModel
from agents.passage_reading import opens_with_auxiliary


def test_a_question_opening_with_an_auxiliary_is_not_acknowledged() -> None:
    assert opens_with_auxiliary("do you accept cheques")
    assert not opens_with_auxiliary("sure, confirm")
    model = OfflineChatModel()
    system = SystemMessage("Support.\n\nReply in English.")
    reply = str(model.invoke([system, HumanMessage("do you accept cheques")]).content)
    assert not reply.startswith("OK."), reply
    assert "don't have" in reply, reply
    yes = str(model.invoke([system, HumanMessage("sure, confirm")]).content)
    assert yes.startswith("OK."), yes

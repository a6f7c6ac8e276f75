"""The offline model's tool choice and arguments: knowledge questions, questions about a change,
statements, destinations, device words, follow-ups."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

import agents.offline_tools as offline_tools
from agents.offline import OfflineChatModel
from agents.offline_reading import about_own, asks_for_knowledge, asks_question, is_request
from agents.offline_tools import Asked, ToolBox, destination, mentioned

ROOMS = ["living_room", "kitchen", "bedroom", "office"]


def _tool(
    name: str, description: str, examples: list[str], write: bool = False, **props: Any
) -> dict[str, Any]:
    required = [k for k, v in props.items() if v.pop("required", False)]
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": props, "required": required},
        "examples": examples,
        "write": write,
    }


DEVICE = {"type": "string", "description": "The device: its kind (speaker, display) and room."}
TOOLS = [
    _tool("search_knowledge_base", "Search the knowledge base.", ["Troubleshooting"]),
    _tool("check_status", "Whether a device is online.", ["is my speaker online"], device=DEVICE),
    _tool(
        "set_volume",
        "Set the volume of a device.",
        ["volume up", "sube el volumen"],
        True,
        volume={"type": "integer", "required": True},
        device=dict(DEVICE),
    ),
    _tool(
        "move_device",
        "Move a device to another room.",
        ["move my speaker to the garage"],
        True,
        new_location={"type": "string", "enum": ROOMS, "required": True},
        device=dict(DEVICE),
    ),
    _tool(
        "music",
        "Connect or disconnect a music service.",
        ["connect spotify", "music service"],
        True,
        service={"type": "string", "enum": ["spotify", "deezer"], "required": True},
        operation={"type": "string", "enum": ["connect", "disconnect"], "default": "connect"},
    ),
    _tool("refund", "Open a refund request.", ["refund", "money back"], True),
]


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> ToolBox:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    return ToolBox(TOOLS)


def test_a_question_about_how_something_works_or_what_to_do_is_for_the_knowledge_base() -> None:
    assert asks_for_knowledge("my display froze, what do I do")
    assert asks_for_knowledge("Before calling anyone, is there a reset procedure?")
    assert asks_for_knowledge("¿cuánto tarda en llegar un reembolso?")
    assert asks_for_knowledge("I'd like to understand the rules. How many days do I have?")
    assert not asks_for_knowledge("is my speaker online?")
    assert not asks_for_knowledge("how do I pay you, what card is saved?")  # also about the account
    # Until when one may still ask for something is a policy; until when to pay is a due date.
    assert asks_for_knowledge("hasta cuando tengo para pedir que me devuelvan un cobro?")
    assert asks_for_knowledge("until when can we claim a refund?")
    assert not asks_for_knowledge("hasta cuando tengo para pagar?")
    assert asks_question("the screen is black, what should I do")


def test_wanting_to_know_is_a_question_and_wanting_to_do_is_a_request() -> None:
    assert not is_request("Quisiera saber cuántos días tengo para un reembolso")
    assert not is_request("I'd like to know how refunds work")
    assert is_request("Quisiera llevar mi altavoz a la cocina")
    assert is_request("I'd like my speaker moved to the bedroom")


def test_knowledge_questions_and_questions_about_a_change_go_to_the_knowledge_base(
    box: ToolBox,
) -> None:
    chosen = box.choose("my speaker is offline, what do I do", Asked(knowledge=True))
    assert chosen is not None and chosen["name"] == "search_knowledge_base"
    # "refund" is the refund tool's word, but a question never makes a change.
    chosen = box.choose("when does a refund get back to me?", Asked(writes=False))
    assert chosen is not None and chosen["name"] == "search_knowledge_base"
    chosen = box.choose("I want my money back", Asked(writes=True))
    assert chosen is not None and chosen["name"] == "refund"


def test_a_statement_proposes_a_change_only_when_it_names_what_the_change_needs(
    box: ToolBox,
) -> None:
    statement = Asked(writes=True, statement=True)
    chosen = box.choose("the music service keeps cutting out", statement)
    assert chosen is None or chosen["name"] != "music"
    chosen = box.choose("move the speaker to the kitchen", statement)
    assert chosen is not None and chosen["name"] == "move_device"


def test_the_destination_is_where_it_goes_never_where_it_comes_from() -> None:
    assert destination("move it from the kitchen to the bedroom", ROOMS, False) == "bedroom"
    assert destination("pls move the speaker from bedroom to the office", ROOMS, False) == "office"
    assert destination("lleva el altavoz de la cocina al dormitorio", ROOMS, False) == "dormitorio"
    assert destination("sorry to bug you, it froze", ROOMS, False) is None
    assert destination("its the one in the kitchen", ROOMS, True) is None  # where it is
    assert mentioned("disconnect deezer", ["connect", "disconnect"]) == "disconnect"


def test_the_device_argument_is_the_words_naming_it_never_the_message(box: ToolBox) -> None:
    volume = box.tool("set_volume")
    assert volume is not None
    arguments = box.arguments(volume, "set the kitchen speaker to 30 please")
    assert arguments == {"volume": 30, "device": "kitchen speaker"}
    assert box.arguments(volume, "set the volume to 30") == {"volume": 30}
    move = box.tool("move_device")
    assert move is not None
    arguments = box.arguments(move, "I'd like my speaker moved from the kitchen to the bedroom")
    assert arguments is not None and arguments["new_location"] == "bedroom"
    assert "moved" not in arguments["device"] and "speaker" in arguments["device"]
    # A name's number stays with it, and an id the customer typed is the device as written (so
    # an id that is not theirs is asked about, never read as "a speaker").
    assert box.arguments(volume, "set Speaker 1 to 20") == {"volume": 20, "device": "speaker 1"}
    assert box.arguments(volume, "set the volume of dev_003 to 0") == {
        "volume": 0,
        "device": "dev_003",
    }


def test_a_short_follow_up_repeats_the_action_before_with_its_own_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    model = OfflineChatModel().model_copy(update={"bound_tools": TOOLS})
    messages = [
        HumanMessage("is my speaker online?"),
        AIMessage("Your speaker is online."),
        HumanMessage("and the display?"),
    ]
    reply = model.invoke(messages)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("check_status", {"device": "display"})
    ]


def test_a_follow_up_change_keeps_the_reason_given_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    reason = {"type": "string", "required": True}
    tools = [*TOOLS[:1], _tool("refund", "Open a refund request.", ["refund"], True, reason=reason)]
    model = OfflineChatModel().model_copy(update={"bound_tools": tools})
    messages = [
        HumanMessage("I was charged twice, please refund it"),
        AIMessage("Duplicate charges are refunded in full."),
        HumanMessage("ok go ahead"),
    ]
    (call,) = model.invoke(messages).tool_calls
    assert call["name"] == "refund" and "charged twice" in call["args"]["reason"]


def test_a_number_with_no_account_is_still_answered_from_the_knowledge_base() -> None:
    """An account tool cannot serve an unlinked number: the knowledge base is searched too, and
    the reply says both (no account found, and what the policy is); a linked customer's
    answer, or a turn that already searched, is not searched again."""
    model = OfflineChatModel().model_copy(update={"bound_tools": TOOLS})
    unlinked = SystemMessage(
        "You are support.\n\nCustomer: not linked to an account.\nReply in English."
    )
    linked = SystemMessage("You are support.\n\nCustomer: Ana, premium plan.\nReply in English.")
    asked = HumanMessage("my speaker keeps dropping off the wifi, what can I do?")
    status = AIMessage("", tool_calls=[{"name": "check_status", "args": {}, "id": "c1"}])
    refused = ToolMessage(
        "I can't find an account linked to this number.", tool_call_id="c1", name="check_status"
    )
    step = model.invoke([unlinked, asked, status, refused])
    assert [c["name"] for c in step.tool_calls] == ["search_knowledge_base"]
    assert "wifi" in step.tool_calls[0]["args"]["query"]
    assert not model.invoke([linked, asked, status, refused]).tool_calls
    passage = ToolMessage(
        "# Wifi\n\nIf a speaker keeps dropping off the wifi, restart it.\n[source: wifi]",
        tool_call_id="c2",
        name="search_knowledge_base",
    )
    search = AIMessage("", tool_calls=[{"name": "search_knowledge_base", "args": {}, "id": "c2"}])
    reply = model.invoke([unlinked, asked, status, refused, search, passage])
    assert not reply.tool_calls
    assert "can't find an account" in str(reply.content) and "restart it" in str(reply.content)


ACCOUNT_TOOLS = [
    _tool("search_knowledge_base", "Search the knowledge base.", ["refund policy"]),
    _tool("get_balance", "The amount the customer owes.", ["how much do I owe", "balance"]),
    _tool("get_invoice", "The latest invoice and its amount.", ["my bill"]),
    _tool(
        "refund",
        "Open a refund request.",
        ["refund"],
        True,
        invoice={"type": "string", "pattern": "^INV-[0-9]{4,8}$"},
    ),
]


def test_a_question_about_ones_own_account_is_read_from_it_not_the_knowledge_base(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    box = ToolBox(ACCOUNT_TOOLS)
    asked = Asked(writes=False)
    assert box.choose("is anything still owed, balance wise?", asked)["name"] == "get_balance"  # type: ignore[index]
    pick = box.choose("the amount on it?", Asked(writes=False, own=True))
    assert pick is not None and pick["name"] == "get_balance"
    assert box.choose("the amount on it?", asked)["name"] == "search_knowledge_base"  # type: ignore[index]
    # An id of a known shape is what it names ("INV-2001" is an invoice), even spaced.
    assert box.choose("the sum on INV 2001?", asked)["name"] == "get_invoice"  # type: ignore[index]
    assert about_own("¿cuánto debo?") and not about_own("what is the refund policy")


def test_asking_leave_for_an_action_is_a_request() -> None:
    assert is_request("can we link another music service?")
    assert is_request("Can I have the second charge refunded?")
    assert is_request("¿puedo agregar otro servicio?")
    assert not is_request("can I pay by bank transfer")
    assert asks_question("could you let me know what I owe?")
    assert not is_request("could you let me know what I owe?")


def test_a_device_kind_names_the_device_never_the_tool(box: ToolBox) -> None:
    assert "speaker" not in box.weights  # every tool's example may name one
    volume = box.tool("set_volume")
    assert volume is not None
    arguments = box.arguments(volume, "crank it up to 70 on the kitchen speaker")
    assert arguments == {"volume": 70, "device": "kitchen speaker"}
    assert mentioned("add deezer, we dropped spotify", ["spotify", "deezer"]) == "deezer"


def test_a_number_is_read_from_a_word_its_description_gives_for_it() -> None:
    from agents.offline_values import parameter_value

    spec = {"type": "integer", "description": "The new volume, 0 (mute, silencia) to 100."}
    assert parameter_value("volume", spec, "mute my speaker") == 0
    assert parameter_value("volume", spec, "silencia la pantalla del dormitorio") == 0
    assert parameter_value("volume", spec, "set it to 30, not mute") == 30  # a number wins
    assert parameter_value("volume", spec, "louder please") is None
    plain = {"type": "integer", "description": "The new volume, 0 to 100."}
    assert parameter_value("volume", plain, "mute my speaker") is None


def test_a_room_names_where_a_device_is_never_which_tool(box: ToolBox) -> None:
    # "garage" is a word of the move's example, but a room says where, not what to do.
    assert "garage" not in box.weights and "kitchen" not in box.weights
    assert box.choose("details of the display in the garage", Asked(writes=False)) != box.tool(
        "move_device"
    )


def test_the_knowledge_base_at_its_floor_loses_a_tie_to_a_tool_the_message_fills(
    box: ToolBox,
) -> None:
    # No word of the volume tool, but a number it needs: the floor's tie goes to the tool.
    choice = box.choose("bump the lobby one to 60")
    assert choice is not None and choice["name"] == "set_volume"


def test_a_question_about_ones_own_options_calls_the_change_that_asks_which(box: ToolBox) -> None:
    asked = Asked(writes=False, own=True)
    choice = box.choose("which music service do I have?", asked)
    assert choice is not None and choice["name"] == "music"
    # ... never a place: where a thing is, a read says
    assert not box.asks_which(box.tool("move_device") or {}, "is it in the kitchen?")


def test_whether_a_step_is_needed_or_what_if_it_fails_is_for_the_knowledge_base() -> None:
    assert asks_for_knowledge("the router changed, do I need to set it up again?")
    assert not is_request("do I need to set it up again?")
    assert asks_for_knowledge("y si nada de eso funciona?")
    assert asks_for_knowledge("what if that doesn't work?")
    assert asks_for_knowledge("ya lo reinicie y nada, q mas hacemos?")
    assert not asks_for_knowledge("how much do I have to pay this month?")


def test_whether_a_device_goes_or_how_it_is_reads_as_its_state() -> None:
    from tools.equivalents import tool_equivalents, with_document_words

    assert "funciona" in with_document_words("el parlante anda?", tool_equivalents())
    assert "estado" in with_document_words("como esta la camara", tool_equivalents())


def test_a_question_in_any_clause_or_offering_a_lesser_alternative_requests_nothing() -> None:
    assert not is_request("and do they give it all back? or do I lose some")
    assert not is_request("a repeated charge, is it given back whole or just a part")
    assert is_request("give me my money back")
    # "please clarify" asks to be told, it requests no change
    assert not is_request("how many days do I have to ask for a refund? please clarify")


def test_how_long_it_takes_and_where_money_given_back_goes_are_for_the_knowledge_base() -> None:
    assert asks_for_knowledge("and how long does that take")
    assert asks_for_knowledge("cuanto se tarda eso")
    assert asks_for_knowledge("y en cuantos dias llega")
    assert asks_for_knowledge("y a donde me llega el dinero")
    assert asks_for_knowledge("where does the money go?")
    assert asks_for_knowledge("hasta cuando tengo tiempo de reclamar un cargo")
    assert not asks_for_knowledge("where is my speaker?")


def test_a_statement_never_proposes_a_change_it_can_name_nothing_of(box: ToolBox) -> None:
    """A refund needs only a reason, free text: "I was charged twice" requests nothing, so a read
    of what it is about answers (a change with a closed value it names is still proposed)."""
    tools = [
        *TOOLS[:1],
        _tool("invoice", "The latest invoice and its charges.", ["a charge on my bill"]),
        _tool(
            "refund",
            "Open a refund request.",
            ["charged twice", "refund"],
            True,
            reason={"type": "string", "required": True},
        ),
    ]
    refunds = ToolBox(tools)
    chosen = refunds.choose("I was charged twice on my bill", Asked(writes=True, statement=True))
    assert chosen is not None and chosen["name"] == "invoice"
    chosen = refunds.choose("I was charged twice, refund it", Asked(writes=True))
    assert chosen is not None and chosen["name"] == "refund"
    chosen = box.choose("move the speaker to the kitchen", Asked(writes=True, statement=True))
    assert chosen is not None and chosen["name"] == "move_device"


def test_a_question_after_a_request_asks_about_it_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    reason = {"type": "string", "required": True}
    tools = [
        *TOOLS[:1],
        _tool("balance", "What the customer owes.", ["balance", "how much do I owe"]),
        _tool("refund", "Open a refund request.", ["refund", "give back"], True, reason=reason),
    ]
    model = OfflineChatModel().model_copy(update={"bound_tools": tools})
    for follow_up in ("and how long does that take?", "and do you give back all of it? or not"):
        messages = [
            HumanMessage("I was charged twice, refund it please"),
            AIMessage("Open a refund request?"),
            HumanMessage(follow_up),
        ]
        (call,) = model.invoke(messages).tool_calls
        assert call["name"] == "search_knowledge_base", follow_up


def test_a_question_naming_an_option_of_ones_own_gets_the_list(box: ToolBox) -> None:
    # "is deezer on my account?" names the service: the change is called without its options,
    # so it says what the account has (and asks which), never proposing to connect it.
    music = box.tool("music") or {}
    choice = box.choose("do I have deezer linked?", Asked(writes=False, own=True))
    assert choice is not None and choice["name"] == "music"
    assert box.without_options(music, {"service": "deezer", "operation": "connect"}) == {}
    # whether one may have it is what is possible, not what one has
    maybe = box.choose("can I have deezer on it?", Asked(writes=False, own=True))
    assert maybe is not None and maybe["name"] != "music"
    move = box.tool("move_device") or {}
    assert box.without_options(move, {"new_location": "kitchen", "device": "x"}) == {
        "new_location": "kitchen",
        "device": "x",
    }


def test_pa_and_para_name_where_a_thing_goes_only_before_a_room() -> None:
    names = {"bedroom": ["cuarto", "dormitorio"]}
    assert destination("mandalo pal dormitorio ahora", ROOMS, True, names) == "bedroom"
    assert destination("quiero la bocina para la kitchen", ROOMS, True, names) == "kitchen"
    assert destination("cuanto cuesta el plan para la empresa", ROOMS, True, names) is None
    # the room names where the thing is, not where it goes
    assert destination("igual para la bocina del dormitorio", ROOMS, True, names) is None


def test_the_same_change_again_for_another_thing_is_read_as_a_follow_up() -> None:
    from agents.offline_reading import repeats

    assert repeats("the same for the kitchen one")
    assert repeats("haz lo mismo con la bocina")
    assert repeats("igual con el de la sala")
    assert not repeats("sigue lo mismo")  # still the same: no thing after it
    assert not repeats("it's the same")


def test_a_change_asked_again_keeps_the_values_before_for_the_thing_named_now(
    box: ToolBox,
) -> None:
    volume = box.tool("set_volume") or {}
    carried = box.carried(volume, "same for the bedroom display", "set the kitchen speaker to 20")
    assert carried == {"volume": 20, "device": "bedroom display"}
    assert box.carried(volume, "same for the display", "turn it down") is None


def test_a_change_missing_its_level_is_called_without_it_when_asked(box: ToolBox) -> None:
    volume = box.tool("set_volume") or {}
    assert box.arguments(volume, "turn the speaker down a bit") is None
    assert "volume" not in (
        box.arguments(volume, "turn the speaker down", unnamed=True) or {"volume": 1}
    )


def test_a_number_word_counts_in_another_form() -> None:
    from agents.offline_values import parameter_value

    spec = {"type": "integer", "description": "The new volume, 0 (mute, silence, silencia) to 100."}
    assert parameter_value("volume", spec, "silencio al de la cocina porfa") == 0
    assert parameter_value("volume", spec, "ponlo mas suave") is None


def test_a_same_again_follow_up_repeats_the_change_for_the_thing_it_names() -> None:
    model = OfflineChatModel().model_copy(update={"bound_tools": TOOLS})
    messages = [
        HumanMessage("set the kitchen speaker volume to 20"),
        AIMessage("Set the volume of your kitchen speaker from 50 to 20?"),
        HumanMessage("now the same for the bedroom display"),
    ]
    (call,) = model.invoke(messages).tool_calls
    assert call["name"] == "set_volume"
    assert call["args"] == {"volume": 20, "device": "bedroom display"}


def test_a_follow_up_naming_only_a_thing_asks_the_same_read_of_it(box: ToolBox) -> None:
    assert box.names_only_things("and the one in the office?")
    assert not box.names_only_things("and can you move it to the office?")
    model = OfflineChatModel().model_copy(update={"bound_tools": TOOLS})
    messages = [
        HumanMessage("is the living room speaker online?"),
        AIMessage("Your speaker in the living room is online."),
        HumanMessage("and the one in the office?"),
    ]
    (call,) = model.invoke(messages).tool_calls
    assert call["name"] == "check_status" and "office" in call["args"]["device"]

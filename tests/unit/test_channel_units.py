"""Channel pieces without servers: masking, message rendering, text splitting, choices."""

from __future__ import annotations

from server.masking import mask_phone
from server.payloads import WebhookPayload, describe_message
from server.whatsapp import choices_payload, extract_choices, split_text


def test_phone_numbers_are_masked() -> None:
    assert mask_phone("15550001234") == "+155****1234"
    assert mask_phone("whatsapp:+15550001") == "+155*0001"
    assert mask_phone("1234") == "+****"
    assert "5550001234" not in mask_phone("15550001234")


def test_every_kind_of_message_becomes_text_for_the_agents() -> None:
    def one(kind: str, **body) -> str:
        payload = WebhookPayload.model_validate(
            {
                "entry": [
                    {
                        "changes": [
                            {
                                "value": {
                                    "metadata": {"phone_number_id": "1"},
                                    "messages": [{"from": "1555", "id": "m", "type": kind, **body}],
                                }
                            }
                        ]
                    }
                ]
            }
        )
        return describe_message(payload.entry[0].changes[0].value.messages[0])

    assert one("text", text={"body": "hi"}) == "hi"
    assert (
        one(
            "interactive",
            interactive={
                "type": "list_reply",
                "list_reply": {"id": "r", "title": "Premium", "description": "$29.99"},
            },
        )
        == "Premium - $29.99"
    )
    assert one("button", button={"text": "Yes", "payload": "Y"}) == "Yes"
    assert one("image", image={"id": "x", "caption": "my router"}) == "[image received] my router"
    assert one("document", document={"id": "x", "filename": "bill.pdf"}) == (
        "[document bill.pdf received]"
    )
    assert one("location", location={"latitude": 1, "longitude": 2, "name": "Home"}) == (
        "[location shared: Home]"
    )
    assert one("reaction", reaction={"message_id": "m0", "emoji": "👍"}) == "[reaction 👍]"
    assert one("hologram", hologram={"x": 1}) == "[unsupported message type: hologram]"


def test_long_text_splits_on_paragraphs_then_sentences() -> None:
    paragraph = "First sentence here. " * 100
    pieces = split_text(f"{paragraph}\n\n{paragraph}")
    assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)
    one_block = "Word " * 2000
    assert all(len(p) <= 4096 for p in split_text(one_block))
    assert split_text("short") == ["short"] and split_text("  ") == []


def test_offered_choices_become_buttons_or_a_list() -> None:
    short = extract_choices("Which plan?\n1. Basic\n2. Premium\n3. Enterprise")
    assert short is not None and short.options == ["Basic", "Premium", "Enterprise"]
    assert choices_payload("1555", short)["interactive"]["type"] == "button"
    long = extract_choices(
        "Pick a device:\n- Living room speaker\n- Kitchen speaker\n"
        "- Bedroom display\n- Office thermostat"
    )
    assert long is not None
    assert choices_payload("1555", long)["interactive"]["type"] == "list"
    assert extract_choices("No options here.") is None

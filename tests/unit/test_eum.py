"""End User Messaging Social, without the network: its SNS envelope, account files, routing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.accounts import AccountConfigError, AccountRegistry
from server.eum import ChannelSender, webhook_payload

EUM_ID = "phone-number-id-" + "0" * 32


def test_the_sns_envelope_carries_a_cloud_api_entry() -> None:
    entry = {"id": "waba", "changes": [{"field": "messages", "value": {"messages": []}}]}
    message = json.dumps({"context": {}, "whatsAppWebhookEntry": json.dumps(entry)})
    assert webhook_payload(message) == {"object": "whatsapp_business_account", "entry": [entry]}


def test_an_aws_eum_account_needs_its_phone_number_id_and_no_meta_token(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "- {account_id: b, account_name: B, phone_number_id: '100000000000777',"
        f" channel: aws_eum, eum_phone_number_id: {EUM_ID}}}\n"
    )
    account = AccountRegistry.load("100000000000001", "t", None, good).get("100000000000777")
    assert account is not None and account.channel == "aws_eum" and account.access_token == EUM_ID
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- {account_id: b, account_name: B, phone_number_id: '100000000000777', channel: aws_eum}\n"
    )
    with pytest.raises(AccountConfigError, match="eum_phone_number_id"):
        AccountRegistry.load("100000000000001", "t", None, bad)


class Recording:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def send(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str:
        self.calls.append(token)
        return "id"

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None:
        self.calls.append(token)

    async def download_media(self, token: str, media_id: str) -> tuple[bytes, str]:
        self.calls.append(token)
        return b"", ""


async def test_each_call_goes_to_the_channel_of_its_account() -> None:
    cloud, eum = Recording(), Recording()
    sender = ChannelSender(cloud, eum)  # type: ignore[arg-type]
    await sender.send("1", "meta-token", {})
    await sender.send("2", EUM_ID, {})
    await sender.mark_read("2", EUM_ID, "m")
    await sender.download_media("meta-token", "x")
    assert cloud.calls == ["meta-token", "meta-token"] and eum.calls == [EUM_ID, EUM_ID]

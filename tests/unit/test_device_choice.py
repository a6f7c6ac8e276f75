"""Which device a change means: only devices able to do it are candidates, and the question
that asks restates the request (no stores, no model)."""

from __future__ import annotations

from typing import Any

from demo.smart_home import SmartHomeActions
from stores import Customer, Device, ServiceLevel
from tools.actions import CallContext, Proposal
from tools.registry import ToolEnv

TEMPLATES = {
    "which_device": {"en": "Which device: {choices}?"},
    "which_device_volume": {"en": "Which device should I set to volume {volume}: {choices}?"},
    "volume_propose": {"en": "Set {device} from {current} to {volume}?"},
}


class _Customers:
    def __init__(self, customer: Customer) -> None:
        self.customer = customer

    def get_customer(self, customer_id: str) -> Customer | None:
        return self.customer if customer_id == self.customer.id else None

    def get_service_level(self, level: str) -> ServiceLevel:
        return ServiceLevel(
            level="enterprise",
            allowed_actions=["volume_control"],
            max_devices=10,
            support_priority="dedicated",
        )


def _actions(devices: list[Device], **settings: Any) -> SmartHomeActions:
    customer = Customer(
        id="c1", name="Ann", phone="+15550100", service_level="enterprise", devices=devices
    )
    env = ToolEnv("device_support", settings=settings, templates=TEMPLATES)
    return SmartHomeActions(_Customers(customer), env)  # type: ignore[arg-type]


SPEAKER = Device(id="d1", type="SmartSpeaker", name="Lobby", location="lobby")
CAMERA = Device(id="d2", type="SmartCamera", name="Door", location="entrance")
DISPLAY = Device(id="d3", type="SmartDisplay", name="Hub", location="kitchen")
CAPABLE = {"device_capabilities": {"volume_control": ["speaker", "display"]}}
ANN = CallContext(customer_id="c1")


def test_the_only_device_able_to_do_it_is_the_one_meant() -> None:
    proposal = _actions([SPEAKER, CAMERA], **CAPABLE).plan_volume(ANN, 30, "turn it to 30")
    assert isinstance(proposal, Proposal)
    assert proposal.arguments["device"] == "d1"


def test_the_question_lists_only_able_devices_and_restates_the_request() -> None:
    actions = _actions([SPEAKER, CAMERA, DISPLAY], **CAPABLE)
    asked = actions.plan_volume(ANN, 30, "")
    assert asked == "Which device should I set to volume 30: Lobby or Hub?"


def test_without_capabilities_in_the_config_every_device_is_a_candidate() -> None:
    asked = _actions([SPEAKER, CAMERA]).plan_volume(ANN, 30, "")
    assert asked == "Which device should I set to volume 30: Lobby or Door?"


def test_asked_with_no_service_it_says_which_ones_the_account_has_then_asks() -> None:
    customer = Customer(
        id="c1",
        name="Ann",
        phone="+15550100",
        service_level="enterprise",
        music_services=["deezer"],
    )
    templates = {
        "which_service": {"en": "Which music service: {choices}?"},
        "music_connected": {"en": "Connected to your account: {services}."},
    }
    env = ToolEnv(
        "device_support",
        settings={"music_services": {"deezer": {"en": "Deezer"}, "spotify": {"en": "Spotify"}}},
        templates=templates,
    )
    level = ServiceLevel(
        level="enterprise",
        allowed_actions=["music_services"],
        max_devices=10,
        support_priority="dedicated",
    )

    class _Store(_Customers):
        def get_service_level(self, level_name: str) -> ServiceLevel:
            return level

    actions = SmartHomeActions(_Store(customer), env)  # type: ignore[arg-type]
    asked = actions.plan_music(ANN, None)
    assert asked == "Connected to your account: Deezer. Which music service: Deezer or Spotify?"

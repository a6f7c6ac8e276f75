"""The demo business's device actions: validated, permission-checked, resolved against the record.

Each action has a `plan_*` step that validates the model's arguments and checks the customer's
tier, writing nothing: it returns a `Proposal` (a change), or a sentence for the customer (a
refusal, a question, or a read's answer). Running a change plans it again (the permission check
runs at execution time too) and then writes. Rooms, music services and every sentence come from
the agent's config (`tool_settings`, `templates`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from demo.devices import Choice, device_label, resolve_device
from stores import Customer, CustomerStore, Device, ServiceAction
from tools.actions import CallContext, Proposal
from tools.registry import ToolEnv
from tools.text import fold

TIER_ORDER = ("basic", "premium", "enterprise")
_EXPLICIT_ID = re.compile(r"[A-Za-z]+_\w+|[A-Za-z]+\d+")  # "dev_003", "speaker2": an id
MAX_TEXT = 200


class SmartHomeActions:
    """The device actions of one agent, bound to the customer store and the agent's config."""

    def __init__(self, customers: CustomerStore, env: ToolEnv) -> None:
        self.customers = customers
        self.env = env
        self.rooms = Choice.from_settings(env.settings.get("rooms") or {})
        self.music = Choice.from_settings(env.settings.get("music_services") or {})
        self.action_names: Mapping[str, Mapping[str, str]] = env.settings.get("action_names") or {}
        self.capabilities: Mapping[str, list[str]] = env.settings.get("device_capabilities") or {}

    def say(self, key: str, context: CallContext, **values: Any) -> str:
        return self.env.template(key, context.language, **values)

    # Checks shared by every action -----------------------------------------------------------

    def _customer(self, context: CallContext, action: ServiceAction) -> Customer | str:
        """The customer if their tier allows `action`, else the sentence refusing."""
        customer = self.customers.get_customer(context.customer_id) if context.customer_id else None
        if customer is None:
            return self.say("no_account", context)
        level = self.customers.get_service_level(customer.service_level)
        if level is not None and action in level.allowed_actions:
            return customer
        allowing = [
            tier
            for tier in TIER_ORDER
            if (other := self.customers.get_service_level(tier)) and action in other.allowed_actions
        ]
        names = self.action_names.get(action) or {}
        joiner = " y " if context.language == "es" else " and "
        return self.say(
            "not_allowed",
            context,
            action=names.get(context.language) or names.get("en") or action.replace("_", " "),
            plan=customer.service_level.title(),  # a plan's name, as the documents write it
            tiers=joiner.join(tier.title() for tier in allowing) or "-",
        )

    def _device(
        self,
        customer: Customer,
        reference: object,
        context: CallContext,
        action: ServiceAction | None = None,
        ask: str = "which_device",
        **values: Any,
    ) -> Device | str:
        """The device meant, or the question naming the candidates (`ask`, a template, given
        `values` too: the question restates the request). With `action`, only devices able to
        do it (`device_capabilities` in the config) are candidates: "set the volume" among a
        speaker, a thermostat and a camera means the speaker."""
        if not customer.devices:
            return self.say("no_devices", context)
        found = resolve_device(customer, reference, self.rooms)
        if isinstance(found, Device):
            return found
        able = [d for d in found if self.can(d, action)] if action else found
        found = able or found
        if len(found) == 1 and not (isinstance(reference, str) and _EXPLICIT_ID.search(reference)):
            # The only device (able to do it), and no id of another named: nothing to ask (the
            # proposal names the device before anything changes).
            return found[0]
        choices = self.rooms_or_devices([device_label(d) for d in found], context)
        if ask not in self.env.templates:  # a config without the restating question
            return self.say("which_device", context, choices=choices)
        return self.say(ask, context, choices=choices, **values)

    def can(self, device: Device, action: ServiceAction) -> bool:
        """Whether `device` can do `action`: its type names one of the kinds the config lists
        for it (every device can when the config lists none)."""
        kinds = self.capabilities.get(action)
        return not kinds or any(fold(kind) in fold(device.type) for kind in kinds)

    @staticmethod
    def rooms_or_devices(names: list[str], context: CallContext) -> str:
        joiner = " o " if context.language == "es" else " or "
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]

    def room_name(self, room: str, context: CallContext) -> str:
        return self.rooms.name(room, context.language)

    # Reads -------------------------------------------------------------------------------------

    def device_status(self, context: CallContext, device: object = "") -> str:
        customer = self._customer(context, "status_check")
        if isinstance(customer, str):
            return customer
        found = resolve_device(customer, device, self.rooms)
        targets = found if isinstance(found, list) else [found]  # a read may show several
        if not targets:
            return self.say("no_devices", context)
        return " ".join(
            self.say(
                "device_status",
                context,
                device=device_label(d),
                room=self.room_name(d.location, context),
                status=self.say(f"status_{d.status}", context)
                if d.status in ("online", "offline")
                else d.status,
                volume=d.volume,
            )
            for d in targets
        )

    def device_info(self, context: CallContext) -> str:
        customer = self._customer(context, "device_info")
        if isinstance(customer, str):
            return customer
        if not customer.devices:
            return self.say("no_devices", context)
        items = [
            self.say(
                "device_item",
                context,
                device=device_label(d),
                kind=d.type,
                room=self.room_name(d.location, context),
            )
            for d in customer.devices
        ]
        return self.say(
            "device_info", context, count=len(items), devices=self.rooms_or_devices(items, context)
        )

    # Changes -------------------------------------------------------------------------------------

    def plan_volume(
        self, context: CallContext, volume: object, device: object = ""
    ) -> Proposal | str:
        customer = self._customer(context, "volume_control")
        if isinstance(customer, str):
            return customer
        if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= 100:
            return self.say("volume_invalid", context)
        target = self._device(
            customer, device, context, "volume_control", "which_device_volume", volume=volume
        )
        if isinstance(target, str):
            return target
        values = {"device": device_label(target), "volume": volume, "current": target.volume}
        if target.volume == volume:
            return self.say("volume_same", context, **values)
        return Proposal(
            "set_volume",
            {"volume": volume, "device": target.id},
            self.say("volume_propose", context, **values),
            {"customer_id": customer.id},
        )

    def plan_relocation(
        self, context: CallContext, new_location: object, device: object = ""
    ) -> Proposal | str:
        customer = self._customer(context, "device_relocation")
        if isinstance(customer, str):
            return customer
        room = self.rooms.resolve(new_location)
        if room is None:
            return self.say("which_room", context, choices=self.rooms.listed(context.language))
        destination = self.room_name(room, context)
        target = self._device(
            customer, device, context, "device_relocation", "which_device_move", room=destination
        )
        if isinstance(target, str):
            return target
        values = {
            "device": device_label(target),
            "origin": self.room_name(target.location, context),
            "destination": self.room_name(room, context),
        }
        if target.location == room:
            return self.say("room_same", context, **values)
        return Proposal(
            "relocate_device",
            {"new_location": room, "device": target.id},
            self.say("relocate_propose", context, **values),
            {"customer_id": customer.id},
        )

    def plan_music(
        self, context: CallContext, service: object, operation: object = "connect"
    ) -> Proposal | str:
        customer = self._customer(context, "music_services")
        if isinstance(customer, str):
            return customer
        name = self.music.resolve(service)
        if name is None or operation not in ("connect", "disconnect"):
            return self.music_on_account(customer, context) + self.say(
                "which_service", context, choices=self.music.listed(context.language)
            )
        values = {"service": self.music.name(name, context.language)}
        connected = name in customer.music_services
        if operation == "connect" and connected:
            return self.say("music_already", context, **values)
        if operation == "disconnect" and not connected:
            return self.say("music_not_connected", context, **values)
        return Proposal(
            "manage_music_service",
            {"service": name, "operation": operation},
            self.say(f"music_{operation}_propose", context, **values),
            {"customer_id": customer.id},
        )

    def music_on_account(self, customer: Customer, context: CallContext) -> str:
        """Which music services the account has, before asking which one is meant: "what music
        do I have connected?" is answered by the question that asks it. "" without the
        templates."""
        names = [self.music.name(s, context.language) for s in customer.music_services]
        joined = self.rooms_or_devices(names, context) if names else ""
        key = "music_connected" if names else "music_none_connected"
        if key not in self.env.templates:
            return ""
        return self.say(key, context, services=joined) + " "

    def apply(self, proposal: Proposal | str, context: CallContext) -> str:
        """Write a planned change (planned again just now, so permissions were checked again)."""
        if isinstance(proposal, str):
            return proposal
        customer = self.customers.get_customer(str(proposal.details["customer_id"]))
        assert customer is not None
        args = proposal.arguments
        if proposal.tool == "manage_music_service":
            services = [s for s in customer.music_services if s != args["service"]]
            if args["operation"] == "connect":
                services.append(args["service"])
            self.customers.put_customer(customer.model_copy(update={"music_services": services}))
            key = f"music_{args['operation']}_done"
            return self.say(
                key, context, service=self.music.name(args["service"], context.language)
            )
        changes = (
            {"volume": args["volume"]}
            if proposal.tool == "set_volume"
            else {"location": args["new_location"]}
        )
        devices = [
            d.model_copy(update=changes) if d.id == args["device"] else d for d in customer.devices
        ]
        self.customers.put_customer(customer.model_copy(update={"devices": devices}))
        target = next(d for d in devices if d.id == args["device"])
        return self.say(
            "volume_done" if proposal.tool == "set_volume" else "relocate_done",
            context,
            device=device_label(target),
            volume=target.volume,
            destination=self.room_name(target.location, context),
        )


__all__ = ["SmartHomeActions"]

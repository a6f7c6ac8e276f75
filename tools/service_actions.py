"""Service actions on the customer's devices, each checked against the service level in code.

Whatever the model asks for, `authorize` runs first: an action missing from the tier's
`allowed_actions` is refused, and the refusal names the tiers that would allow it. The customer is
never taken from the model's arguments: it is injected from the graph state (`customer_id`).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from langchain_core.tools import BaseTool, tool
from langgraph.prebuilt import InjectedState

from stores import Customer, CustomerStore, Device, ServiceAction, ServiceLevel

TIER_ORDER = ("basic", "premium", "enterprise")

ACTION_NAMES: dict[ServiceAction, tuple[str, str]] = {
    "status_check": ("checking device status", "consultar el estado de dispositivos"),
    "volume_control": ("changing the volume", "cambiar el volumen"),
    "device_info": ("device information", "información de dispositivos"),
    "device_relocation": ("moving a device to another room", "mover un dispositivo a otra sala"),
    "music_services": ("music services", "servicios de música"),
    "multi_room_audio": ("multi-room audio", "audio multisala"),
    "custom_actions": ("custom actions", "acciones personalizadas"),
}

ROOMS: dict[str, tuple[str, ...]] = {
    "living_room": ("living room", "living", "lounge", "salon", "sala"),
    "kitchen": ("kitchen", "cocina"),
    "bedroom": ("bedroom", "dormitorio", "habitacion", "recamara", "cuarto"),
    "office": ("office", "study", "oficina", "despacho", "estudio"),
    "bathroom": ("bathroom", "bano"),
    "dining_room": ("dining room", "comedor"),
    "garage": ("garage", "garaje", "cochera"),
    "lobby": ("lobby", "reception", "recepcion", "vestibulo"),
    "meeting_room": ("meeting room", "sala de reuniones"),
    "entrance": ("entrance", "hall", "entrada"),
    "kids_room": ("kids room", "nursery", "cuarto de los ninos"),
}


# The customer comes from the graph state, never from the model's arguments.
CustomerId = Annotated[str | None, InjectedState("customer_id")]


class PermissionDeniedError(Exception):
    """The customer's tier does not include the action."""


def fold(text: str) -> str:
    """Lowercase without accents, for matching what customers type."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", " ")


def _say(customer: Customer | None, english: str, spanish: str) -> str:
    return spanish if customer is not None and customer.language == "es" else english


def _room_mentions(text: str) -> list[tuple[int, int, str]]:
    """(position, -length, room) of every room named in `text`."""
    folded = f" {fold(text)} "
    found = []
    for room, synonyms in ROOMS.items():
        for synonym in (room.replace("_", " "), *synonyms):
            for form in (f" {synonym} ", f" {synonym}s "):
                position = folded.find(form)
                if position >= 0:
                    found.append((position, -len(synonym), room))
    return sorted(found)


def normalize_room(text: str) -> str | None:
    """The room id (`bedroom`) named in free text (`el dormitorio`), longest synonym first."""
    mentions = _room_mentions(text)
    return min(mentions, key=lambda m: m[1])[2] if mentions else None


def rooms_in(text: str) -> set[str]:
    return {room for _, _, room in _room_mentions(text)}


def find_devices(customer: Customer, reference: str | None) -> list[Device]:
    """The devices `reference` names (id, name, type or room); all devices when it names none."""
    if not reference or not reference.strip():
        return list(customer.devices)
    folded = f" {fold(reference)} "
    rooms = rooms_in(reference)
    matches = [
        device
        for device in customer.devices
        if f" {fold(device.id)} " in folded
        or (device.name and fold(device.name) in folded)
        or device.location in rooms
    ]
    if matches:
        return matches
    by_type = [d for d in customer.devices if _type_words(d) & set(folded.split())]
    return by_type or list(customer.devices)


def _type_words(device: Device) -> set[str]:
    words = {fold(device.type), fold(device.type).removeprefix("smart")}
    synonyms = {
        "speaker": {"speaker", "altavoz", "bocina", "parlante"},
        "display": {"display", "pantalla", "screen"},
        "thermostat": {"thermostat", "termostato"},
        "camera": {"camera", "camara"},
    }
    for key, names in synonyms.items():
        if key in fold(device.type):
            words |= names
    return words


def _device_line(device: Device) -> str:
    label = device.name or device.type
    return f"{label} ({device.id}, {device.type}) in {device.location}"


class ServiceActions:
    """The device tools of one deployment, bound to its customer store."""

    def __init__(self, customers: CustomerStore) -> None:
        self.customers = customers

    def authorize(self, customer: Customer, action: ServiceAction) -> ServiceLevel:
        """The customer's tier, if it includes `action`; else `PermissionDeniedError` explaining."""
        level = self.customers.get_service_level(customer.service_level)
        if level is not None and action in level.allowed_actions:
            return level
        allowing = [
            tier
            for tier in TIER_ORDER
            if (other := self.customers.get_service_level(tier)) and action in other.allowed_actions
        ]
        english, spanish = ACTION_NAMES[action]
        tiers_en = " and ".join(allowing) or "no"
        tiers_es = " y ".join(allowing) or "ningún"
        raise PermissionDeniedError(
            _say(
                customer,
                f"Not done: {english} ({action}) is not included in your {customer.service_level} "
                f"plan. It is available on the {tiers_en} plan{'s' if len(allowing) > 1 else ''}.",
                f"No realizado: {spanish} ({action}) no está incluido en tu plan "
                f"{customer.service_level}. Está disponible en el plan {tiers_es}.",
            )
        )

    def _customer(self, customer_id: str | None) -> Customer | None:
        return self.customers.get_customer(customer_id) if customer_id else None

    def _run(
        self, customer_id: str | None, action: ServiceAction
    ) -> tuple[Customer | None, str | None]:
        customer = self._customer(customer_id)
        if customer is None:
            return None, (
                "No customer account is linked to this WhatsApp number, so no device action can "
                "run. Ask the customer to write from the number on their account."
            )
        try:
            self.authorize(customer, action)
        except PermissionDeniedError as denial:
            return customer, str(denial)
        return customer, None

    def _update_device(self, customer: Customer, device_id: str, **changes: object) -> None:
        """Write the customer back with one device changed (validated against the tier)."""
        devices = [
            d.model_copy(update=changes) if d.id == device_id else d for d in customer.devices
        ]
        self.customers.put_customer(customer.model_copy(update={"devices": devices}))

    def check_device_status(self, customer_id: str | None, device: str = "") -> str:
        customer, refusal = self._run(customer_id, "status_check")
        if refusal or customer is None:
            return refusal or ""
        devices = find_devices(customer, device)
        if not devices:
            return _say(customer, "You have no registered devices.", "No tienes dispositivos.")
        lines = [f"{_device_line(d)}: {d.status}, volume {d.volume}" for d in devices]
        return _say(customer, "Device status: ", "Estado de dispositivos: ") + "; ".join(lines)

    def get_device_info(self, customer_id: str | None, device: str = "") -> str:
        customer, refusal = self._run(customer_id, "device_info")
        if refusal or customer is None:
            return refusal or ""
        lines = [_device_line(d) for d in find_devices(customer, device)]
        header = _say(
            customer,
            f"{customer.name} has {len(customer.devices)} device(s) on the "
            f"{customer.service_level} plan: ",
            f"{customer.name} tiene {len(customer.devices)} dispositivo(s) en el plan "
            f"{customer.service_level}: ",
        )
        return header + "; ".join(lines)

    def set_volume(self, customer_id: str | None, volume: int, device: str = "") -> str:
        customer, refusal = self._run(customer_id, "volume_control")
        if refusal or customer is None:
            return refusal or ""
        if not 0 <= volume <= 100:
            return _say(customer, "Volume must be between 0 and 100.", "El volumen va de 0 a 100.")
        targets = find_devices(customer, device)[:1]
        if not targets:
            return _say(customer, "You have no registered devices.", "No tienes dispositivos.")
        target = targets[0]
        self._update_device(customer, target.id, volume=volume)
        return _say(
            customer,
            f"Done: the volume of {_device_line(target)} is now {volume}.",
            f"Listo: el volumen de {_device_line(target)} ahora es {volume}.",
        )

    def relocate_device(self, customer_id: str | None, new_location: str, device: str = "") -> str:
        customer, refusal = self._run(customer_id, "device_relocation")
        if refusal or customer is None:
            return refusal or ""
        room = normalize_room(new_location) or fold(new_location).strip().replace(" ", "_")
        if not room:
            return _say(customer, "Which room should it go to?", "¿A qué sala lo movemos?")
        candidates = [d for d in find_devices(customer, device) if d.location != room]
        if not candidates:
            return _say(
                customer,
                f"That device is already in {room}.",
                f"Ese dispositivo ya está en {room}.",
            )
        target = candidates[0]
        self._update_device(customer, target.id, location=room)
        return _say(
            customer,
            f"Done: {target.name or target.type} ({target.id}) moved from {target.location} "
            f"to {room}.",
            f"Listo: {target.name or target.type} ({target.id}) se movió de {target.location} "
            f"a {room}.",
        )

    def manage_music_service(
        self, customer_id: str | None, service: str, operation: str = "connect"
    ) -> str:
        customer, refusal = self._run(customer_id, "music_services")
        if refusal or customer is None:
            return refusal or ""
        name = fold(service).strip().replace(" ", "_")
        connected = [s for s in customer.music_services if s != name]
        if operation == "connect":
            connected.append(name)
        self.customers.put_customer(customer.model_copy(update={"music_services": connected}))
        verb_en = "connected to" if operation == "connect" else "disconnected from"
        verb_es = "conectado a" if operation == "connect" else "desconectado de"
        return _say(
            customer,
            f"Done: {name} is {verb_en} your account. Music services: "
            f"{', '.join(connected) or 'none'}.",
            f"Listo: {name} quedó {verb_es} tu cuenta. Servicios de música: "
            f"{', '.join(connected) or 'ninguno'}.",
        )

    def tools(self) -> list[BaseTool]:
        """The LangChain tools; `customer_id` is injected from the graph state."""
        actions = self

        @tool
        def check_device_status(customer_id: CustomerId, device: str = "") -> str:
            """Check whether the customer's devices are online, and their volume.

            device: which device, as the customer named it (name, type or room); empty for all.
            """
            return actions.check_device_status(customer_id, device)

        @tool
        def get_device_info(customer_id: CustomerId, device: str = "") -> str:
            """List the customer's devices: name, id, type and room; what devices do I have.

            device: which device, as the customer named it; empty for all.
            """
            return actions.get_device_info(customer_id, device)

        @tool
        def set_volume(volume: int, customer_id: CustomerId, device: str = "") -> str:
            """Set the volume of a speaker or display (0-100); turn the volume up or down.

            volume: the new volume, 0 to 100.
            device: which device, as the customer named it; empty for the first one.
            """
            return actions.set_volume(customer_id, volume, device)

        @tool
        def relocate_device(new_location: str, customer_id: CustomerId, device: str = "") -> str:
            """Move a device to another room of the home or office.

            new_location: the room to move it to, e.g. bedroom.
            device: which device, as the customer named it; empty for the first one.
            """
            return actions.relocate_device(customer_id, new_location, device)

        @tool
        def manage_music_service(
            service: str,
            customer_id: CustomerId,
            operation: Literal["connect", "disconnect"] = "connect",
        ) -> str:
            """Connect or disconnect a music service (Spotify, Apple Music, Deezer) to the account.

            service: the music service, e.g. spotify.
            operation: connect or disconnect.
            """
            return actions.manage_music_service(customer_id, service, operation)

        examples = [
            (
                check_device_status,
                [
                    "is my speaker online",
                    "status of my devices",
                    "is it offline",
                    "estado de mi altavoz",
                    "está conectado",
                    "funciona mi dispositivo",
                ],
            ),
            (
                get_device_info,
                [
                    "what devices do I have",
                    "device info",
                    "list my devices",
                    "qué dispositivos tengo",
                    "información del dispositivo",
                    "mis dispositivos",
                ],
            ),
            (
                set_volume,
                [
                    "set the volume to 30",
                    "turn the volume down",
                    "volume up",
                    "louder",
                    "pon el volumen en 30",
                    "baja el volumen",
                    "sube el volumen",
                ],
            ),
            (
                relocate_device,
                [
                    "move my speaker to the bedroom",
                    "relocate the display",
                    "move it to the kitchen",
                    "mueve mi altavoz al dormitorio",
                    "cambia la pantalla de sala",
                    "mover a la cocina",
                ],
            ),
            (
                manage_music_service,
                [
                    "connect spotify",
                    "link apple music",
                    "disconnect deezer",
                    "music service",
                    "conecta spotify",
                    "vincular apple music",
                    "servicio de música",
                ],
            ),
        ]
        for service_tool, phrases in examples:
            service_tool.metadata = {"examples": phrases}
        return [service_tool for service_tool, _ in examples]

"""Meta's WhatsApp Cloud API webhook payloads, parsed with pydantic.

Every model allows extra fields and every message `type` is a plain string: a new type or field
from Meta is carried along, never a 500. `describe_message` turns any message into the text the
agents read (and says what arrived when it is not text).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Metadata(_Open):
    display_phone_number: str | None = None
    phone_number_id: str


class Profile(_Open):
    name: str | None = None


class Contact(_Open):
    wa_id: str | None = None
    profile: Profile | None = None


class Text(_Open):
    body: str = ""


class Media(_Open):
    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class Location(_Open):
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    address: str | None = None
    url: str | None = None


class Reply(_Open):
    id: str | None = None
    title: str | None = None
    description: str | None = None


class Interactive(_Open):
    type: str | None = None
    button_reply: Reply | None = None
    list_reply: Reply | None = None
    nfm_reply: dict[str, Any] | None = None


class Button(_Open):
    text: str | None = None
    payload: str | None = None


class Reaction(_Open):
    message_id: str | None = None
    emoji: str | None = None


class OrderItem(_Open):
    product_retailer_id: str | None = None
    quantity: int | str | None = None
    item_price: float | str | None = None
    currency: str | None = None


class Order(_Open):
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[OrderItem] = Field(default_factory=list)


class System(_Open):
    body: str | None = None
    type: str | None = None
    new_wa_id: str | None = None


class SharedContactName(_Open):
    formatted_name: str | None = None


class SharedContactPhone(_Open):
    phone: str | None = None


class SharedContact(_Open):
    name: SharedContactName | None = None
    phones: list[SharedContactPhone] = Field(default_factory=list)


class InboundMessage(_Open):
    from_: str = Field(alias="from")
    id: str
    timestamp: str | None = None
    type: str = "unknown"
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    reaction: Reaction | None = None
    order: Order | None = None
    system: System | None = None
    referral: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None

    @property
    def media(self) -> Media | None:
        return self.image or self.audio or self.video or self.document or self.sticker


class StatusError(_Open):
    code: int | None = None
    title: str | None = None
    message: str | None = None


class Status(_Open):
    id: str
    status: str
    timestamp: str | None = None
    recipient_id: str | None = None
    errors: list[StatusError] = Field(default_factory=list)
    biz_opaque_callback_data: str | None = None


class ChangeValue(_Open):
    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[InboundMessage] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)


class Change(_Open):
    field: str | None = None
    value: ChangeValue


class Entry(_Open):
    id: str | None = None
    changes: list[Change] = Field(default_factory=list)


class WebhookPayload(_Open):
    object: str | None = None
    entry: list[Entry] = Field(default_factory=list)


MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
NO_REPLY_TYPES = ("reaction", "system")


def describe_message(message: InboundMessage) -> str:
    """The text an agent reads for any message type."""
    kind = message.type
    if kind == "text" and message.text:
        return message.text.body
    if kind == "interactive" and message.interactive:
        reply = message.interactive.button_reply or message.interactive.list_reply
        if reply:
            return " - ".join(p for p in (reply.title, reply.description) if p) or (reply.id or "")
        return "[interactive reply]"
    if kind == "button" and message.button:
        return message.button.text or message.button.payload or "[button]"
    if kind in MEDIA_TYPES and message.media:
        caption = message.media.caption or ""
        name = f" {message.media.filename}" if message.media.filename else ""
        return f"[{kind}{name} received] {caption}".strip()
    if kind == "location" and message.location:
        place = ", ".join(p for p in (message.location.name, message.location.address) if p)
        coordinates = f"{message.location.latitude}, {message.location.longitude}"
        return f"[location shared: {place or coordinates}]"
    if kind == "contacts" and message.contacts:
        people = "; ".join(
            f"{(c.name.formatted_name if c.name else None) or 'contact'} "
            f"{', '.join(p.phone or '' for p in c.phones)}".strip()
            for c in message.contacts
        )
        return f"[contact shared: {people}]"
    if kind == "order" and message.order:
        items = ", ".join(
            f"{i.quantity} x {i.product_retailer_id}" for i in message.order.product_items
        )
        return f"[order: {items}] {message.order.text or ''}".strip()
    if kind == "reaction" and message.reaction:
        return f"[reaction {message.reaction.emoji or 'removed'}]"
    if kind == "system" and message.system:
        return f"[system: {message.system.body or message.system.type}]"
    if message.referral:
        return f"[referral from an ad] {message.text.body if message.text else ''}".strip()
    return f"[unsupported message type: {kind}]"

"""Typed records of the business tables, with the validation rules of the service-bot data model."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

ServiceLevelName = Literal["basic", "premium", "enterprise"]
SupportPriority = Literal["standard", "priority", "dedicated"]
ServiceAction = Literal[
    "status_check",
    "volume_control",
    "device_info",
    "device_relocation",
    "music_services",
    "multi_room_audio",
    "custom_actions",
]
# `internal`: a record of the system's own (a handoff state change), never sent or received.
Direction = Literal["inbound", "outbound", "internal"]
# `human_agent`: a person of the business writing in the conversation (handoff).
Role = Literal["user", "assistant", "human_agent", "system"]

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_PHONE = re.compile(r"^\+[1-9]\d{5,14}$")


def _iso_timestamp(value: str) -> str:
    """Accept ISO-8601 timestamps only (`2024-01-15T10:30:00.000Z`), with a timezone."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone; use UTC, e.g. 2024-01-15T10:30:00.000Z")
    return value


def _e164(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError(f"{value!r} is not an E.164 phone number such as +15550001")
    return value


IsoTimestamp = Annotated[str, AfterValidator(_iso_timestamp)]
PhoneNumber = Annotated[str, AfterValidator(_e164)]


def utc_now_iso() -> str:
    """Now, as the tables store time: ISO-8601 UTC with milliseconds and a `Z`."""
    return format_timestamp(datetime.now(UTC))


def format_timestamp(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class Device(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: NonEmptyText
    type: NonEmptyText
    location: NonEmptyText
    name: str | None = None
    status: str = "online"
    volume: int = Field(default=50, ge=0, le=100)


class Customer(BaseModel):
    """A customer of the business, found by id or by WhatsApp phone number."""

    model_config = ConfigDict(extra="forbid")

    id: NonEmptyText
    name: NonEmptyText
    phone: PhoneNumber
    service_level: ServiceLevelName
    devices: list[Device] = Field(default_factory=list)
    language: Literal["en", "es"] = "en"
    music_services: list[str] = Field(default_factory=list)
    # The business account (its WhatsApp phone_number_id) this customer belongs to; unset: the
    # deployment's default account (the demo customers).
    business_account_id: str | None = None
    created_at: IsoTimestamp = Field(default_factory=utc_now_iso)
    updated_at: IsoTimestamp = Field(default_factory=utc_now_iso)


class ServiceLevel(BaseModel):
    """What a tier may do: the permission check of service actions reads this."""

    model_config = ConfigDict(extra="forbid")

    level: ServiceLevelName
    allowed_actions: list[ServiceAction] = Field(min_length=1)
    max_devices: int = Field(ge=1)
    support_priority: SupportPriority


class ConversationMessage(BaseModel):
    """One inbound or outbound message, as logged in the conversations table."""

    model_config = ConfigDict(extra="forbid")

    user_id: Annotated[str, StringConstraints(pattern=r"^whatsapp:\+\d{6,15}$")]
    timestamp: IsoTimestamp = Field(default_factory=utc_now_iso)
    session_id: NonEmptyText
    message_id: NonEmptyText
    direction: Direction
    role: Role
    message_type: NonEmptyText = "text"
    content: NonEmptyText
    agent_id: str | None = None
    model_id: str | None = None
    processing_time_ms: int | None = Field(default=None, ge=0)
    tokens_used: int | None = Field(default=None, ge=0)
    status: str | None = None
    status_rank: int | None = None
    status_error_code: int | None = None
    # Meta's ids of the sent message (one per piece), each with its alias guard item.
    wamids: list[str] = Field(default_factory=list)
    escalation_triggered: bool = False
    # The router's confidence in the agent it chose (from `metadata.route_confidence`).
    confidence_score: float | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    # The business account (phone_number_id) the conversation took place with.
    business_account_id: str | None = None
    ttl: int | None = None


class UserProfile(BaseModel):
    """A WhatsApp user: whether they accept messages ("STOP"/"BAJA" opts out), since when."""

    model_config = ConfigDict(extra="forbid")

    user_id: Annotated[str, StringConstraints(pattern=r"^whatsapp:\+\d{6,15}$")]
    whatsapp_number: str
    opted_in: bool = True
    # Business accounts (phone_number_ids) this user opted out of ("STOP" to that number).
    opted_out_accounts: set[str] = Field(default_factory=set)
    language_preference: Literal["en", "es"] | None = None
    first_interaction_date: IsoTimestamp = Field(default_factory=utc_now_iso)
    updated_at: IsoTimestamp = Field(default_factory=utc_now_iso)


def whatsapp_user_id(wa_id: str) -> str:
    """The conversations table's partition key for a WhatsApp number (`whatsapp:+<digits>`)."""
    digits = wa_id.removeprefix("whatsapp:").lstrip("+")
    return f"whatsapp:+{digits}"

"""Business accounts (tenancy by `metadata.phone_number_id`).

The default account comes from `WHATSAPP_PHONE_NUMBER_ID` / `WHATSAPP_ACCESS_TOKEN`; more come from
`BUSINESS_ACCOUNTS_FILE` (the seed's BUSINESS_ACCOUNT entity), each with its number, token (read
from an environment variable, never stored in the file) and agents folder.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class AccountConfigError(ValueError):
    """The business-accounts file is invalid; the message names the file and field."""


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$"
Channel = Literal["cloud_api", "aws_eum"]
EUM_PHONE_NUMBER_ID = r"^phone-number-id-[0-9a-f]{32}$"


class HandoffTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    language: str = "en"
    parameters: list[str] = Field(default_factory=list)


class BusinessAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    account_name: str
    phone_number_id: Annotated[str, Field(pattern=r"^\d{5,20}$")]
    access_token: str = Field(repr=False)
    agents_dir: Path | None = None
    status: str = "active"
    # Meta's throughput cap of this number (80/s by default, up to 1,000 on higher tiers).
    messages_per_second: Annotated[float, Field(gt=0, le=1000)] = 80.0
    # When people answer (handoff): weekday (mon..sun) -> "HH:MM-HH:MM", in `timezone`. Unset:
    # always.
    business_hours: dict[Weekday, Annotated[str, Field(pattern=HOURS)]] | None = None
    timezone: str = "UTC"
    # The approved template the inbox offers outside the 24-hour window.
    handoff_template: HandoffTemplate | None = None
    # How the number is connected: Meta's Cloud API (webhook + Graph API) or AWS End User
    # Messaging Social (SNS events + SendWhatsAppMessage; `access_token` is then the number's
    # EUM id, `phone-number-id-...`: AWS credentials authenticate the calls).
    channel: Channel = "cloud_api"

    def open_at(self, moment: datetime) -> bool:
        """Whether people answer at `moment` (always, without business hours)."""
        if self.business_hours is None:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone))
        hours = self.business_hours.get(WEEKDAYS[local.weekday()])
        if hours is None:
            return False
        start, end = hours.split("-")
        return start <= local.strftime("%H:%M") < end

    def hours_text(self) -> str:
        if self.business_hours is None:
            return ""
        days = [
            f"{day} {self.business_hours[day]}" for day in WEEKDAYS if day in self.business_hours
        ]
        return f"{', '.join(days)} ({self.timezone})"


class _AccountEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    account_name: str
    phone_number_id: Annotated[str, Field(pattern=r"^\d{5,20}$")]
    access_token_env: str | None = None
    channel: Channel = "cloud_api"
    eum_phone_number_id: Annotated[str, Field(pattern=EUM_PHONE_NUMBER_ID)] | None = None

    @model_validator(mode="after")
    def _credential_for_the_channel(self) -> _AccountEntry:
        if self.channel == "aws_eum" and self.eum_phone_number_id is None:
            raise ValueError("channel aws_eum needs eum_phone_number_id (phone-number-id-...)")
        if self.channel == "cloud_api" and self.access_token_env is None:
            raise ValueError("channel cloud_api needs access_token_env")
        return self

    agents_dir: Path | None = None
    status: str = "active"
    messages_per_second: Annotated[float, Field(gt=0, le=1000)] = 80.0
    business_hours: dict[Weekday, Annotated[str, Field(pattern=HOURS)]] | None = None
    timezone: str = "UTC"
    handoff_template: HandoffTemplate | None = None


class AccountRegistry:
    def __init__(self, accounts: list[BusinessAccount]) -> None:
        self._by_number = {a.phone_number_id: a for a in accounts if a.status == "active"}

    def get(self, phone_number_id: str | None) -> BusinessAccount | None:
        return self._by_number.get(phone_number_id or "")

    def all(self) -> list[BusinessAccount]:
        return list(self._by_number.values())

    @classmethod
    def load(
        cls,
        default_number: str,
        default_token: str,
        default_agents_dir: Path | None,
        accounts_file: Path | None,
        *,
        default_messages_per_second: float = 80.0,
        require_tokens: bool = True,
    ) -> AccountRegistry:
        """The default account and those of `accounts_file`. `require_tokens=False`: a process
        that never calls the Graph API (the webhook) loads the accounts without their tokens, so
        it needs no right to read them (on AWS they come from Secrets Manager)."""
        accounts = [
            BusinessAccount(
                account_id="default",
                account_name="Default business",
                phone_number_id=default_number,
                access_token=default_token,
                agents_dir=default_agents_dir,
                messages_per_second=default_messages_per_second,
            )
        ]
        if accounts_file is not None:
            accounts += _load_file(accounts_file, require_tokens=require_tokens)
            _refuse_duplicates(accounts_file, accounts)
        return cls(accounts)


def _refuse_duplicates(path: Path, accounts: list[BusinessAccount]) -> None:
    """One account per phone number id and per account id; the default's number is taken."""
    numbers: dict[str, str] = {}
    ids: set[str] = set()
    for index, account in enumerate(accounts):
        entry = f"{index - 1}" if index else "default"
        owner = numbers.get(account.phone_number_id)
        if owner is not None:
            what = (
                "is the default account's WHATSAPP_PHONE_NUMBER_ID"
                if owner == "default"
                else f"is already used by account {owner!r}"
            )
            raise AccountConfigError(
                f"{path}: {entry}.phone_number_id: {account.phone_number_id} {what}"
            )
        if account.account_id in ids:
            raise AccountConfigError(
                f"{path}: {entry}.account_id: {account.account_id!r} is already used"
            )
        numbers[account.phone_number_id] = account.account_id
        ids.add(account.account_id)


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except UnicodeDecodeError:
        raise AccountConfigError(f"{path}: not a text (UTF-8) YAML file") from None
    except OSError as error:
        raise AccountConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        reason = str(error).splitlines()[0] if str(error) else "invalid YAML"
        raise AccountConfigError(f"{path}: not valid YAML: {reason}") from None


def _load_file(path: Path, *, require_tokens: bool = True) -> list[BusinessAccount]:
    data = _read(path)
    if data is None or data == []:
        raise AccountConfigError(
            f"{path}: no accounts in the file; list at least one, or unset BUSINESS_ACCOUNTS_FILE"
        )
    if not isinstance(data, list):
        raise AccountConfigError(f"{path}: expected a list of accounts")
    accounts = []
    for index, raw in enumerate(data):
        try:
            entry = _AccountEntry.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(
                f"{index}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise AccountConfigError(f"{path}: {problems}") from None
        token = (
            entry.eum_phone_number_id
            if entry.channel == "aws_eum"
            else os.environ.get(entry.access_token_env or "")
        )
        if not token and require_tokens:
            raise AccountConfigError(
                f"{path}: {index}.access_token_env: environment variable "
                f"{entry.access_token_env} is not set"
            )
        folder = entry.agents_dir
        if folder is not None and not folder.is_absolute():
            folder = (path.parent / folder).resolve()
        if folder is not None and not folder.is_dir():
            raise AccountConfigError(f"{path}: {index}.agents_dir: folder {folder} not found")
        accounts.append(
            BusinessAccount(
                account_id=entry.account_id,
                account_name=entry.account_name,
                phone_number_id=entry.phone_number_id,
                access_token=token or "",
                agents_dir=folder,
                status=entry.status,
                messages_per_second=entry.messages_per_second,
                business_hours=entry.business_hours,
                timezone=entry.timezone,
                handoff_template=entry.handoff_template,
                channel=entry.channel,
            )
        )
    return accounts

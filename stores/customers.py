"""Customers and service levels (the service-bot data model), validated on every write."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from stores.codec import from_item as _from_item
from stores.codec import to_item as _to_item
from stores.models import Customer, ServiceLevel, utc_now_iso
from stores.schema import PHONE_INDEX


class RecordValidationError(ValueError):
    """A record breaks a validation rule; the message names the table, field and reason."""


def _describe(kind: str, error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or kind
        parts.append(f"{field}: {item['msg'].removeprefix('Value error, ')}")
    return f"invalid {kind}: " + "; ".join(parts)


def validate_customer(data: dict[str, Any] | Customer) -> Customer:
    """Parse a customer, raising `RecordValidationError` that names each bad field."""
    try:
        return data if isinstance(data, Customer) else Customer.model_validate(data)
    except ValidationError as error:
        raise RecordValidationError(_describe("customer", error)) from None


def validate_service_level(data: dict[str, Any] | ServiceLevel) -> ServiceLevel:
    try:
        return data if isinstance(data, ServiceLevel) else ServiceLevel.model_validate(data)
    except ValidationError as error:
        raise RecordValidationError(_describe("service level", error)) from None


class CustomerStore:
    """Typed access to `<prefix>customers` and `<prefix>service-levels`."""

    def __init__(
        self,
        dynamodb: Any,
        customers_table: str,
        service_levels_table: str,
        default_account: str | None = None,
    ) -> None:
        self._db = dynamodb
        self.customers_table = customers_table
        self.service_levels_table = service_levels_table
        # The account that owns customers recorded without `business_account_id`.
        self.default_account = default_account

    def put_service_level(self, level: ServiceLevel | dict[str, Any]) -> ServiceLevel:
        record = validate_service_level(level)
        self._db.put_item(TableName=self.service_levels_table, Item=_to_item(record.model_dump()))
        return record

    def get_service_level(self, level: str) -> ServiceLevel | None:
        response = self._db.get_item(
            TableName=self.service_levels_table, Key=_to_item({"level": level})
        )
        return ServiceLevel(**_from_item(response["Item"])) if "Item" in response else None

    def put_customer(self, customer: Customer | dict[str, Any]) -> Customer:
        """Write a customer after the rules: a known service level, and devices within its limit."""
        record = validate_customer(customer)
        level = self.get_service_level(record.service_level)
        if level is None:
            raise RecordValidationError(
                f"invalid customer: service_level: {record.service_level!r} is not defined in "
                f"{self.service_levels_table} (run `wam db seed`)"
            )
        if len(record.devices) > level.max_devices:
            raise RecordValidationError(
                f"invalid customer: devices: {len(record.devices)} devices exceed the "
                f"{level.level} limit of {level.max_devices}"
            )
        record = record.model_copy(update={"updated_at": utc_now_iso()})
        self._db.put_item(TableName=self.customers_table, Item=_to_item(record.model_dump()))
        return record

    def get_customer(self, customer_id: str) -> Customer | None:
        response = self._db.get_item(
            TableName=self.customers_table, Key=_to_item({"id": customer_id}), ConsistentRead=True
        )
        return Customer(**_from_item(response["Item"])) if "Item" in response else None

    def find_by_phone(self, phone: str, account: str | None = None) -> Customer | None:
        """The customer whose WhatsApp number is `phone` (`+15550001` or `15550001`); with
        `account`, only a customer of that business account (tenancy: a number that is John at
        one business is a stranger at another)."""
        normalized = "+" + phone.removeprefix("whatsapp:").lstrip("+")
        response = self._db.query(
            TableName=self.customers_table,
            IndexName=PHONE_INDEX,
            KeyConditionExpression="phone = :p",
            ExpressionAttributeValues={":p": {"S": normalized}},
        )
        for item in response["Items"]:
            found = _from_item(item)
            owner = found.get("business_account_id") or self.default_account
            if account is None or owner == account:
                # The GSI is eventually consistent; read the record for the latest devices.
                return self.get_customer(found["id"])
        return None

    def list_customers(self) -> list[Customer]:
        customers: list[Customer] = []
        for page in self._db.get_paginator("scan").paginate(TableName=self.customers_table):
            customers.extend(Customer(**_from_item(item)) for item in page["Items"])
        return sorted(customers, key=lambda c: c.id)

    async def alist_customers(self) -> list[Customer]:
        return await asyncio.to_thread(self.list_customers)

    async def aget_customer(self, customer_id: str) -> Customer | None:
        return await asyncio.to_thread(self.get_customer, customer_id)

    async def afind_by_phone(self, phone: str, account: str | None = None) -> Customer | None:
        return await asyncio.to_thread(self.find_by_phone, phone, account)

    async def aget_service_level(self, level: str) -> ServiceLevel | None:
        return await asyncio.to_thread(self.get_service_level, level)

    async def aput_customer(self, customer: Customer | dict[str, Any]) -> Customer:
        return await asyncio.to_thread(self.put_customer, customer)

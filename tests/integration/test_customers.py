"""Customers and service levels: seed data, lookups, and the validation rules on write."""

from __future__ import annotations

import re

import pytest

from stores import RecordValidationError, Stores, demo_customers, seed_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seeded(stores: Stores) -> Stores:
    seed_demo(stores.customers)
    return stores


def test_seed_loads_every_tier_and_customer(seeded: Stores) -> None:
    levels = {
        name: seeded.customers.get_service_level(name)
        for name in ("basic", "premium", "enterprise")
    }
    assert levels["premium"] is not None
    assert levels["premium"].allowed_actions == [
        "status_check",
        "volume_control",
        "device_info",
        "device_relocation",
        "music_services",
    ]
    assert levels["premium"].max_devices == 3
    assert "device_relocation" not in levels["basic"].allowed_actions
    customers = seeded.customers.list_customers()
    assert {c.service_level for c in customers} == {"basic", "premium", "enterprise"}
    assert {c.language for c in customers} == {"en", "es"}
    assert len(customers) == len(demo_customers())


def test_seed_is_idempotent(seeded: Stores) -> None:
    before = seeded.customers.list_customers()
    seed_demo(seeded.customers)
    assert [c.id for c in seeded.customers.list_customers()] == [c.id for c in before]


def test_find_customer_by_whatsapp_number(seeded: Stores) -> None:
    for phone in ("+15550002", "15550002", "whatsapp:+15550002"):
        customer = seeded.customers.find_by_phone(phone)
        assert customer is not None and customer.id == "cust_002"
    assert seeded.customers.find_by_phone("+19999999999") is None


def _customer(**changes):
    base = {
        "id": "cust_x",
        "name": "Test",
        "phone": "+15559999",
        "service_level": "basic",
        "devices": [{"id": "d1", "type": "SmartSpeaker", "location": "office"}],
    }
    return base | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"service_level": "gold"}, "service_level: Input should be 'basic', 'premium' or"),
        ({"name": "  "}, "name: String should have at least 1 character"),
        ({"phone": "555"}, "phone: '555' is not an E.164 phone number"),
        ({"created_at": "15/01/2024"}, "created_at: '15/01/2024' is not an ISO-8601 timestamp"),
        ({"devices": [{"id": "d1", "type": "", "location": "x"}]}, "devices.0.type"),
    ],
)
def test_invalid_customer_is_refused_naming_the_field(seeded: Stores, changes, message) -> None:
    with pytest.raises(RecordValidationError, match=re.escape(message)):
        seeded.customers.put_customer(_customer(**changes))
    assert seeded.customers.get_customer("cust_x") is None


def test_device_count_within_the_tier_limit(seeded: Stores) -> None:
    devices = [{"id": f"d{i}", "type": "SmartSpeaker", "location": "room"} for i in range(2)]
    with pytest.raises(RecordValidationError, match="2 devices exceed the basic limit of 1"):
        seeded.customers.put_customer(_customer(devices=devices))
    stored = seeded.customers.put_customer(_customer(service_level="premium", devices=devices))
    assert seeded.customers.get_customer("cust_x") == stored


def test_invalid_service_level_is_refused(seeded: Stores) -> None:
    with pytest.raises(RecordValidationError, match=r"allowed_actions\.0"):
        seeded.customers.put_service_level(
            {
                "level": "basic",
                "allowed_actions": ["fly"],
                "max_devices": 1,
                "support_priority": "standard",
            }
        )
    with pytest.raises(RecordValidationError, match="max_devices"):
        seeded.customers.put_service_level(
            {
                "level": "basic",
                "allowed_actions": ["status_check"],
                "max_devices": 0,
                "support_priority": "standard",
            }
        )

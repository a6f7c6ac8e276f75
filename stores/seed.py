"""Demo records (`wam db seed`): the service tiers and customers of the demo business."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from stores.customers import CustomerStore
from stores.models import Customer, ServiceLevel


def _load(name: str) -> list[dict[str, Any]]:
    text = (resources.files("stores") / "demo_data" / name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, list):
        raise ValueError(f"stores/demo_data/{name} must hold a list")
    return data


def demo_service_levels() -> list[ServiceLevel]:
    return [ServiceLevel.model_validate(entry) for entry in _load("service_levels.yaml")]


def demo_customers() -> list[Customer]:
    return [Customer.model_validate(entry) for entry in _load("customers.yaml")]


def seed_demo(store: CustomerStore) -> tuple[int, int]:
    """Write the demo tiers, then the demo customers (validated against them). Idempotent."""
    levels = demo_service_levels()
    for level in levels:
        store.put_service_level(level)
    customers = demo_customers()
    for customer in customers:
        store.put_customer(customer)
    return len(levels), len(customers)

"""The demo business's billing API: a small HTTP service the `billing` integration calls locally.

In production the integration's `BILLING_API_URL` points at the real billing system; locally the
stack serves this one on a loopback port with a bearer token, so the agent's tools go through real
HTTP, auth, timeouts and retries.
"""

from __future__ import annotations

import uuid
from importlib import resources
from typing import Annotated, Any

import yaml
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, Field


class RefundRequest(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    invoice: Annotated[str | None, Field(default=None, pattern=r"^INV-[0-9]{4,8}$")] = None


def demo_billing_records() -> dict[str, Any]:
    text = (resources.files("demo") / "data" / "billing.yaml").read_text("utf-8")
    records: dict[str, Any] = yaml.safe_load(text)
    return records


def create_billing_app(token: str, records: dict[str, Any] | None = None) -> FastAPI:
    data = records if records is not None else demo_billing_records()
    refunds: list[dict[str, Any]] = []
    app = FastAPI(title="Demo billing API")

    def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        if authorization != f"Bearer {token}":
            raise HTTPException(status_code=401, detail="missing or wrong bearer token")

    def customer(customer_id: str) -> dict[str, Any]:
        if customer_id not in data:
            raise HTTPException(status_code=404, detail=f"no billing account {customer_id}")
        record: dict[str, Any] = data[customer_id]
        return record

    guard = [Depends(authorized)]

    @app.get("/customers/{customer_id}/invoices/latest", dependencies=guard)
    def latest_invoice(customer_id: str) -> dict[str, Any]:
        invoice: dict[str, Any] = customer(customer_id)["invoices"][-1]
        return invoice

    @app.get("/customers/{customer_id}/balance", dependencies=guard)
    def balance(customer_id: str) -> dict[str, Any]:
        result: dict[str, Any] = customer(customer_id)["balance"]
        return result

    @app.get("/customers/{customer_id}/payment-method", dependencies=guard)
    def payment_method(customer_id: str) -> dict[str, Any]:
        result: dict[str, Any] = customer(customer_id)["payment_method"]
        return result

    @app.post("/customers/{customer_id}/refunds", status_code=201, dependencies=guard)
    def request_refund(customer_id: str, request: RefundRequest) -> dict[str, Any]:
        invoices = customer(customer_id)["invoices"]
        invoice = next(
            (i for i in invoices if i["number"] == (request.invoice or invoices[-1]["number"])),
            None,
        )
        if invoice is None:
            raise HTTPException(status_code=400, detail=f"no invoice {request.invoice} on record")
        refund = {
            "refund_id": f"RF-{uuid.uuid4().hex[:8].upper()}",
            "customer_id": customer_id,
            "invoice": invoice["number"],
            "status": "under_review",
            "reason": request.reason,
            "resolution_days": 5,
        }
        refunds.append(refund)
        return refund

    @app.get("/customers/{customer_id}/refunds", dependencies=guard)
    def list_refunds(customer_id: str) -> list[dict[str, Any]]:
        customer(customer_id)
        return [r for r in refunds if r["customer_id"] == customer_id]

    app.state.refunds = refunds
    return app


__all__ = ["create_billing_app", "demo_billing_records"]

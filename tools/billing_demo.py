"""Moved: the demo billing API lives in the `demo` plug-in (`demo.billing_api`).

Kept so existing importers of `tools.billing_demo` keep working; import from `demo` and `stubs`.
"""

from demo.billing_api import create_billing_app, demo_billing_records
from stubs import BackgroundServer

__all__ = ["BackgroundServer", "create_billing_app", "demo_billing_records"]

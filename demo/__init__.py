"""The demo business (Hogar Smart Home) as a plug-in: its device tools and its billing API.

The core knows nothing of it: agent configs name the plug-in (`plugins: [demo]`) and its tools,
and the toolkit calls `register_tools` with the one tool registry.
"""

from demo.billing_api import create_billing_app, demo_billing_records
from demo.tools import register_tools

__all__ = ["create_billing_app", "demo_billing_records", "register_tools"]

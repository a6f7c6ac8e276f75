"""Business records: the DynamoDB conversation log, customers and service levels; S3 objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stores.aws import aws_client
from stores.conversations import ConversationStore
from stores.customers import CustomerStore, RecordValidationError
from stores.media_index import MediaIndex, subject_of
from stores.models import (
    ConversationMessage,
    Customer,
    Device,
    ServiceAction,
    ServiceLevel,
    ServiceLevelName,
    UserProfile,
    format_timestamp,
    utc_now_iso,
    whatsapp_user_id,
)
from stores.profiles import ProfileStore
from stores.retention import apply_bucket_policies, lifecycle_rules
from stores.schema import (
    enable_point_in_time_recovery,
    ensure_bucket,
    ensure_tables,
    table_specs,
)
from stores.seed import demo_customers, demo_service_levels, seed_demo
from stores.users import UserStore


@dataclass
class Stores:
    """The repositories of one deployment (one region and table prefix), sharing one client."""

    dynamodb: Any
    conversations: ConversationStore
    customers: CustomerStore
    users: UserStore
    prefix: str
    profiles: ProfileStore | None = None

    @classmethod
    def connect(
        cls,
        region: str,
        prefix: str,
        conversation_ttl_days: int = 30,
        default_account: str | None = None,
    ) -> Stores:
        """`default_account`: the business account (phone_number_id) that owns records written
        without one (the demo customers, older logs)."""
        dynamodb = aws_client("dynamodb", region)
        return cls(
            dynamodb=dynamodb,
            conversations=ConversationStore(
                dynamodb, f"{prefix}conversations", conversation_ttl_days, default_account
            ),
            customers=CustomerStore(
                dynamodb, f"{prefix}customers", f"{prefix}service-levels", default_account
            ),
            users=UserStore(dynamodb, f"{prefix}users"),
            prefix=prefix,
            profiles=ProfileStore(dynamodb, f"{prefix}user-profiles"),
        )

    def init_tables(self) -> list[str]:
        return ensure_tables(self.dynamodb, self.prefix)


__all__ = [
    "ConversationMessage",
    "ConversationStore",
    "Customer",
    "CustomerStore",
    "Device",
    "MediaIndex",
    "ProfileStore",
    "RecordValidationError",
    "ServiceAction",
    "ServiceLevel",
    "ServiceLevelName",
    "Stores",
    "UserProfile",
    "UserStore",
    "apply_bucket_policies",
    "aws_client",
    "demo_customers",
    "demo_service_levels",
    "enable_point_in_time_recovery",
    "ensure_bucket",
    "ensure_tables",
    "format_timestamp",
    "lifecycle_rules",
    "seed_demo",
    "subject_of",
    "table_specs",
    "utc_now_iso",
    "whatsapp_user_id",
]

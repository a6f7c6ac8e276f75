"""Storage classes, expiry and encryption of the data bucket (the data-architecture document).

- `media/` (and its index `media-index/`): Standard-IA at 30 days, Glacier at 90, Deep Archive
  at 365, deleted after 7 years (the document's regulatory retention).
- `conversations/` (the daily Parquet exports): Standard-IA at 7 days, Glacier at 30, deleted
  after 5 years. An export holding an erased person is rewritten by the erasure
  (`stores.erasure`), whatever its class; older versions of it are deleted too.
- `analytics/` (aggregates, no person in them): deleted after 3 years; `transcripts/`: 30 days.
- Replaced versions (a versioned bucket, as the CDK stack makes it): deleted after 30 days.
- Default encryption: SSE-S3 (AES-256), or SSE-KMS with `kms_key_id`.

The same rules as `infra/data.py` (the AWS deployment); `wam db init` applies them elsewhere.

Applied idempotently by `wam db init` (a PUT replaces the bucket's whole configuration).
"""

from __future__ import annotations

from typing import Any

MEDIA_TRANSITIONS = [(30, "STANDARD_IA"), (90, "GLACIER"), (365, "DEEP_ARCHIVE")]
EXPORT_TRANSITIONS = [(7, "STANDARD_IA"), (30, "GLACIER")]


def _rule(
    rule_id: str, prefix: str, transitions: list[tuple[int, str]], expire_days: int
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ID": rule_id,
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "Expiration": {"Days": expire_days},
    }
    if transitions:
        rule["Transitions"] = [{"Days": d, "StorageClass": kind} for d, kind in transitions]
    return rule


def lifecycle_rules() -> list[dict[str, Any]]:
    return [
        _rule("media", "media/", MEDIA_TRANSITIONS, 7 * 365),
        _rule("media-index", "media-index/", MEDIA_TRANSITIONS, 7 * 365),
        _rule("conversations", "conversations/", EXPORT_TRANSITIONS, 5 * 365),
        _rule("analytics", "analytics/", [], 3 * 365),
        _rule("transcripts", "transcripts/", [], 30),
        {
            "ID": "old-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
    ]


def apply_bucket_policies(s3: Any, bucket: str, kms_key_id: str | None = None) -> None:
    """Lifecycle rules and default encryption on `bucket`."""
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules()}
    )
    default: dict[str, Any] = {"SSEAlgorithm": "AES256"}
    if kms_key_id:
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id}
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]
        },
    )

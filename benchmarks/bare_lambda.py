"""The baseline of the cold-start benchmark: a Lambda handler that imports nothing."""

from typing import Any


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {"statusCode": 200, "body": "ok"}

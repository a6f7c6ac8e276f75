"""WhatsApp secrets from AWS Secrets Manager, read once at start (`*_ARN` settings).

On AWS the CDK app stores the app secret, access token and verify token in Secrets Manager and
gives each function only the ARNs; `resolve_secrets` replaces each setting whose ARN is set by the
secret's value (a plain string, or a JSON object with a `value` key), and sets the environment
variables that `SECRET_ENV_ARNS` names (integration API keys, which the agents' integrations read
as `${ENV}` placeholders). Locally nothing is set and the settings are returned as they are.
"""

from __future__ import annotations

import json
import os
from typing import Any

from app.settings import ConfigurationError, Settings
from stores import aws_client

SECRET_SETTINGS = {
    "whatsapp_app_secret_arn": "whatsapp_app_secret",
    "whatsapp_access_token_arn": "whatsapp_access_token",
    "whatsapp_verify_token_arn": "whatsapp_verify_token",
}


def secret_value(client: Any, arn: str) -> str:
    """The secret's string: itself, or its JSON object's `value`."""
    text = str(client.get_secret_value(SecretId=arn)["SecretString"])
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict) and isinstance(parsed.get("value"), str):
        return str(parsed["value"])
    return text


def env_secret_arns(settings: Settings) -> dict[str, str]:
    """`SECRET_ENV_ARNS`: environment variable -> secret ARN."""
    if not settings.secret_env_arns:
        return {}
    try:
        mapping = json.loads(settings.secret_env_arns)
    except ValueError:
        mapping = None
    valid = isinstance(mapping, dict) and all(
        isinstance(k, str) and k.isidentifier() and isinstance(v, str) for k, v in mapping.items()
    )
    if not valid:
        raise ConfigurationError(
            "SECRET_ENV_ARNS: must be a JSON object of environment variable names to secret ARNs"
        )
    return dict(mapping)


def export_env_secrets(settings: Settings, client: Any | None = None) -> list[str]:
    """Set each `SECRET_ENV_ARNS` variable to its secret's value; the names set."""
    arns = env_secret_arns(settings)
    if arns:
        client = client or aws_client("secretsmanager", settings.aws_region)
    for name, arn in arns.items():
        try:
            os.environ[name] = secret_value(client, arn)
        except Exception as error:
            raise ConfigurationError(f"SECRET_ENV_ARNS: {name}: not readable ({error})") from None
    return list(arns)


def resolve_secrets(settings: Settings, client: Any | None = None) -> Settings:
    """`settings` with every WhatsApp secret whose ARN is set read from Secrets Manager, and the
    integration secrets of `SECRET_ENV_ARNS` set in the environment."""
    export_env_secrets(settings, client)
    settings = settings.model_copy(update={"secret_env_arns": None})
    wanted = {
        target: arn
        for source, target in SECRET_SETTINGS.items()
        if (arn := getattr(settings, source))
    }
    if not wanted:
        return settings
    client = client or aws_client("secretsmanager", settings.aws_region)
    values: dict[str, str | None] = {}
    for target, arn in wanted.items():
        try:
            values[target] = secret_value(client, arn)
        except Exception as error:
            name = target.upper() + "_ARN"
            raise ConfigurationError(f"{name}: secret not readable ({error})") from None
    # Read once: the ARNs are dropped, so resolving again asks Secrets Manager nothing.
    return settings.model_copy(update={**values, **dict.fromkeys(SECRET_SETTINGS)})

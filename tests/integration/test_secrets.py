"""WhatsApp and integration secrets read from Secrets Manager (moto's server) at start."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from app.secrets import resolve_secrets
from app.settings import ConfigurationError, load_settings
from stores import aws_client

pytestmark = pytest.mark.integration


@pytest.fixture
def secrets(servers, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", servers.aws.url)
    client = aws_client("secretsmanager", "us-east-1")

    def create(value: str) -> str:
        return str(client.create_secret(Name=f"s-{uuid.uuid4().hex}", SecretString=value)["ARN"])

    return create


def test_whatsapp_secrets_replace_their_settings_once(secrets) -> None:
    app_secret = secrets("from-secrets-manager")
    token = secrets(json.dumps({"value": "token-in-json"}))
    settings = load_settings(
        whatsapp_app_secret_arn=app_secret, whatsapp_access_token_arn=token, _env_file=None
    )
    resolved = resolve_secrets(settings)
    assert resolved.whatsapp_app_secret == "from-secrets-manager"
    assert resolved.whatsapp_access_token == "token-in-json"
    assert resolved.whatsapp_app_secret_arn is None  # read once: resolving again asks nothing
    assert resolve_secrets(resolved) == resolved


def test_integration_secrets_are_set_in_the_environment(secrets, monkeypatch) -> None:
    name = f"WAM_TEST_TOKEN_{uuid.uuid4().hex[:6].upper()}"
    monkeypatch.delenv(name, raising=False)
    arn = secrets("billing-api-key")
    settings = load_settings(secret_env_arns=json.dumps({name: arn}), _env_file=None)
    resolve_secrets(settings)
    assert os.environ.pop(name) == "billing-api-key"


def test_bad_secret_settings_name_the_variable(secrets) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_ENV_ARNS"):
        resolve_secrets(load_settings(secret_env_arns="[1, 2]", _env_file=None))
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    with pytest.raises(ConfigurationError, match="WHATSAPP_APP_SECRET_ARN"):
        resolve_secrets(load_settings(whatsapp_app_secret_arn=missing, _env_file=None))

"""Secrets Manager: the WhatsApp app secret, access token and verify token.

Created with generated placeholder values; the operator puts Meta's values in after the first
deploy (README). The functions get only the ARNs (`*_ARN` settings) and read the values at start.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StackConfig

SECRETS = {
    "app_secret": "WHATSAPP_APP_SECRET_ARN",
    "access_token": "WHATSAPP_ACCESS_TOKEN_ARN",
    "verify_token": "WHATSAPP_VERIFY_TOKEN_ARN",
}


class WhatsAppSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for name in SECRETS:
            secret = secretsmanager.Secret(
                self,
                name,
                description=f"WhatsApp {name.replace('_', ' ')} ({config.env_name})",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=32
                ),
            )
            secret.apply_removal_policy(removal)
            self.secrets[name] = secret

    def environment(self, *names: str) -> dict[str, str]:
        """The `*_ARN` settings of the named secrets."""
        return {SECRETS[name]: self.secrets[name].secret_arn for name in names}

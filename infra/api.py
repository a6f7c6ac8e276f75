"""The HTTP API in front of the webhook function: GET and POST /webhook, throttled."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# Meta delivers in bursts; the limits keep a flood (or an attack) from scaling the functions.
RATE_LIMIT = 200
BURST_LIMIT = 400


class WebhookApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, handler: lambda_.IFunction, env_name: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self,
            "Http",
            api_name=f"wam-{env_name}-webhook",
            create_default_stage=False,
        )
        self.stage = apigw.HttpStage(
            self,
            "Default",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
        )
        integration = integrations.HttpLambdaIntegration("Webhook", handler)
        self.api.add_routes(
            path="/webhook",
            methods=[apigw.HttpMethod.GET, apigw.HttpMethod.POST],
            integration=integration,
        )

    @property
    def webhook_url(self) -> str:
        return f"{self.api.api_endpoint}/webhook"

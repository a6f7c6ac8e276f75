"""A local HTTP server speaking Bedrock's control plane for model lookups: `GetFoundationModel`
and `GetInferenceProfile`, from a catalog the test gives (reached via `AWS_ENDPOINT_URL_BEDROCK`).

`models` maps a model id to its lifecycle (`status`, optional `endOfLifeTime` as ISO-8601);
`profiles` maps an inference profile id to its status. Anything else is 404
`ResourceNotFoundException`, as Bedrock answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile"


def _not_found(what: str) -> JSONResponse:
    return JSONResponse(
        {"message": f"The specified {what} could not be found."},
        status_code=404,
        headers={"x-amzn-ErrorType": "ResourceNotFoundException:http://internal.amazon.com/"},
    )


def create_bedrock_models_stub(
    models: dict[str, dict[str, Any]], profiles: dict[str, str] | None = None
) -> FastAPI:
    app = FastAPI(title="Bedrock control-plane stub")
    app.state.requests = []

    @app.get("/foundation-models/{model_id:path}")
    async def foundation_model(model_id: str) -> Any:
        app.state.requests.append(("GetFoundationModel", model_id))
        if model_id not in models:
            return _not_found("model")
        arn = f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}"
        return {
            "modelDetails": {
                "modelArn": arn,
                "modelId": model_id,
                "modelLifecycle": models[model_id],
            }
        }

    @app.get("/inference-profiles/{profile_id:path}")
    async def inference_profile(profile_id: str) -> Any:
        app.state.requests.append(("GetInferenceProfile", profile_id))
        if profile_id not in (profiles or {}):
            return _not_found("inference profile")
        base = profile_id.partition(".")[2]
        return {
            "inferenceProfileName": profile_id,
            "inferenceProfileArn": f"{PROFILE_ARN}/{profile_id}",
            "inferenceProfileId": profile_id,
            "status": (profiles or {})[profile_id],
            "type": "SYSTEM_DEFINED",
            "models": [{"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{base}"}],
        }

    return app


__all__ = ["create_bedrock_models_stub"]

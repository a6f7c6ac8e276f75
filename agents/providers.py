"""The one place chat-model clients are built: `bedrock`, `openai` (compatible) and `offline`.

The provider is chosen per agent (`model.provider`), and `override` (from `MODEL_PROVIDER`, or
`offline` when no AWS credentials exist) replaces every agent's choice. Clients are cached by their
settings, so nodes never build one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import structlog
from botocore.config import Config
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from agents.limits import model_calls
from agents.offline import OFFLINE_MODEL_ID, OfflineChatModel
from agents.schema import ModelSettings, ProviderName

log = structlog.get_logger(__name__)

_BEDROCK_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=60,
)


def merge_consecutive_assistant_messages(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Bedrock's Converse API rejects two assistant turns in a row: join them into one.

    Only plain-text assistant messages are merged; one that calls tools keeps its tool calls and
    absorbs the text of the plain one before it.
    """
    merged: list[BaseMessage] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if (
            isinstance(message, AIMessage)
            and isinstance(previous, AIMessage)
            and not previous.tool_calls
        ):
            text = "\n\n".join(part for part in (_plain(previous), _plain(message)) if part.strip())
            merged[-1] = message.model_copy(update={"content": text})
            continue
        merged.append(message)
    return merged


def _plain(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


class ModelRegistry:
    """Chat models by agent settings, honoring a global provider override."""

    def __init__(self, override: ProviderName | None = None, region: str = "us-east-1") -> None:
        self.override = override
        self.region = region
        self._cache: dict[tuple[Any, ...], BaseChatModel] = {}

    def provider_for(self, settings: ModelSettings, per_run: str | None = None) -> ProviderName:
        """A per-run choice (Studio, evals) beats the override, which beats the agent's config."""
        if per_run is not None:
            if per_run not in ("bedrock", "openai", "offline"):
                raise ValueError(f"model_provider must be bedrock, openai or offline: {per_run!r}")
            return per_run  # type: ignore[return-value]
        return self.override or settings.provider

    def model_id_for(self, settings: ModelSettings, per_run: str | None = None) -> str:
        provider = self.provider_for(settings, per_run)
        if provider == "bedrock":
            return settings.bedrock_model_id(settings.region or self.region)
        return OFFLINE_MODEL_ID if provider == "offline" else settings.model_id

    def chat_model(self, settings: ModelSettings, per_run: str | None = None) -> BaseChatModel:
        provider = self.provider_for(settings, per_run)
        key = (provider, settings.model_dump_json())
        if key not in self._cache:
            self._cache[key] = self._build(provider, settings)
            log.info(
                "model provider ready",
                provider=provider,
                model_id=self.model_id_for(settings, provider),
                overridden=self.override is not None,
            )
        return self._cache[key]

    def _build(self, provider: ProviderName, settings: ModelSettings) -> BaseChatModel:
        if provider == "offline":
            return OfflineChatModel()
        if provider == "bedrock":
            import boto3
            from langchain_aws import ChatBedrockConverse

            region = settings.region or self.region
            # botocore reads AWS_ENDPOINT_URL_BEDROCK_RUNTIME itself when it is set.
            # One pooled connection per model call the process may run at once.
            pool = Config(max_pool_connections=max(10, model_calls.limit))
            client = boto3.session.Session().client(
                "bedrock-runtime", region_name=region, config=_BEDROCK_CONFIG.merge(pool)
            )
            return ChatBedrockConverse(  # type: ignore[call-arg]
                client=client,
                model=settings.bedrock_model_id(region),
                region_name=region,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                top_p=settings.top_p,
            )
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.model_id,
            base_url=settings.base_url or os.environ.get("OPENAI_BASE_URL"),
            api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",  # type: ignore[arg-type]
            temperature=settings.temperature,
            max_completion_tokens=settings.max_tokens,
            max_retries=3,
        )

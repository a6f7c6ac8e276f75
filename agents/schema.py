"""The agent config file: one YAML per domain agent, validated by pydantic.

A broken file fails with the file, the field and the reason:
`agents/configs/sales.yaml: model.temperature: Input should be less than or equal to 1`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

AgentId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
ProviderName = Literal["bedrock", "openai", "offline"]
Language = Literal["en", "es"]


_LANGUAGES: tuple[Language, ...] = ("en", "es")


class AgentConfigError(ValueError):
    """An agent config is invalid; the message names the file and the field."""


class ModelSettings(BaseModel):
    """Which model answers, with what inference parameters."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    provider: ProviderName = "bedrock"
    model_id: str = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    region: str | None = None
    profile_prefix: str | None = Field(default=None, pattern=r"^[a-z][a-z-]{1,10}$")
    temperature: float = Field(default=0.2, ge=0, le=1)
    max_tokens: int = Field(default=512, ge=1, le=8192)
    top_p: float | None = Field(default=None, gt=0, le=1)
    base_url: str | None = None

    def bedrock_model_id(self, region: str) -> str:
        """The id Bedrock is called with: a cross-region inference profile's geography prefix
        (`us.`, `eu.`, `apac.`...) follows `profile_prefix`, and `{geo}.` the region's own."""
        head, dot, rest = self.model_id.partition(".")
        if head == "{geo}" and dot:
            return f"{self.profile_prefix or region_profile_prefix(region)}.{rest}"
        if self.profile_prefix and head in PROFILE_PREFIXES and dot:
            return f"{self.profile_prefix}.{rest}"
        return self.model_id


PROFILE_PREFIXES = ("us", "eu", "apac", "us-gov", "global", "jp", "au", "ca")


def region_profile_prefix(region: str) -> str:
    """The cross-region inference profile geography of an AWS region."""
    if region.startswith("us-gov-"):
        return "us-gov"
    for start, prefix in (("us-", "us"), ("ca-", "us"), ("eu-", "eu"), ("ap-", "apac")):
        if region.startswith(start):
            return prefix
    return "global"


class KnowledgeBaseRef(BaseModel):
    """A knowledge base an agent retrieves from: local (RediSearch) or a Bedrock KB id."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    backend: Literal["local", "bedrock"] = "local"
    bedrock_kb_id: str | None = None
    top_k: int = Field(default=3, ge=1, le=20)

    @model_validator(mode="after")
    def _bedrock_needs_an_id(self) -> KnowledgeBaseRef:
        if self.backend == "bedrock" and not self.bedrock_kb_id:
            raise ValueError("backend 'bedrock' needs bedrock_kb_id")
        return self


class AgentConfig(BaseModel):
    """A domain agent: what it does (for routing), how it speaks, what it may call."""

    model_config = ConfigDict(extra="forbid")

    id: AgentId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10)]
    examples: dict[Language, list[str]] = Field(default_factory=dict)
    system_prompt: str | None = None
    system_prompt_file: str | None = None
    model: ModelSettings = Field(default_factory=ModelSettings)
    knowledge_bases: list[KnowledgeBaseRef] = Field(default_factory=list)
    api_integrations: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    plugins: list[Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_.]{0,80}$")]] = Field(
        default_factory=list
    )
    required_service_level: Literal["basic", "premium", "enterprise"] | None = None
    languages: list[Language] = Field(default_factory=lambda: list(_LANGUAGES), min_length=1)
    max_model_calls: int = Field(default=4, ge=1, le=20)
    require_tool_call: bool = False
    tool_settings: dict[str, Any] = Field(default_factory=dict)
    templates: dict[str, dict[Language, str]] = Field(default_factory=dict)
    fallback: bool = False

    @model_validator(mode="after")
    def _one_prompt_source(self) -> AgentConfig:
        if bool(self.system_prompt) == bool(self.system_prompt_file):
            raise ValueError("give exactly one of system_prompt or system_prompt_file")
        if not any(self.examples.values()):
            raise ValueError("examples: give at least one example utterance (routing uses them)")
        return self

    def all_examples(self) -> list[str]:
        return [text for texts in self.examples.values() for text in texts]


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def load_agent_config(path: Path) -> tuple[AgentConfig, str]:
    """Parse one config file and its prompt. Returns the config and the resolved system prompt."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise AgentConfigError(f"{path}: not valid YAML: {error}") from None
    except UnicodeDecodeError:
        raise AgentConfigError(f"{path}: not a text (UTF-8) YAML file") from None
    except OSError as error:
        raise AgentConfigError(f"{path}: cannot read: {error.strerror}") from None
    if not isinstance(data, dict):
        raise AgentConfigError(
            f"{path}: (file): expected a mapping of fields, got {type(data).__name__}"
        )
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{_field_path(item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        )
        raise AgentConfigError(f"{path}: {problems}") from None
    if config.system_prompt_file:
        folder = path.parent.resolve()
        prompt_path = (folder / config.system_prompt_file).resolve()
        if not prompt_path.is_relative_to(folder):
            raise AgentConfigError(
                f"{path}: system_prompt_file: {config.system_prompt_file} is outside the agents "
                f"folder {folder}; keep prompts under it (e.g. prompts/<id>.md)"
            )
        try:
            prompt = prompt_path.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            raise AgentConfigError(
                f"{path}: system_prompt_file: {config.system_prompt_file} is not UTF-8 text"
            ) from None
        except OSError:
            raise AgentConfigError(
                f"{path}: system_prompt_file: {config.system_prompt_file} not found "
                f"(looked in {prompt_path.parent})"
            ) from None
        if not prompt:
            raise AgentConfigError(
                f"{path}: system_prompt_file: {config.system_prompt_file} is empty"
            )
    else:
        prompt = (config.system_prompt or "").strip()
    return config, prompt

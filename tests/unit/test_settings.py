"""Settings: defaults, clear errors, and the docs listing every variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import ConfigurationError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults(monkeypatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = load_settings(_env_file=None)
    assert settings.redis_url is None
    assert settings.table_prefix == "dev-"
    assert settings.session_ttl_minutes == 30
    assert settings.conversation_ttl_days == 30
    assert settings.data_dir == Path(".data")
    assert settings.conversations_table == "dev-conversations"
    assert settings.service_levels_table == "dev-service-levels"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("SESSION_TTL_MINUTES", "0", "SESSION_TTL_MINUTES: Input should be greater than 0"),
        ("CONVERSATION_TTL_DAYS", "many", "CONVERSATION_TTL_DAYS: Input should be a valid integer"),
        ("REDIS_URL", "http://x", "REDIS_URL: must start with one of redis://"),
        ("TABLE_PREFIX", "bad prefix!", "TABLE_PREFIX: may contain only letters"),
        ("MODEL_PROVIDER", "gpt", "MODEL_PROVIDER: Input should be 'bedrock', 'openai' or"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: Input should be 'DEBUG'"),
        ("WHATSAPP_API_BASE_URL", "graph.facebook.com", "WHATSAPP_API_BASE_URL: must be an http"),
    ],
)
def test_invalid_value_names_variable_and_reason(monkeypatch, variable, value, reason) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None)
    assert reason in str(caught.value)
    assert repr(value) in str(caught.value)


def test_env_example_and_readme_list_every_variable() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    example_names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for name in Settings.model_fields:
        assert name.upper() in example_names, f"{name.upper()} missing from .env.example"
        assert f"`{name.upper()}`" in readme, f"{name.upper()} missing from README table"

"""Agent configs are data: a broken file fails with the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents import AgentConfigError, default_agents_dir, load_agent_config, load_agents


def _write(folder: Path, name: str, data: dict, prompt: str | None = "You help.") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    if prompt is not None:
        (folder / "prompt.md").write_text(prompt)
    return path


def _valid(**changes) -> dict:
    return {
        "id": "sales",
        "name": "Sales",
        "description": "Plans, prices and promotions",
        "examples": {"en": ["How much is premium?"]},
        "system_prompt_file": "prompt.md",
        "fallback": True,
    } | changes


def test_demo_configs_load_with_their_prompts() -> None:
    agents = load_agents(default_agents_dir())
    assert list(agents) == ["billing", "device_support", "sales", "general"]
    assert all(agent.system_prompt for agent in agents.values())
    assert agents["general"].config.fallback
    assert {lang for a in agents.values() for lang in a.config.examples} == {"en", "es"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"model": {"temperature": 3}},
            "model.temperature: Input should be less than or equal to 1",
        ),
        ({"model": {"provider": "gpt"}}, "model.provider: Input should be 'bedrock', 'openai'"),
        ({"id": "Sales Agent"}, "id: String should match pattern"),
        ({"max_model_calls": 0}, "max_model_calls: Input should be greater than or equal to 1"),
        ({"tool": ["x"]}, "tool: Extra inputs are not permitted"),
        ({"examples": {"en": []}}, "examples: give at least one example utterance"),
        (
            {"knowledge_bases": [{"id": "kb", "backend": "bedrock"}]},
            "knowledge_bases.0: Value error, backend 'bedrock' needs bedrock_kb_id",
        ),
    ],
)
def test_bad_field_names_file_and_field(tmp_path: Path, changes, message) -> None:
    path = _write(tmp_path, "sales.yaml", _valid(**changes))
    with pytest.raises(AgentConfigError) as caught:
        load_agent_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message.removeprefix("knowledge_bases.0: Value error, ") in str(caught.value)
    assert message.split(":")[0] in str(caught.value)


def test_missing_prompt_file_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "sales.yaml", _valid(system_prompt_file="nope.md"), prompt=None)
    with pytest.raises(
        AgentConfigError, match=r"sales\.yaml: system_prompt_file: nope\.md not found"
    ):
        load_agent_config(path)


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed")
    with pytest.raises(AgentConfigError, match=r"broken\.yaml: not valid YAML"):
        load_agent_config(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(AgentConfigError, match=r"list\.yaml: \(file\): expected a mapping"):
        load_agent_config(listed)


def test_folder_rules_duplicate_ids_and_one_fallback(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", _valid())
    _write(tmp_path, "b.yaml", _valid())
    with pytest.raises(AgentConfigError, match=r"b\.yaml: id: 'sales' is already used by a\.yaml"):
        load_agents(tmp_path)
    _write(tmp_path, "b.yaml", _valid(id="billing", fallback=False))
    _write(tmp_path, "c.yaml", _valid(id="general", fallback=True))
    with pytest.raises(AgentConfigError, match="exactly one agent must set `fallback: true`"):
        load_agents(tmp_path)


def test_unknown_tool_and_integration_fail_at_build(tmp_path: Path) -> None:
    from agents import Toolkit
    from agents.loader import LoadedAgent

    path = _write(tmp_path, "sales.yaml", _valid(tools=["teleport"]))
    config, prompt = load_agent_config(path)
    with pytest.raises(AgentConfigError, match=r"sales\.yaml: tools\.0: unknown tool 'teleport'"):
        Toolkit().tools_for(LoadedAgent(config, prompt, path))
    path = _write(tmp_path, "sales.yaml", _valid(api_integrations=["crm"]))
    config, prompt = load_agent_config(path)
    with pytest.raises(AgentConfigError, match=r"api_integrations\.0: no integration named 'crm'"):
        Toolkit().tools_for(LoadedAgent(config, prompt, path))

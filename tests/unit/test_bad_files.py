"""Bad files and paths end in one clear error naming the file and field, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agents import AgentConfigError, load_agent_config
from server.accounts import AccountConfigError, AccountRegistry

NUMBER = "100000000000001"
BINARY = bytes(range(256)) * 4


def _agent(folder: Path, prompt_file: str) -> Path:
    path = folder / "returns.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "id": "returns",
                "name": "Returns",
                "description": "Returning a device.",
                "examples": {"en": ["return my speaker"], "es": ["devolver mi altavoz"]},
                "system_prompt_file": prompt_file,
                "model": {"provider": "offline", "model_id": "offline"},
            }
        )
    )
    return path


def test_a_binary_agent_config_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(BINARY)
    with pytest.raises(AgentConfigError, match=r"broken\.yaml: not a text \(UTF-8\) YAML file"):
        load_agent_config(path)


@pytest.mark.parametrize("prompt_file", ["../../../../etc/passwd", "/etc/passwd", "../x.md"])
def test_a_prompt_file_outside_the_agents_folder_is_refused(tmp_path: Path, prompt_file) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (tmp_path / "x.md").write_text("You help.")
    with pytest.raises(AgentConfigError, match=r"system_prompt_file: .* is outside the agents"):
        load_agent_config(_agent(folder, prompt_file))


def test_a_prompt_file_under_the_agents_folder_still_loads(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "returns.md").write_text("You help with returns.")
    config, prompt = load_agent_config(_agent(tmp_path, "prompts/returns.md"))
    assert config.id == "returns" and prompt == "You help with returns."


def _accounts(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "accounts.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _entry(number: str, account: str = "acme", agents_dir: str = "acme-agents") -> str:
    return (
        f"- {{account_id: {account}, account_name: Acme, phone_number_id: '{number}',\n"
        f"   access_token_env: ACME_TOKEN, agents_dir: {agents_dir}}}\n"
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACME_TOKEN", "acme-secret")
    (tmp_path / "acme-agents").mkdir()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BINARY, r"accounts\.yaml: not a text \(UTF-8\) YAML file"),
        ("", r"accounts\.yaml: no accounts in the file"),
        ("[]\n", r"accounts\.yaml: no accounts in the file"),
        (_entry("200000000000002", agents_dir="missing"), r"0\.agents_dir: folder .* not found"),
        (
            _entry("200000000000002") + _entry("200000000000002", account="other"),
            r"1\.phone_number_id: 200000000000002 is already used by account 'acme'",
        ),
        (
            _entry(NUMBER),
            r"0\.phone_number_id: 100000000000001 is the default account's WHATSAPP_PHONE",
        ),
        (
            _entry("200000000000002") + _entry("200000000000003"),
            r"1\.account_id: 'acme' is already used",
        ),
    ],
)
def test_a_bad_accounts_file_is_refused(tmp_path: Path, token, content, message) -> None:
    with pytest.raises(AccountConfigError, match=message):
        AccountRegistry.load(NUMBER, "t", None, _accounts(tmp_path, content))


def test_a_good_accounts_file_loads(tmp_path: Path, token) -> None:
    registry = AccountRegistry.load(
        NUMBER, "t", None, _accounts(tmp_path, _entry("200000000000002"))
    )
    acme = registry.get("200000000000002")
    assert acme is not None and acme.agents_dir == tmp_path / "acme-agents"


def test_the_cli_says_one_line_for_a_binary_agent_config(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(BINARY)
    result = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "agents", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr

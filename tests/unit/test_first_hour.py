"""What a newcomer runs in the first hour, without servers: validating configs, bad files, paths."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agents import default_agents_dir
from app.cli import cli

runner = CliRunner()


def test_validate_one_agent_that_is_not_the_fallback() -> None:
    path = default_agents_dir() / "device_support.yaml"
    result = runner.invoke(cli, ["agents", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert f"ok  {path}" in result.output


def test_validate_the_whole_folder() -> None:
    result = runner.invoke(cli, ["agents", "validate", str(default_agents_dir())])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok  ") == len(list(Path(default_agents_dir()).glob("*.yaml")))

"""Models that exist today: configured Bedrock models and profiles are checked against Bedrock's
control plane (a local stub through `AWS_ENDPOINT_URL_BEDROCK`), at start-up and in
`wam agents validate --online`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from agents import default_agents_dir, load_agents
from agents.model_check import check_models
from stubs import BackgroundServer, create_bedrock_models_stub
from tests.integration.conftest import WAM, wam_env

pytestmark = pytest.mark.integration

HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
MODELS = {
    HAIKU_45: {"status": "ACTIVE"},
    "anthropic.claude-3-5-haiku-20241022-v1:0": {
        "status": "LEGACY",
        "endOfLifeTime": "2026-06-19T00:00:00Z",
    },
    "anthropic.claude-3-haiku-20240307-v1:0": {
        "status": "LEGACY",
        "endOfLifeTime": "2099-03-01T00:00:00Z",
    },
}
PROFILES = {f"us.{HAIKU_45}": "ACTIVE", f"eu.{HAIKU_45}": "ACTIVE"}


@pytest.fixture(scope="module")
def control_plane():
    app = create_bedrock_models_stub(MODELS, PROFILES)
    server = BackgroundServer(app)
    server.start()
    yield app, server.url
    server.stop()


@pytest.fixture
def bedrock_endpoint(servers, control_plane, monkeypatch: pytest.MonkeyPatch) -> str:
    url: str = control_plane[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", url)
    return url


def _folder_with(tmp_path: Path, model_id: str) -> Path:
    folder = tmp_path / "agents"
    shutil.copytree(default_agents_dir(), folder)
    sales = folder / "sales.yaml"
    sales.write_text(sales.read_text("utf-8").replace(f"us.{HAIKU_45}", f"'{model_id}'"), "utf-8")
    return folder


def test_the_demo_agents_use_active_models(bedrock_endpoint, control_plane) -> None:
    assert check_models(load_agents(), "us-east-1") == []
    asked = {call for call in control_plane[0].state.requests}
    assert ("GetInferenceProfile", f"us.{HAIKU_45}") in asked
    assert ("GetFoundationModel", HAIKU_45) in asked


def test_a_region_picks_its_profile_prefix(bedrock_endpoint, tmp_path: Path) -> None:
    folder = _folder_with(tmp_path, f"{{geo}}.{HAIKU_45}")
    agents = load_agents(folder)
    assert agents["sales"].config.model.bedrock_model_id("eu-west-1") == f"eu.{HAIKU_45}"
    assert check_models(agents, "eu-west-1") == []


def test_end_of_life_and_unknown_models_are_errors(bedrock_endpoint, tmp_path: Path) -> None:
    for model_id, expected in [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "reached end of life on 2026-06-19"),
        ("anthropic.claude-nonexistent-v9:0", "Bedrock does not know model"),
        ("us.anthropic.claude-nonexistent-v9:0", "Bedrock does not know model"),
    ]:
        problems = check_models(
            load_agents(_folder_with(tmp_path / model_id, model_id)), "us-east-1"
        )
        assert [p.severity for p in problems] == ["error"], problems
        assert "sales.yaml: model.model_id" in problems[0].message
        assert model_id in problems[0].message and expected in problems[0].message


def test_a_legacy_model_is_a_warning_with_its_end_of_life(bedrock_endpoint, tmp_path) -> None:
    model_id = "anthropic.claude-3-haiku-20240307-v1:0"
    problems = check_models(load_agents(_folder_with(tmp_path, model_id)), "us-east-1")
    assert [p.severity for p in problems] == ["warning"]
    assert "is Legacy; end of life on 2099-03-01" in problems[0].message


def test_validate_online_fails_naming_the_file_and_model(
    settings, servers, bedrock_endpoint, tmp_path: Path
) -> None:
    folder = _folder_with(tmp_path, "anthropic.claude-3-5-haiku-20241022-v1:0")
    env = wam_env(settings, servers, tmp_path / "data", AWS_ENDPOINT_URL_BEDROCK=bedrock_endpoint)
    env.pop("MODEL_PROVIDER", None)
    done = subprocess.run(
        [*WAM, "agents", "validate", str(folder), "--online"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "sales.yaml: model.model_id" in done.stderr
    assert "anthropic.claude-3-5-haiku-20241022-v1:0 reached end of life" in done.stderr
    offline = subprocess.run(
        [*WAM, "agents", "validate", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert offline.returncode == 0, offline.stderr

"""What a newcomer runs in the first hour, without servers: validating configs, bad files, paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
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


def _make_dry_run(target: str, venv: Path) -> str:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        ["make", "-n", "-C", str(root), target, f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_says_what_it_does_and_installs_only_what_running_needs(tmp_path: Path) -> None:
    steps = _make_dry_run("run", tmp_path / "venv")
    installs = [line for line in steps.splitlines() if "pip install" in line and " -e " in line]
    assert installs and all('".[local]"' in line for line in installs), installs
    assert "dev" not in " ".join(installs)
    assert "first run only" in steps and "minutes" in steps
    assert "starting wam serve" in steps


def test_make_test_installs_the_dev_tools_from_a_fresh_clone(tmp_path: Path) -> None:
    steps = _make_dry_run("test", tmp_path / "venv")
    assert "-m venv" in steps
    assert '".[local,dev]"' in steps
    assert "pytest" in steps


WAM = [sys.executable, "-c", "from app.cli import main; main()"]


def _wam(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WAM, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_a_kb_id_that_is_a_path_is_refused(tmp_path: Path) -> None:
    document = tmp_path / "doc.md"
    document.write_text("# Doc\n\nText.\n")
    result = _wam("kb", "ingest", str(document), "--kb", "../../evil")
    assert result.returncode == 2
    assert "error: --kb '../../evil'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupt_pdf_is_one_clear_error(tmp_path: Path) -> None:
    from tools import IngestError
    from tools.ingest import read_document

    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n\x00\x01garbage\xff\xfe" * 20)
    with pytest.raises(IngestError, match=r"broken\.pdf: not a readable PDF"):
        read_document(corrupt)


def test_agents_list_shows_the_model_that_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL_PROVIDER", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    offline = runner.invoke(cli, ["agents", "list"])
    assert offline.exit_code == 0, offline.output
    rows = offline.output.splitlines()
    assert rows and all(" offline:offline-dev-model (config: bedrock:" in r for r in rows), rows

    monkeypatch.setenv("MODEL_PROVIDER", "bedrock")
    bedrock = runner.invoke(cli, ["agents", "list"])
    assert all(" bedrock:" in r and "offline" not in r for r in bedrock.output.splitlines())


def test_api_docs_are_dropped_outside_local_mode() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.channel import drop_api_docs

    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    assert TestClient(app).get("/docs").status_code == 200
    drop_api_docs(app)
    client = TestClient(app)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path
    assert client.get("/healthz").status_code == 200

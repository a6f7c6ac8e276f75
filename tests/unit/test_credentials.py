"""The credential check walks botocore's whole chain and ignores the embedded stack's dummies.

The instance and container roles are served by small loopback HTTP servers that speak the EC2
instance metadata (IMDSv2) and ECS container credential protocols, reached through botocore's own
`AWS_EC2_METADATA_SERVICE_ENDPOINT` and `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.localstack import aws_credentials_configured

_CREDENTIALS = {
    "Code": "Success",
    "Type": "AWS-HMAC",
    "AccessKeyId": "ASIAROLEEXAMPLE",
    "SecretAccessKey": "role-secret",
    "Token": "role-token",
    "Expiration": (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
}


class _RoleHandler(BaseHTTPRequestHandler):
    def _send(self, body: str, content_type: str = "text/plain") -> None:
        payload = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_PUT(self) -> None:  # IMDSv2 session token
        self._send("imds-token")

    def do_GET(self) -> None:
        if self.path.endswith("/security-credentials/"):
            self._send("app-role")
        elif self.path.endswith(("/security-credentials/app-role", "/container-creds")):
            self._send(json.dumps(_CREDENTIALS), "application/json")
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def role_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RoleHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No credentials anywhere: no variables, empty shared files, no metadata service."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_") and name != "AWS_CA_BUNDLE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def test_nothing_configured_is_no_credentials(bare_environment: pytest.MonkeyPatch) -> None:
    assert aws_credentials_configured() is False


def test_the_embedded_stacks_dummy_credentials_are_not_real(
    bare_environment: pytest.MonkeyPatch,
) -> None:
    bare_environment.setenv("AWS_ACCESS_KEY_ID", "testing")
    bare_environment.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert aws_credentials_configured() is False


def test_keys_in_the_environment_and_a_profile_are_real(
    bare_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bare_environment.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    bare_environment.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert aws_credentials_configured() is True
    bare_environment.delenv("AWS_ACCESS_KEY_ID")
    bare_environment.delenv("AWS_SECRET_ACCESS_KEY")
    (tmp_path / "credentials").write_text(
        "[work]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = secret\n"
    )
    bare_environment.setenv("AWS_PROFILE", "work")
    assert aws_credentials_configured() is True


def test_an_ec2_instance_role_alone_is_found(
    bare_environment: pytest.MonkeyPatch, role_server: str
) -> None:
    bare_environment.delenv("AWS_EC2_METADATA_DISABLED")
    bare_environment.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"{role_server}/")
    assert aws_credentials_configured() is True


def test_an_ecs_container_role_alone_is_found(
    bare_environment: pytest.MonkeyPatch, role_server: str
) -> None:
    bare_environment.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{role_server}/container-creds")
    assert aws_credentials_configured() is True

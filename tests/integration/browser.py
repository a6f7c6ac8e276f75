"""Headless Chromium for the browser tests (Debian's `chromium`, driven by playwright): the
module-scoped `browser` fixture, registered for every module by conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium() -> str | None:
    """Debian's chromium; installed here when missing and we may (root, apt), else None."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=900, check=True)
        except (subprocess.SubprocessError, OSError):
            return None
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "Debian's chromium is not installed and could not be installed (needs root "
            "and apt); the simulator's HTTP flow is covered by test_channel.py"
        )
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()

"""Ingest: signed webhook POSTs against `wam serve` (signature check, parse, dedupe, enqueue on the
Redis Stream) beside a bare FastAPI endpoint that answers 200 with no work, both driven by the same
load generator in a separate process over loopback, at a fixed offered rate and at saturation.

`wam serve` runs with WORKERS=0, so the measure is the webhook path alone, and LOG_LEVEL=WARNING
(per-message INFO logs are measured separately below, as `wam serve (INFO logs)`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import table, write_json
from checkpointers import free_loopback_port

SECRET = "bench-secret"


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


def _start_wam(data_dir: Path, log_level: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_loopback_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REDIS_URL", "WHATSAPP_"))
    }
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(port),
        WORKERS="0",
        LOG_LEVEL=log_level,
        LOG_FORMAT="json",
        WHATSAPP_APP_SECRET=SECRET,
        SIMULATOR_ENABLED="false",
    )
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_ready(f"http://127.0.0.1:{port}/readyz", process)
    return process, f"http://127.0.0.1:{port}/webhook"


def _start_bare() -> tuple[subprocess.Popen[bytes], str]:
    port = free_loopback_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_ready(f"http://127.0.0.1:{port}/healthz", process)
    return process, f"http://127.0.0.1:{port}/webhook"


def _load(url: str, rate: float, duration: float, connections: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            "--url",
            url,
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--connections",
            str(connections),
            "--secret",
            SECRET,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration * 20 + 60,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(out: Path, duration: float = 5.0, rate: float = 500.0) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as data:
        targets = [
            ("bare FastAPI (baseline)", _start_bare),
            ("wam serve", None),
            ("wam serve (INFO logs)", None),
        ]
        for label, starter in targets:
            if starter is not None:
                process, url = starter()
            else:
                level = "INFO" if "INFO" in label else "WARNING"
                process, url = _start_wam(Path(data) / label.replace(" ", "_"), level)
            try:
                _load(url, rate, 1.0, 16)  # warm up
                results[label] = {
                    "fixed_rate": _load(url, rate, duration, 64),
                    "saturation": _load(url, 0, duration, 32),
                }
            finally:
                process.terminate()
                process.wait(timeout=30)
    base = results["bare FastAPI (baseline)"]
    rows = []
    for label, result in results.items():
        fixed, saturated = result["fixed_rate"], result["saturation"]
        rows.append(
            [
                label,
                f"{fixed['latency_ms']['p50']:.2f}",
                f"{fixed['latency_ms']['p99']:.2f}",
                f"{fixed['accepted_per_s']:.0f}",
                f"{saturated['accepted_per_s']:.0f}",
                f"{saturated['latency_ms']['p99']:.1f}",
                f"{saturated['accepted_per_s'] / base['saturation']['accepted_per_s']:.2f}",
            ]
        )
    print(f"ingest: {rate:.0f}/s offered for {duration:.0f}s, then saturation (32 connections)")
    print(
        table(
            [
                "target",
                "p50 ms @rate",
                "p99 ms @rate",
                "accepted/s @rate",
                "accepted/s sat.",
                "p99 ms sat.",
                "x baseline",
            ],
            rows,
        )
    )
    path = write_json(
        "ingest", {"offered_rate": rate, "duration_s": duration, "results": results}, out
    )
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"))

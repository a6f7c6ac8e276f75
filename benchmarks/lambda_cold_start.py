"""Lambda cold start: the import of each handler module and its first invocation, in a fresh
Python process each time (a new container), beside a bare handler that imports nothing.

The handlers run as Lambda runs them (an API Gateway v2 event for the webhook, an SQS event for
the orchestrator) on the embedded stack: Redis, moto's SQS/DynamoDB/S3, the Graph API stub, the
offline model. What is measured starts after the interpreter is up (Lambda's runtime start is the
same for all three) and covers the module import (`INIT` on Lambda) and the first invocation (the
webhook's clients; the orchestrator's stores, agents, KB index check and graph compilation).

`python -m benchmarks.lambda_cold_start [OUT] [RUNS]`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from app.localstack import LocalStack
from app.runtime import prepare_data
from app.settings import load_settings
from app.wiring import demo_billing_api
from benchmarks.common import table, write_json
from server.notifications import signature_for
from server.sqs import create_fifo_queue
from stores import Stores
from stubs import BackgroundServer, create_graph_api_stub

NUMBER = "100000000000001"
SECRET = "bench-secret"
TARGETS = ("bare handler (baseline)", "whatsapp-webhook-handler", "message-orchestrator")

# Run in a new interpreter: import the handler, invoke it twice, print the three timings.
_PROBE = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    module = __import__(sys.argv[1], fromlist=["handler"])
    imported = time.perf_counter()
    events = json.loads(sys.stdin.read())
    answer = module.handler(events[0], None)
    first = time.perf_counter()
    module.handler(events[1], None)
    second = time.perf_counter()
    print(json.dumps({"import_ms": (imported - started) * 1000,
                      "first_ms": (first - imported) * 1000,
                      "warm_ms": (second - first) * 1000, "answer": answer}))
    """
)
MODULES = {
    TARGETS[0]: "benchmarks.bare_lambda",
    TARGETS[1]: "lambdas.webhook_handler",
    TARGETS[2]: "lambdas.orchestrator",
}


def _webhook_event(wa_id: str) -> dict[str, Any]:
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "waba",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": NUMBER},
                                "messages": [
                                    {
                                        "from": wa_id,
                                        "id": f"wamid.bench.{uuid.uuid4().hex}",
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": "What are your opening hours?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    return {
        "version": "2.0",
        "rawPath": "/webhook",
        "headers": {"x-hub-signature-256": signature_for(body, SECRET)},
        "requestContext": {"http": {"method": "POST", "path": "/webhook"}},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def _sqs_event(wa_id: str) -> dict[str, Any]:
    message_id = f"wamid.bench.{uuid.uuid4().hex}"
    fields = {"message_id": message_id, "phone_number_id": NUMBER, "wa_id": wa_id, "type": "text"}
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps({**fields, "text": "What are your opening hours?"}),
                "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": wa_id},
            }
        ]
    }


def _events(target: str) -> list[dict[str, Any]]:
    wa_id = str(15_800_000_000 + uuid.uuid4().int % 100_000_000)
    if target == TARGETS[2]:
        return [_sqs_event(wa_id), _sqs_event(wa_id)]
    return [_webhook_event(wa_id), _webhook_event(wa_id)]


def measure(target: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, MODULES[target]],
        input=json.dumps(_events(target)),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _environment(settings: Any, aws_url: str, graph_url: str, queue_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        REDIS_URL=settings.redis_url,
        TABLE_PREFIX=settings.table_prefix,
        AWS_ENDPOINT_URL_DYNAMODB=aws_url,
        AWS_ENDPOINT_URL_S3=aws_url,
        AWS_ENDPOINT_URL_SQS=aws_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=settings.aws_region,
        QUEUE_BACKEND="sqs",
        SQS_QUEUE_URL=queue_url,
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_API_BASE_URL=graph_url,
        WHATSAPP_ACCESS_TOKEN="test-token",
        WHATSAPP_PHONE_NUMBER_ID=NUMBER,
        MODEL_PROVIDER="offline",
        BURST_WINDOW_MS="0",
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
    )
    return env


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(float(r[key]) for r in runs)), 1)


def run(out: Path, runs: int = 3, targets: tuple[str, ...] = TARGETS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(
            data_dir=Path(data), table_prefix="bench-lambda-", log_level="WARNING", _env_file=None
        )
        with LocalStack(settings) as stack, demo_billing_api():
            settings = stack.settings
            # moto: this stack's own, or the one the environment already points at (tests).
            aws_url = stack.aws_url or os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
            stores = Stores.connect(settings.aws_region, settings.table_prefix)
            prepare_data(settings, stores, seed=True)
            sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=aws_url)
            queue_url, _ = create_fifo_queue(
                sqs, f"bench-{uuid.uuid4().hex[:8]}", visibility_timeout_s=60, max_receives=5
            )
            graph = BackgroundServer(create_graph_api_stub())
            graph.start()
            try:
                env = _environment(settings, aws_url, graph.url, queue_url)
                measured = {t: [measure(t, env) for _ in range(runs)] for t in targets}
            finally:
                graph.stop()
    return _report(measured, runs, out)


def _report(measured: dict[str, list[dict[str, Any]]], runs: int, out: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for target, samples in measured.items():
        results[target] = {
            "import_ms": _median(samples, "import_ms"),
            "first_invocation_ms": _median(samples, "first_ms"),
            "cold_ms": round(statistics.median(s["import_ms"] + s["first_ms"] for s in samples), 1),
            "warm_invocation_ms": _median(samples, "warm_ms"),
        }
    bare = results.get(TARGETS[0], {}).get("cold_ms") or 1.0
    rows = [
        [
            name,
            r["import_ms"],
            r["first_invocation_ms"],
            r["cold_ms"],
            r["warm_invocation_ms"],
            f"{r['cold_ms'] / bare:.0f}x",
        ]
        for name, r in results.items()
    ]
    print(
        table(["handler", "import ms", "1st invocation ms", "cold ms", "warm ms", "x bare"], rows)
    )
    data = {"benchmark": "lambda_cold_start", "runs": runs, "results": results}
    write_json("lambda_cold_start", data, out)
    return data


if __name__ == "__main__":
    run(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"),
        runs=int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )

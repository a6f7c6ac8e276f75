"""Load generator for the ingest benchmark, run as its own process (`python -m benchmarks.loadgen`).

Sends signed WhatsApp webhook bodies (each with a new message id, signed in advance so signing is
not measured) over keep-alive connections: at a fixed offered rate (open loop: a request is due
every 1/rate seconds whether or not earlier ones finished) or at saturation (N connections in a
closed loop). Prints one JSON object: accepted per second, status counts, latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import httpx

from benchmarks.common import summary_ms
from server.simulator import webhook_payload
from server.webhook import signature_for


def bodies(count: int, secret: str, number: str) -> list[tuple[bytes, str]]:
    prepared = []
    for i in range(count):
        body = json.dumps(
            webhook_payload(
                number,
                str(15_800_000_000 + i % 5000),
                "Load",
                f"How much is the premium plan? {uuid.uuid4().hex[:6]}",
            )
        )
        raw = body.encode()
        prepared.append((raw, signature_for(raw, secret)))
    return prepared


class Connection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams: a client light enough that the
    server, not the load generator, is what saturates."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, raw: bytes, signature: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nX-Hub-Signature-256: {signature}\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n"
        ).encode()
        self.writer.write(head + raw)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split()[1]) if status_line else 0

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run(
    url: str, rate: float, connections: int, duration: float, secret: str, number: str
) -> dict[str, object]:
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.path
    total = int(rate * duration) if rate else 2_000_000
    prepared = bodies(min(total, 20_000), secret, number)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, port, path))

    async def send(index: int) -> None:
        raw, signature = prepared[index % len(prepared)]
        connection = await pool.get()
        started = time.perf_counter()
        try:
            code = await connection.post(raw, signature)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            code = 0
            await connection.close()
            connection = Connection(host, port, path)
        latencies.append(time.perf_counter() - started)
        statuses[code] = statuses.get(code, 0) + 1
        pool.put_nowait(connection)

    start = time.perf_counter()
    if rate:
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(i)))
        await asyncio.gather(*tasks)
    else:
        counter = iter(range(total))
        deadline = start + duration

        async def closed_loop() -> None:
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                await send(i)

        await asyncio.gather(*(closed_loop() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    while not pool.empty():
        await pool.get_nowait().close()
    accepted = statuses.get(200, 0)
    return {
        "offered_rate": rate or "saturation",
        "connections": connections,
        "elapsed_s": round(elapsed, 3),
        "requests": len(latencies),
        "statuses": {str(k): v for k, v in statuses.items()},
        "accepted_per_s": round(accepted / elapsed, 1),
        "latency_ms": summary_ms(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s; 0 = saturation")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--secret", default="bench-secret")
    parser.add_argument("--number", default="100000000000001")
    args = parser.parse_args()
    result = asyncio.run(
        run(args.url, args.rate, args.connections, args.duration, args.secret, args.number)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
